"""A Claude Code session that goes wrong ends classified, never hanging: crash, garbage, silence, model errors."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent.engines.claude_code import ClaudeCodeEngine, ClaudeCodeSettings
from shared.observability.redaction import register_secret
from tests.agent.claude_code import EngineWorld, engine_world, needs_cli, served_fake
from tests.doubles import FakeAnthropic
from tests.doubles.fake_anthropic import Turn

pytestmark = [needs_cli]
__all__ = ["served_fake"]
LEAKED = "ghp_cliStderrSecret0123456789abcdefABCD"


@pytest.fixture
async def world(tmp_path: Path, served_fake: tuple[FakeAnthropic, str]) -> AsyncIterator[EngineWorld]:
    async for w in engine_world(tmp_path / "w", served_fake, {"README.md": "# app\n"}, bash_timeout_seconds=0.5,
                                idle_seconds=1.5):
        yield w


@pytest.fixture
async def patient_world(tmp_path: Path,
                        served_fake: tuple[FakeAnthropic, str]) -> AsyncIterator[EngineWorld]:
    async for w in engine_world(tmp_path, served_fake, {"README.md": "# app\n"}, model_retries=1):
        yield w


def broken_cli(world: EngineWorld, tmp_path: Path, script: str) -> ClaudeCodeEngine:
    """The engine with a stand-in CLI (run in the same sandbox) that misbehaves as `script` says."""
    directory = tmp_path / "broken-cli"
    directory.mkdir(mode=0o755)
    cli = directory / "claude"
    cli.write_text(f"#!/bin/bash\n{script}\n")
    cli.chmod(0o755)
    settings = ClaudeCodeSettings(cli=cli, bash_timeout_seconds=0.5, idle_seconds=1.5)
    assert world.ws.sandbox is not None
    return ClaudeCodeEngine(world.ws.sandbox, world.socket, settings)


async def test_a_cli_that_crashes_ends_with_its_last_stderr_lines_redacted(world: EngineWorld, tmp_path: Path) -> None:
    register_secret(LEAKED)
    engine = broken_cli(world, tmp_path, f"echo 'starting up' >&2; echo 'fatal: bad token {LEAKED}' >&2; exit 3")
    outcome = await engine.run(world.job())

    assert not outcome.finished and outcome.error_code == "AGENT_CRASHED"
    assert outcome.error is not None
    assert "exited with status 3" in outcome.error
    assert "starting up" in outcome.error and "fatal: bad token" in outcome.error
    assert LEAKED not in outcome.error


async def test_a_cli_that_writes_garbage_on_its_output_is_a_crash(world: EngineWorld, tmp_path: Path) -> None:
    engine = broken_cli(world, tmp_path, "echo 'Segmentation fault (core dumped)'; sleep 300")
    started = time.monotonic()
    outcome = await engine.run(world.job())

    assert outcome.error_code == "AGENT_CRASHED" and outcome.error is not None
    assert "not a message" in outcome.error and "Segmentation fault" in outcome.error
    assert time.monotonic() - started < 15


async def test_a_silent_cli_is_stopped_past_the_idle_limit(world: EngineWorld, tmp_path: Path) -> None:
    engine = broken_cli(world, tmp_path, "echo 'waiting for nothing' >&2; exec sleep 300")
    started = time.monotonic()
    outcome = await engine.run(world.job())

    assert outcome.error_code == "AGENT_CRASHED" and outcome.error is not None
    assert "wrote nothing for 2 s" in outcome.error and "waiting for nothing" in outcome.error
    assert time.monotonic() - started < 15


@pytest.mark.parametrize(("status", "code", "said"), [(401, "MODEL_AUTH", "the provider said no"),
                                                     (404, "MODEL_UNAVAILABLE", "claude-sonnet-4-5")])
async def test_a_model_error_maps_to_the_platform_classification(patient_world: EngineWorld, status: int,
                                                                 code: str, said: str) -> None:
    world = patient_world
    started = time.monotonic()
    model = world.script([Turn.error(status, "the provider said no", times=None)])
    outcome = await world.engine.run(world.job(model))

    assert not outcome.finished and outcome.error_code == code, outcome
    assert outcome.error is not None and said in outcome.error
    assert time.monotonic() - started < 30


async def test_a_cli_killed_mid_session_is_a_crash(patient_world: EngineWorld) -> None:
    world = patient_world
    model = world.script([Turn.tool_use("Bash", {"command": "echo bye >&2; kill -9 $PPID; sleep 5"}),
                          Turn.text("never")])
    started = time.monotonic()
    outcome = await world.engine.run(world.job(model))

    assert not outcome.finished and outcome.error_code == "AGENT_CRASHED", outcome
    assert outcome.error is not None and "exited with status" in outcome.error
    assert time.monotonic() - started < 30
