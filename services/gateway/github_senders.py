"""Who may start a task from GitHub, and the status comment a GitHub-started task keeps on its thread."""

from __future__ import annotations

import logging

from services.gateway.deps import GatewayDeps
from services.gateway.github_triggers import SURE_WRITERS, UNSURE, WRITE_PERMISSIONS, GitHubEvent, needs_writer
from shared.githost.errors import GitHostError
from shared.githost.status_comment import try_post_status
from shared.repos.models import GitHubTrigger
from shared.tasks.errors import TransitionConflict
from shared.tasks.models import Task

log = logging.getLogger(__name__)


async def refusal(d: GatewayDeps, rule: GitHubTrigger, ev: GitHubEvent) -> str | None:
    """Why this sender cannot start a task by this rule, or None when they can."""
    login = (ev.sender or "").lower()
    if ev.sender_is_bot or login == d.settings.github_bot_login.lower() or "<!-- bgagent:task:" in ev.text:
        return "the platform's own comments never start a task"
    if not needs_writer(rule, ev):
        return None
    association = ev.author_association.upper()
    if association in SURE_WRITERS:
        return None
    if association not in UNSURE or d.git is None or not ev.sender:
        return _refused(ev, f"association {association or 'unknown'}")
    try:
        permission = await d.git.permission(ev.repo, ev.sender)
    except GitHostError as exc:
        return _refused(ev, f"its permission could not be read ({exc})")
    return None if permission in WRITE_PERMISSIONS else _refused(ev, f"permission {permission}")


def _refused(ev: GitHubEvent, why: str) -> str:
    reason = f"sender {ev.sender or 'unknown'} has no write access to {ev.repo} ({why}) and is not on the allowlist"
    log.warning("github trigger refused", extra={"repo": ev.repo, "sender": ev.sender, "reason": reason})
    return reason


async def start_status(d: GatewayDeps, task: Task) -> None:
    """Post (or, on a redelivery, find) the task's one status comment and remember its id on the task."""
    posted = await try_post_status(d.git, task)
    if posted is None or task.status_comment_id == posted.id:
        return
    try:
        await d.tasks.update(task.task_id, {"status_comment_id": posted.id}, expected_status=task.status)
    except TransitionConflict:
        pass  # the task moved on: the next writer finds the comment by its marker instead
