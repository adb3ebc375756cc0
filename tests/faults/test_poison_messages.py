"""Malformed and unknown events end in the dead-letter queues; the pipeline keeps flowing."""

from __future__ import annotations

import json
import time

import pytest

from tests.doubles.scenarios import FAKE_EDIT
from tests.faults.helpers import submit_many, wait_all
from tests.support.platform import running_platform

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def platform(aws_endpoint, tmp_path_factory):
    with running_platform(aws_endpoint, tmp_path_factory.mktemp("poison")) as p:
        yield p


def _dlq_depth(platform, service: str) -> int:
    sqs = platform.boto("sqs")
    url = sqs.get_queue_url(QueueName=platform.names.dlq(service))["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


def test_poison_is_dead_lettered_and_work_goes_on(platform):
    sqs, events = platform.boto("sqs"), platform.boto("events")
    queue = sqs.get_queue_url(QueueName=platform.names.queue("hydrator"))["QueueUrl"]
    before = {s: _dlq_depth(platform, s) for s in ("hydrator", "dispatcher", "finalizer")}
    sqs.send_message(QueueUrl=queue, MessageBody="{not json")
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({"source": "bgagent", "detail-type": "Nope",
                                                             "detail": {}}))
    events.put_events(Entries=[
        {"Source": "bgagent", "DetailType": "TaskSubmitted", "Detail": json.dumps({"no_task_id": True}),
         "EventBusName": platform.names.event_bus},
        {"Source": "bgagent", "DetailType": "TaskHydrated", "Detail": json.dumps({"task_id": 42}),
         "EventBusName": platform.names.event_bus},
        {"Source": "bgagent", "DetailType": "AgentFinished", "Detail": json.dumps({"task_id": "x", "outcome": "?"}),
         "EventBusName": platform.names.event_bus},
    ])
    platform.add_repo("acme/poison")
    tasks = submit_many(platform, ["poison-user"], "acme/poison", 2, FAKE_EDIT)
    finals = wait_all(platform, tasks, timeout=90)
    assert [f["status"] for f in finals.values()] == ["COMPLETED", "COMPLETED"]
    deadline = time.monotonic() + 20
    expected = {"hydrator": before["hydrator"] + 3, "dispatcher": before["dispatcher"] + 1,
                "finalizer": before["finalizer"] + 1}
    while time.monotonic() < deadline:
        depths = {s: _dlq_depth(platform, s) for s in expected}
        if depths == expected:
            break
        time.sleep(0.3)
    assert depths == expected
