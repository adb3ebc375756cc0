"""The pull request and commit text of a run, and opening or updating the PR."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from agent.errors import PullRequestFailed
from agent.pricing import Usage
from shared.githost.errors import GitHostError
from shared.githost.model_text import code_block, plain_model_text, render_model_text
from shared.githost.models import DraftComment, PostedReview, PullRequest
from shared.githost.status_comment import CommentHost
from shared.hydration.context import HydratedContext
from shared.observability.redaction import redact
from shared.tasks.models import Task

_TITLE_LIMIT = 72
_BODY_LIMIT = 60_000  # GitHub refuses bodies over 65,536 characters


class DeliveryHost(CommentHost, Protocol):
    """The git-host calls the deliverers make: the pull request, the task's one comment, a review."""

    async def find_pull(self, repo: str, head: str) -> PullRequest | None: ...

    async def create_pull(self, repo: str, *, head: str, base: str, title: str, body: str) -> PullRequest: ...

    async def update_pull(self, repo: str, number: int, *, title: str, body: str) -> PullRequest: ...

    async def find_review(self, repo: str, number: int, marker: str) -> PostedReview | None: ...

    async def create_review(self, repo: str, number: int, *, body: str, comments: list[DraftComment],
                            commit_id: str | None) -> PostedReview: ...


@dataclass(frozen=True)
class TestReport:
    """The repository's test command as the agent ran it."""

    __test__ = False  # not a pytest class

    command: str
    passed: bool
    exit_code: int | None
    tail: str  # last lines of output, redacted


@dataclass(frozen=True)
class RunFacts:
    """What the PR body reports about the run."""

    task: Task
    context: HydratedContext
    summary: str
    turns: int
    usage: Usage
    cost_usd: float
    test: TestReport | None = None
    error: str | None = None


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def pr_title(task: Task, context: HydratedContext) -> str:
    """The task's first description line, else the issue title, else a generic title."""
    first = (task.task_description or "").strip().splitlines()
    if first and first[0].strip():
        return redact(_clip(first[0].strip(), _TITLE_LIMIT))
    if context.issue_title:
        return redact(_clip(f"Fix #{context.issue_number}: {context.issue_title}", _TITLE_LIMIT))
    return f"bgagent task {task.task_id}"


def commit_message(title: str, summary: str, *, task_id: str, prompt_version: str) -> str:
    """`<summary line>\\n\\n<body>\\n\\nTask-Id: …\\nPrompt-Version: …` (trailers last, so git sees them)."""
    body = redact(plain_model_text(summary.strip())) or "Changes made by bgagent."
    return f"{title}\n\n{body}\n\nTask-Id: {task_id}\nPrompt-Version: {prompt_version}\n"


def pr_body(facts: RunFacts) -> str:
    """What changed, why, the test result and the run's cost, redacted; the model's words rendered as text."""
    task, ctx = facts.task, facts.context
    summary = render_model_text(facts.summary.strip(), repo=ctx.repo, web_url=ctx.clone_url, issue=ctx.issue_number)
    why = []
    if task.task_description:
        why.append(_clip(task.task_description.strip(), 4_000))
    if ctx.issue_number:
        why.append(f"Closes #{ctx.issue_number}" + (f" ({ctx.issue_title})" if ctx.issue_title else ""))
    parts = ["## What changed", summary or "_The model gave no summary._",
             "## Why", "\n\n".join(why) or "_No description._", "## Tests"]
    if facts.test is None:
        parts.append("No test command is configured for this repository.")
    else:
        if facts.test.passed:
            parts.append(f"`{facts.test.command}` passed.\n\n<details><summary>Last lines</summary>\n\n"
                         f"{code_block(facts.test.tail)}\n</details>")
        else:  # not folded away: a reviewer must not miss it
            parts.append(f"**Tests failed**: `{facts.test.command}` exited with {facts.test.exit_code}; this change is "
                         f"not verified.\n\n{code_block(facts.test.tail)}")
    if facts.error:
        parts += ["## Note", f"The run ended early: {facts.error}"]
    u = facts.usage
    parts += ["## Run", f"- Engine: {ctx.engine} · model {ctx.model_id}\n- Turns: {facts.turns} of {ctx.max_turns}\n"
              f"- Tokens: {u.input} input, {u.output} output, {u.cache_read} cache read, {u.cache_write} cache write\n"
              f"- Cost: ${facts.cost_usd:.4f}\n- Task: `{task.task_id}`"]
    return _clip(redact("\n\n".join(parts)), _BODY_LIMIT)


async def open_or_update(host: DeliveryHost, repo: str, *, branch: str, base: str, title: str,
                         body: str) -> tuple[PullRequest, bool]:
    """Update the branch's open PR (a re-run) or create one; returns (pr, created)."""
    try:
        existing = await host.find_pull(repo, branch)
        if existing is not None and existing.state == "open":
            return await host.update_pull(repo, existing.number, title=title, body=body), False
        return await host.create_pull(repo, head=branch, base=base, title=title, body=body), True
    except GitHostError as exc:
        raise PullRequestFailed(f"could not open the pull request: {redact(str(exc))}") from exc
