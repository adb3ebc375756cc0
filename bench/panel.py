"""Web panel latency against the JSON API it shares its functions with, on the embedded stack.

    .venv/bin/python -m bench.panel [--tasks 20] [--events 80] [--requests 50]

One user with `--tasks` finished tasks; one of them gets `--events` turn events. Each page is read
`--requests` times, one at a time, next to the API call that returns the same data as JSON.
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx

from bench.common import bench_platform, machine, percentile

USER = "panel-user"


def _time(client: httpx.Client, n: int, *paths: str) -> list[float]:
    """Milliseconds to read all `paths` one after the other, `n` times."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        for path in paths:
            resp = client.get(path)
            assert resp.status_code == 200, (path, resp.status_code)
        times.append((time.perf_counter() - t0) * 1000)
    return times


def _seed(p, tasks: int, events: int) -> str:
    with p.client(USER) as api:
        ids = [api.post("/v1/tasks", json={"repo": "bench/panel", "task_description": f"panel {i}"}).json()
               ["data"]["task_id"] for i in range(tasks)]
    for task_id in ids:
        p.wait_for(USER, task_id)
    ddb = p.boto("dynamodb")
    for turn in range(1, events + 1):
        ddb.put_item(TableName=p.names.task_events_table, Item={
            "task_id": {"S": ids[0]}, "event_id": {"S": f"01Z{turn:023d}"}, "event_type": {"S": "agent.turn"},
            "timestamp": {"S": "2026-01-01T00:00:00.000Z"},
            "metadata": {"M": {"turn": {"N": str(turn)}, "cost_usd": {"N": str(turn / 1000)},
                               "tools": {"L": [{"S": "bash"}]}}}})
    return ids[0]


def run(tasks: int, events: int, requests: int) -> None:
    with bench_platform() as p:
        p.add_repo("bench/panel")
        task_id = _seed(p, tasks, events)
        with p.client(USER) as api, httpx.Client(base_url=p.api_url, timeout=30) as browser:
            link = api.post("/v1/ui/login-links").json()["data"]["login_url"]
            assert browser.get(link).status_code == 200
            # The API side reads what the page shows: the task and its whole trail.
            trail = [f"/v1/tasks/{task_id}", f"/v1/tasks/{task_id}/events?limit=100"]
            pairs = {
                "task list": (_time(browser, requests, "/ui/"), _time(api, requests, "/v1/tasks?limit=25")),
                "task page": (_time(browser, requests, f"/ui/tasks/{task_id}"), _time(api, requests, *trail)),
                "live fragment": (_time(browser, requests, f"/ui/tasks/{task_id}/live"),
                                  _time(api, requests, *trail)),
            }
    print(f"machine: {machine()}; {tasks} tasks, {events} turn events on the task page, {requests} reads each")
    for name, (page, json) in pairs.items():
        page_ms, api_ms = statistics.median(page), statistics.median(json)
        print(f"{name:<14} page median={page_ms:.1f} ms p95={percentile(page, 95):.1f} ms | "
              f"API median={api_ms:.1f} ms | ratio {page_ms / api_ms:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--events", type=int, default=80)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    run(args.tasks, args.events, args.requests)


if __name__ == "__main__":
    main()
