"""The platform bus, every service's queue and DLQ, the rules that feed them and the reconcile schedule."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from bgagent_infra.account import Account
from bgagent_infra.roles import role_with_policy
from shared.events.models import ReconcileTick
from shared.topology.definition import Queue, Topology
from shared.topology.policies import put_events_policy

RECONCILE_RATE = "rate(1 minute)"


class Messaging(pulumi.ComponentResource):
    """Bus, queues with redrive to their DLQs, rules on `detail-type`, queue policies, reconcile schedule."""

    def __init__(self, name: str, topology: Topology, account: pulumi.Output[Account],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("bgagent:infra:Messaging", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.bus = aws.cloudwatch.EventBus(f"{name}-bus", name=topology.bus_name, opts=child)
        self.queues: dict[str, aws.sqs.Queue] = {}
        self.dlqs: dict[str, aws.sqs.Queue] = {}
        for q in topology.queues:
            dlq = aws.sqs.Queue(f"{name}-{q.service}-dlq", name=q.dlq_name,
                                message_retention_seconds=q.dlq_retention_seconds, sqs_managed_sse_enabled=True,
                                opts=child)
            self.dlqs[q.service] = dlq
            self.queues[q.service] = aws.sqs.Queue(
                f"{name}-{q.service}", name=q.name, visibility_timeout_seconds=q.visibility_timeout,
                message_retention_seconds=q.retention_seconds, sqs_managed_sse_enabled=True,
                redrive_policy=dlq.arn.apply(lambda arn, n=q.max_receive_count: json.dumps(
                    {"deadLetterTargetArn": arn, "maxReceiveCount": n})),
                opts=child)

        self.sessions: aws.sqs.Queue | None = None
        if topology.sessions:
            self.sessions = _sessions_queue(name, topology.sessions, child)

        self.rules: dict[str, aws.cloudwatch.EventRule] = {}
        sources: dict[str, list[pulumi.Output[str]]] = {q.service: [] for q in topology.queues}
        for rule in topology.rules:
            bus_name = "default" if rule.on_default_bus else self.bus.name
            resource = aws.cloudwatch.EventRule(f"{name}-{rule.name}", name=rule.name, event_bus_name=bus_name,
                                                event_pattern=json.dumps(rule.pattern), opts=child)
            aws.cloudwatch.EventTarget(f"{name}-{rule.name}", rule=resource.name, event_bus_name=bus_name,
                                       target_id="queue", arn=self.queues[rule.queue_service].arn, opts=child)
            self.rules[rule.name] = resource
            sources[rule.queue_service].append(resource.arn)
        for service, queue in self.queues.items():
            aws.sqs.QueuePolicy(f"{name}-{service}", queue_url=queue.url,
                                policy=pulumi.Output.all(queue.arn, *sources[service]).apply(
                                    lambda a: json.dumps(_events_may_send(a[0], a[1:]))),
                                opts=child)

        scheduler = role_with_policy(f"{name}-reconcile-schedule", role_name=f"{topology.names.stack}-schedule",
                                     principal="scheduler.amazonaws.com", account=account,
                                     policy=self.bus.arn.apply(put_events_policy), parent=self)
        self.schedule = aws.scheduler.Schedule(
            f"{name}-reconcile-tick", name=f"{topology.names.stack}-reconcile-tick",
            schedule_expression=RECONCILE_RATE, flexible_time_window={"mode": "OFF"},
            target={"arn": self.bus.arn, "role_arn": scheduler.arn,
                    "input": ReconcileTick().model_dump_json(exclude_none=True),
                    "eventbridge_parameters": {"detail_type": ReconcileTick.detail_type,
                                               "source": ReconcileTick.source}},
            opts=child)
        self.register_outputs({"bus": self.bus.name, "queue_urls": {s: q.url for s, q in self.queues.items()}})


def _sessions_queue(name: str, q: Queue, child: pulumi.ResourceOptions) -> aws.sqs.Queue:
    """Warm capacity's FIFO queue (one message group per task, deduplicated by task id) and its DLQ."""
    dlq = aws.sqs.Queue(f"{name}-sessions-dlq", name=q.dlq_name, fifo_queue=True,
                        message_retention_seconds=q.dlq_retention_seconds, sqs_managed_sse_enabled=True, opts=child)
    return aws.sqs.Queue(
        f"{name}-sessions", name=q.name, fifo_queue=True, visibility_timeout_seconds=q.visibility_timeout,
        message_retention_seconds=q.retention_seconds, sqs_managed_sse_enabled=True,
        redrive_policy=dlq.arn.apply(lambda arn: json.dumps({"deadLetterTargetArn": arn,
                                                              "maxReceiveCount": q.max_receive_count})),
        opts=child)


def _events_may_send(queue_arn: str, rule_arns: list[str]) -> dict:
    """Queue policy: EventBridge may deliver to this queue, from these rules only."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "EventBridgeRules", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage", "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": sorted(rule_arns)}},
    }]}
