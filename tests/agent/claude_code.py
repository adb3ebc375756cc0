"""Running the claude-code engine in a real bwrap sandbox against the fake Anthropic, for the engine's tests."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agent.engines.claude_code import ClaudeCodeEngine, ClaudeCodeSettings
from agent.engines.protocol import EngineJob
from agent.workspace import Workspace
from shared.engines import claude_code_cli
from tests.agent.sandboxes import open_sandbox
from tests.doubles import FakeAnthropic
from tests.doubles.fake_anthropic import Turn
from tests.support.relay_standin import RelayStandIn

# The CLI treats a model it does not know differently (system messages inside the conversation): scripts use
# names it recognises; the fake picks the script by name.
MODEL = "claude-sonnet-4-5"
UPSTREAM_KEY = "sk-ant-upstream-secret-0123456789"
RUNTIME_SECRET = "sk-ant-runtime-env-secret-abcdef"

needs_cli = pytest.mark.skipif(claude_code_cli() is None,
                               reason="the Claude Code CLI is not installed (pip install 'bgagent[claude-code]')")


@dataclass
class EngineWorld:
    """A workspace with its sandbox, the relay stand-in in front of the fake, and the engine."""

    ws: Workspace
    fake: FakeAnthropic
    relay: RelayStandIn
    socket: Path
    engine: ClaudeCodeEngine

    def script(self, turns: list[Turn], model: str = MODEL) -> str:
        self.fake.add_scenario(model, turns)
        return model

    def job(self, model: str = MODEL, **fields: Any) -> EngineJob:
        return EngineJob(model_id=model, system_prompt="You are bgagent.", user_prompt=fields.pop("prompt", "Do it."),
                         **fields)

    def requests(self) -> list[dict[str, Any]]:
        """The model requests the sandbox sent, as the relay received them."""
        return [r for r in self.relay.received if r["path"] == "/v1/messages"]


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
def relay_standin() -> Iterator[tuple[FakeAnthropic, RelayStandIn, Path]]:
    fake = FakeAnthropic(api_key=UPSTREAM_KEY)
    with fake.serve() as url:
        relay = RelayStandIn(url, UPSTREAM_KEY)
        with relay.serve() as socket:
            yield fake, relay, socket


async def engine_world(tmp_path: Path, relay_standin: tuple[FakeAnthropic, RelayStandIn, Path],
                       files: dict[str, str], **settings: Any) -> AsyncIterator[EngineWorld]:
    """The world, the clone holding `files`; the runtime's environment holds a secret the CLI must never see."""
    cli = claude_code_cli()
    assert cli is not None
    fake, relay, socket = relay_standin
    ws = Workspace("01CLAUDECODE", base_dir=tmp_path, tool_path=os.environ["PATH"], git_timeout=30)
    ws.repo.mkdir()
    for name, text in files.items():
        (ws.repo / name).parent.mkdir(parents=True, exist_ok=True)
        (ws.repo / name).write_text(text)
    ws.sandbox = await open_sandbox(ws, task_id="01CLAUDECODE")
    engine = ClaudeCodeEngine(ws.sandbox, socket, ClaudeCodeSettings(cli=cli, **settings))
    os.environ["BGAGENT_TEST_RUNTIME_SECRET"] = RUNTIME_SECRET
    try:
        yield EngineWorld(ws, fake, relay, socket, engine)
    finally:
        os.environ.pop("BGAGENT_TEST_RUNTIME_SECRET", None)
        await ws.sandbox.close()
