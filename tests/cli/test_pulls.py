"""The local git host end to end: a task opens a recorded PR, a user comments on a line, an iteration
pushes to the same branch and answers on the PR; `bgagent pr show` reads it all."""

from __future__ import annotations

import json
import uuid

import pytest

from shared.githost.status_comment import marker
from tests.doubles.scenarios import FAKE_EDIT, FAKE_ITERATE, ITERATE_PATH, ITERATE_TEXT
from tests.support.git import git, make_bare_repo

pytestmark = pytest.mark.e2e


def test_iterating_on_a_local_pull_request_from_the_cli(cli, platform, tmp_path):
    repo = f"me/demo-{uuid.uuid4().hex[:6]}"
    seed = make_bare_repo(tmp_path, "demo")
    work = tmp_path / "demo-work"
    git("clone", str(seed), str(work))
    assert cli("repo", "onboard", repo, "--path", work).code == 0
    cli("login", "--user", f"u{uuid.uuid4().hex[:6]}")
    first = cli("submit", "--repo", repo, "--description", "Add notes", "--model", FAKE_EDIT, "--wait", "--json")
    assert first.code == 0, first.err
    branch = first.json()["branch_name"]

    ask = "Please record the change in CHANGES.md"
    commented = cli("pr", "comment", repo, "1", ask, "--path", "NOTES.md", "--line", "1")
    assert commented.code == 0, commented.err
    assert cli("pr", "comment", repo, "7", "nope").code != 0

    second = cli("submit", "--repo", repo, "--pr", "1", "--description", "Answer the review", "--model", FAKE_ITERATE,
                 "--wait", "--json")
    assert second.code == 0, second.err
    task = second.json()
    assert (task["task_type"], task["pr_number"], task["branch_name"]) == ("pr_iteration", 1, branch)
    assert task["pr_url"] == f"local://{repo}/pull/1"
    assert git("show", f"{branch}:{ITERATE_PATH}", cwd=work) == ITERATE_TEXT
    assert ask in json.dumps(platform.anthropic.requests_for(FAKE_ITERATE)[-1]["messages"])

    shown = cli("pr", "show", repo, "1", "--json")
    assert shown.code == 0, shown.err
    pr = shown.json()
    assert [c["body"] for c in pr["review_comments"]] == [ask]
    assert [f["path"] for f in pr["files"]] == ["CHANGES.md", "NOTES.md"]
    answers = [c for c in pr["comments"] if marker(task["task_id"]) in c["body"]]
    assert len(answers) == 1 and "added CHANGES.md" in answers[0]["body"]  # the agent's, then the final state
    listed = cli("list", "--repo", repo)
    assert "iterate #1" in listed.out
