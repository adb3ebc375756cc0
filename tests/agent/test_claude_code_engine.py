"""The claude-code engine: the real Claude Code CLI in the task's real bwrap sandbox, scripted by the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent.relay.client import RELAY_API_KEY
from agent.sandbox.limits import task_uid
from tests.agent.claude_code import (
    RUNTIME_SECRET,
    UPSTREAM_KEY,
    EngineWorld,
    engine_world,
    needs_cli,
    served_fake,
    tool_results,
)
from tests.doubles import FakeAnthropic
from tests.doubles.fake_anthropic import Turn

pytestmark = [needs_cli]
__all__ = ["served_fake"]

CALC = "def add(a, b):\n    return a - b\n"
TEST_CALC = ("import unittest\nfrom calc import add\n\n\nclass T(unittest.TestCase):\n"
             "    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n")


@pytest.fixture
async def world(tmp_path: Path, served_fake: tuple[FakeAnthropic, str]) -> AsyncIterator[EngineWorld]:
    async for w in engine_world(tmp_path, served_fake, {"calc.py": CALC, "test_calc.py": TEST_CALC}):
        yield w


async def test_a_task_writes_edits_and_runs_its_tests_in_the_sandbox(world: EngineWorld) -> None:
    repo = world.ws.repo
    model = world.script([
        Turn.tool_use("Write", {"file_path": str(repo / "NOTES.md"), "content": "Fixed add.\n"}, text="Notes first."),
        Turn.tool_use("Read", {"file_path": str(repo / "calc.py")}, text="Reading the code."),
        Turn.tool_use("Edit", {"file_path": str(repo / "calc.py"), "old_string": "return a - b",
                               "new_string": "return a + b"}, text="Fixing the sign."),
        Turn.tool_use("Bash", {"command": "python3 -m unittest -q test_calc 2>&1; id -u; cat /proc/self/environ "
                                          "| tr '\\0' '\\n'", "description": "Run the tests"}),
        Turn.text("Fixed add; the tests pass."),
    ])
    outcome = await world.engine.run(world.job(model))

    assert outcome.finished and outcome.summary == "Fixed add; the tests pass.", outcome
    assert (repo / "NOTES.md").read_text() == "Fixed add.\n"
    assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a + b\n"
    bash_output = tool_results(world.requests()[-1])[0]
    assert "OK" in bash_output and "Ran 1 test" in bash_output
    # The CLI and its commands run as the task's own uid, with the relay on loopback and nothing of ours.
    assert f"\n{task_uid('01CLAUDECODE', 200_000)}\n" in bash_output
    assert "ANTHROPIC_BASE_URL=http://127.0.0.1:3129" in bash_output
    assert RUNTIME_SECRET not in bash_output and UPSTREAM_KEY not in bash_output


async def test_no_request_from_the_sandbox_carries_a_key_but_the_placeholder(world: EngineWorld) -> None:
    model = world.script([Turn.tool_use("Bash", {"command": "echo hi"}), Turn.text("Done.")])
    outcome = await world.engine.run(world.job(model))

    assert outcome.finished
    sent = world.tap.sent().decode("utf-8", "replace")
    assert sent.count("POST /v1/messages") >= 2
    assert f"x-api-key: {RELAY_API_KEY}" in sent.lower()
    for secret in (UPSTREAM_KEY, RUNTIME_SECRET):
        assert secret not in sent and secret.encode().hex() not in sent
    # The relay, not the sandbox, adds the credential the provider checks.
    assert all(r["headers"].get("x-api-key") == UPSTREAM_KEY for r in world.requests())


async def test_attachments_are_content_of_the_first_message(world: EngineWorld) -> None:
    pixel = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": pixel}}
    note = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "the spec"},
            "title": "spec.txt"}
    model = world.script([Turn.text("Seen.")])
    outcome = await world.engine.run(world.job(model, attachments=[image, note], user_prompt="Look at these."))

    assert outcome.finished
    first = world.requests()[0]["body"]["messages"][0]["content"]
    kinds = [b.get("type") for b in first]
    assert "image" in kinds and "document" in kinds
    assert kinds.index("image") < kinds.index("document") < max(i for i, b in enumerate(first)
                                                                  if (b.get("text") or "").strip() == "Look at these.")
    assert next(b for b in first if b.get("type") == "image")["source"]["data"] == pixel
