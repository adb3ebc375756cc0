"""Helpers for evaluation tests: runs over hand-made cases, and attempts' tasks driven to an end."""

from __future__ import annotations

from typing import Any

from shared.evals.models import CaseRow, EvalRun, RunSettings
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus as S
from shared.tasks.store import TaskStore


def case_rows(n: int, repo: str = "acme/app") -> list[CaseRow]:
    return [CaseRow(index=i, case_id=f"case-{i}", repo=repo, task=f"fix bug {i}") for i in range(n)]


def new_run(cases: int, *, user: str = "alice", **settings: Any) -> EvalRun:
    return EvalRun(user_id=user, name="run", settings=RunSettings(**settings), case_count=cases)


async def finish(tasks: TaskStore, task_id: str, *, grade: str | None = "passed", cost: float = 0.1,
                 status: S = S.COMPLETED, error_code: str | None = None, **fields: Any) -> Task:
    """Drive an attempt's task to its end as the platform would: admitted, run, graded, recorded."""
    await tasks.transition(task_id, S.HYDRATING, max_active=1000)
    await tasks.transition(task_id, S.RUNNING)
    changes: dict[str, Any] = {"cost_usd": cost, "turns": 3, "error_code": error_code, **fields}
    if grade is not None:
        changes.update(grade=grade, reward=1 if grade == "passed" else 0)
    if status == S.COMPLETED:
        await tasks.transition(task_id, S.FINALIZING)
    return await tasks.transition(task_id, status, changes=changes)

BASE = "3f2c9e1a"


def case(i: int, **fields) -> dict:
    """Case `i` of a dataset over acme/app, as POST /v1/evals takes it."""
    return {"id": f"case-{i}", "repo": "acme/app", "base": BASE, "task": f"fix bug {i}",
            "test_patch": f"diff --git a/tests/test_{i}.py b/tests/test_{i}.py\n", "test_command": "pytest -q",
            **fields}


def body(n: int = 2, **fields) -> dict:
    """A run of `n` such cases."""
    return {"name": "nightly", "cases": [case(i) for i in range(n)], **fields}
