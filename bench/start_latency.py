"""Time to first action: submit → agent started and submit → first model request, cold and warm, per engine.

    .venv/bin/python -m bench.start_latency [--tasks 30] [--modes cold,warm] [--engines native,claude-code]

Runs the real agent (`python -m agent`) against a scripted model (one reply, no tools: `fake-noop` for the
native engine; for claude-code a current catalog model the CLI knows, scripted the same way), one task at a
time so nothing queues. With claude-code the CLI starts inside the task's sandbox and reaches the model
through the task's relay. `cold` starts two fresh interpreters per task (BGAGENT_WARM_POOL=false);
`warm` forks them from the pre-imported zygote. "Submit" is the client's clock just before its POST;
"agent started" is the agent's `agent.started` event; "first model request" is when the scripted model
received the task's first request. Prints median and p95 per mode and the cold/warm ratio of medians.
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.common import bench_platform, machine, summary
from shared.clock import parse_time
from tests.doubles.fake_anthropic import Turn

MODEL = "fake-noop"
CLAUDE_CODE_MODEL = "claude-sonnet-5-5"  # the catalog prices it; the CLI knows the name


def _first_request_at(p, marker: str) -> float | None:
    for arrived, body in p.anthropic.arrivals():
        if marker in str(body.get("messages", "")):
            return arrived
    return None


def run_mode(mode: str, tasks: int, engine: str = "native") -> dict[str, list[float]]:
    env = {"BGAGENT_AGENT_MODULE": "agent", "BGAGENT_WARM_POOL": "true" if mode == "warm" else "false"}
    running, started, first_request = [], [], []
    model = MODEL if engine == "native" else CLAUDE_CODE_MODEL
    with bench_platform(**env) as p:
        p.add_repo("bench/start", engine=engine)
        if engine != "native":
            p.anthropic.add_scenario(model, [Turn.text("Nothing to do.")])
        user = "bench"
        for i in range(tasks + 1):  # the first task warms caches on both sides and is not counted
            marker = f"start-bench-{mode}-{i}-{time.monotonic_ns()}"
            with p.client(user) as c:
                submitted = time.time()
                r = c.post("/v1/tasks", json={"repo": "bench/start", "task_description": marker,
                                              "model_id": model})
                r.raise_for_status()
                task_id = r.json()["data"]["task_id"]
            task = p.wait_for(user, task_id, timeout=120)
            if task["status"] != "COMPLETED":
                raise SystemExit(f"{engine} {mode} task {i} ended {task['status']}: {task.get('error_message')}")
            with p.client(user) as c:
                events = c.get(f"/v1/tasks/{task_id}/events", params={"limit": 100}).json()["data"]
            agent_started = next(parse_time(e["timestamp"]).timestamp() for e in events
                                 if e["event_type"] == "agent.started")
            requested = _first_request_at(p, marker)
            if i == 0 or requested is None:
                continue
            running.append((parse_time(task["started_at"]).timestamp() - submitted) * 1000)
            started.append((agent_started - submitted) * 1000)
            first_request.append((requested - submitted) * 1000)
    return {"running": running, "started": started, "first_request": first_request}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=30)
    parser.add_argument("--modes", default="cold,warm")
    parser.add_argument("--engines", default="native")
    args = parser.parse_args()
    results = {(engine, mode): run_mode(mode, args.tasks, engine) for engine in args.engines.split(",")
               for mode in args.modes.split(",")}
    print(f"machine: {machine()}; {args.tasks} tasks per engine and mode, one at a time, real agent")
    for (engine, mode), figures in results.items():
        name = f"{engine} {mode}"
        print(f"{name:>17} submit -> RUNNING (ms):              {summary(figures['running'])}")
        print(f"{name:>17} submit -> agent started (ms):        {summary(figures['started'])}")
        print(f"{name:>17} submit -> first model request (ms):  {summary(figures['first_request'])}")
    for engine in args.engines.split(","):
        if {(engine, "cold"), (engine, "warm")} <= results.keys():
            cold, warm = (statistics.median(results[engine, m]["first_request"]) for m in ("cold", "warm"))
            print(f"{engine}: first model request, cold/warm median: {cold / warm:.1f}x")


if __name__ == "__main__":
    main()
