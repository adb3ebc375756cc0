"""The claude-code engine's start: from `engine.run()` to the model's first request, through the sandbox and relay.

    .venv/bin/python -m bench.claude_code_start --runs 10

Each run starts the bundled Claude Code CLI in a fresh bwrap sandbox (as the task's uid, its managed settings
written, the relay's socket forwarded in) and answers its first request with a one-line reply.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bench.common import machine, summary
from tests.agent.claude_code import UPSTREAM_KEY, engine_world
from tests.doubles import FakeAnthropic
from tests.doubles.fake_anthropic import Turn


async def _one(fake: FakeAnthropic, url: str, base: Path) -> tuple[float, float]:
    """(ms to the first model request, ms for the whole one-turn run)."""
    async for world in engine_world(base, (fake, url), {"README.md": "# app\n"}):
        fake.reset()
        model = world.script([Turn.text("Nothing to do.")])
        started = time.time()
        outcome = await world.engine.run(world.job(model))
        ended = time.time()
        assert outcome.finished, outcome
        first = fake.arrivals()[0][0]
        return (first - started) * 1000, (ended - started) * 1000
    raise RuntimeError("no world")


async def main(runs: int) -> None:
    fake = FakeAnthropic(api_key=UPSTREAM_KEY)
    firsts, totals = [], []
    with fake.serve() as url, tempfile.TemporaryDirectory() as root:
        for i in range(runs):
            first, total = await _one(fake, url, Path(root) / str(i))
            firsts.append(first)
            totals.append(total)
    print(machine())
    print(f"start -> first model request (ms): {summary(firsts)}")
    print(f"one-turn run, start -> end (ms):   {summary(totals)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    asyncio.run(main(parser.parse_args().runs))
