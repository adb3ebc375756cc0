"""Create a topology on an AWS endpoint with boto3; safe to run again on an existing stack."""

from __future__ import annotations

import json
import logging

import boto3
from botocore.exceptions import ClientError

from shared.topology.definition import Queue, Table, Topology

log = logging.getLogger(__name__)


def _create_table(ddb, table: Table) -> None:
    keys = [{"AttributeName": table.hash_key.name, "KeyType": "HASH"}]
    if table.range_key:
        keys.append({"AttributeName": table.range_key.name, "KeyType": "RANGE"})
    args: dict = {
        "TableName": table.name,
        "KeySchema": keys,
        "AttributeDefinitions": [{"AttributeName": a.name, "AttributeType": a.type} for a in table.attributes()],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if table.indexes:
        args["GlobalSecondaryIndexes"] = [
            {
                "IndexName": i.name,
                "KeySchema": [{"AttributeName": i.hash_key.name, "KeyType": "HASH"}]
                + ([{"AttributeName": i.range_key.name, "KeyType": "RANGE"}] if i.range_key else []),
                "Projection": {"ProjectionType": "ALL"},
            }
            for i in table.indexes
        ]
    try:
        ddb.create_table(**args)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceInUseException":
            raise
        return
    ddb.get_waiter("table_exists").wait(TableName=table.name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    if table.ttl_attribute:
        ddb.update_time_to_live(
            TableName=table.name, TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute}
        )


def _create_queue(sqs, q: Queue) -> str:
    fifo = {"FifoQueue": "true"} if q.fifo else {}
    dlq_url = sqs.create_queue(
        QueueName=q.dlq_name, Attributes={"MessageRetentionPeriod": str(q.dlq_retention_seconds), **fifo}
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return sqs.create_queue(
        QueueName=q.name,
        Attributes={
            "VisibilityTimeout": str(q.visibility_timeout),
            "MessageRetentionPeriod": str(q.retention_seconds),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": q.max_receive_count}),
            **fifo,
        },
    )["QueueUrl"]


def create_topology(topology: Topology, session: boto3.Session | None = None, endpoint_url: str | None = None) -> dict:
    """Create every resource of the topology; return the queue URLs by service."""
    session = session or boto3.Session()
    client = lambda name: session.client(name, endpoint_url=endpoint_url)  # noqa: E731
    ddb, sqs, events, s3 = client("dynamodb"), client("sqs"), client("events"), client("s3")
    for table in topology.tables:
        _create_table(ddb, table)
    try:
        events.create_event_bus(Name=topology.bus_name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceAlreadyExistsException":
            raise
    queue_urls = {q.service: _create_queue(sqs, q) for q in topology.queues}
    if topology.sessions:  # warm capacity: read by agents, fed by the dispatcher (no rule)
        _create_queue(sqs, topology.sessions)
    for rule in topology.rules:
        url = queue_urls[rule.queue_service]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        bus = "default" if rule.on_default_bus else topology.bus_name
        events.put_rule(Name=rule.name, EventBusName=bus, EventPattern=json.dumps(rule.pattern))
        events.put_targets(Rule=rule.name, EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
    try:
        s3.create_bucket(Bucket=topology.bucket_name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    log.info("topology ready", extra={"tables": len(topology.tables), "queues": len(queue_urls)})
    return queue_urls
