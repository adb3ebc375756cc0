"""The Outbox's metrics: a run starts once, however often an approval hands the task back."""

from __future__ import annotations

from shared.observability.metric_names import SUBMIT_TO_RUNNING_MS
from shared.steering.models import Approval, ApprovalRule
from shared.steering.resume import resume_task
from shared.tasks.models import Task
from shared.tasks.outbox import Outbox
from shared.tasks.states import TaskStatus as S
from tests.fakes.collaborators import RecordingBus
from tests.fakes.tasks import InMemoryTaskStore


class Timings:
    def __init__(self) -> None:
        self.timings: list[str] = []

    def count(self, name, value=1, **props):
        pass

    def timing(self, name, ms, **props):
        self.timings.append(name)

    def value(self, name, value, unit="None", **props):
        pass


async def test_a_task_handed_back_after_an_approval_is_not_counted_as_started_again():
    store, metrics = InMemoryTaskStore(), Timings()
    outbox = Outbox(store, RecordingBus(), metrics)
    task = await store.create(Task.new(user_id="u", repo="a/b", task_description="x"))
    await outbox.transition(task.task_id, S.HYDRATING, max_active=5)
    await outbox.transition(task.task_id, S.RUNNING, changes={"started_at": task.created_at})
    await outbox.transition(task.task_id, S.AWAITING_APPROVAL)
    approval = Approval.new(task_id=task.task_id, user_id="u", rule=ApprovalRule(name="r", pattern="x"),
                            command="x", reason="")
    assert (await resume_task(outbox, approval)).status == S.RUNNING
    assert metrics.timings == [SUBMIT_TO_RUNNING_MS]
