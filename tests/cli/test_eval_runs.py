"""`bgagent eval run` on the starter suite with the oracle, end to end on the embedded stack (gateway, driver,
hydrator, agent with its sandboxed grader), then `eval compare --gate` on two real runs."""

from __future__ import annotations

import json
import uuid

import pytest

from evals.starter.__main__ import main as starter

pytestmark = pytest.mark.e2e


def _run(cli, dataset, *options: str) -> dict:
    result = cli("eval", "run", str(dataset), "--engine", "oracle", "--concurrency", "4", "--wait", "--json",
                 *options)
    assert result.code == 0, result.err
    return result.json()


def test_the_oracle_solves_the_starter_suite_and_a_broken_reference_fails_the_gate(cli, platform, tmp_path):
    user = f"ev{uuid.uuid4().hex[:6]}"
    cli("login", "--user", user)
    dataset = tmp_path / "starter.jsonl"
    assert starter(["--out", str(dataset), "--dir", str(tmp_path / "repos"), "--owner", user, "--onboard"]) == 0

    good = _run(cli, dataset, "--name", "starter with the reference fixes")
    assert good["status"] == "completed" and good["results"]["pass_at_1"] == 1.0 and good["results"]["solved"] == 10
    assert good["results"]["cost_usd"] == 0
    # Half the cases lose their reference fix: exactly those fail, and the gate sees the regression.
    cases = [json.loads(line) for line in dataset.read_text().splitlines()]
    broken = tmp_path / "broken.jsonl"
    broken.write_text("".join(json.dumps({**c, "gold_patch": "" if i % 2 else c["gold_patch"]}) + "\n"
                              for i, c in enumerate(cases)))
    half = _run(cli, broken, "--name", "half the fixes gone")
    assert half["results"]["pass_at_1"] == 0.5 and half["results"]["solved"] == 5
    rewards = {c["case_id"]: [a["reward"] for a in c["attempts"]] for c in half["cases"]}
    assert rewards == {c["id"]: [0 if i % 2 else 1] for i, c in enumerate(cases)}

    better = cli("eval", "compare", half["eval_id"], good["eval_id"], "--gate", "5")
    assert better.code == 0, better.out + better.err
    gate = cli("eval", "compare", good["eval_id"], half["eval_id"], "--gate", "5")
    assert gate.code == 6, gate.out + gate.err
    assert "solved in A only" in gate.out.lower() or "a only" in gate.out.lower(), gate.out
