"""Negative proofs: on an IAM-enforcing emulator, each role is refused what its Pulumi policy does not grant.

Every forbidden call has a control: the role that is meant to make it succeeds, so a refusal here is the
policy's doing, not a broken setup. docs/deploy.md lists these rows per role.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

import boto3
import pytest
from botocore.exceptions import ClientError

from cli.local import iam
from shared.topology.bootstrap import create_topology
from shared.topology.definition import Topology, build_topology
from shared.topology.names import ResourceNames
from tests.support.aws import moto_server

pytestmark = pytest.mark.integration

STACK = "proof"
N = ResourceNames(STACK)
GITHUB_SECRET, WEBHOOK_SECRET = f"bgagent/{STACK}/github/acme-app", f"bgagent/{STACK}/webhooks/w-1"
TASK = {"task_id": {"S": "t-1"}, "status": {"S": "RUNNING"}}


@dataclass
class Enforced:
    endpoint: str
    topology: Topology
    credentials: iam.StackCredentials

    def client(self, role: str, service: str):
        return self.credentials.session(role, "us-east-1").client(service, endpoint_url=self.endpoint)


def _seed(session: boto3.Session, endpoint: str) -> None:
    """What the calls below read, created before enforcement."""
    sm = session.client("secretsmanager", endpoint_url=endpoint)
    for name in (GITHUB_SECRET, WEBHOOK_SECRET):
        sm.create_secret(Name=name, SecretString="s3cr3t")
    s3 = session.client("s3", endpoint_url=endpoint)
    for key in ("tasks/t-1/context.json", "trajectories/t-1.json"):
        s3.put_object(Bucket=N.artifacts_bucket, Key=key, Body=b"{}")
    session.client("dynamodb", endpoint_url=endpoint).put_item(TableName=N.tasks_table, Item=TASK)


@pytest.fixture(scope="module")
def enforced(tmp_path_factory):
    with moto_server() as endpoint:
        session = boto3.Session(region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
        topology = build_topology(N)
        create_topology(topology, session=session, endpoint_url=endpoint)
        _seed(session, endpoint)
        credentials = iam.provision(session, endpoint, topology, tmp_path_factory.mktemp("iam"))
        iam.enforce(endpoint)
        yield Enforced(endpoint, topology, credentials)


def _queue_url(e: Enforced, service: str) -> str:
    return f"{e.endpoint}/123456789012/{N.queue(service)}"


def _publish(detail_type: str, bus: str = N.event_bus) -> Callable:
    return lambda e, role: e.client(role, "events").put_events(Entries=[{
        "Source": "bgagent", "DetailType": detail_type, "Detail": json.dumps({"task_id": "t-1"}), "EventBusName": bus}])


def _receive(service: str) -> Callable:
    return lambda e, role: e.client(role, "sqs").receive_message(QueueUrl=_queue_url(e, service), WaitTimeSeconds=0)


def _get_secret(name: str) -> Callable:
    return lambda e, role: e.client(role, "secretsmanager").get_secret_value(SecretId=name)


def _put_object(key: str) -> Callable:
    return lambda e, role: e.client(role, "s3").put_object(Bucket=N.artifacts_bucket, Key=key, Body=b"{}")


def _put(table: str, item: dict) -> Callable:
    return lambda e, role: e.client(role, "dynamodb").put_item(TableName=table, Item=item)


def _get(table: str, key: dict) -> Callable:
    return lambda e, role: e.client(role, "dynamodb").get_item(TableName=table, Key=key)


CALLS: dict[str, Callable] = {
    "delete the tasks table": lambda e, role: e.client(role, "dynamodb").delete_table(TableName=N.tasks_table),
    "delete a task row": lambda e, role: e.client(role, "dynamodb").delete_item(TableName=N.tasks_table,
                                                                                 Key={"task_id": {"S": "t-1"}}),
    "read a task row": _get(N.tasks_table, {"task_id": {"S": "t-1"}}),
    "query tasks by status (GSI)": lambda e, role: e.client(role, "dynamodb").query(
        TableName=N.tasks_table, IndexName="StatusIndex", KeyConditionExpression="#s = :s",
        ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "RUNNING"}}),
    "write a repo config": _put(N.repos_table, {"repo": {"S": "acme/app"}}),
    "read a repo config": _get(N.repos_table, {"repo": {"S": "acme/app"}}),
    "write a webhook": _put(N.webhooks_table, {"webhook_id": {"S": "w-2"}}),
    "write a user counter": _put(N.user_concurrency_table, {"user_id": {"S": "mallory"}}),
    "scan user counters": lambda e, role: e.client(role, "dynamodb").scan(TableName=N.user_concurrency_table),
    "read memory": _get(N.memory_table, {"repo": {"S": "acme/app"}, "sk": {"S": "x"}}),
    "write memory": _put(N.memory_table, {"repo": {"S": "acme/app"}, "sk": {"S": "x"}}),
    "read a GitHub token secret": _get_secret(GITHUB_SECRET),
    "read a webhook secret": _get_secret(WEBHOOK_SECRET),
    "write a hydrated context (tasks/)": _put_object("tasks/t-2/context.json"),
    "read a hydrated context (tasks/)": lambda e, role: e.client(role, "s3").get_object(
        Bucket=N.artifacts_bucket, Key="tasks/t-1/context.json"),
    "read a trajectory": lambda e, role: e.client(role, "s3").get_object(
        Bucket=N.artifacts_bucket, Key="trajectories/t-1.json"),
    "write a trajectory": _put_object("trajectories/t-2.json"),
    "publish TaskSubmitted": _publish("TaskSubmitted"),
    "publish AgentFinished": _publish("AgentFinished"),
    "publish Compute Session Stopped": _publish("Compute Session Stopped"),
    "publish on the default bus": _publish("TaskSubmitted", "default"),
    "consume the hydrator queue": _receive("hydrator"),
    "consume the dispatcher queue": _receive("dispatcher"),
    "consume the reconciler queue": _receive("reconciler"),
    "start compute (ecs:RunTask)": lambda e, role: e.client(role, "ecs").run_task(
        cluster=STACK, taskDefinition=N.agent_task_family),
    "create an IAM user": lambda e, role: e.client(role, "iam").create_user(UserName="backdoor"),
}

# role → calls its policy must refuse
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "gateway": ("delete the tasks table", "read a GitHub token secret", "write a repo config", "read memory",
                "consume the hydrator queue", "publish on the default bus", "start compute (ecs:RunTask)",
                "read a hydrated context (tasks/)", "write a hydrated context (tasks/)", "create an IAM user"),
    "hydrator": ("start compute (ecs:RunTask)", "read a webhook secret", "read a trajectory", "write memory",
                 "consume the dispatcher queue", "write a repo config", "scan user counters"),
    "dispatcher": ("read a GitHub token secret", "read a repo config", "write a hydrated context (tasks/)",
                   "write memory", "consume the hydrator queue", "delete a task row"),
    "finalizer": ("start compute (ecs:RunTask)", "scan user counters", "write a webhook", "read a webhook secret",
                  "consume the reconciler queue", "write a hydrated context (tasks/)"),
    "reconciler": ("read a GitHub token secret", "write memory", "delete a task row",
                   "write a hydrated context (tasks/)", "consume the hydrator queue"),
    "agent": ("read a webhook secret", "publish TaskSubmitted", "publish Compute Session Stopped",
              "publish on the default bus", "write a hydrated context (tasks/)", "read a trajectory",
              "write a user counter", "consume the hydrator queue", "delete a task row", "write a webhook",
              "query tasks by status (GSI)"),
    "supervisor": ("publish AgentFinished", "read a task row", "read a GitHub token secret"),
    "scheduler": ("read a task row", "consume the reconciler queue"),
}
# call → a role whose policy grants it (the control)
ALLOWED: dict[str, str] = {
    "read a task row": "agent", "query tasks by status (GSI)": "reconciler", "read a repo config": "hydrator",
    "write a webhook": "gateway", "write a user counter": "gateway", "scan user counters": "reconciler",
    "read memory": "hydrator", "write memory": "agent", "read a GitHub token secret": "agent",
    "read a webhook secret": "gateway", "write a hydrated context (tasks/)": "hydrator",
    "read a hydrated context (tasks/)": "agent", "write a trajectory": "agent", "publish TaskSubmitted": "gateway",
    "publish AgentFinished": "agent", "publish Compute Session Stopped": "supervisor",
    "consume the hydrator queue": "hydrator", "consume the dispatcher queue": "dispatcher",
    "consume the reconciler queue": "reconciler",
}
NEVER_ALLOWED = {"delete the tasks table", "delete a task row", "write a repo config", "read a trajectory",
                 "publish on the default bus", "start compute (ecs:RunTask)", "create an IAM user"}


def _denial(enforced: Enforced, role: str, call: str) -> str:
    with pytest.raises(ClientError) as denied:
        CALLS[call](enforced, role)
    error = denied.value.response["Error"]
    assert error["Code"] in ("AccessDenied", "AccessDeniedException"), error
    return error["Message"]


@pytest.mark.parametrize(("role", "call"), [(r, c) for r, calls in FORBIDDEN.items() for c in calls])
def test_each_role_is_refused_what_its_policy_does_not_grant(enforced, role, call):
    message = _denial(enforced, role, call)
    assert f"user/{STACK}-{role}" in message and "is not authorized to perform:" in message


@pytest.mark.parametrize(("call", "role"), sorted(ALLOWED.items()))
def test_the_role_meant_to_make_each_call_may(enforced, call, role):
    CALLS[call](enforced, role)


def test_every_call_is_either_controlled_or_never_granted():
    assert set(CALLS) == set(ALLOWED) | NEVER_ALLOWED
    assert not set(ALLOWED) & NEVER_ALLOWED


def test_a_denial_names_the_action_and_the_resource(enforced):
    message = _denial(enforced, "agent", "query tasks by status (GSI)")
    assert "dynamodb:Query on resource: " in message and f"table/{N.tasks_table}/index/StatusIndex" in message
    message = _denial(enforced, "agent", "publish TaskSubmitted")
    assert "events:PutEvents" in message and "events:detail-type=TaskSubmitted" in message


def test_a_transaction_is_authorized_item_by_item_on_each_table(enforced):
    ddb = enforced.client("agent", "dynamodb")
    with pytest.raises(ClientError) as denied:
        ddb.transact_write_items(TransactItems=[
            {"Update": {"TableName": N.tasks_table, "Key": {"task_id": {"S": "t-1"}},
                        "UpdateExpression": "SET turns = :n", "ExpressionAttributeValues": {":n": {"N": "1"}}}},
            {"Update": {"TableName": N.user_concurrency_table, "Key": {"user_id": {"S": "mallory"}},
                        "UpdateExpression": "ADD active_count :n", "ExpressionAttributeValues": {":n": {"N": "-1"}}}},
        ])
    assert f"dynamodb:UpdateItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/" \
           f"{N.user_concurrency_table}" in denied.value.response["Error"]["Message"]


def test_unknown_credentials_are_refused_readably(enforced):
    ddb = boto3.client("dynamodb", endpoint_url=enforced.endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    with pytest.raises(ClientError) as refused:
        ddb.list_tables()
    assert refused.value.response["Error"]["Code"] == "UnrecognizedClientException"
