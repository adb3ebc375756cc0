"""AWS calls per task, by service and operation, and what they cost per 1,000 tasks at list prices.

    .venv/bin/python -m bench.aws_calls [--tasks 20] [--agent real|instant]

Every process of the stack counts its calls with a botocore `before-call` hook (bench/call_counter.py,
loaded through bench/counting/sitecustomize.py) and writes them when it exits.
Long polls (ReceiveMessage) depend on time, not tasks: they are
reported apart, per service and hour of idling.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench.call_counter import LOG_DIR
from bench.common import REPO_ROOT, bench_platform, machine

# us-east-1 list prices (USD), on-demand, as published for 2026.
PRICES = {
    "dynamodb.write_unit": 0.625 / 1e6,
    "dynamodb.read_unit": 0.125 / 1e6,
    "sqs.request": 0.40 / 1e6,
    "events.event": 1.00 / 1e6,
    "s3.put": 0.005 / 1e3,
    "s3.get": 0.0004 / 1e3,
    "secretsmanager.call": 0.05 / 1e4,
}
_WRITES = {"PutItem", "UpdateItem", "DeleteItem"}
_READS = {"GetItem", "Query", "Scan"}


def _process_name(argv: list[str]) -> str:
    joined = " ".join(argv)
    for name in ("gateway", "hydrator", "dispatcher", "finalizer", "reconciler"):
        if f"services/{name}" in joined or f"services.{name}" in joined:
            return name
    return "agent" if "agent" in joined else joined[:40]


def _cost(op: str, count: float, items: float) -> float:
    service, name = op.split(".", 1)
    if service == "dynamodb":
        if name == "TransactWriteItems":
            return items * 2 * PRICES["dynamodb.write_unit"]
        if name in _WRITES:
            return count * PRICES["dynamodb.write_unit"]
        if name in _READS:
            return count * PRICES["dynamodb.read_unit"]
        return 0.0
    if service == "sqs":
        return count * PRICES["sqs.request"]
    if service == "events":
        return count * PRICES["events.event"]
    if service == "s3":
        return count * PRICES["s3.put" if name.startswith("Put") else "s3.get"]
    if service == "secretsmanager":
        return count * PRICES["secretsmanager.call"]
    return 0.0


def run(tasks: int, agent: str) -> None:
    log_dir = Path(tempfile.mkdtemp(prefix="bgagent-calls-"))
    env = {LOG_DIR: str(log_dir), "PYTHONPATH": f"{REPO_ROOT / 'bench' / 'counting'}:{REPO_ROOT}"}
    if agent == "real":
        env["BGAGENT_AGENT_MODULE"] = "agent"
    started = time.monotonic()
    with bench_platform(**env) as p:
        p.add_repo("bench/calls")
        for i in range(tasks):
            with p.client("calls") as c:
                task_id = c.post("/v1/tasks", json={"repo": "bench/calls", "task_description": f"calls {i}",
                                                    "model_id": "fake-edit"}).json()["data"]["task_id"]
            assert p.wait_for("calls", task_id, timeout=120)["status"] == "COMPLETED"
    elapsed_hours = (time.monotonic() - started) / 3600
    per_process: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for f in log_dir.glob("*.json"):
        data = json.loads(f.read_text())
        for op, n in data["calls"].items():
            per_process[_process_name(data["argv"])][op] += n
    print(f"machine: {machine()}; {tasks} tasks, agent: {agent}")
    total_cost = 0.0
    print(f"{'service':<11} {'operation':<38} {'per task':>9}")
    for proc in sorted(per_process):
        calls = per_process[proc]
        for op in sorted(calls):
            if op.endswith(".items"):
                continue
            per_task = calls[op] / tasks
            if op == "sqs.ReceiveMessage":
                print(f"{proc:<11} {op:<38} {'(polls)':>9}  {calls[op] / elapsed_hours:,.0f}/h while running")
                continue
            items = (calls.get("dynamodb.TransactWriteItems.items", 0) / tasks
                     if op.endswith("TransactWriteItems") else 0)
            total_cost += _cost(op, per_task, items)
            print(f"{proc:<11} {op:<38} {per_task:>9.2f}")
    counted = sum(n for c in per_process.values() for op, n in c.items()
                  if not op.endswith(".items") and op != "sqs.ReceiveMessage") / tasks
    print(f"AWS calls per task (excluding long polls): {counted:.1f}")
    print(f"orchestration cost per 1,000 tasks (requests only, no Fargate/model): ${total_cost * 1000:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--agent", choices=("real", "instant"), default="instant")
    args = parser.parse_args()
    run(args.tasks, args.agent)


if __name__ == "__main__":
    main()
