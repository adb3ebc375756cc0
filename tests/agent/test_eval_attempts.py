"""Evaluation attempts in the agent: the oracle, the diff instead of a push, and grading in a fresh sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from agent.bootstrap import run_agent
from shared.evals.cases import EvalCase
from shared.steering.models import ApprovalRule
from shared.tasks.models import Task
from tests.agent.conftest import AgentWorld, git
from tests.doubles import Turn
from tests.support.git import make_bare_repo

MARKER = "HIDDEN" + "_MARKER_7f3a"  # never written whole in a command the model sends
CALC_BUGGY = "def add(a, b):\n    return a - b\n"
CALC_FIXED = "def add(a, b):\n    return a + b\n"
VISIBLE_TEST = ("import unittest\n\nfrom calc import add\n\n\nclass Visible(unittest.TestCase):\n"
                "    def test_zero(self):\n        self.assertEqual(add(0, 0), 0)\n")
HIDDEN_TEST = (f"import unittest\n\nfrom calc import add\n\n# {MARKER}\n\nclass Hidden(unittest.TestCase):\n"
               "    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n\n"
               "    def test_add_negative(self):\n        self.assertEqual(add(-1, -1), -2)\n")
TEST_COMMAND = "python3 -m unittest discover -s tests -t . -v"


def case_repo(root: Path) -> tuple[Path, str, str, str]:
    """A bare repository whose main holds the base and, after it, the fix with the hidden tests (as a mined case
    would); (bare, base, gold_patch, test_patch)."""
    bare = make_bare_repo(root, "calc", {"calc.py": CALC_BUGGY, "tests/__init__.py": "",
                                         "tests/test_visible.py": VISIBLE_TEST})
    work = root / "calc-seed"
    base = git(work, "rev-parse", "HEAD")
    (work / "calc.py").write_text(CALC_FIXED)
    (work / "tests" / "test_hidden.py").write_text(HIDDEN_TEST)
    git(work, "add", "-A")
    git(work, "commit", "-m", "fix add, with tests")
    git(work, "push", str(bare), "main")
    gold = git(work, "diff", base, "HEAD", "--", "calc.py") + "\n"
    tests = git(work, "diff", base, "HEAD", "--", "tests/test_hidden.py") + "\n"
    return bare, base, gold, tests


def make_case(base: str, *, gold: str | None, tests: str, case_id: str = "calc-add") -> EvalCase:
    return EvalCase(id=case_id, repo="acme/app", base=base, task="add() subtracts: make it add.",
                    test_patch=tests, test_command=TEST_COMMAND, gold_patch=gold, timeout_s=60)


def assert_nothing_left_the_attempt(world: AgentWorld, bare: Path, task: Task) -> None:
    assert git(bare, "branch", "--list", "--format=%(refname:short)") == "main", "an attempt never pushes"
    assert world.pulls_for(task.branch_name) == []
    assert [r for r in world.github.requests if r["method"] != "GET"] == [], "no PR, comment or status"


def applied(bare: Path, tmp: Path, base: str, patch: str) -> str:
    """calc.py after `patch` at `base` (a plain git apply in a scratch clone of the test's own repository)."""
    scratch = tmp / f"scratch-{uuid.uuid4().hex[:6]}"
    git(tmp, "clone", "-q", str(bare), str(scratch))
    git(scratch, "checkout", "-q", base)
    subprocess.run(["git", "apply"], input=patch.encode(), cwd=scratch, check=True)
    return (scratch / "calc.py").read_text()


async def test_the_oracle_with_the_right_fix_is_rewarded_and_its_diff_is_stored(world: AgentWorld,
                                                                                tmp_path: Path) -> None:
    bare, base, gold, tests = case_repo(tmp_path / "src")
    task = await world.seed_attempt(bare, make_case(base, gold=gold, tests=tests))
    report = await run_agent(world.settings(task.task_id))
    assert report.exit_code == 0, report.error

    row = await world.task(task.task_id)
    assert (row.reward, row.grade, row.grade_error) == (1, "passed", None)
    assert (row.tests_passed, row.tests_failed) == (3, 0), row.grade_output_tail
    assert row.cost_usd == 0 and row.turns == 0 and world.anthropic.requests == []
    assert row.diff_key == f"diffs/{task.task_id}.patch"
    assert applied(bare, tmp_path, base, world.artifact(row.diff_key)) == CALC_FIXED
    assert_nothing_left_the_attempt(world, bare, task)
    events = {e.event_type: e.metadata for e in await world.events(task.task_id)}
    assert events["agent.graded"]["reward"] == 1 and events["agent.diff"]["files"] == 1
    [finished] = world.finalizer_details(task.task_id)
    assert finished["outcome"] == "success"
    assert not list(world.workspaces.iterdir()), "the workspace must be removed"


async def test_a_wrong_fix_gets_reward_zero_with_the_failing_counts(world: AgentWorld, tmp_path: Path) -> None:
    bare, base, gold, tests = case_repo(tmp_path / "src")
    wrong = gold.replace("+    return a + b", "+    return a * b")
    task = await world.seed_attempt(bare, make_case(base, gold=wrong, tests=tests))
    await run_agent(world.settings(task.task_id))
    row = await world.task(task.task_id)
    assert (row.reward, row.grade, row.agent_status) == (0, "failed", "success")
    assert (row.tests_passed, row.tests_failed) == (1, 2)
    assert "FAILED (failures=2)" in (row.grade_output_tail or "")


async def test_an_empty_gold_patch_leaves_the_tests_failing_at_base(world: AgentWorld, tmp_path: Path) -> None:
    bare, base, _gold, tests = case_repo(tmp_path / "src")
    task = await world.seed_attempt(bare, make_case(base, gold="", tests=tests))
    await run_agent(world.settings(task.task_id))
    row = await world.task(task.task_id)
    assert (row.reward, row.grade) == (0, "failed") and world.artifact(row.diff_key or "") == ""


async def test_a_test_patch_that_does_not_apply_is_a_grader_error(world: AgentWorld, tmp_path: Path) -> None:
    bare, base, gold, _tests = case_repo(tmp_path / "src")
    broken = gold.replace("-    return a - b", "-    return a / b")  # context the base does not have
    task = await world.seed_attempt(bare, make_case(base, gold=gold, tests=broken))
    await run_agent(world.settings(task.task_id))
    row = await world.task(task.task_id)
    assert (row.reward, row.grade) == (0, "grader_error")
    assert "test_patch does not apply" in (row.grade_error or "") and "calc.py" in (row.grade_error or "")


async def test_a_gold_patch_that_does_not_apply_fails_the_attempt_ungraded(world: AgentWorld,
                                                                           tmp_path: Path) -> None:
    bare, base, gold, tests = case_repo(tmp_path / "src")
    task = await world.seed_attempt(bare, make_case(base, gold=gold.replace("a - b", "a // b"), tests=tests))
    report = await run_agent(world.settings(task.task_id))
    row = await world.task(task.task_id)
    assert report.exit_code == 1 and row.error_code == "GOLD_PATCH_FAILED"
    assert (row.reward, row.grade) == (0, None) and "gold_patch does not apply" in (row.error_message or "")


def probe_turns() -> list[Turn]:
    marker = '"HIDDEN""_MARKER_7f3a"'  # joined by the shell, never whole in the request
    probe = (f"echo objects-with-marker: $(git cat-file --batch-all-objects --batch | grep -c {marker}); "
             f"echo files-with-marker: $(grep -rl {marker} . \"$HOME\" \"$TMPDIR\" /tmp 2>/dev/null | wc -l); "
             "echo commits: $(git log --all --oneline | wc -l); ls tests")
    fix = "sed -i 's/a - b/a + b/' calc.py"
    return [Turn.tool_use("bash", {"command": probe}, text="Let me look around."),
            Turn.tool_use("bash", {"command": fix}, text="add() subtracts; fixing it."),
            Turn.text("Fixed add().")]


def tool_results(requests: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(block.get("content")) for r in requests for m in r["messages"] if m["role"] == "user"
            for block in (m["content"] if isinstance(m["content"], list) else []) if block.get("type") == "tool_result"]


@pytest.mark.parametrize("base_chars", [40, 12], ids=["full-base", "abbreviated-base"])
async def test_the_hidden_tests_never_reach_the_model_and_its_fix_is_graded(world: AgentWorld, tmp_path: Path,
                                                                            base_chars: int) -> None:
    bare, base, gold, tests = case_repo(tmp_path / "src")
    model = f"fake-eval-probe-{uuid.uuid4().hex[:6]}"
    world.anthropic.add_scenario(model, probe_turns())
    case = make_case(base[:base_chars], gold=gold, tests=tests)
    task = await world.seed_attempt(bare, case, engine="native", model_id=model)
    report = await run_agent(world.settings(task.task_id))
    assert report.exit_code == 0, report.error

    requests = world.anthropic.requests_for(model)
    assert len(requests) == 3 and all(MARKER not in json.dumps(r) for r in requests)
    probe = tool_results(requests)[0]
    assert "objects-with-marker: 0" in probe and "files-with-marker: 0" in probe, probe
    assert "commits: 1" in probe and "test_visible.py" in probe and "test_hidden" not in probe
    row = await world.task(task.task_id)
    assert (row.reward, row.grade, row.tests_passed) == (1, "passed", 3), row.grade_output_tail
    assert applied(bare, tmp_path, base, world.artifact(row.diff_key or "")) == CALC_FIXED
    assert_nothing_left_the_attempt(world, bare, task)


async def test_an_attempt_stopped_by_its_turn_cap_is_not_graded(world: AgentWorld, tmp_path: Path) -> None:
    bare, base, gold, tests = case_repo(tmp_path / "src")
    task = await world.seed_attempt(bare, make_case(base, gold=gold, tests=tests), engine="native",
                              model_id="fake-loop", max_turns=2)
    report = await run_agent(world.settings(task.task_id))
    row = await world.task(task.task_id)
    assert report.exit_code == 1 and row.error_code == "MAX_TURNS_REACHED"
    assert (row.reward, row.grade) == (0, None) and row.diff_key
    assert "agent.graded" not in [e.event_type for e in await world.events(task.task_id)]
    assert_nothing_left_the_attempt(world, bare, task)


async def test_the_oracle_refuses_an_ordinary_task(world: AgentWorld, tmp_path: Path) -> None:
    task = await world.seed(engine="oracle")
    report = await run_agent(world.settings(task.task_id))
    row = await world.task(task.task_id)
    assert report.exit_code == 1 and "only evaluation attempts" in (row.error_message or "")
    assert row.reward is None and world.pulls_for(task.branch_name) == []


@pytest.mark.parametrize("base", ["0123456789abcdef0123456789abcdef01234567", "0123456789ab"])
async def test_a_base_the_repository_lacks_fails_the_attempt_as_base_not_found(world: AgentWorld, tmp_path: Path,
                                                                               base: str) -> None:
    bare, _base, gold, tests = case_repo(tmp_path / "src")
    task = await world.seed_attempt(bare, make_case(base, gold=gold, tests=tests))
    report = await run_agent(world.settings(task.task_id))
    row = await world.task(task.task_id)
    assert report.exit_code == 1 and row.error_code == "BASE_NOT_FOUND" and base in (row.error_message or "")
    assert (row.reward, row.grade) == (0, None)


@pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs the runtime to be root")
async def test_the_oracle_is_graded_in_the_two_user_sandbox_too(world: AgentWorld, tmp_path: Path) -> None:
    bare, base, gold, tests = case_repo(tmp_path / "src")
    task = await world.seed_attempt(bare, make_case(base, gold=gold, tests=tests))
    # Under the system temp dir, as in the image: pytest's own tmp_path is private to root.
    settings = world.settings(task.task_id, sandbox="two-user", sandbox_command_uid=64_322, workspace_dir=None)
    report = await run_agent(settings)
    assert report.exit_code == 0, report.error
    row = await world.task(task.task_id)
    assert (row.reward, row.grade, row.tests_passed) == (1, "passed", 3), row.grade_output_tail


async def test_an_attempt_never_waits_for_an_owner_its_repositorys_rules_hold_nothing(world: AgentWorld,
                                                                                    tmp_path: Path) -> None:
    bare, base, gold, tests = case_repo(tmp_path / "src")
    model = f"fake-eval-gated-{uuid.uuid4().hex[:6]}"
    world.anthropic.add_scenario(model, [Turn.tool_use("bash", {"command": "echo ran > ran.txt # pip install x"},
                                                       text="Installing."), Turn.text("Done.")])
    rule = ApprovalRule(name="installs", pattern=r"pip install", timeout_s=60)
    task = await world.seed_attempt(bare, make_case(base, gold=gold, tests=tests), engine="native", model_id=model,
                                    approval_rules=[rule], approve_push=True)
    report = await run_agent(world.settings(task.task_id, approval_poll_seconds=0.1))
    assert report.exit_code == 0, report.error
    row = await world.task(task.task_id)
    moves = [e.metadata.get("to") for e in await world.events(task.task_id) if e.event_type == "transition"]
    assert "AWAITING_APPROVAL" not in moves and await world.approvals.pending_for_task(task.task_id) == []
    assert "ran.txt" in world.artifact(row.diff_key or "") and row.grade == "failed"
