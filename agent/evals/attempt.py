"""An evaluation attempt's part of a run: the oracle instead of a model, the diff instead of a push, then the
grade. The case is read from the artifacts bucket only here: its hidden tests after the agent's sandbox closed."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Awaitable, Callable

from agent.engines.oracle import OracleEngine
from agent.engines.protocol import EngineJob
from agent.errors import AgentError
from agent.evals.delivery import EvalDeliverer, EvalDelivery
from agent.evals.diffs import DiffStore
from agent.evals.grader import NOT_GRADED, Grade, Grader
from agent.model_loop import LoopResult
from agent.pricing import Usage
from agent.progress import Progress
from agent.result import RunOutcome
from agent.sandbox.protocol import Sandbox
from agent.workspace import Workspace
from shared.aws.errors import StoreUnavailable
from shared.evals.case_source import CaseSource
from shared.evals.cases import EvalCase
from shared.hydration.context import HydratedContext
from shared.tasks.models import Task

log = logging.getLogger(__name__)


class EvalCaseUnavailable(AgentError):
    """The attempt's case could not be read, or it lacks what the attempt needs."""

    code = "EVAL_CASE_UNAVAILABLE"


class ReferencePatchFailed(AgentError):
    """The oracle's reference patch does not apply at the case's base."""

    code = "GOLD_PATCH_FAILED"


@dataclass
class EvalAttempt:
    """The evaluation steps of one attempt, on its task's workspace."""

    workspace: Workspace
    cases: CaseSource | None
    diffs: DiffStore | None
    progress: Progress
    open_sandbox: Callable[[], Awaitable[Sandbox]]  # a new sandbox on the workspace, as the task's first one
    git_timeout: float
    setup_timeout: float

    async def oracle(self, context: HydratedContext) -> LoopResult:
        """The case's reference patch applied in the task's sandbox, as a run without model calls ($0)."""
        if not context.evaluation:
            raise EvalCaseUnavailable("the oracle engine runs only evaluation attempts")
        case = await self._case(context)
        if case.gold_patch is None:
            raise EvalCaseUnavailable(f"case {case.id!r} has no gold_patch: the oracle engine needs one")
        assert self.workspace.sandbox is not None  # opened by the runner before any engine runs
        engine = OracleEngine(self.workspace.sandbox, case.gold_patch, timeout=self.git_timeout)
        outcome = await engine.run(EngineJob(
            model_id="oracle", system_prompt=context.system_prompt, user_prompt=context.user_prompt, attachments=[],
            task_type=context.task_type, mcp_servers={}, approval=None, inbox=None, stop_requested=lambda: False))
        if not outcome.finished:
            raise ReferencePatchFailed(outcome.error or "the oracle did not finish")
        return LoopResult(stop="finished", summary=outcome.summary, usage=Usage(), cost_usd=0.0)

    async def finish(self, task: Task, context: HydratedContext, outcome: RunOutcome) -> None:
        """Instead of a push and a pull request: the attempt's diff stored, then its grade, on `outcome`."""
        assert outcome.loop is not None
        if context.task_type != "new_task":
            raise EvalCaseUnavailable("an evaluation attempt is a new task, never a pull request's")
        outcome.delivery = delivery = await self.deliver(task, context, outcome.loop)
        outcome.error = "; ".join(e for e in (outcome.loop.error, delivery.error) if e) or None
        outcome.error_code = delivery.error_code
        outcome.grade = await self.grade(context, delivery, finished=not outcome.error)

    async def deliver(self, task: Task, context: HydratedContext, loop: LoopResult) -> EvalDelivery:
        """The work committed in the runtime's repository and its diff stored: never pushed."""
        if self.diffs is None:
            raise EvalCaseUnavailable("this agent has no store for evaluation diffs")
        return await EvalDeliverer(self.workspace, self.diffs, self.progress).deliver(task, context, loop)

    async def grade(self, context: HydratedContext, delivery: EvalDelivery | None, *, finished: bool) -> Grade:
        """The hidden tests on the attempt's diff in a fresh sandbox; only an attempt whose agent finished."""
        ws = self.workspace
        if ws.sandbox is not None:  # the agent's sandbox ends before the hidden tests exist anywhere on the host
            sandbox, ws.sandbox = ws.sandbox, None
            await sandbox.close()
        if not finished or delivery is None or delivery.error or not context.base_commit:
            return NOT_GRADED
        try:
            case = await self._case(context)
        except EvalCaseUnavailable as exc:
            return Grade("grader_error", 0, error=str(exc))
        grader = Grader(ws, self.open_sandbox, self.progress, git_timeout=self.git_timeout,
                        setup_timeout=self.setup_timeout)
        return await grader.grade(case, context.base_commit, delivery.diff)

    async def _case(self, context: HydratedContext) -> EvalCase:
        if self.cases is None or not context.eval_id or context.case_id is None:
            raise EvalCaseUnavailable("the attempt names no case this agent can read")
        try:
            case = await self.cases.get(context.eval_id, context.case_id)
        except StoreUnavailable as exc:
            raise EvalCaseUnavailable(f"could not read case {context.case_id!r}: {exc}") from exc
        if case is None:
            raise EvalCaseUnavailable(f"case {context.case_id!r} of evaluation {context.eval_id} is not stored")
        return case
