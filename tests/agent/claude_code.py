"""Running the claude-code engine in a real bwrap sandbox against the fake Anthropic, for the engine's tests."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agent.engines.claude_code import ClaudeCodeEngine, ClaudeCodeSettings
from agent.engines.protocol import EngineJob
from agent.pricing import ModelPrice
from agent.relay.meter import Meter, PriceBook, RelayLimits
from agent.relay.server import ModelRelay
from agent.relay.upstream import AnthropicUpstream
from agent.sandbox.factory import SandboxFactory
from agent.workspace import Workspace
from shared.engines import claude_code_cli
from tests.agent.sandboxes import open_sandbox
from tests.doubles import FakeAnthropic
from tests.doubles.fake_anthropic import Turn
from tests.support.socket_tap import SocketTap

# The CLI treats a model it does not know differently (system messages inside the conversation): scripts use
# names it recognises; the fake picks the script by name.
MODEL = "claude-sonnet-4-5"
UPSTREAM_KEY = "sk-ant-upstream-secret-0123456789"
RUNTIME_SECRET = "sk-ant-runtime-env-secret-abcdef"
PRICE = ModelPrice(input=3.0, output=15.0)

needs_cli = pytest.mark.skipif(claude_code_cli() is None,
                               reason="the Claude Code CLI is not installed (pip install 'bgagent[claude-code]')")


@dataclass
class EngineWorld:
    """A workspace with its sandbox, the relay stand-in in front of the fake, and the engine."""

    ws: Workspace
    fake: FakeAnthropic
    relay: ModelRelay
    tap: SocketTap  # between the sandbox and the relay: what the sandbox sent, byte for byte
    socket: Path
    engine: ClaudeCodeEngine

    def script(self, turns: list[Turn], model: str = MODEL) -> str:
        self.fake.add_scenario(model, turns)
        return model

    def job(self, model: str = MODEL, **fields: Any) -> EngineJob:
        defaults: dict[str, Any] = {"system_prompt": "You are bgagent.", "user_prompt": "Do it.", "attachments": [],
                                    "task_type": "new_task", "mcp_servers": {}, "approval": None, "inbox": None,
                                    "stop_requested": lambda: False}
        return EngineJob(model_id=model, **{**defaults, **fields})

    def requests(self) -> list[dict[str, Any]]:
        """The model requests that reached the provider: {body, headers}."""
        return [{"body": r, "headers": r.pop("headers", {})} for r in self.fake.requests]


def tool_results(request: dict[str, Any]) -> list[str]:
    """The text of every tool result in the request's last message."""
    texts = []
    for block in request["body"]["messages"][-1]["content"]:
        if isinstance(block, dict) and block.get("type") == "tool_result":
            content = block.get("content")
            texts.append(content if isinstance(content, str) else
                         "".join(c.get("text", "") for c in content or [] if isinstance(c, dict)))
    return texts


def last_user_text(request: dict[str, Any]) -> str:
    """Every text in the request's last message (tool results and added context included)."""
    content = request["body"]["messages"][-1]["content"]
    if isinstance(content, str):
        return content
    return "\n".join([*(b.get("text", "") for b in content if isinstance(b, dict)), *tool_results(request)])


@pytest.fixture
def served_fake() -> Iterator[tuple[FakeAnthropic, str]]:
    fake = FakeAnthropic(api_key=UPSTREAM_KEY)
    with fake.serve() as url:
        yield fake, url


async def engine_world(tmp_path: Path, served_fake: tuple[FakeAnthropic, str], files: dict[str, str], *,
                       max_budget_usd: float | None = None, max_turns: int = 30, allowlist: tuple[str, ...] = (),
                       factory: SandboxFactory | None = None, **settings: Any) -> AsyncIterator[EngineWorld]:
    """The world, the clone holding `files`; the runtime's environment holds a secret the CLI must never see."""
    cli = claude_code_cli()
    assert cli is not None
    fake, url = served_fake
    limits = RelayLimits(model_id=MODEL, max_turns=max_turns, max_budget_usd=max_budget_usd, max_output_tokens=8192,
                         min_output_tokens=100)
    upstream = AnthropicUpstream(url, UPSTREAM_KEY, timeout=30)
    relay = ModelRelay(Meter(limits, PriceBook(MODEL, PRICE)), upstream)
    # Private to the runtime (0700) as the runner's is; a unix socket's path has at most 107 bytes.
    folder = Path(tempfile.mkdtemp(prefix="relay-"))
    await relay.start(folder / "relay.sock")
    tap = SocketTap(folder / "relay.sock")
    socket = folder / "tap.sock"
    await tap.start(socket)
    ws = Workspace("01CLAUDECODE", base_dir=tmp_path, tool_path=os.environ["PATH"], git_timeout=30)
    ws.repo.mkdir()
    for name, text in files.items():
        (ws.repo / name).parent.mkdir(parents=True, exist_ok=True)
        (ws.repo / name).write_text(text)
    ws.sandbox = await open_sandbox(ws, task_id="01CLAUDECODE", allowlist=allowlist, factory=factory)
    engine = ClaudeCodeEngine(ws.sandbox, socket, ClaudeCodeSettings(cli=cli, **settings))
    os.environ["BGAGENT_TEST_RUNTIME_SECRET"] = RUNTIME_SECRET
    try:
        yield EngineWorld(ws, fake, relay, tap, socket, engine)
    finally:
        os.environ.pop("BGAGENT_TEST_RUNTIME_SECRET", None)
        await ws.sandbox.close()
        await tap.close()
        await relay.close()
        await upstream.aclose()
        shutil.rmtree(folder, ignore_errors=True)
