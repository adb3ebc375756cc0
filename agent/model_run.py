"""One task's model session, whatever the engine: the relay and its meter around it, and how it ended.

The relay's socket lives in a private directory of the runtime (mode 0700, a short path: a unix socket's
path has at most 107 bytes); an engine that runs inside the sandbox gets the socket itself bound in.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from agent.engines.protocol import EngineOutcome
from agent.model_loop import LoopResult
from agent.pricing import ModelPrice
from agent.progress import Progress
from agent.relay.meter import CallRecord, Meter, PriceBook, RelayLimits
from agent.relay.server import ModelRelay
from agent.relay.upstream import Upstream

# A limit the meter enforced, as the error code the platform classifies for users.
LIMIT_CODES = {"turn_cap": "MAX_TURNS_REACHED", "budget": "BUDGET_EXCEEDED"}


class ModelSession:
    """`async with`: the task's relay is open, with every call metered and every turn announced."""

    def __init__(self, upstream: Upstream, limits: RelayLimits, price: ModelPrice | None, progress: Progress):
        self.meter = Meter(limits, PriceBook(limits.model_id, price))
        self.records: list[CallRecord] = []
        self._progress = progress
        self.relay = ModelRelay(self.meter, upstream, on_call=self._on_call)
        self._dir = Path(tempfile.mkdtemp(prefix="bgagent-relay-"))
        self.socket = self._dir / "relay.sock"

    async def __aenter__(self) -> ModelSession:
        await self.relay.start(self.socket)
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        """The run ended (or was cancelled): the relay refuses everything from now on, and goes."""
        self.meter.close("the run ended" if exc is None else "the run was stopped")
        await self.relay.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    async def _on_call(self, record: CallRecord) -> None:
        self.records.append(record)
        if record.is_turn:
            await self._progress.turn_finished(record, self.meter.usage)

    def last_text(self) -> str:
        """What the main model said in its newest reply (the reason shown with a held command)."""
        _, messages = self.relay.transcript()
        content = messages[-1]["content"] if messages and messages[-1]["role"] == "assistant" else []
        return "\n".join(b["text"] for b in content if b.get("type") == "text" and b.get("text", "").strip())

    def result(self, outcome: EngineOutcome) -> LoopResult:
        """The run's model part: a limit the meter hit classifies it, whatever the engine made of the refusal."""
        meter = self.meter
        system, messages = self.relay.transcript()
        result = LoopResult("finished", outcome.summary, meter.usage, meter.cost_usd, records=self.records,
                            transcript=messages, system=system, turns=meter.turns)
        if meter.stopped in LIMIT_CODES:
            result.stop, result.error, result.error_code = meter.stopped, meter.stop_message, \
                LIMIT_CODES[meter.stopped]
        elif not outcome.finished:
            result.stop, result.error, result.error_code = "error", outcome.error, outcome.error_code
        return result
