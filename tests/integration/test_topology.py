"""The topology definition creates working resources on the emulator."""

import json
import time

import boto3
import pytest

from shared.topology.bootstrap import create_topology

pytestmark = pytest.mark.integration


def _receive(sqs, url, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msgs = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10).get("Messages", [])
        if msgs:
            return msgs
    return []


def test_every_queue_has_a_dlq_with_redrive(stack):
    sqs = stack.boto("sqs")
    for q in stack.topology.queues:
        attrs = sqs.get_queue_attributes(QueueUrl=stack.queue_urls[q.service], AttributeNames=["All"])["Attributes"]
        redrive = json.loads(attrs["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"].endswith(q.dlq_name)
        assert 3 <= int(redrive["maxReceiveCount"]) <= 5


def test_bootstrap_is_repeatable(stack):
    again = create_topology(stack.topology, session=boto3.Session(region_name="us-east-1"), endpoint_url=stack.endpoint)
    assert again == stack.queue_urls


@pytest.mark.parametrize("detail_type,services", [
    ("TaskSubmitted", {"hydrator"}), ("SlotReleased", {"hydrator"}), ("TaskHydrated", {"dispatcher"}),
    # A cancellation stops the agent (dispatcher) and ends an evaluation attempt (reconciler).
    ("TaskCancelled", {"dispatcher", "reconciler"}), ("AgentFinished", {"finalizer"}),
    ("ReconcileTick", {"reconciler"}), ("TaskCompleted", {"reconciler"}),
])
def test_rules_route_each_detail_type_to_its_consumers_only(stack, detail_type, services):
    events, sqs = stack.boto("events"), stack.boto("sqs")
    events.put_events(Entries=[{"Source": "bgagent", "DetailType": detail_type,
                                "Detail": json.dumps({"task_id": "t1"}), "EventBusName": stack.names.event_bus}])
    for service in services:
        msgs = _receive(sqs, stack.queue_urls[service])
        assert len(msgs) == 1
        body = json.loads(msgs[0]["Body"])
        assert body["detail-type"] == detail_type and body["detail"]["task_id"] == "t1"
    for other, url in stack.queue_urls.items():
        if other not in services:
            assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0).get("Messages", []) == []
