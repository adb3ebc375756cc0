"""bgagent eval run/list/show/cancel/rollouts/compare against a fake of the documented eval API on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.auth.local_issuer import LocalIssuer
from tests.support.fake_evals import FakeEvals


def case(case_id: str, gold: str | None = "fix", **fields) -> dict:
    c = {"id": case_id, "repo": "acme/app", "base": "abc1234", "task": f"do {case_id}", "test_patch": "diff --git",
         "test_command": "pytest -q", **fields}
    if gold is not None:
        c["gold_patch"] = gold
    return c


def write_jsonl(path: Path, cases: list) -> Path:
    path.write_text("".join(json.dumps(c) + "\n" for c in cases))
    return path


@pytest.fixture
def fake() -> FakeEvals:
    return FakeEvals(page_size=2)


@pytest.fixture
def evals(bgagent, fake: FakeEvals, tmp_path: Path):
    """bgagent with a profile pointing at the fake eval API."""
    with fake.serve() as url:
        issuer = tmp_path / "issuer"
        LocalIssuer(issuer, url)
        done = bgagent("configure", "--api-url", url, "--auth", "local", "--local-issuer-dir", issuer)
        assert done.code == 0, done.err
        yield bgagent


def test_an_invalid_dataset_names_each_bad_case_and_field_and_sends_nothing(evals, fake, tmp_path):
    bad = case("b")
    del bad["test_patch"]
    data = write_jsonl(tmp_path / "d.jsonl", [case("a"), bad, case("a"), {**case("c"), "base": "main"}])
    result = evals("eval", "run", data)
    assert result.code == 2
    assert "line 2 (case 'b'): test_patch: Field required" in result.err
    assert "line 3 (case 'a'): id: the same id as line 1" in result.err
    assert "line 4 (case 'c'): base:" in result.err
    assert fake.bodies == []


def test_a_json_list_is_read_too_and_its_items_are_named(evals, fake, tmp_path):
    (tmp_path / "d.json").write_text(json.dumps([case("a"), {**case("b"), "timeout_s": 1}]))
    result = evals("eval", "run", tmp_path / "d.json")
    assert result.code == 2 and "item 2 (case 'b'): timeout_s:" in result.err and fake.bodies == []


def test_run_wait_follows_the_run_and_prints_its_results(evals, fake, tmp_path):
    data = write_jsonl(tmp_path / "starter.jsonl", [case("good"), case("wrong", gold=""), case("third")])
    result = evals("eval", "run", data, "--engine", "oracle", "--attempts", "2", "--concurrency", "3",
                   "--max-cost-usd", "5", "--max-turns", "7", "--model-endpoint", "my-rl", "--wait",
                   "--interval", "0.05")
    assert result.code == 0, result.err
    body = fake.bodies[0]
    assert body["name"] == "starter" and body["engine"] == "oracle" and body["attempts"] == 2
    assert body["concurrency"] == 3 and body["max_cost_usd"] == 5 and body["max_turns"] == 7
    assert body["model_endpoint"] == "my-rl"
    assert [c["id"] for c in body["cases"]] == ["good", "wrong", "third"] and body["cases"][1]["gold_patch"] == ""
    assert "6 of 6 attempt(s) finished, 2 solved" in result.out
    assert "pass@1" in result.out and "66.7%" in result.out and "2 case(s)" in result.out
    # Every case is shown, the third one from the second page of the run's cases.
    for case_id in ("good", "wrong", "third"):
        assert case_id in result.out
    assert "✓ ✓" in result.out and "✗ ✗" in result.out


def test_run_without_wait_says_how_to_see_the_results(evals, fake, tmp_path):
    result = evals("eval", "run", write_jsonl(tmp_path / "d.jsonl", [case("a")]), "--name", "nightly", "--json")
    assert result.code == 0
    started = result.json()
    assert started["status"] == "running" and fake.bodies[0]["name"] == "nightly"


def test_list_show_and_cancel(evals, fake):
    eval_id = fake.add_run({"name": "nightly", "cases": [case("a"), case("b", gold="")]}, status="running")
    listed = evals("eval", "list")
    assert listed.code == 0 and eval_id in listed.out and "nightly" in listed.out and "2/2" in listed.out
    shown = evals("eval", "show", eval_id, "--json").json()
    assert [c["case_id"] for c in shown["cases"]] == ["a", "b"] and shown["results"]["solved"] == 1
    cancelled = evals("eval", "cancel", eval_id)
    assert cancelled.code == 0 and "cancelled" in cancelled.out
    missing = evals("eval", "show", "ev-nope")
    assert missing.code == 3 and "EVAL_NOT_FOUND" in missing.err


def test_rollouts_stream_to_a_file_in_either_format(evals, fake, tmp_path):
    eval_id = fake.add_run({"name": "r", "attempts": 2, "cases": [case("a"), case("b")]})
    out = tmp_path / "rollouts.jsonl"
    result = evals("eval", "rollouts", eval_id, "--format", "openai", "-o", out)
    assert result.code == 0 and "4 rollout(s)" in result.err
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 4 and lines[0]["format"] == "openai"
    printed = evals("eval", "rollouts", eval_id)
    assert [json.loads(line)["format"] for line in printed.out.splitlines()] == ["anthropic"] * 4


def _pair(fake: FakeEvals, lost: int) -> tuple[str, str]:
    """Run A solves 20 cases; run B loses the first `lost` of them."""
    a = fake.add_run({"name": "before", "cases": [case(f"c{i}") for i in range(20)]})
    b = fake.add_run({"name": "after", "cases": [case(f"c{i}", gold="" if i < lost else "fix") for i in range(20)]})
    return a, b


def test_compare_shows_flips_the_interval_and_cost_per_solved(evals, fake):
    a, b = _pair(fake, 3)
    result = evals("eval", "compare", a, b)
    assert result.code == 0, result.err
    assert "solved in A only (3): c0, c1, c2" in result.out and "solved in B only (0)" in result.out
    assert "-15.0 points, 95 % interval" in result.out and "McNemar" in result.out
    data = evals("eval", "compare", a, b, "--json").json()
    assert data["solved_in_a_only"] == ["c0", "c1", "c2"] and data["delta_pass_at_1"] == pytest.approx(-0.15)


def test_the_gate_fails_on_a_significant_regression_and_says_why(evals, fake):
    a, b = _pair(fake, 10)
    result = evals("eval", "compare", a, b, "--gate", "5")
    assert result.code == 6
    assert "gate failed: B is worse than A by more than 5 points" in result.out
    as_json = evals("eval", "compare", a, b, "--gate", "5", "--json")
    assert as_json.code == 6 and as_json.json()["gate"]["passed"] is False


def test_the_gate_passes_a_small_drop(evals, fake):
    a, b = _pair(fake, 1)
    result = evals("eval", "compare", a, b, "--gate", "2")
    assert result.code == 0 and "gate passed" in result.out and "still running" not in result.err


def test_comparing_a_run_still_running_says_so(evals, fake):
    a = fake.add_run({"name": "before", "cases": [case("c1")]})
    b = fake.add_run({"name": "after", "cases": [case("c1")]}, status="running")
    result = evals("eval", "compare", a, b)
    assert result.code == 0 and f"run B ({b}) is still running" in result.err


def test_rollouts_of_a_missing_run_leave_no_file(evals, tmp_path):
    out = tmp_path / "rollouts.jsonl"
    result = evals("eval", "rollouts", "ev-nope", "-o", out)
    assert result.code == 3 and "EVAL_NOT_FOUND" in result.err
    assert list(tmp_path.glob("*rollouts*")) == []
