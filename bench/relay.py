"""What the model relay adds to each call: the same requests straight to the scripted API and through the relay.

    .venv/bin/python -m bench.relay --calls 300

Calls alternate (direct, relayed) in one process and one event loop, as the native loop and its relay run;
the added latency is the difference of each pair, non-streamed and streamed.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import anthropic

from agent.pricing import ModelPrice
from agent.relay.client import relay_sdk
from agent.relay.meter import Meter, PriceBook, RelayLimits
from agent.relay.server import ModelRelay
from agent.relay.upstream import AnthropicUpstream
from bench.common import machine, summary
from tests.doubles import FakeAnthropic
from tests.doubles.scenarios import FAKE_EDIT, FAKE_MODEL_PRICE, install_default_scenarios

KEY = "sk-ant-bench"
REQUEST: dict[str, Any] = dict(model=FAKE_EDIT, max_tokens=1024,
                               system=[{"type": "text", "text": "You are a careful coding agent. " * 40}],
                               messages=[{"role": "user", "content": "Add notes to the repo"}])


async def _call(sdk: anthropic.AsyncAnthropic, stream: bool) -> float:
    started = time.perf_counter()
    if stream:
        async with sdk.messages.stream(**REQUEST) as events:
            await events.get_final_message()
    else:
        await sdk.messages.create(**REQUEST)
    return (time.perf_counter() - started) * 1000


async def measure(url: str, calls: int, fake: FakeAnthropic) -> None:
    limits = RelayLimits(FAKE_EDIT, max_turns=10 * calls, max_budget_usd=None, max_output_tokens=8192,
                         min_output_tokens=256)
    upstream = AnthropicUpstream(url, KEY, timeout=30)
    relay = ModelRelay(Meter(limits, PriceBook(FAKE_EDIT, ModelPrice(**FAKE_MODEL_PRICE))), upstream)
    folder = Path(tempfile.mkdtemp(prefix="bench-relay-"))
    await relay.start(folder / "relay.sock")
    direct = anthropic.AsyncAnthropic(base_url=url, api_key=KEY, max_retries=0)
    relayed = relay_sdk(folder / "relay.sock", max_retries=0)
    try:
        for stream in (False, True):
            for sdk in (direct, relayed):  # warm both connections up
                await _call(sdk, stream)
            times: dict[str, list[float]] = {"direct": [], "relayed": [], "added": []}
            for n in range(calls):
                if n % 100 == 0:
                    fake.reset()  # the fake keeps every request it saw
                a, b = await _call(direct, stream), await _call(relayed, stream)
                times["direct"].append(a)
                times["relayed"].append(b)
                times["added"].append(b - a)
            kind = "streamed" if stream else "non-streamed"
            for label, values in times.items():
                print(f"{kind:13} {label:8} ms: {summary(values)}")
    finally:
        await direct.close()
        await relayed.close()
        await relay.close()
        await upstream.aclose()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    print(machine())
    fake = install_default_scenarios(FakeAnthropic(api_key=KEY))
    with fake.serve() as url:
        asyncio.run(measure(url, args.calls, fake))


if __name__ == "__main__":
    main()
