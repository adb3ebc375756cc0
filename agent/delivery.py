"""After the loop: commit, run the tests, push the branch and open or update the pull request."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from agent.errors import PullRequestFailed, WorkspaceError
from agent.gates import DeliveryGates, OpenGates
from agent.model_loop import LoopResult
from agent.progress import Progress
from agent.pull_request import DeliveryHost, RunFacts, TestReport, commit_message, open_or_update, pr_body, pr_title
from agent.workspace import Workspace
from shared.githost.models import PostedComment, PostedReview, PullRequest
from shared.hydration.context import HydratedContext
from shared.observability.redaction import redact
from shared.tasks.models import Task

log = logging.getLogger(__name__)
TEST_TAIL_LINES = 40


@dataclass
class Delivery:
    """What reached the remote: commits, test result, pull request, or why not."""

    commit_count: int = 0
    test: TestReport | None = None
    pull: PullRequest | None = None
    error: str | None = None
    error_code: str | None = None
    comment: PostedComment | None = None  # the task's one comment on its PR (iterations)
    review: PostedReview | None = None  # the submitted review (reviews)
    summary: str | None = None  # replaces the model's reply as the task's summary (reviews)
    diff_key: str | None = None  # an evaluation attempt's diff in the artifacts bucket (nothing is pushed)


class Deliverer:
    """Turns the workspace's changes into a pushed branch and a pull request."""

    def __init__(self, workspace: Workspace, host: DeliveryHost, progress: Progress, *, token: str | None,
                 test_timeout: float, gates: DeliveryGates | None = None):
        self._ws = workspace
        self._gates = gates or OpenGates()
        self._host = host
        self._progress = progress
        self._token = token
        self._test_timeout = test_timeout

    async def deliver(self, task: Task, context: HydratedContext, loop: LoopResult) -> Delivery:
        """Commit whatever work exists, test it, push it and open the PR; errors end up in `error`."""
        delivery = Delivery()
        title = pr_title(task, context)
        try:
            message = commit_message(title, loop.summary, task_id=task.task_id,
                                     prompt_version=context.prompt_version)
            await self._ws.commit_all(message, branch=context.branch_name)
            delivery.commit_count = await self._ws.commits_ahead(context.default_branch)
            if delivery.commit_count == 0:
                log.info("no commits on the branch: nothing to push, no pull request")
                return delivery
            if context.test_command:
                delivery.test = await self._run_tests(context.test_command)
            await self._gates.push(context.repo, context.branch_name, delivery.commit_count)  # NotApproved ends it
            await self._ws.push(context.clone_url, self._token, branch=context.branch_name)
            log.info("pushed %s (%d commits)", context.branch_name, delivery.commit_count)
            await self._progress.emit("agent.pushed", {"branch": context.branch_name,
                                                       "commit_count": delivery.commit_count})
            facts = RunFacts(task, context, loop.summary, loop.turns, loop.usage, loop.cost_usd, delivery.test,
                             loop.error)
            delivery.pull, created = await open_or_update(
                self._host, context.repo, branch=context.branch_name, base=context.default_branch,
                title=title, body=pr_body(facts))
            log.info("pull request %s %s", "created" if created else "updated", delivery.pull.url)
            await self._progress.emit("agent.pull_request", {"url": delivery.pull.url, "number": delivery.pull.number,
                                                             "action": "created" if created else "updated"})
        except (WorkspaceError, PullRequestFailed) as exc:
            delivery.error, delivery.error_code = str(exc), getattr(exc, "code", None)
        return delivery

    async def _run_tests(self, command: str) -> TestReport:
        await self._gates.script("test", command)
        result = await self._ws.run_script(command, timeout=self._test_timeout)
        tail = "\n".join(result.output.rstrip().splitlines()[-TEST_TAIL_LINES:])
        if result.timed_out:
            tail += f"\n[timed out after {self._test_timeout:g} s]"
        if result.stopped:
            tail += f"\n[{result.stopped}]"
        report = TestReport(command, result.ok, result.exit_code, redact(tail))
        log.info("tests %s: %s", "passed" if report.passed else "failed", command)
        await self._progress.emit("agent.tests", {"command": command, "passed": report.passed,
                                                  "exit_code": report.exit_code, "tail": report.tail})
        return report
