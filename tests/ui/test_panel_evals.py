"""The panel's evaluation pages: the run list, a run's figures, chart and cases, the comparison; isolation, escaping."""

from __future__ import annotations

import pytest

from tests.fakes.eval_views import InMemoryEvalViews
from tests.support.evals import body, case
from tests.ui.conftest import browser

SCRIPT = '<script>alert("x")</script>'


def attempt(n: int, reward: int | None, classification: str | None, **fields) -> dict:
    return {"attempt": n, "task_id": f"t-{n}-{reward}", "status": "COMPLETED" if reward is not None else "RUNNING",
            "reward": reward, "grade": {1: "passed", 0: "failed"}.get(reward) if reward is not None else None,
            "classification": classification, "cost_usd": 0.25, "turns": 3, "duration_s": 10.0, **fields}


def run_view(eval_id: str, name: str, solved: list[bool], **fields) -> dict:
    cases = [{"case_id": f"c{i}", "attempts": [attempt(1, int(ok), "PASSED" if ok else "FAILED_TESTS")]}
             for i, ok in enumerate(solved)]
    n = sum(solved)
    results = {"pass_at_1": n / len(solved), "pass_at_k": n / len(solved), "solved": n, "cost_usd": 0.25 * len(solved),
               "cost_per_solved_usd": 0.25 * len(solved) / n if n else None, "duration_p50_s": 10.0,
               "duration_p95_s": 10.0, "by_classification": {"PASSED": n, "FAILED_TESTS": len(solved) - n}}
    return {"eval_id": eval_id, "name": name, "status": "completed", "case_count": len(solved), "attempts": 1,
            "counted": len(solved), "cost_usd": 0.25 * len(solved),
            "engine": "oracle", "created_at": "2026-12-08T04:00:00Z", "results": results, "cases": cases, **fields}


@pytest.fixture
def views(gw) -> InMemoryEvalViews:
    gw.deps.eval_views = InMemoryEvalViews()
    return gw.deps.eval_views


async def test_the_run_list_shows_your_runs_only_with_their_figures(gw, views):
    views.add("alice", run_view("ev-a1", "before", [True, True, False, True]))
    views.add("alice", run_view("ev-a2", "after", [True, False, False, False], status="running"))
    views.add("bob", run_view("ev-b1", "bobs run", [True]))
    async with browser(gw, "alice") as b:
        page = await b.get("/ui/evals")
    assert page.status_code == 200
    assert 'href="/ui/evals/ev-a1"' in page.text and "<td>4/4</td>" in page.text and "$1.0000" in page.text
    assert "bobs run" not in page.text and "ev-b1" not in page.text
    assert 'action="/ui/evals/compare"' in page.text  # two runs: they can be compared
    assert "default-src 'none'" in page.headers["content-security-policy"]


async def test_a_run_page_shows_pass_at_k_cost_per_solved_the_chart_and_each_case(gw, views):
    view = run_view("ev-1", "k3", [True, False], attempts=3)
    view["cases"][0]["attempts"] += [attempt(2, 0, "FAILED_TESTS"), attempt(3, None, None)]
    view["cases"][1]["attempts"] += [attempt(2, 0, "GRADER_ERROR", grade="grader_error")]
    view["results"]["pass_at_k"] = 0.8
    view["results"]["by_classification"] = {"PASSED": 1, "FAILED_TESTS": 2, "GRADER_ERROR": 1}
    views.add("alice", view)
    async with browser(gw, "alice") as b:
        page = await b.get("/ui/evals/ev-1")
    html = page.text
    assert page.status_code == 200
    assert '<dd id="pass-at-1">50.0 %</dd>' in html and '<dd id="pass-at-k">80.0 %</dd>' in html
    assert '<dd id="cost-per-solved">$0.5000</dd>' in html
    assert '<svg class="chart"' in html and "PASSED: 1" in html and "FAILED_TESTS: 2" in html
    # Case c0: passed, failed, still running; c1: failed, a grader error — each attempt links to its task.
    assert 'href="/ui/tasks/t-1-1"' in html and "attempt-pending" in html and "attempt-grader-error" in html
    assert "FAILED_TESTS, GRADER_ERROR" in html


async def test_another_users_run_is_not_found_and_names_are_escaped(gw, views):
    views.add("bob", run_view("ev-b", "bobs", [True]))
    views.add("alice", run_view("ev-x", SCRIPT, [True]))
    async with browser(gw, "alice") as b:
        assert (await b.get("/ui/evals/ev-b")).status_code == 404
        page = await b.get("/ui/evals/ev-x")
        listing = await b.get("/ui/evals")
    assert SCRIPT not in page.text + listing.text and "&lt;script&gt;" in page.text


async def test_the_comparison_page_shows_flips_and_the_interval(gw, views):
    views.add("alice", run_view("ev-a", "before", [True] * 10))
    views.add("alice", run_view("ev-b", "after", [False] * 4 + [True] * 6))
    async with browser(gw, "alice") as b:
        page = await b.get("/ui/evals/compare?a=ev-a&b=ev-b")
        other = await b.get("/ui/evals/compare?a=ev-a&b=ev-nope")
    html = page.text
    assert page.status_code == 200 and other.status_code == 404
    assert "A 100.0 % → B 60.0 %" in html and '<dd id="delta">-40.0 points, 95 % interval' in html
    assert "<li><code>c0</code></li>" in html and "<li><code>c3</code></li>" in html and "c4</code>" not in html
    assert "Solved in B only (0)" in html


async def test_without_eval_runs_installed_the_pages_say_so(gw):
    gw.deps.evals = None
    async with browser(gw, "alice") as b:
        page = await b.get("/ui/evals")
    assert page.status_code == 503 and "not installed" in page.text


async def test_a_run_started_through_the_api_is_shown_from_the_api_itself(gw):
    async with gw.client("alice") as c:
        resp = await c.post("/v1/evals", json=body(2, engine="oracle", name="through the api",
                                                   cases=[case(i, gold_patch="") for i in range(2)]))
    assert resp.status_code == 201, resp.text
    eval_id = resp.json()["data"]["eval_id"]
    async with browser(gw, "alice") as b:
        listed, page = await b.get("/ui/evals"), await b.get(f"/ui/evals/{eval_id}")
    async with browser(gw, "bob") as b:
        other = await b.get(f"/ui/evals/{eval_id}")
    assert listed.status_code == 200 and "through the api" in listed.text
    assert page.status_code == 200 and "case-0" in page.text and "case-1" in page.text
    assert other.status_code == 404
