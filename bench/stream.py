"""Live event stream: delivery latency (event written → client), and gateway GET latency with streams open.

    .venv/bin/python -m bench.stream [--events 100] [--streams 50] [--tasks 10]

Latency: one client follows a task's stream while events are written to its trail with a random
0.1–0.4 s gap; each event's latency is the time from just before its PutItem to the client reading its
message. Load: p50/p95 of GET /v1/tasks/{id} with no stream open, then with `--streams` streams open
on `--tasks` tasks (one shared poller per task). Agents are not started (dispatcher stopped).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time

import httpx

from bench.common import bench_platform, machine, percentile
from shared.aws.dynamo import to_item
from shared.tasks.models import TaskEvent


async def _follow(client: httpx.AsyncClient, task_id: str, seen: dict[str, float], opened: asyncio.Event) -> None:
    async with client.stream("GET", f"/v1/tasks/{task_id}/events/stream", timeout=None) as resp:
        assert resp.status_code == 200, resp.status_code
        opened.set()
        async for line in resp.aiter_lines():
            if line.startswith("data: "):
                seen[json.loads(line[6:])["event_id"]] = time.perf_counter()


async def _gets(client: httpx.AsyncClient, task_id: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        resp = await client.get(f"/v1/tasks/{task_id}")
        out.append((time.perf_counter() - t0) * 1000)
        assert resp.status_code == 200
    return out


def _line(name: str, values: list[float]) -> str:
    return (f"{name:<26} n={len(values)} p50={percentile(values, 50):.0f} ms p95={percentile(values, 95):.0f} ms "
            f"max={max(values):.0f} ms")


async def _latency(p, client: httpx.AsyncClient, task_id: str, events: int) -> list[float]:
    ddb, seen, written = p.boto("dynamodb"), {}, {}
    opened = asyncio.Event()
    follower = asyncio.create_task(_follow(client, task_id, seen, opened))
    await opened.wait()
    await asyncio.sleep(1.0)  # the trail so far has been delivered
    for i in range(events):
        event = TaskEvent(task_id=task_id, event_type="bench.tick", metadata={"i": i})
        written[event.event_id] = time.perf_counter()
        await asyncio.to_thread(ddb.put_item, TableName=p.names.task_events_table, Item=to_item(event.model_dump()))
        await asyncio.sleep(random.uniform(0.1, 0.4))
    await asyncio.sleep(2.0)
    follower.cancel()
    await asyncio.gather(follower, return_exceptions=True)
    missing = set(written) - set(seen)
    assert not missing, f"{len(missing)} events never arrived"
    return [(seen[i] - t) * 1000 for i, t in written.items()]


async def run(events: int, streams: int, tasks: int) -> None:
    with bench_platform(BGAGENT_STREAM_MAX_PER_USER=str(streams + 10)) as p:
        p.add_repo("bench/stream")
        p.stack.stop_service("dispatcher")
        headers = {"Authorization": f"Bearer {p.token('stream-user')}"}
        async with httpx.AsyncClient(base_url=p.api_url, headers=headers, timeout=30) as client:
            ids = []
            for i in range(tasks + 1):
                resp = await client.post("/v1/tasks", json={"repo": "bench/stream", "task_description": f"s {i}"})
                ids.append(resp.json()["data"]["task_id"])
            lat_idle = await _latency(p, client, ids[0], events)
            idle = await _gets(client, ids[0], 200)
            opened = [asyncio.Event() for _ in range(streams)]
            followers = [asyncio.create_task(_follow(client, ids[1 + i % tasks], {}, opened[i]))
                         for i in range(streams)]
            await asyncio.gather(*(o.wait() for o in opened))
            await asyncio.sleep(2.0)
            loaded = await _gets(client, ids[0], 200)
            lat_loaded = await _latency(p, client, ids[0], events)
            for f in followers:
                f.cancel()
            await asyncio.gather(*followers, return_exceptions=True)
    print(f"machine: {machine()}; poll 0.2 s, settle 0.25 s")
    print(_line("delivery, 1 stream", lat_idle))
    print(_line(f"delivery, {streams} streams", lat_loaded))
    print(_line("GET task, no stream", idle))
    print(_line(f"GET task, {streams} streams/{tasks} tasks", loaded))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--tasks", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(run(args.events, args.streams, args.tasks))


if __name__ == "__main__":
    main()
