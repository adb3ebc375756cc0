"""A repository's MCP servers in a Claude Code session: a stdio server runs inside the task's sandbox."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agent.sandbox.limits import task_uid
from shared.repos.mcp import McpServer
from tests.agent.claude_code import EngineWorld, engine_world, needs_cli, served_fake, tool_results
from tests.doubles import FakeAnthropic
from tests.doubles.fake_anthropic import Turn

pytestmark = [needs_cli]
__all__ = ["served_fake"]

# A minimal MCP server (stdio, JSON-RPC): one tool saying who and where it runs.
PROBE_SERVER = '''
import json, os, sys
for line in sys.stdin:
    msg = json.loads(line)
    if "id" not in msg:
        continue
    method, result = msg.get("method"), {}
    if method == "initialize":
        result = {"protocolVersion": msg["params"]["protocolVersion"], "capabilities": {"tools": {}},
                  "serverInfo": {"name": "probe", "version": "1"}}
    elif method == "tools/list":
        result = {"tools": [{"name": "whoami", "description": "who runs this server",
                             "inputSchema": {"type": "object", "properties": {}}}]}
    elif method == "tools/call":
        seen = os.path.exists(os.environ.get("HOST_FILE", "/nonexistent"))
        result = {"content": [{"type": "text", "text": f"uid={os.getuid()} host-file-visible={seen}"}]}
    print(json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": result}), flush=True)
'''


@pytest.fixture
async def world(tmp_path: Path, served_fake: tuple[FakeAnthropic, str]) -> AsyncIterator[EngineWorld]:
    async for w in engine_world(tmp_path / "w", served_fake, {"tools/mcp_probe.py": PROBE_SERVER}):
        yield w


async def test_a_stdio_mcp_server_runs_inside_the_sandbox(world: EngineWorld, tmp_path: Path) -> None:
    host_file = tmp_path / "host-only.txt"
    host_file.write_text("outside")
    server = McpServer(command="python3", args=[str(world.ws.repo / "tools" / "mcp_probe.py")],
                       env={"HOST_FILE": str(host_file)})
    model = world.script([Turn.tool_use("mcp__probe__whoami", {}), Turn.text("Asked the server.")])
    outcome = await world.engine.run(world.job(model, mcp_servers={"probe": server}))

    assert outcome.finished, outcome
    [said] = tool_results(world.requests()[-1])
    assert said.startswith(f"uid={task_uid('01CLAUDECODE', 200_000)} host-file-visible=False"), json.dumps(said)
