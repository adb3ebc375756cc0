"""Hydrating an evaluation attempt: its base and setup from the run's case, nothing else of it (the hidden tests
and the reference patch stay in the artifacts bucket), and no repository memory."""

from __future__ import annotations

from typing import Any

from shared.aws.errors import StoreUnavailable
from shared.evals.case_source import CaseSource
from shared.repos.models import RepoConfig
from shared.tasks.models import Task


class CaseUnavailable(Exception):
    """The attempt's case cannot be read."""


async def attempt_fields(task: Task, repo: RepoConfig, cases: CaseSource | None) -> dict[str, Any]:
    """The context fields of an evaluation attempt ({} for any other task)."""
    if task.channel_source != "eval":
        return {}
    if cases is None or not task.eval_id or task.case_id is None:
        raise CaseUnavailable("the evaluation attempt names no case this hydrator can read")
    try:
        case = await cases.get(task.eval_id, task.case_id)
    except StoreUnavailable as exc:
        raise CaseUnavailable(f"could not read case {task.case_id!r}: {exc}") from exc
    if case is None:
        raise CaseUnavailable(f"case {task.case_id!r} of evaluation {task.eval_id} is not stored")
    return {"evaluation": True, "base_commit": case.base, "eval_id": task.eval_id, "case_id": task.case_id,
            "setup_command": case.setup_command or repo.setup_command}
