"""The claude-code engine in the ECS image's `two-user` sandbox: the CLI runs as the command user and reaches the
relay (whose socket only the runtime may reach) on loopback; without a mount namespace the pins hold as
command-line settings (the host's /etc is never written)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from agent.errors import Cancelled
from agent.sandbox.factory import SandboxConfig, SandboxFactory
from agent.sandbox.limits import processes_of
from tests.agent.claude_code import EngineWorld, engine_world, needs_cli, served_fake, tool_results
from tests.doubles import FakeAnthropic
from tests.doubles.fake_anthropic import Turn

COMMAND_UID = 64_322
pytestmark = [needs_cli, pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs the runtime to be root")]
__all__ = ["served_fake"]


@pytest.fixture
def shared_base() -> Iterator[Path]:
    """Under the system temp dir, as in the image: pytest's own tmp_path is private to root."""
    base = Path(tempfile.mkdtemp(prefix="cc-two-user-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
async def world(shared_base: Path, served_fake: tuple[FakeAnthropic, str]) -> AsyncIterator[EngineWorld]:
    factory = SandboxFactory(SandboxConfig(mode="two-user", command_uid=COMMAND_UID))
    settings = {"env": {"ANTHROPIC_BASE_URL": "http://127.0.0.1:9"}, "apiKeyHelper": "echo sk-ant-from-a-helper"}
    files = {".claude/settings.json": json.dumps(settings)}
    async for w in engine_world(shared_base, served_fake, files, factory=factory):
        yield w


async def test_the_cli_runs_as_the_command_user_and_the_pins_hold(world: EngineWorld) -> None:
    model = world.script([Turn.tool_use("Bash", {"command": "id -u; echo $ANTHROPIC_BASE_URL"}), Turn.text("Ok.")])
    outcome = await world.engine.run(world.job(model))

    assert outcome.finished, outcome
    [said] = tool_results(world.requests()[-1])
    assert said.startswith(f"{COMMAND_UID}\nhttp://127.0.0.1:3129\n")
    assert "from-a-helper" not in world.tap.sent().decode("utf-8", "replace")
    assert not Path("/etc/claude-code/managed-settings.json").exists()


async def test_cancel_kills_what_the_cli_started_even_outside_its_process_group(world: EngineWorld) -> None:
    model = world.script([Turn.tool_use("Bash", {"command": "setsid sleep 300 & touch started; sleep 300"})])
    stop = asyncio.Event()
    run = asyncio.create_task(world.engine.run(world.job(model, stop_requested=stop.is_set)))
    deadline = time.monotonic() + 30
    while not (world.ws.repo / "started").exists():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    stop.set()
    with pytest.raises(Cancelled):
        await asyncio.wait_for(run, 30)
    deadline = time.monotonic() + 10
    while processes_of(COMMAND_UID):
        assert time.monotonic() < deadline, "a process of the command user outlived the session"
        await asyncio.sleep(0.05)
