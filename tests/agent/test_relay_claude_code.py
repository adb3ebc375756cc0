"""The bundled Claude Code CLI through the relay, in front of the streaming fake API (no sandbox: the engine's
own tests run it inside one). What is checked here is the relay's side: the CLI's streamed calls metered to
the cent it reports itself, the placeholder key dropped, a limit's refusal ending the CLI at once."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.relay.client import RELAY_API_KEY
from agent.relay.meter import CallRecord, Meter, PriceBook, RelayLimits
from agent.relay.server import ModelRelay
from agent.relay.upstream import AnthropicUpstream
from shared.engines import claude_code_cli
from tests.doubles import FakeAnthropic, Turn

REAL_KEY = "sk-ant-relay-cc-real-key"
MODEL = "claude-sonnet-5-5"  # a catalog model, so the CLI prices it as the meter does
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]  # the CLI refuses to skip prompts as root
CLI = claude_code_cli()
pytestmark = pytest.mark.skipif(CLI is None or shutil.which("setpriv") is None,
                                reason="needs the claude-code extra and setpriv")


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeAnthropic, str]]:
    fake = FakeAnthropic(api_key=REAL_KEY)
    fake.add_scenario(MODEL, [Turn.tool_use("Write", {"file_path": "hello.txt", "content": "hi\n"}, text="Writing."),
                              Turn.text("Wrote hello.txt.")])
    with fake.serve() as url:
        yield fake, url


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65_536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def _tcp_to(socket: Path) -> AsyncIterator[int]:
    """A loopback port that leads to the relay's socket (inside a sandbox, the engine's forwarder does this)."""
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_unix_connection(str(socket))
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def _claude(served: tuple[FakeAnthropic, str], budget: float | None,
                  max_turns: int = 10) -> tuple[dict[str, Any], Meter, list[CallRecord], Path]:
    fake, url = served
    fake.reset()
    meter = Meter(RelayLimits(MODEL, max_turns, budget, max_output_tokens=32_000, min_output_tokens=256),
                  PriceBook(MODEL, None))
    records: list[CallRecord] = []

    async def on_call(record: CallRecord) -> None:
        records.append(record)

    upstream = AnthropicUpstream(url, REAL_KEY, timeout=60)
    relay = ModelRelay(meter, upstream, on_call=on_call)
    folder = Path(tempfile.mkdtemp(prefix="relay-cc-"))  # private: the relay's socket
    work = Path(tempfile.mkdtemp(prefix="relay-cc-work-"))
    work.chmod(0o777)  # the CLI runs as nobody
    await relay.start(folder / "relay.sock")
    try:
        async for port in _tcp_to(folder / "relay.sock"):
            env = {"PATH": os.environ["PATH"], "HOME": str(work), "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{port}",
                   "ANTHROPIC_API_KEY": RELAY_API_KEY, "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
                   "DISABLE_AUTOUPDATER": "1"}
            proc = await asyncio.create_subprocess_exec(
                *NOBODY, str(CLI), "-p", "Write hello.txt", "--model", MODEL, "--output-format", "json",
                "--dangerously-skip-permissions", cwd=work, env=env, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE)
            out, err = await asyncio.wait_for(proc.communicate(), 120)
            assert REAL_KEY not in (out + err).decode()
            return json.loads(out.decode().strip().splitlines()[-1]), meter, records, work
    finally:
        await relay.close()
        await upstream.aclose()
        shutil.rmtree(folder, ignore_errors=True)
    raise AssertionError("unreachable")


async def test_the_clis_calls_are_metered_to_what_it_reports_and_its_key_stays_behind(
        served: tuple[FakeAnthropic, str]) -> None:
    result, meter, records, work = await _claude(served, None)
    try:
        assert result["is_error"] is False and result["result"] == "Wrote hello.txt."
        assert (work / "hello.txt").read_text() == "hi\n"
        assert [(r.is_turn, r.turn, r.tools, r.stop_reason) for r in records] == \
            [(True, 1, ["Write"], "tool_use"), (True, 2, [], "end_turn")]
        # Streamed replies, metered from their events: the same dollars the CLI computes from the same usage.
        assert meter.turns == 2 and meter.cost_usd == pytest.approx(result["total_cost_usd"], abs=1e-6)
        requests = served[0].requests_for(MODEL)
        assert len(requests) == 2 and all(r["stream"] is True for r in requests)
        assert all(r["headers"]["x-api-key"] == REAL_KEY and RELAY_API_KEY not in json.dumps(r) for r in requests)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.parametrize(("budget", "max_turns", "stop", "calls", "words"), [
    (0.05, 10, "budget", 0, "bgagent: stopped before the next model call, which could cross the budget of $0.05"),
    (None, 1, "turn_cap", 1, "bgagent: the turn cap of 1 was reached"),
])
async def test_a_limit_ends_the_cli_at_once(served: tuple[FakeAnthropic, str], budget: float | None,
                                                            max_turns: int, stop: str, calls: int, words: str) -> None:
    result, meter, records, work = await _claude(served, budget, max_turns)
    try:
        assert meter.stopped == stop and len(served[0].requests_for(MODEL)) == len(records) == calls
        # The CLI re-sends a refused call a few times at once with other beta settings (no backoff, no loop);
        # none of them reaches the provider.
        assert 1 <= meter.refused <= 10
        assert result["is_error"] is True and words in result["result"]
        assert meter.cost_usd <= (budget or 1)
    finally:
        shutil.rmtree(work, ignore_errors=True)
