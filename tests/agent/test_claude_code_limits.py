"""The task's limits hold for Claude Code in the relay: the call that could cross them is refused, not made."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.agent.claude_code import EngineWorld, engine_world, needs_cli, served_fake
from tests.doubles import FakeAnthropic
from tests.doubles.fake_anthropic import Turn

pytestmark = [needs_cli]
__all__ = ["served_fake"]
STEPS = 40


async def limited_world(tmp_path: Path, served_fake: tuple[FakeAnthropic, str],
                        **limits: Any) -> AsyncIterator[EngineWorld]:
    async for w in engine_world(tmp_path, served_fake, {"README.md": "# app\n"}, **limits):
        yield w


@pytest.mark.parametrize(("limits", "stopped"), [({"max_budget_usd": 0.2}, "budget"), ({"max_turns": 3}, "turn_cap")])
async def test_the_run_stops_before_the_call_that_would_cross_a_limit(
        tmp_path: Path, served_fake: tuple[FakeAnthropic, str], limits: dict[str, Any], stopped: str) -> None:
    async for world in limited_world(tmp_path, served_fake, **limits):
        model = world.script([Turn.tool_use("Bash", {"command": f"echo step {i}"}) for i in range(STEPS)])
        outcome = await world.engine.run(world.job(model))

        meter = world.relay.meter
        assert not outcome.finished and meter.stopped == stopped, (outcome, meter.stop_message)
        answered = len(world.requests())
        assert 1 <= answered < STEPS
        if stopped == "budget":
            assert meter.cost_usd <= limits["max_budget_usd"]
        else:
            assert answered == meter.turns == limits["max_turns"]
