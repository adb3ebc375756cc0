"""An evaluation run with the scripted model on the native engine, end to end: k = 3 attempts per case, one
case solved by two of its three attempts (the third refused by the model API), one never solved; pass@1 and
pass@k against the estimator; the hidden tests never in a model request; the rollouts in both formats."""

from __future__ import annotations

import json
import uuid
from math import comb

import pytest

from evals.starter.__main__ import main as starter
from tests.doubles.fake_anthropic import Turn
from tests.doubles.scenarios import FAKE_EVAL

pytestmark = pytest.mark.e2e


def _pass_at_k(n: int, c: int, k: int) -> float:
    return 1.0 if n - c < k else 1 - comb(n - c, k) / comb(n, k)


def test_a_scripted_run_is_graded_per_attempt_and_its_rollouts_carry_the_conversation(cli, platform, tmp_path):
    user = f"es{uuid.uuid4().hex[:6]}"
    cli("login", "--user", user)
    starter_file = tmp_path / "starter.jsonl"
    assert starter(["--out", str(starter_file), "--dir", str(tmp_path / "repos"), "--owner", user, "--onboard"]) == 0
    by_id = {c["id"]: c for c in map(json.loads, starter_file.read_text().splitlines())}
    solved, unsolved = by_id["slugify-separators"], by_id["mean-empty"]
    dataset = tmp_path / "two.jsonl"
    dataset.write_text("".join(json.dumps(c) + "\n" for c in (solved, unsolved)))
    # The model applies slugify's fix; in the other repository the same patch does not apply, so it stays unsolved.
    # The run's very first model call is refused: that attempt (the first case's first, one at a time) ends
    # before grading.
    fix = f"git apply <<'PATCH' || echo not-here\n{solved['gold_patch']}PATCH"
    platform.anthropic.add_scenario(FAKE_EVAL, [Turn.error(400, "fake refusal of one attempt", shared=True),
                                                Turn.tool_use("bash", {"command": fix}, text="Applying the fix."),
                                                Turn.text("Done.")])
    result = cli("eval", "run", str(dataset), "--model", FAKE_EVAL, "--attempts", "3", "--concurrency", "1",
                 "--wait", "--json")
    assert result.code == 0, result.err
    run = result.json()
    rewards = {c["case_id"]: sorted(a["reward"] for a in c["attempts"]) for c in run["cases"]}
    assert rewards == {solved["id"]: [0, 1, 1], unsolved["id"]: [0, 0, 0]}
    results = run["results"]
    assert results["pass_at_1"] == pytest.approx((2 / 3 + 0) / 2)
    assert results["pass_at_k"] == pytest.approx((_pass_at_k(3, 2, 3) + _pass_at_k(3, 0, 3)) / 2)
    assert results["solved"] == 1 and results["cost_usd"] > 0
    # The hidden tests reached no model request.
    hidden = [line[1:] for c in (solved, unsolved) for line in c["test_patch"].splitlines()
              if line.startswith("+") and not line.startswith("+++") and len(line) > 12]
    sent = json.dumps([r["messages"] for r in platform.anthropic.requests_for(FAKE_EVAL)])
    assert hidden and not any(line in sent for line in hidden)

    anthropic = [json.loads(line) for line in cli("eval", "rollouts", run["eval_id"]).out.splitlines()]
    assert len(anthropic) == 6 and all(r["engine"] == "native" and r["system"] for r in anthropic)
    graded = next(r for r in anthropic if r["case_id"] == solved["id"] and r["reward"] == 1)
    blocks = [b for m in graded["messages"] if isinstance(m["content"], list) for b in m["content"]]
    assert any(b["type"] == "tool_use" and b["name"] == "bash" for b in blocks)
    assert any(b["type"] == "tool_result" for b in blocks)
    lines = cli("eval", "rollouts", run["eval_id"], "--format", "openai").out.splitlines()
    openai = [json.loads(line) for line in lines]
    chat = next(r for r in openai if r["task_id"] == graded["task_id"])["messages"]
    assert chat[0]["role"] == "system" and any(m.get("tool_calls") for m in chat if m["role"] == "assistant")
    assert any(m["role"] == "tool" for m in chat)
