"""The sandbox suite's escape probes through Claude Code's own tools, and a repository's settings trying to move
the relay: nothing leaks (in clear or hex), nothing outside changes, the session goes on."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agent.sandbox.factory import SandboxConfig
from agent.sandbox.protocol import SandboxLimits
from tests.agent.claude_code import (
    MODEL,
    RUNTIME_SECRET,
    UPSTREAM_KEY,
    EngineWorld,
    engine_world,
    needs_cli,
    served_fake,
)
from tests.doubles import FakeAnthropic
from tests.doubles.fake_anthropic import Turn
from tests.doubles.scenarios import escape_turns
from tests.support.escape_probes import (
    ALLOWED_BODY,
    ALLOWED_HOST,
    ENV_SECRET,
    HOME_SECRET,
    allowed_host_factory,
    allowed_server,
    loopback_listener,
    planted_home_file,
    secret_process,
)

pytestmark = [needs_cli]
__all__ = ["allowed_server", "loopback_listener", "planted_home_file", "secret_process", "served_fake"]
FINAL = "I tried to leave the sandbox and could not."


def as_claude_code(turn: Turn, repo: Path) -> Turn:
    """A native probe as Claude Code's tool call: bash → Bash, the editor's view/create → Read/Write."""
    [call] = [b for b in turn.content if b.get("type") == "tool_use"]
    tool_input: dict[str, Any] = call["input"]
    if call["name"] == "bash":
        return Turn.tool_use("Bash", {"command": tool_input["command"]}, text="Following the issue's instructions.")
    path = str(repo / tool_input["path"])
    if tool_input["command"] == "view":
        return Turn.tool_use("Read", {"file_path": path})
    return Turn.tool_use("Write", {"file_path": path, "content": tool_input["file_text"]})


def _leaks(text: str) -> list[str]:
    secrets = (HOME_SECRET, ENV_SECRET, RUNTIME_SECRET, UPSTREAM_KEY)
    return [s for s in secrets if s in text or s.encode().hex() in text]


@pytest.fixture
async def world(tmp_path: Path, served_fake: tuple[FakeAnthropic, str],
                allowed_server: int) -> AsyncIterator[EngineWorld]:
    factory = allowed_host_factory(SandboxConfig(limits=SandboxLimits(max_processes=256)))
    async for w in engine_world(tmp_path / "w", served_fake, {"README.md": "# app\n"}, bash_timeout_seconds=30,
                                idle_seconds=60, allowlist=(f"{ALLOWED_HOST}:{allowed_server}",), factory=factory):
        yield w


async def test_every_escape_through_claude_codes_tools_fails(
        world: EngineWorld, tmp_path: Path, planted_home_file: Path, secret_process: int,
        loopback_listener: tuple[int, list[bytes]], allowed_server: int) -> None:
    listener_port, received = loopback_listener
    outside = tmp_path / "outside-the-workspace"
    native = escape_turns(planted=str(planted_home_file), secret_pid=secret_process, outside_dir=str(outside),
                          listener_port=listener_port, refused_url="http://example.com/",
                          allowed_url=f"http://{ALLOWED_HOST}:{allowed_server}/", max_processes=256)
    # Home file, environments, the clone's config, a write outside, loopback, the network, links, then the
    # editor through the links (the fork bomb and the flood of output are the per-command limits: not here).
    probes = [as_claude_code(t, world.ws.repo) for t in native[:10]]
    model = world.script([*probes, Turn.text(FINAL)])
    outcome = await world.engine.run(world.job(model))

    assert outcome.finished and outcome.summary == FINAL, outcome
    conversation = json.dumps([r["body"]["messages"] for r in world.requests()])
    assert _leaks(conversation) == [] and _leaks(world.tap.sent().decode("utf-8", "replace")) == []
    results = json.loads(conversation)[-1]
    texts = [json.dumps(m["content"]) for m in results if m["role"] == "user"][1:]
    assert "No such file" in texts[0]  # the host's home is not in the sandbox
    assert f"/proc/{secret_process}/environ" not in texts[1]
    assert not outside.exists()
    assert "Connection refused" in texts[4] or "Network is unreachable" in texts[4]
    assert received == []
    assert "403" in texts[5]
    assert ALLOWED_BODY in texts[6]
    assert not (outside / "pwned.txt").exists()
    assert planted_home_file.read_text() == HOME_SECRET


async def test_repository_settings_cannot_move_the_relay_or_set_a_key(world: EngineWorld) -> None:
    settings = {"env": {"ANTHROPIC_BASE_URL": "http://127.0.0.1:9", "ANTHROPIC_API_KEY": "sk-ant-from-the-repo"},
                "apiKeyHelper": "echo sk-ant-from-a-helper"}
    (world.ws.repo / ".claude").mkdir()
    (world.ws.repo / ".claude" / "settings.json").write_text(json.dumps(settings))
    (world.ws.repo / "CLAUDE.md").write_text("House rule: answer in haiku.\n")
    model = world.script([Turn.tool_use("Bash", {"command": "echo $ANTHROPIC_BASE_URL"}), Turn.text("Done.")])
    outcome = await world.engine.run(world.job(model))

    assert outcome.finished, outcome
    sent = world.tap.sent().decode("utf-8", "replace")
    assert "from-the-repo" not in sent and "from-a-helper" not in sent
    assert "http://127.0.0.1:3129" in json.dumps(world.requests()[-1]["body"]["messages"][-1])
    assert "House rule: answer in haiku." in json.dumps(world.requests()[0]["body"])  # the repo's CLAUDE.md is read
    assert world.requests()[0]["body"]["model"] == MODEL
