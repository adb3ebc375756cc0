"""The one comment a task keeps on its GitHub thread, edited in place as the task moves."""

from __future__ import annotations

import logging
from typing import Protocol

from shared.githost.errors import GitHostError, GitHostNotFound
from shared.githost.model_text import render_model_text
from shared.githost.models import PostedComment
from shared.observability.redaction import redact
from shared.tasks.classification import classify
from shared.tasks.event_words import Words, verdict
from shared.tasks.models import Task
from shared.tasks.states import ACTIVE, PENDING, TaskStatus

log = logging.getLogger(__name__)
_SUMMARY_LIMIT = 6_000
_PASSED = {"passed": True, "failed": False}  # else not run


class CommentHost(Protocol):
    """The git-host calls the status comment makes."""

    async def find_comment(self, repo: str, number: int, marker: str) -> PostedComment | None: ...

    async def create_comment(self, repo: str, number: int, body: str) -> PostedComment: ...

    async def update_comment(self, repo: str, comment_id: int, body: str) -> PostedComment: ...


def marker(task_id: str) -> str:
    """The hidden line that finds a task's comment again, whichever process posted it."""
    return f"<!-- bgagent:task:{task_id} -->"


def thread_of(task: Task) -> int | None:
    """The issue or PR a task talks on: where GitHub called it from, else the PR it iterates on."""
    meta = task.channel_metadata or {}
    if isinstance(meta.get("thread"), int):
        return int(meta["thread"])
    return task.pr_number if task.task_type == "pr_iteration" else None


def markdown(words: Words) -> str:
    """Event words as Markdown: verdicts in bold, what lies below the line left out."""
    return "".join(f"**{p.text}**" if p.role == "bad" else p.text for p in words if p.role != "detail")


def status_text(task: Task) -> str:
    """What the comment says for the task's current state."""
    status, ref = task.status, f"`{task.task_id}`"
    if status in PENDING:
        return f"bgagent queued this {task.task_type.replace('_', ' ')} ({ref})."
    if status in ACTIVE:
        return f"bgagent is working on it ({ref})."
    if status == TaskStatus.COMPLETED:
        link = task.review_url or task.pr_url or ""
        summary = render_model_text((task.agent_summary or "").strip()[:_SUMMARY_LIMIT], repo=task.repo,
                                    web_url=task.pr_url, issue=task.issue_number)
        lines = [f"bgagent finished ({ref}){': ' + link if link else ''}.", summary]
        if task.task_type != "pr_review":
            lines.append(f"Tests: {markdown([verdict(_PASSED.get(task.tests or ''))])}.")
        return "\n\n".join(line for line in lines if line)
    if status == TaskStatus.CANCELLED:
        return f"bgagent's task was cancelled ({ref})."
    why = classify(task.error_code)
    return (f"bgagent's task failed ({ref}): {why.title}.\n\n{task.error_message or ''}\n\n"
            f"What to do: {why.remedy}")


async def post_status(host: CommentHost, task: Task, text: str | None = None) -> PostedComment | None:
    """Create the task's comment, or edit the one it has; None when the task has no thread."""
    number = thread_of(task)
    if number is None:
        return None
    body = f"{redact(text or status_text(task))}\n\n{marker(task.task_id)}"
    if task.status_comment_id:
        try:
            return await host.update_comment(task.repo, task.status_comment_id, body)
        except GitHostNotFound:
            pass  # deleted by someone: find or post again
    existing = await host.find_comment(task.repo, number, marker(task.task_id))
    if existing is not None:
        return await host.update_comment(task.repo, existing.id, body)
    return await host.create_comment(task.repo, number, body)


async def try_post_status(host: CommentHost | None, task: Task, text: str | None = None) -> PostedComment | None:
    """post_status for callers whose own work must not fail with it: a host error is logged and dropped."""
    if host is None or thread_of(task) is None:
        return None
    try:
        return await post_status(host, task, text)
    except GitHostError as exc:
        log.warning("status comment not updated", extra={"task_id": task.task_id, "error": str(exc)})
        return None
