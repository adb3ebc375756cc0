"""An oracle evaluation run on the embedded stack: wall time, and where each attempt's time goes.

    .venv/bin/python -m bench.evals_oracle [--cases 200] [--concurrency 8]

The starter suite's repositories are built and onboarded as local repositories; its ten cases are repeated
(ids made unique) to `--cases`, and one run of `--cases` × 1 attempt with the oracle engine goes through
`POST /v1/evals` with real agents. Per attempt, from its task and its events:

- total: the task's creation to its end (what the run's duration percentiles count);
- agent: `agent.started` to `agent.finished` — the clone at base, the sandbox, the oracle's patch, staging the
  work and storing the diff (`setup`, up to `agent.diff`), then grading in a fresh sandbox (`grading`, of which
  `tests` is the test command itself);
- platform overhead: total − agent (admission, hydration, dispatch, the agent process's start, finalizing,
  counting). Target: ≤ 150 ms per attempt, and a run limited only by its concurrency.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from bench.common import bench_platform, machine, percentile
from evals.starter.build import build_suite
from shared.aws.dynamo import to_item
from shared.clock import parse_time
from shared.repos.models import RepoConfig
from tests.support.platform import Platform

USER = "bench-evals"


def _cases(p: Platform, count: int) -> list[dict[str, Any]]:
    """The starter suite, onboarded from local repositories, repeated to `count` cases."""
    suite = build_suite(p.root / "starter", owner="bench")
    for repo in sorted({c.repo for c in suite}):
        row = RepoConfig(repo=repo, git_host="local", local_path=str(p.root / "starter" / repo.split("/")[1]))
        p.boto("dynamodb").put_item(TableName=p.names.repos_table, Item=to_item(row.model_dump(mode="json")))
    return [{**suite[i % len(suite)].model_dump(exclude_none=True), "id": f"{suite[i % len(suite)].id}-{i}"}
            for i in range(count)]


def _attempts(c: Any, eval_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The run and every attempt of it (all pages of cases)."""
    attempts, token = [], None
    while True:
        body = c.get(f"/v1/evals/{eval_id}", params={"limit": 100, **({"next_token": token} if token else {})})
        body.raise_for_status()
        page = body.json()
        attempts += [a for case in page["data"]["cases"] for a in case["attempts"]]
        token = (page.get("pagination") or {}).get("next_token")
        if not token:
            return page["data"], attempts


def _seconds(a: str, b: str) -> float:
    return (parse_time(b) - parse_time(a)).total_seconds()


def _split(c: Any, task_id: str) -> dict[str, float]:
    """One attempt's time, by part."""
    task = c.get(f"/v1/tasks/{task_id}").json()["data"]
    events = c.get(f"/v1/tasks/{task_id}/events", params={"limit": 100}).json()["data"]
    at = {e["event_type"]: e for e in events}
    graded = at.get("agent.graded", {}).get("metadata", {})
    started, finished = at["agent.started"]["timestamp"], at["agent.finished"]["timestamp"]
    total = _seconds(task["created_at"], task["completed_at"])
    agent = _seconds(started, finished)
    return {"total": total, "agent": agent, "overhead": total - agent,
            "setup": _seconds(started, at["agent.diff"]["timestamp"]) if "agent.diff" in at else float("nan"),
            "grading": float(graded.get("seconds") or "nan"), "tests": float(graded.get("test_seconds") or "nan")}


def _line(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values if v == v]
    if not ms:
        return f"{name:<18} –"
    return (f"{name:<18} median {statistics.median(ms):8.0f} ms   p95 {percentile(ms, 95):8.0f} ms   "
            f"max {max(ms):8.0f} ms")


def run(count: int, concurrency: int) -> None:
    env = {"BGAGENT_AGENT_MODULE": "agent", "BGAGENT_EVAL_MAX_RUNNING": str(max(concurrency, 16))}
    with bench_platform(**env) as p:
        cases = _cases(p, count)
        with p.client(USER) as c:
            started = time.monotonic()
            created = c.post("/v1/evals", json={"name": f"bench {count}", "engine": "oracle", "cases": cases,
                                                "concurrency": concurrency}, timeout=120)
            created.raise_for_status()
            eval_id = created.json()["data"]["eval_id"]
            deadline = started + 60 + count * 30 / concurrency
            while True:
                run_, attempts = _attempts(c, eval_id)
                if run_["status"] != "running" or time.monotonic() > deadline:
                    break
                time.sleep(1)
            wall = time.monotonic() - started
            parts = [_split(c, a["task_id"]) for a in attempts if a.get("task_id")]
    results = run_.get("results") or {}
    print(f"machine: {machine()}; {count} cases × 1 attempt, oracle, concurrency {concurrency}")
    print(f"run {run_['status']} in {wall:.1f} s: {wall / max(len(parts), 1) * 1000:.0f} ms of wall time per "
          f"attempt, {len(parts) / wall:.2f} attempts/s; pass@1 {results.get('pass_at_1')}, "
          f"solved {results.get('solved')}/{count}")
    ideal = statistics.mean(x["total"] for x in parts) * len(parts) / concurrency
    print(f"the run against its concurrency alone (mean attempt × attempts / concurrency): {ideal:.1f} s")
    for name in ("total", "agent", "setup", "grading", "tests", "overhead"):
        print(_line(name if name != "overhead" else "platform overhead", [x[name] for x in parts]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    run(args.cases, args.concurrency)


if __name__ == "__main__":
    main()
