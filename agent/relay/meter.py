"""The one budget and turn path, for every engine: each model call is admitted (and clamped) before it leaves,
and settled from the usage its response reports."""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from agent.pricing import MTOK, ModelPrice, Usage
from agent.relay.estimate import Stream, input_bound, request_size, stream_key
from shared.llm.lookup import find_model

StopKind = Literal["turn_cap", "budget", "closed"]
# Extended thinking needs at least this many tokens of its own, below max_tokens (the API's rule).
THINKING_MIN = 1_024
PREFIX = "bgagent: "


@dataclass(frozen=True)
class RelayLimits:
    """The task's limits as the relay enforces them."""

    model_id: str             # the task's main model as the provider names it: its calls are turns
    max_turns: int
    max_budget_usd: float | None
    max_output_tokens: int    # ceiling on any call's max_tokens
    min_output_tokens: int    # a call is refused when the budget cannot buy this much output


@dataclass(frozen=True)
class CallRecord:
    """One answered model call, as metered."""

    seq: int
    model: str
    is_turn: bool
    turn: int                 # main-model calls so far, this one included
    usage: Usage
    cost_usd: float           # this call
    total_usd: float          # all calls so far
    tools: list[str]
    stop_reason: str | None
    seconds: float


class CallRefused(Exception):
    """The relay will not forward this call; str() is the message the client gets (prefixed `bgagent:`)."""


@dataclass
class Admission:
    """A call on its way: the body to forward and what it holds back from the budget until it is settled."""

    seq: int
    model: str
    is_turn: bool
    turn: int
    price: ModelPrice
    key: str
    size: int
    reserved_usd: float       # the call's worst case: its input bound and every output token it may use
    body: dict[str, Any]
    started: float = field(default_factory=time.monotonic)


class PriceBook:
    """Prices by the model id a request names: the task's operator price for its main model, else the catalog's."""

    def __init__(self, main_model: str, main_price: ModelPrice | None):
        self._main = main_model
        self._price = main_price

    def __call__(self, model: str) -> ModelPrice | None:
        if model == self._main and self._price is not None:
            return self._price
        entry = find_model(model)
        return entry.price if entry else None


class Meter:
    """Usage, cost and turns of one task's model calls; refuses a call that a limit forbids, before it is made."""

    def __init__(self, limits: RelayLimits, prices: Callable[[str], ModelPrice | None], *,
                 clock: Callable[[], float] = time.monotonic):
        self.limits = limits
        self._prices = prices
        self._clock = clock
        self.usage = Usage()
        self.cost_usd = 0.0
        self.turns = 0
        self.stopped: StopKind | None = None
        self.stop_message: str | None = None
        self.refused = 0  # calls refused, for whatever reason
        self._closed: str | None = None
        self._seq = itertools.count(1)
        self._reserved: dict[int, float] = {}
        self._streams: dict[str, Stream] = {}

    def close(self, reason: str) -> None:
        """The task is terminal or cancelled: every later call is refused."""
        self._closed = reason
        if self.stopped is None:
            self._stop("closed", f"the task has ended ({reason}); no more model calls")

    def admit(self, body: dict[str, Any]) -> Admission:
        """Check the call against the limits and clamp its max_tokens (and thinking budget); CallRefused if not."""
        try:
            return self._admit(body)
        except CallRefused:
            self.refused += 1
            raise

    def _admit(self, body: dict[str, Any]) -> Admission:
        if self._closed is not None:
            raise CallRefused(f"{PREFIX}the task has ended ({self._closed}); no more model calls")
        model, asked = body.get("model"), body.get("max_tokens")
        if not isinstance(model, str) or not isinstance(asked, int) or isinstance(asked, bool) or asked < 1:
            raise CallRefused(f"{PREFIX}a request needs a model and a positive max_tokens to be metered")
        price = self._prices(model)
        if price is None:
            raise CallRefused(f"{PREFIX}model {model!r} has no price in the catalog or the operator's prices, "
                              "so no budget can be enforced for it")
        is_turn = model == self.limits.model_id
        if is_turn and self.turns >= self.limits.max_turns:
            raise self._refuse("turn_cap", f"the turn cap of {self.limits.max_turns} was reached before the "
                                           "model finished")
        key, chars = stream_key(body), request_size(body)
        max_tokens = min(asked, self.limits.max_output_tokens)
        input_cost, band = input_bound(price, self._streams.get(key), chars, self._clock())
        limit = self.limits.max_budget_usd
        if limit is not None:
            remaining = limit - self.cost_usd - sum(self._reserved.values()) - input_cost
            affordable = math.floor(remaining * MTOK / band.output) if remaining > 0 else 0
            if affordable < self.limits.min_output_tokens:
                raise self._refuse("budget", self._over_budget())
            max_tokens = min(max_tokens, affordable)
        body = {**body, "max_tokens": max_tokens, **self._thinking(body.get("thinking"), max_tokens)}
        seq = next(self._seq)
        if is_turn:
            self.turns += 1
        reserved = input_cost + max_tokens * band.output / MTOK
        self._reserved[seq] = reserved
        return Admission(seq, model, is_turn, self.turns, price, key, chars, reserved, body, self._clock())

    def settle(self, call: Admission, usage: Usage | None, *, tools: list[str], stop_reason: str | None) -> CallRecord:
        """Charge an answered call: its reported usage, or its worst case when the usage could not be read."""
        self._reserved.pop(call.seq, None)
        cost = usage.cost(call.price) if usage is not None else call.reserved_usd
        self.cost_usd += cost
        if usage is not None:
            self.usage = self.usage + usage
            self._streams[call.key] = Stream(call.size, usage, self._clock())
        return CallRecord(call.seq, call.model, call.is_turn, call.turn, usage or Usage(), cost, self.cost_usd,
                          tools, stop_reason, self._clock() - call.started)

    def release(self, call: Admission) -> None:
        """The provider refused or failed the call (no charge): its reservation and its turn are given back."""
        if self._reserved.pop(call.seq, None) is not None and call.is_turn:
            self.turns -= 1

    def _thinking(self, thinking: Any, max_tokens: int) -> dict[str, Any]:
        """The thinking setting kept below max_tokens; refused as budget when it cannot keep its minimum."""
        if not isinstance(thinking, dict) or thinking.get("type") != "enabled":
            return {}
        budget = thinking.get("budget_tokens")
        if not isinstance(budget, int) or budget < max_tokens:
            return {}
        if max_tokens - 1 < THINKING_MIN:
            raise self._refuse("budget", self._over_budget())
        return {"thinking": {**thinking, "budget_tokens": max_tokens - 1}}

    def _over_budget(self) -> str:
        return (f"stopped before the next model call, which could cross the budget of "
                f"${self.limits.max_budget_usd or 0:.2f} (spent ${self.cost_usd:.4f})")

    def _refuse(self, kind: StopKind, message: str) -> CallRefused:
        self._stop(kind, message)
        return CallRefused(PREFIX + message)

    def _stop(self, kind: StopKind, message: str) -> None:
        if self.stopped is None:
            self.stopped, self.stop_message = kind, message
