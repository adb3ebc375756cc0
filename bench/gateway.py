"""Gateway latency: p50/p99 of create and get under concurrent clients, on loopback.

    .venv/bin/python -m bench.gateway [--clients 20] [--requests 20]

Each client creates `--requests` tasks and reads each back. The hydrator admits and hydrates them as
usual; the dispatcher is stopped so that no agent processes compete with the gateway for the cores.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

from bench.common import bench_platform, machine, percentile


async def _client(base: str, token: str, n: int, creates: list[float], gets: list[float], errors: list[int]) -> None:
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
        for i in range(n):
            t0 = time.perf_counter()
            r = await c.post("/v1/tasks", json={"repo": "bench/gw", "task_description": f"gw {i}"})
            creates.append((time.perf_counter() - t0) * 1000)
            if r.status_code != 201:
                errors.append(r.status_code)
                continue
            t0 = time.perf_counter()
            g = await c.get(f"/v1/tasks/{r.json()['data']['task_id']}")
            gets.append((time.perf_counter() - t0) * 1000)
            if g.status_code != 200:
                errors.append(g.status_code)


async def run(clients: int, requests: int) -> None:
    with bench_platform() as p:
        p.add_repo("bench/gw")
        # Measure the gateway, not 400 agent processes competing with it for the two cores:
        # tasks are admitted and hydrated as usual but no session is started.
        p.stack.stop_service("dispatcher")
        tokens = [p.token(f"gw-user-{i}") for i in range(clients)]
        creates: list[float] = []
        gets: list[float] = []
        errors: list[int] = []
        started = time.perf_counter()
        await asyncio.gather(*[_client(p.api_url, t, requests, creates, gets, errors) for t in tokens])
        wall = time.perf_counter() - started
    print(f"machine: {machine()}; {clients} concurrent clients x {requests} create+get")
    for name, values in (("create", creates), ("get", gets)):
        print(f"{name:<7} n={len(values)} p50={percentile(values, 50):.1f} ms p99={percentile(values, 99):.1f} ms "
              f"max={max(values):.1f} ms")
    print(f"requests/s: {(len(creates) + len(gets)) / wall:.1f}; errors: {len(errors)} {sorted(set(errors))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(run(args.clients, args.requests))


if __name__ == "__main__":
    main()
