"""Orchestration latency and throughput on the embedded stack, with an agent that exits at once.

    .venv/bin/python -m bench.orchestration [--tasks 100] [--concurrency 1] [--cold]

Prints submit → RUNNING and agent exit → terminal (median, p95, ms) and tasks per second.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from bench import cpu
from bench.common import bench_platform, machine, summary
from shared.clock import parse_time
from tests.support.platform import TERMINAL


def _ms(a: str, b: str) -> float:
    return (parse_time(b) - parse_time(a)).total_seconds() * 1000


def _wait(client: httpx.Client, task_id: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        task = client.get(f"/v1/tasks/{task_id}").json()["data"]
        if task["status"] in TERMINAL or time.monotonic() > deadline:
            return task
        time.sleep(0.25)


def run(tasks: int, concurrency: int, warm: bool = True) -> dict:
    # One benchmark user stands for many: the per-user request rate limit is not what is measured here.
    with bench_platform(BGAGENT_WARM_POOL="true" if warm else "false", BGAGENT_RATE_LIMIT_PER_SECOND="10000",
                        BGAGENT_RATE_LIMIT_BURST="10000") as p:
        p.add_repo("bench/app")
        user = "bench"
        cpu_before = cpu.snapshot()
        start = time.monotonic()

        client = p.client(user)  # one client for every thread: the benchmark's own CPU stays small

        def submit(i: int) -> str:
            r = client.post("/v1/tasks", json={"repo": "bench/app", "task_description": f"bench {i}"})
            r.raise_for_status()
            task_id = r.json()["data"]["task_id"]
            if concurrency == 1:
                p.wait_for(user, task_id, timeout=60)  # one at a time: latency without queueing
            return task_id

        with client:
            with ThreadPoolExecutor(concurrency) as pool:
                ids = list(pool.map(submit, range(tasks)))
            finals = [_wait(client, t) for t in ids]
        wall = time.monotonic() - start
        cpu_used = cpu.report(cpu_before, cpu.snapshot(), tasks)
        to_running, to_terminal = [], []
        with p.client(user) as c:
            for task in finals:
                to_running.append(_ms(task["created_at"], task["started_at"]))
                events = c.get(f"/v1/tasks/{task['task_id']}/events", params={"limit": 100}).json()["data"]
                finished = next(e["timestamp"] for e in events if e["event_type"] == "agent.finished")
                to_terminal.append(_ms(finished, task["completed_at"]))
        statuses = {s: sum(1 for f in finals if f["status"] == s) for s in {f["status"] for f in finals}}
    return {"to_running": to_running, "to_terminal": to_terminal, "wall": wall, "tasks": tasks,
            "statuses": statuses, "cpu": cpu_used}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--cold", action="store_true", help="two fresh interpreters per task (no warm workers)")
    args = parser.parse_args()
    result = run(args.tasks, args.concurrency, warm=not args.cold)
    print(f"machine: {machine()}")
    print(f"tasks: {result['tasks']} (concurrency {args.concurrency}) outcomes: {result['statuses']}")
    print(f"submit -> RUNNING (ms):        {summary(result['to_running'])}")
    print(f"agent exit -> terminal (ms):   {summary(result['to_terminal'])}")
    print(f"throughput: {result['tasks'] / result['wall']:.2f} tasks/s over {result['wall']:.1f} s "
          f"({'cold: fresh interpreters' if args.cold else 'warm workers'})")
    print(f"CPU by process (includes the benchmark's own status polling):\n{result['cpu']}")


if __name__ == "__main__":
    main()
