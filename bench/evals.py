"""An evaluation run on the embedded stack, with an agent that exits at once: the platform's own overhead.

    .venv/bin/python -m bench.evals [--cases 200] [--concurrency 8]

Prints the run's wall time, each attempt's time from its creation to its end (submission, admission, hydration,
the instant agent, finalization), the driver's hand-off in two parts — an attempt's end → counted (the event hop
to the reconciler and the counting transaction, from its log) and counted → the next attempt created — and attempts
per second. Clone and test time are the grading's (the oracle engine), not measured here.
"""

from __future__ import annotations

import argparse
import json
import time

from bench.common import bench_platform, machine, summary
from shared.clock import parse_time
from tests.support.git import git


def _ms(a: str, b: str) -> float:
    return (parse_time(b) - parse_time(a)).total_seconds() * 1000


def run(cases: int, concurrency: int) -> dict:
    with bench_platform(BGAGENT_RATE_LIMIT_PER_SECOND="10000", BGAGENT_RATE_LIMIT_BURST="10000",
                        BGAGENT_EVAL_MAX_RUNNING=str(max(16, concurrency))) as p:
        base = git("rev-parse", "main", cwd=p.add_repo("bench/evals")).strip()
        dataset = [{"id": f"case-{i}", "repo": "bench/evals", "base": base, "task": f"bench {i}",
                    "test_patch": "diff --git a/t b/t\n", "test_command": "true"} for i in range(cases)]
        with p.client("bench") as c:
            start = time.monotonic()
            resp = c.post("/v1/evals", json={"name": "bench", "cases": dataset, "concurrency": concurrency})
            resp.raise_for_status()
            eval_id = resp.json()["data"]["eval_id"]
            while (run := c.get(f"/v1/evals/{eval_id}").json()["data"])["status"] == "running":
                time.sleep(0.5)
            wall = time.monotonic() - start
            tasks, token = [], None
            while True:
                page = c.get("/v1/tasks", params={"limit": 100, **({"next_token": token} if token else {})}).json()
                tasks += [t for t in page["data"] if t.get("eval_id") == eval_id]
                token = page["pagination"]["next_token"]
                if not token:
                    break
        counted = {}
        for line in (p.stack.logs_dir / "reconciler.log").read_text().splitlines():
            if '"evaluation attempt counted"' in line:
                entry = json.loads(line)
                counted[entry["task_id"]] = entry["ts"]
    attempt = [_ms(t["created_at"], t["completed_at"]) for t in tasks]
    created = sorted(parse_time(t["created_at"]) for t in tasks)
    to_counted = [_ms(t["completed_at"], counted[t["task_id"]]) for t in tasks if t["task_id"] in counted]
    # Each counting starts the next attempt: the first one created after it (none for the last ones).
    handoff = []
    for ts in sorted(parse_time(v) for v in counted.values()):
        following = [c for c in created if c >= ts]
        if following:
            handoff.append((following[0] - ts).total_seconds() * 1000)
    statuses = {s: sum(1 for t in tasks if t["status"] == s) for s in {t["status"] for t in tasks}}
    return {"wall": wall, "attempt": attempt, "to_counted": to_counted, "handoff": handoff, "statuses": statuses,
            "run": run}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    r = run(args.cases, args.concurrency)
    print(f"machine: {machine()}")
    print(f"cases: {args.cases} x 1 attempt (concurrency {args.concurrency}), tasks: {r['statuses']}, "
          f"counted: {r['run']['counted']}, status: {r['run']['status']}")
    print(f"attempt created -> ended (ms):   {summary(r['attempt'])}")
    print(f"attempt ended -> counted (ms):   {summary(r['to_counted'])}")
    print(f"counted -> next attempt created (ms): {summary(r['handoff'])}")
    print(f"wall: {r['wall']:.1f} s, {args.cases / r['wall']:.2f} attempts/s; "
          f"bound by concurrency alone: {args.concurrency / (sum(r['attempt']) / len(r['attempt']) / 1000):.2f}/s")


if __name__ == "__main__":
    main()
