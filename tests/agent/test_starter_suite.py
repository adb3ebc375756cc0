"""The starter suite: built from nothing, its hidden tests fail at base, and the oracle solves all ten cases."""

from __future__ import annotations

import statistics
import subprocess
import time
from pathlib import Path

from agent.bootstrap import run_agent
from evals.starter.build import build_suite
from tests.agent.conftest import AgentWorld, git


def test_the_suite_is_the_same_on_every_build_and_its_hidden_tests_fail_at_base(tmp_path: Path) -> None:
    first = build_suite(tmp_path / "one")
    again = build_suite(tmp_path / "two")
    assert len(first) == 10 and len({c.id for c in first}) == 10
    assert [c.model_dump() for c in first] == [c.model_dump() for c in again], "same commits, same patches"
    for case in first:
        clone = tmp_path / "check" / case.id
        git(tmp_path, "clone", "-q", str(tmp_path / "one" / case.repo.split("/")[1]), str(clone))
        git(clone, "checkout", "-q", case.base)
        subprocess.run(["git", "apply"], input=case.test_patch.encode(), cwd=clone, check=True)
        ran = subprocess.run(case.test_command, shell=True, cwd=clone, capture_output=True, timeout=60)
        assert ran.returncode != 0, f"{case.id}: the hidden tests must fail before the fix"


async def test_the_oracle_solves_the_whole_starter_suite(world: AgentWorld, tmp_path: Path) -> None:
    cases = build_suite(tmp_path / "starter")
    rewards, started, grading, tests = {}, time.monotonic(), [], []
    for case in cases:
        task = await world.seed_attempt(tmp_path / "starter" / case.repo.split("/")[1], case)
        await run_agent(world.settings(task.task_id))
        row = await world.task(task.task_id)
        rewards[case.id] = (row.reward, row.grade, row.grade_error, row.grade_output_tail)
        graded = [e.metadata for e in await world.events(task.task_id) if e.event_type == "agent.graded"]
        grading += [m["seconds"] for m in graded]
        tests += [m["test_seconds"] for m in graded]
    print(f"\nstarter suite with the oracle: {len(cases)} attempts in {time.monotonic() - started:.1f} s; grading "
          f"median {statistics.median(grading):.2f} s, of which the test command {statistics.median(tests):.2f} s")
    assert {k: v[:2] for k, v in rewards.items()} == {c.id: (1, "passed") for c in cases}, rewards
