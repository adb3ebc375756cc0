"""Reading the pull request of a PR task, and refusing one the agent cannot work on."""

from __future__ import annotations

from shared.githost.models import PullRequest
from shared.tasks.models import Task
from shared.tasks.states import ACTIVE
from shared.tasks.states import TaskStatus as S
from shared.tasks.store import TaskStore

# A PR iteration waits for an older one on the same PR while that one is in any of these states.
_BUSY = tuple(s for s in S if s in ACTIVE)  # in the enum's order: the queries run in a stable order


def not_iterable(task: Task, pr: PullRequest) -> str | None:
    """Why the agent cannot push to this PR, or None when it can."""
    if task.task_type != "pr_iteration":
        return None
    if pr.merged:
        return f"pull request #{pr.number} is already merged"
    if pr.state != "open":
        return f"pull request #{pr.number} is {pr.state}"
    if pr.head_repo and pr.head_repo.lower() != task.repo.lower():
        return (f"pull request #{pr.number} comes from the fork {pr.head_repo}: the platform can only push "
                f"to branches of {task.repo}")
    if not pr.head_sha:
        return f"the head branch {pr.head} of pull request #{pr.number} no longer exists"
    return None


def _sooner(a: Task, b: Task) -> bool:
    return (a.created_at, a.task_id) < (b.created_at, b.task_id)


async def iteration_ahead(store: TaskStore, task: Task) -> Task | None:
    """An older iteration of the same PR that has not finished: this one must wait for it (FIFO)."""
    if task.task_type != "pr_iteration" or task.pr_number is None:
        return None
    for status in _BUSY:
        for other in await store.tasks_in_status(status):
            if (other.task_id != task.task_id and other.task_type == "pr_iteration" and other.repo == task.repo
                    and other.pr_number == task.pr_number and _sooner(other, task)):
                return other
    return None

