"""Gateway read latency against the emulator's own: p50/p95 of `GET /v1/tasks/{id}` and of one GetItem.

    .venv/bin/python -m bench.gateway_get [--requests 300] [--batch 10] [--profile-seconds 0]

On one embedded stack: create a task, then, sequentially from one client on warm keep-alive connections,
time (a) a consistent GetItem of that task's item straight to the emulator with boto3 (what the gateway's
store sends), (b) the same signed GetItem request replayed as bare HTTP (the emulator alone, no SDK work)
and (c) `GET /v1/tasks/{id}` through the gateway with a valid token, in alternating batches so that load
from the rest of the machine falls on all alike. Only the gateway runs among the services. The emulator
(werkzeug) answers `Connection: close`, so (a), (b) and the gateway's own GetItem each open a connection.
`--profile-seconds N` also records the gateway under py-spy for N seconds of GETs (needs py-spy).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

from bench import cpu
from bench.common import bench_platform, machine, percentile
from cli.local.stack import SERVICES


def _timed(call) -> float:
    t0 = time.perf_counter()
    call()
    return (time.perf_counter() - t0) * 1000


def _signed_get_item(ddb, table: str, key: dict) -> dict:
    """The exact HTTP request boto3 sends for this GetItem (URL, headers, body), captured once to replay."""
    captured: dict = {}

    def capture(request, **_) -> None:
        captured.update(url=request.url, headers=dict(request.headers), content=request.body)

    ddb.meta.events.register("before-send.dynamodb.GetItem", capture)
    ddb.get_item(TableName=table, Key=key, ConsistentRead=True)
    ddb.meta.events.unregister("before-send.dynamodb.GetItem", capture)
    return captured


def _measure(ddb, table: str, task_id: str, api: httpx.Client, raw: httpx.Client, gateway_pid: int,
             requests: int, batch: int) -> tuple[dict[str, list], float]:
    """Per-call milliseconds of each kind of read, and the gateway's CPU seconds over its batches."""
    key = {"task_id": {"S": task_id}}
    timings: dict[str, list] = {"emulator GetItem": [], "raw GetItem HTTP": [], "gateway GET": []}
    raw_request = _signed_get_item(ddb, table, key)

    def get_item() -> None:
        if "Item" not in ddb.get_item(TableName=table, Key=key, ConsistentRead=True):
            raise RuntimeError("the emulator lost the task's item")

    def get_task() -> None:
        if api.get(f"/v1/tasks/{task_id}").status_code != 200:
            raise RuntimeError("the gateway did not answer 200")

    def replay_get_item() -> None:
        # The emulator does not check signatures unless it enforces IAM: the same signed bytes serve again.
        if b'"Item"' not in raw.post(**raw_request).content:
            raise RuntimeError("the emulator lost the task's item")

    calls = {"emulator GetItem": get_item, "raw GetItem HTTP": replay_get_item, "gateway GET": get_task}
    gateway_cpu = 0.0
    for _ in range(max(1, requests // batch)):
        for name, call in calls.items():
            cpu_before = cpu.own_seconds(gateway_pid)
            timings[name] += [_timed(call) for _ in range(batch)]
            if name == "gateway GET":
                gateway_cpu += cpu.own_seconds(gateway_pid) - cpu_before
    return timings, gateway_cpu


def _profile(pid: int, seconds: float, api: httpx.Client, task_id: str, out: Path) -> int:
    """Record the gateway under py-spy while it serves GETs for `seconds`; how many it served."""
    spy = shutil.which("py-spy") or "py-spy"
    command = [spy, "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "500", "-f", "raw", "--threads",
               "-o", str(out)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # py-spy attaches
    deadline = time.monotonic() + seconds
    served = 0
    while time.monotonic() < deadline and proc.poll() is None:
        api.get(f"/v1/tasks/{task_id}")
        served += 1
    proc.wait(timeout=seconds + 30)
    return served


# Frames whose inclusive share of the gateway's busy samples the profile summary shows.
_WATCHED = ("RequestResponseCycle.run_asgi", "DynamoTaskStore.get", "AioEndpoint.create_request",
            "BaseConnector.connect", "JwtVerifier.verify", "solve_dependencies", "TaskView.of", "Logger.info")
_IDLE = ("EpollSelector.select", "Runner.run (asyncio/runners.py")  # asyncio waiting; uvloop waits inside run


def _summarize(out: Path) -> None:
    """The event-loop thread's busy samples: self share by package, and the share of a few frames."""
    by_package: Counter[str] = Counter()
    watched: Counter[str] = Counter()
    for line in out.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if "MainThread" not in frames[0] or frames[-1].startswith(_IDLE):
            continue
        path = frames[-1].rpartition("(")[2]
        by_package[path.split("/")[0] if "/" in path else "stdlib"] += int(count)
        for name in _WATCHED:
            watched[name] += int(count) if name in stack else 0
    busy = sum(by_package.values()) or 1
    print("profile, self time by package: " + ", ".join(f"{k} {v / busy:.0%}" for k, v in by_package.most_common(9)))
    print("profile, inclusive: " + ", ".join(f"{k} {watched[k] / busy:.0%}" for k in _WATCHED))


def run(requests: int, batch: int, profile_seconds: float) -> None:
    with bench_platform() as p:
        for service in SERVICES:
            if service != "gateway":
                p.stack.stop_service(service)  # nothing else competes for the two cores
        p.add_repo("bench/gw")
        ddb = p.boto("dynamodb")
        with p.client("gw-get-user") as api, httpx.Client(timeout=30) as raw:
            created = api.post("/v1/tasks", json={"repo": "bench/gw", "task_description": "read me"})
            created.raise_for_status()
            task_id = created.json()["data"]["task_id"]
            pid = p.stack.service_pids()["gateway"]
            _measure(ddb, p.names.tasks_table, task_id, api, raw, pid, 60, batch)  # warm-up: connections, caches
            timings, gateway_cpu = _measure(ddb, p.names.tasks_table, task_id, api, raw, pid, requests, batch)
            if profile_seconds:
                out = Path(tempfile.gettempdir()) / f"gateway-get-{int(time.time())}.pyspy.txt"
                served = _profile(pid, profile_seconds, api, task_id, out)
                print(f"profile: {out} ({served} GETs)")
                _summarize(out)
    gateway = timings["gateway GET"]
    print(f"machine: {machine()}; {len(gateway)} sequential reads each, batches of {batch}, one client each")
    for name, values in timings.items():
        print(f"{name:<17} p50={percentile(values, 50):.2f} ms p95={percentile(values, 95):.2f} ms")
    print(f"gateway CPU per GET: {gateway_cpu / len(gateway) * 1000:.2f} ms (user+system, from /proc)")
    for base in ("emulator GetItem", "raw GetItem HTTP"):
        print(f"gateway / {base}: p50 {percentile(gateway, 50) / percentile(timings[base], 50):.2f}x, "
              f"p95 {percentile(gateway, 95) / percentile(timings[base], 95):.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--profile-seconds", type=float, default=0)
    args = parser.parse_args()
    run(args.requests, args.batch, args.profile_seconds)


if __name__ == "__main__":
    main()
