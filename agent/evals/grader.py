"""Grading an evaluation attempt: in a FRESH sandbox at the case's base, the attempt's diff and then the hidden
tests are applied (inside the sandbox), the case's setup and test commands run; exit 0 = reward 1."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Literal

from agent.evals.counts import count_tests
from agent.evals.patches import apply_patch, patch_paths, restore_paths, tail
from agent.process import ProcessResult
from agent.progress import Progress
from agent.sandbox.protocol import Sandbox
from agent.workspace import Workspace
from shared.evals.cases import EvalCase
from shared.observability.redaction import redact

log = logging.getLogger(__name__)
GRADE_TAIL_LINES = 40
GRADE_TAIL_CHARS = 8_000  # the task row stays far below DynamoDB's 400 KB
GRADE_BRANCH = "bgagent-grade"
GradeKind = Literal["passed", "failed", "grader_error"]


@dataclass(frozen=True)
class Grade:
    """An attempt's grade; `grader_error` is not a reward of 0 but an attempt that could not be graded."""

    grade: GradeKind | None  # None: the attempt ended before grading (a limit, a crash): reward 0
    reward: int = 0
    tests_passed: int | None = None
    tests_failed: int | None = None
    output_tail: str | None = None
    error: str | None = None
    test_seconds: float | None = None  # the test command's own time (not written on the task row)

    def changes(self) -> dict[str, Any]:
        """The grade fields of the task row (absent values left out)."""
        fields = {"reward": self.reward, "grade": self.grade, "tests_passed": self.tests_passed,
                  "tests_failed": self.tests_failed, "grade_output_tail": self.output_tail,
                  "grade_error": self.error}
        return {k: v for k, v in fields.items() if v is not None}


NOT_GRADED = Grade(None)


class Grader:
    """Grades one attempt in the task's workspace, once the agent's sandbox is closed."""

    def __init__(self, workspace: Workspace, open_sandbox: Callable[[], Awaitable[Sandbox]], progress: Progress, *,
                 git_timeout: float, setup_timeout: float):
        self._ws = workspace
        self._open = open_sandbox
        self._progress = progress
        self._git_timeout = git_timeout
        self._setup_timeout = setup_timeout

    async def grade(self, case: EvalCase, base: str, diff: bytes) -> Grade:
        """The attempt's diff and the case's hidden tests on a new clone at `base`, in a new sandbox."""
        started = time.monotonic()
        await self._ws.fresh_clone(base, branch=GRADE_BRANCH)
        self._ws.sandbox = sandbox = await self._open()
        try:
            grade = await self._grade_in(sandbox, case, diff)
        finally:
            self._ws.sandbox = None
            await sandbox.close()
        log.info("graded: %s (reward %d)", grade.grade, grade.reward)
        await self._progress.emit("agent.graded", {
            "grade": grade.grade, "reward": grade.reward, "tests_passed": grade.tests_passed,
            "tests_failed": grade.tests_failed, "error": grade.error, "tail": grade.output_tail,
            "seconds": round(time.monotonic() - started, 3), "test_seconds": grade.test_seconds})
        return grade

    async def _grade_in(self, sandbox: Sandbox, case: EvalCase, diff: bytes) -> Grade:
        timeout = self._git_timeout
        if diff.strip():
            applied = await apply_patch(sandbox, diff, timeout=timeout)
            if not applied.ok:
                return _error(f"the attempt's diff does not apply at the case's base: {_how(applied)}")
        tests = case.test_patch.encode()
        paths = await patch_paths(sandbox, tests, timeout=timeout)
        if paths is None:
            return _error("the case's test_patch is not a patch git can read")
        # The hidden tests replace whatever the attempt did to their files, as they are at base.
        restored = await restore_paths(sandbox, paths, timeout=timeout)
        applied = await apply_patch(sandbox, tests, timeout=timeout)
        if not restored.ok or not applied.ok:
            return _error(f"the case's test_patch does not apply at its base: {_how(applied)}")
        if case.setup_command:
            setup = await sandbox.run(case.setup_command, timeout=self._setup_timeout, output_limit=65_536)
            if not setup.ok:
                return Grade("failed", 0, output_tail=_tail(setup, "setup command"))
        started = time.monotonic()
        result = await sandbox.run(case.test_command, timeout=case.timeout_s, output_limit=65_536)
        passed, failed = count_tests(result.output)
        return Grade("passed" if result.ok else "failed", 1 if result.ok else 0, passed, failed,
                     _tail(result, "test command", timeout=case.timeout_s),
                     test_seconds=round(time.monotonic() - started, 3))


def _error(reason: str) -> Grade:
    return Grade("grader_error", 0, error=reason)


def _how(result: ProcessResult) -> str:
    if result.timed_out:
        return "timed out"
    return tail(result.output, 5) or f"exit {result.exit_code}"


def _tail(result: ProcessResult, what: str, *, timeout: float | None = None) -> str:
    text = "\n".join(result.output.rstrip().splitlines()[-GRADE_TAIL_LINES:])[-GRADE_TAIL_CHARS:]
    if result.timed_out:
        text += f"\n[the {what} timed out after {timeout:g} s]" if timeout else f"\n[the {what} timed out]"
    elif result.stopped:
        text += f"\n[{result.stopped}]"
    elif not result.ok:
        text += f"\n[the {what} exited {result.exit_code}]"
    return redact(text)
