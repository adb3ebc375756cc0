"""Kill the publisher between commit and publish (or between publish and marking sent): every announced
event still reaches the bus, through the reconciler's relay of pending outbox entries."""

from __future__ import annotations

import asyncio
import json

import pytest

from services.reconciler.handlers import Reconciler
from services.reconciler.repairs import StuckTaskRepairs
from services.reconciler.settings import ReconcilerSettings
from shared.aws.clients import AwsClients
from shared.events.bus import EventBridgePublisher
from shared.events.models import ReconcileTick, TaskSubmitted
from shared.observability.metrics import NullMetrics
from shared.tasks.dynamo_store import DynamoTaskStore
from shared.tasks.models import Task
from shared.tasks.outbox import Outbox
from shared.tasks.states import TaskStatus as S
from tests.fakes.collaborators import FakeCompute
from tests.support.routing import handle

pytestmark = pytest.mark.integration
TASKS = 12


class ProcessKilled(BaseException):
    """The publishing process died: nothing after this point ran (not an error anyone could catch)."""


class DiesOnPublish:
    async def publish(self, *details):
        raise ProcessKilled()


class DiesBeforeMarking(DynamoTaskStore):
    async def mark_sent(self, task_id, entry_ids):
        raise ProcessKilled()


def _observe_everything(stack) -> str:
    """A queue fed by a rule matching every platform event, so terminal notices are seen too."""
    sqs, events = stack.boto("sqs"), stack.boto("events")
    url = sqs.create_queue(QueueName=f"{stack.names.stack}-observer")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule = f"{stack.names.stack}-observer"
    events.put_rule(Name=rule, EventBusName=stack.names.event_bus, EventPattern=json.dumps({"source": ["bgagent"]}))
    events.put_targets(Rule=rule, EventBusName=stack.names.event_bus, Targets=[{"Id": "observer", "Arn": arn}])
    return url


def _drain(stack, url: str) -> list[tuple[str, str | None]]:
    sqs, seen = stack.boto("sqs"), []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if not got:
            return seen
        for m in got:
            body = json.loads(m["Body"])
            seen.append((body["detail-type"], body["detail"].get("task_id")))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


async def _crash_during(store: DynamoTaskStore, box: Outbox, i: int) -> set[tuple[str, str]]:
    """One transition whose publisher dies; returns what it announced."""
    task = await store.create(Task.new(user_id=f"u{i % 3}", repo="a/b", task_description="x"))
    kind = i % 3
    if kind == 0:  # a hydration failure: TaskFailed and the freed slot
        await store.transition(task.task_id, S.HYDRATING, max_active=TASKS)
        move = box.transition(task.task_id, S.FAILED, changes={"error_code": "HYDRATION_FAILED"})
        announced = {"TaskFailed", "SlotReleased"}
    elif kind == 1:  # a cancel while running: TaskCancelled and the freed slot
        await store.transition(task.task_id, S.HYDRATING, max_active=TASKS)
        await store.transition(task.task_id, S.RUNNING)
        move = box.transition(task.task_id, S.CANCELLED, event_metadata={"reason": "cancelled by user"})
        announced = {"TaskCancelled", "SlotReleased"}
    else:  # an admission from the queue: TaskSubmitted for the hydrator
        await store.transition(task.task_id, S.QUEUED)
        move = box.transition(task.task_id, S.HYDRATING, max_active=TASKS,
                              announce=[TaskSubmitted(task_id=task.task_id, user_id=task.user_id)])
        announced = {"TaskSubmitted"}
    with pytest.raises(ProcessKilled):
        await move
    return {(kind, task.task_id) for kind in announced}


@pytest.mark.parametrize("killed", ["before publishing", "after publishing, before marking sent"])
async def test_a_killed_publisher_loses_no_announced_event(stack, killed):
    observer = _observe_everything(stack)
    settings = ReconcilerSettings(stack_name=stack.settings.stack_name, outbox_stale_seconds=1,
                                  drift_grace_seconds=3600)
    async with AwsClients(stack.settings) as clients:
        ddb = await clients.client("dynamodb")
        bus = EventBridgePublisher(await clients.client("events"), stack.names.event_bus)
        store = DynamoTaskStore(ddb, stack.names)
        if killed == "before publishing":
            box = Outbox(store, DiesOnPublish())
        else:
            box = Outbox(DiesBeforeMarking(ddb, stack.names), bus)
        expected: set[tuple[str, str]] = set()
        for i in range(TASKS):
            expected |= await _crash_during(store, box, i)
        task_ids = {tid for _, tid in expected}
        pending = [t for t in [await store.get(tid) for tid in task_ids] if t.outbox]
        assert len(pending) == TASKS  # the commits happened, their announcements are still pending
        await asyncio.sleep(1.5)  # past the outbox's short age
        metrics = NullMetrics()
        repairs = StuckTaskRepairs(store, FakeCompute(), bus, metrics, settings)
        await handle(Reconciler(store, metrics, settings, repairs), ReconcileTick())
        delivered = set(_drain(stack, observer))
        assert expected <= delivered
        assert [t.task_id for t in [await store.get(tid) for tid in task_ids] if t.outbox] == []  # marked sent
        assert await store.pending_outbox(updated_before="9999") == []
