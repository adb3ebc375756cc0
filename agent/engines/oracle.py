"""The oracle engine (evaluation only): instead of calling a model, it applies the case's reference patch to the
clone, inside the sandbox. It validates datasets and the grader, and costs nothing."""

from __future__ import annotations

from agent.engines.protocol import EngineJob, EngineOutcome
from agent.evals.patches import apply_patch, tail
from agent.sandbox.protocol import Sandbox

GOLD_PATCH_FAILED = "GOLD_PATCH_FAILED"


class OracleEngine:
    """Applies `gold_patch` ("" = nothing) with `git apply` run in the task's sandbox."""

    def __init__(self, sandbox: Sandbox, gold_patch: str, *, timeout: float):
        self._sandbox = sandbox
        self._patch = gold_patch.encode()
        self._timeout = timeout

    async def run(self, job: EngineJob) -> EngineOutcome:
        """The reference patch on the working tree; an error when it does not apply."""
        if not self._patch.strip():
            return EngineOutcome(True, "oracle: the case's reference patch is empty; nothing applied")
        result = await apply_patch(self._sandbox, self._patch, timeout=self._timeout)
        if not result.ok:
            how = "timed out" if result.timed_out else tail(result.output, 5) or f"exit {result.exit_code}"
            return EngineOutcome(False, "", error=f"the case's gold_patch does not apply at its base: {how}",
                                 error_code=GOLD_PATCH_FAILED)
        return EngineOutcome(True, "oracle: applied the case's reference patch")
