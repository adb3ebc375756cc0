"""bgagent eval mine: cases from a repository built here (three qualifying commits, two not), then validated."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from cli.commands.eval_mine import verdict
from cli.mining import DEFAULT_TEST_PATTERNS, History, is_test_path, mine_history
from shared.auth.local_issuer import LocalIssuer
from tests.support.fake_evals import FakeEvals
from tests.support.git import git

TEST_COMMAND = f"{sys.executable} -m unittest discover -q -s tests -t ."


def _test(name: str, call: str, expected: int) -> str:
    return (f"import unittest\nimport calc\n\n\nclass T(unittest.TestCase):\n    def test_{name}(self):\n"
            f"        self.assertEqual(calc.{call}, {expected})\n")


def commit(work: Path, message: str, files: dict[str, str]) -> str:
    for path, text in files.items():
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(text)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", message, cwd=work)
    return git("rev-parse", "HEAD", cwd=work).strip()


@pytest.fixture
def history(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """main: a root commit, then sub (qualifies), docs only, mul (qualifies), tests only, a merged PR with div."""
    work = tmp_path / "app"
    git("init", "-q", "-b", "main", str(work))
    calc = "def add(a, b):\n    return a + b\n"
    shas = {"root": commit(work, "Start", {"calc.py": calc, "tests/__init__.py": "", "tests/test_add.py":
                                          _test("add", "add(2, 3)", 5)})}
    calc += "\n\ndef sub(a, b):\n    return a - b\n"
    shas["sub"] = commit(work, "Add sub()\n\nCovered by tests/test_sub.py.",
                         {"calc.py": calc, "tests/test_sub.py": _test("sub", "sub(5, 3)", 2)})
    shas["docs"] = commit(work, "Document the package", {"README.md": "# calc\n"})
    calc += "\n\ndef mul(a, b):\n    return a * b\n"
    shas["mul"] = commit(work, "Add mul() (see test_mul.py)", {"calc.py": calc, "tests/test_mul.py":
                                                               _test("mul", "mul(4, 3)", 12)})
    shas["tests"] = commit(work, "More tests for add", {"tests/test_add_more.py": _test("more", "add(-1, 1)", 0)})
    git("checkout", "-q", "-b", "div", cwd=work)
    commit(work, "Add div()", {"calc.py": calc + "\n\ndef div(a, b):\n    return a // b\n",
                               "tests/test_div.py": _test("div", "div(9, 3)", 3)})
    git("checkout", "-q", "main", cwd=work)
    git("merge", "-q", "--no-ff", "-m", "Merge pull request #7 from acme/div\n\nAdd integer division", "div", cwd=work)
    shas["div"] = git("rev-parse", "HEAD", cwd=work).strip()
    return work, shas


def test_test_paths_match_names_or_whole_paths():
    assert is_test_path("pkg/test_x.py", DEFAULT_TEST_PATTERNS) and is_test_path("x_test.py", DEFAULT_TEST_PATTERNS)
    assert is_test_path("tests/data/input.json", DEFAULT_TEST_PATTERNS)
    assert not is_test_path("src/testing.py", DEFAULT_TEST_PATTERNS) and not is_test_path("contest.py", ("test*",))
    assert is_test_path("spec/a/b.rb", ("spec/**",)) and not is_test_path("lib/spec.rb", ("spec/**",))


def test_commits_changing_tests_and_code_become_cases_and_the_others_say_why_not(history):
    work, shas = history
    cases, rejected = mine_history(History(work, {"PATH": "/usr/bin:/bin"}), repo="acme/app", ref="HEAD",
                                   test_command="make test", patterns=DEFAULT_TEST_PATTERNS, limit=10)
    assert [c.id for c in cases] == [shas[n][:12] for n in ("div", "mul", "sub")]
    div, mul, sub = cases
    assert sub.base == shas["root"] and div.base == shas["tests"]  # a merge starts from its first parent
    assert "tests/test_sub.py" in sub.test_patch and "calc.py" not in sub.test_patch
    assert sub.gold_patch and "def sub" in sub.gold_patch and "test_sub" not in sub.gold_patch
    # The task is the message (or the pull request's) without the names of the hidden tests.
    assert sub.task == "Add sub()\n\nCovered by ." and mul.task == "Add mul() (see )"
    assert div.task == "Add integer division"  # the pull request's text, not git's merge subject
    assert all(c.test_command == "make test" and c.repo == "acme/app" for c in cases)
    assert {(r.commit, r.reason) for r in rejected} == {
        (shas["tests"], "no code change"), (shas["docs"], "no test change"),
        (shas["root"], "first commit: no parent to start from")}


def test_max_limits_the_candidates(history):
    work, shas = history
    cases, _ = mine_history(History(work, {"PATH": "/usr/bin:/bin"}), repo="acme/app", ref="HEAD",
                            test_command="t", patterns=DEFAULT_TEST_PATTERNS, limit=1)
    assert [c.id for c in cases] == [shas["div"][:12]]


def test_validation_reasons():
    passed, failed = {"status": "COMPLETED", "reward": 1}, {"status": "COMPLETED", "reward": 0}
    assert verdict(passed, failed) is None
    assert verdict(passed, passed) == "tests pass at base"
    assert verdict(failed, failed) == "tests fail with the gold patch"
    assert verdict({"status": "FAILED", "reward": 0}, failed) == "patch does not apply (with the gold patch)"
    assert verdict(passed, {"status": "COMPLETED", "grade": "grader_error"}) == "patch does not apply (at base)"
    assert (verdict(None, failed) or "").startswith("not graded")


def sandbox_grader(origin: Path):
    """What the platform does for an oracle attempt: base, gold patch, hidden tests, test command."""
    def grade(case: dict, attempt: int) -> dict:
        with tempfile.TemporaryDirectory() as tmp:
            git("clone", "-q", str(origin), tmp)
            git("checkout", "-q", case["base"], cwd=Path(tmp))
            for patch, failure in ((case.get("gold_patch"), {"status": "FAILED", "reward": 0}),
                                   (case["test_patch"], {"grade": "grader_error", "reward": None})):
                if patch and subprocess.run(["git", "apply", "-"], input=patch, text=True, cwd=tmp,
                                            capture_output=True).returncode:
                    return failure
            done = subprocess.run(case["test_command"], shell=True, cwd=tmp, capture_output=True)
            return {"reward": int(done.returncode == 0), "grade": "passed" if done.returncode == 0 else "failed"}
    return grade


def test_mine_writes_only_the_cases_an_oracle_run_validates(bgagent, history, tmp_path):
    work, shas = history
    # A refactor whose new test passes before it too: a candidate the validation rejects.
    shas["refactor"] = commit(work, "Tidy add()", {"calc.py": (work / "calc.py").read_text().replace(
        "return a + b", "return sum((a, b))"), "tests/test_add_again.py": _test("again", "add(1, 1)", 2)})
    fake = FakeEvals(sandbox_grader(work))
    with fake.serve() as url:
        LocalIssuer(tmp_path / "issuer", url)
        assert bgagent("configure", "--api-url", url, "--auth", "local", "--local-issuer-dir",
                       tmp_path / "issuer").code == 0
        out = tmp_path / "mined.jsonl"
        result = bgagent("eval", "mine", "acme/app", "--from", work, "--test-command", TEST_COMMAND, "--out", out,
                         "--interval", "0.05")
    assert result.code == 0, result.err
    run = fake.bodies[0]
    assert run["engine"] == "oracle" and len(run["cases"]) == 8
    assert {c["gold_patch"] == "" for c in run["cases"] if c["id"].endswith(":base")} == {True}
    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert [c["id"] for c in written] == [shas[n][:12] for n in ("div", "mul", "sub")]
    assert all(c["gold_patch"] and c["test_command"] == TEST_COMMAND for c in written)
    assert "3 case(s) written" in result.out
    assert f"{shas['refactor'][:12]}  tests pass at base" in result.out
    assert "no code change" in result.out and "no test change" in result.out


def test_mine_needs_a_test_command(bgagent, history, tmp_path):
    work, _ = history
    result = bgagent("eval", "mine", "acme/app", "--from", work, "--out", tmp_path / "x.jsonl")
    assert result.code == 2 and "no test command" in result.err
