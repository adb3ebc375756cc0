"""Delivering a PR iteration: commit on the PR's own branch, test, push (never force), comment once."""

from __future__ import annotations

import logging

from agent.delivery import Deliverer, Delivery
from agent.errors import NotApproved, PullRequestFailed, PushRejected, WorkspaceError
from agent.model_loop import LoopResult
from agent.pull_request import TestReport, commit_message
from shared.githost.errors import GitHostError
from shared.githost.model_text import render_model_text
from shared.githost.models import PullRequest
from shared.githost.status_comment import markdown, post_status
from shared.hydration.context import HydratedContext
from shared.observability.redaction import redact
from shared.tasks.event_words import verdict
from shared.tasks.models import Task

log = logging.getLogger(__name__)


def iteration_title(task: Task, context: HydratedContext) -> str:
    first = (task.task_description or "").strip().splitlines()
    if first and first[0].strip():
        return redact(first[0].strip()[:72])
    return f"Address review feedback on #{context.pr_number}"


def iteration_comment(summary: str, commits: int, test: TestReport | None, error: str | None) -> str:
    """The PR comment: what changed, the test result, and why the run stopped early if it did."""
    changed = f"pushed {commits} commit(s) to this branch" if commits else "found nothing to change"
    lines = [f"bgagent {changed}.", summary.strip() or "_The model gave no summary._"]
    if test is None:
        lines.append("Tests: no test command is configured for this repository.")
    else:
        exit_code = "" if test.passed else f" (exit {test.exit_code})"
        lines.append(f"Tests: `{test.command}` {markdown([verdict(test.passed)])}{exit_code}.")
    if error:
        lines.append(f"The run ended early: {error}")
    return "\n\n".join(lines)


class IterationDeliverer(Deliverer):
    """Pushes new commits to the PR's head branch and leaves (or edits) the task's one PR comment."""

    async def deliver(self, task: Task, context: HydratedContext, loop: LoopResult) -> Delivery:
        delivery = Delivery()
        branch = context.branch_name
        try:
            message = commit_message(iteration_title(task, context), loop.summary, task_id=task.task_id,
                                     prompt_version=context.prompt_version)
            await self._ws.commit_all(message, branch=branch)
            delivery.commit_count = await self._ws.commits_ahead(branch)  # new since the PR's remote head
            if context.test_command:
                delivery.test = await self._run_tests(context.test_command)
            if delivery.commit_count:
                await self._gates.push(context.repo, branch, delivery.commit_count)
                await self._push_once_more_after_rebase(context)
                await self._progress.emit("agent.pushed", {"branch": branch, "commit_count": delivery.commit_count})
            delivery.pull = PullRequest(number=context.pr_number or 0, url=context.pr_url or "", head=branch,
                                        base=context.default_branch)
        except NotApproved as exc:  # the PR still hears why nothing new arrived
            delivery.error, delivery.error_code = str(exc), exc.code
        except (WorkspaceError, PullRequestFailed) as exc:
            delivery.error, delivery.error_code = str(exc), getattr(exc, "code", None)
        summary = render_model_text(loop.summary.strip(), repo=context.repo,
                                    web_url=context.pr_url or context.clone_url, issue=context.issue_number)
        text = iteration_comment(summary, delivery.commit_count if not delivery.error else 0, delivery.test,
                                 "; ".join(e for e in (loop.error, delivery.error) if e) or None)
        try:
            delivery.comment = await post_status(self._host, task, text)
        except GitHostError as exc:
            log.warning("could not comment on the pull request: %s", redact(str(exc)))
        return delivery

    async def _push_once_more_after_rebase(self, context: HydratedContext) -> None:
        """Push; if the branch moved meanwhile, rebase our commits on it once and push again."""
        try:
            await self._ws.push(context.clone_url, self._token, branch=context.branch_name)
            return
        except PushRejected:
            log.info("push rejected: fetching %s and rebasing once", context.branch_name)
        await self._ws.rebase_on_remote(context.clone_url, self._token, branch=context.branch_name)
        try:
            await self._ws.push(context.clone_url, self._token, branch=context.branch_name)
        except PushRejected as exc:
            raise PushRejected(f"{exc}; the branch kept moving after a rebase: submit the iteration again") from exc
