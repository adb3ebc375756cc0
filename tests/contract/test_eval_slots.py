"""Every TaskStore admits an evaluation attempt without touching its owner's slot counter."""

from __future__ import annotations

from shared.tasks.models import Task
from shared.tasks.states import TaskStatus as S


async def test_an_eval_attempt_is_admitted_and_ended_without_a_slot(store):
    own = await store.create(Task.new(user_id="slots-a", repo="acme/app", task_description="x"))
    await store.transition(own.task_id, S.HYDRATING, max_active=1)
    attempt = await store.create(Task.new(user_id="slots-a", repo="acme/app", task_description="x",
                                          channel_source="eval", eval_id="01JEVAL", case_id="c", attempt=1))
    admitted = await store.transition(attempt.task_id, S.HYDRATING, max_active=1)  # the user is at the cap
    assert admitted.status == S.HYDRATING and not admitted.slot_held
    assert (await store.get_concurrency("slots-a")).active_count == 1
    await store.transition(attempt.task_id, S.FAILED, changes={"error_code": "AGENT_ERROR"})
    assert (await store.get_concurrency("slots-a")).active_count == 1
    row = await store.get(attempt.task_id)
    assert (row.eval_id, row.case_id, row.attempt, row.channel_source) == ("01JEVAL", "c", 1, "eval")
