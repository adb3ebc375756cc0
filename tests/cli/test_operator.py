"""Operator commands write the platform's tables directly: repo onboard / list / offboard, user set-concurrency."""

from __future__ import annotations

import uuid

import pytest

from shared.aws.dynamo import from_item
from tests.support.git import git, make_bare_repo

pytestmark = pytest.mark.e2e


def _row(platform, table: str, key: dict) -> dict | None:
    item = platform.boto("dynamodb").get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
    return from_item(item) if item else None


def _repo_row(platform, repo: str) -> dict | None:
    return _row(platform, platform.names.repos_table, {"repo": {"S": repo}})


def test_onboard_list_and_offboard_a_github_repository(cli, platform, tmp_path):
    repo = f"acme/op-{uuid.uuid4().hex[:6]}"
    prompt = tmp_path / "prompt.md"
    prompt.write_text("Always write tests first.")
    result = cli("repo", "onboard", repo, "--model", "fake-edit", "--model-price", "3,15", "--max-turns", "40",
                 "--max-budget", "2.5",
                 "--setup-command", "make deps", "--test-command", "pytest -q", "--compute-type", "process",
                 "--system-prompt-file", prompt, "--egress-allow", "pypi.org", "--egress-allow", "*.pythonhosted.org",
                 "--readonly-path", "/opt/toolchain", "--pr-tasks", "any_user")
    assert result.code == 0, result.err
    row = _repo_row(platform, repo)
    assert row["status"] == "active" and row["git_host"] == "github"
    assert (row["model_id"], row["max_turns"], row["max_budget_usd"]) == ("fake-edit", 40, 2.5)
    assert (row["setup_command"], row["test_command"], row["compute_type"]) == ("make deps", "pytest -q", "process")
    assert row["system_prompt_overrides"] == "Always write tests first."
    assert row["model_prices"]["fake-edit"]["input"] == 3 and row["model_prices"]["fake-edit"]["output"] == 15
    assert row["egress_allowlist"] == ["pypi.org", "*.pythonhosted.org"]
    assert row["sandbox_readonly_paths"] == ["/opt/toolchain"] and row["pr_tasks"] == "any_user"

    # Onboarding again changes only what is given; '' clears an override.
    assert cli("repo", "onboard", repo, "--max-turns", "60", "--setup-command", "").code == 0
    row = _repo_row(platform, repo)
    assert row["max_turns"] == 60 and row["model_id"] == "fake-edit" and "setup_command" not in row
    assert row["pr_tasks"] == "any_user"
    assert row["egress_allowlist"] == ["pypi.org", "*.pythonhosted.org"]
    assert cli("repo", "onboard", repo, "--egress-allow", "").code == 0
    assert _repo_row(platform, repo)["egress_allowlist"] == []

    listed = {r["repo"]: r for r in cli("repo", "list", "--json").json()}
    assert listed[repo]["test_command"] == "pytest -q"
    assert repo in cli("repo", "list").out

    off = cli("repo", "offboard", repo)
    assert off.code == 0 and "removed" in off.out
    assert _repo_row(platform, repo)["status"] == "removed"
    assert repo not in {r["repo"] for r in cli("repo", "list", "--active", "--json").json()}


@pytest.mark.parametrize("model, words", [
    ("claude-imaginary-9", "unknown model 'claude-imaginary-9'"),
    ("claude-sonnet-4-5", "reached its end of life on 2026-11-30; use 'claude-sonnet-5-5' instead"),
])
def test_onboard_refuses_an_unpriced_or_retired_model_and_writes_nothing(cli, platform, model, words):
    repo = f"acme/bad-{uuid.uuid4().hex[:6]}"
    result = cli("repo", "onboard", repo, "--model", model)
    assert result.code == 2 and words in result.err and "--model-price" in result.err
    assert _repo_row(platform, repo) is None


def test_onboard_refuses_a_malformed_egress_entry_and_writes_nothing(cli, platform):
    repo = f"acme/egress-{uuid.uuid4().hex[:6]}"
    result = cli("repo", "onboard", repo, "--egress-allow", "pypi.org", "--egress-allow", "https://pypi.org/simple")
    assert result.code == 2 and "'https://pypi.org/simple' is not a host name" in result.err
    assert "registry.local:8443" in result.err  # what a valid entry looks like
    assert _repo_row(platform, repo) is None
    assert cli("repo", "onboard", repo, "--egress-allow", "Registry.Local:8443").code == 0
    assert _repo_row(platform, repo)["egress_allowlist"] == ["registry.local:8443"]


def test_onboard_accepts_a_catalog_model_and_a_priced_one(cli, platform, monkeypatch):
    repo = f"acme/ok-{uuid.uuid4().hex[:6]}"
    assert cli("repo", "onboard", repo, "--model", "claude-haiku-5-5").code == 0
    assert _repo_row(platform, repo)["model_id"] == "claude-haiku-5-5"
    # The platform's own prices (BGAGENT_MODEL_PRICES) count as much as the repo's.
    monkeypatch.setenv("BGAGENT_MODEL_PRICES", '{"house-model": {"input": 1, "output": 2}}')
    assert cli("repo", "onboard", repo, "--model", "house-model").code == 0
    assert cli("repo", "onboard", repo, "--model-price", "1,2").code == 2  # a price needs its --model


def test_a_task_on_an_offboarded_repository_is_refused(cli, platform):
    repo = f"acme/gone-{uuid.uuid4().hex[:6]}"
    platform.add_repo(repo)
    assert cli("repo", "offboard", repo).code == 0
    cli("login", "--user", f"u{uuid.uuid4().hex[:6]}")
    refused = cli("submit", "--repo", repo, "--description", "x")
    assert refused.code == 3 and "REPO_NOT_ONBOARDED" in refused.err


def test_onboard_a_local_bare_repository_and_a_working_copy(cli, platform, tmp_path):
    bare = make_bare_repo(tmp_path, "local-app")
    result = cli("repo", "onboard", "acme/local-bare", "--path", bare, "--json")
    assert result.code == 0, result.err
    assert result.json()["local_path"] == str(bare.resolve())
    row = _repo_row(platform, "acme/local-bare")
    assert row["git_host"] == "local" and row["local_path"] == str(bare.resolve())

    work = tmp_path / "local-app-seed"  # the working copy make_bare_repo pushed from
    assert cli("repo", "onboard", "acme/local-work", "--path", work).code == 0
    assert _repo_row(platform, "acme/local-work")["local_path"] == str(work.resolve())


def test_onboard_refuses_a_path_that_is_not_the_top_of_a_git_repository(cli, platform, tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    result = cli("repo", "onboard", "acme/not-git", "--path", plain)
    assert result.code == 2 and "is not a git repository" in result.err
    work = tmp_path / "work"
    git("init", "-b", "main", str(work))
    (work / "sub").mkdir()
    inside = cli("repo", "onboard", "acme/not-git", "--path", work / "sub")
    assert inside.code == 2 and "give its top directory" in inside.err
    missing = cli("repo", "onboard", "acme/not-git", "--path", tmp_path / "nowhere")
    assert missing.code == 2 and "not a directory" in missing.err
    assert _repo_row(platform, "acme/not-git") is None


def test_onboard_validates_names_and_ranges_as_usage_errors(cli):
    assert cli("repo", "onboard", "not-a-repo").code == 2
    assert cli("repo", "onboard", "acme/x", "--max-turns", "501").code == 2
    assert cli("repo", "offboard", "acme/never-there").code == 1


def test_onboard_sets_where_a_rule_applies_the_push_gate_and_egress_ask(cli, platform):
    repo = f"acme/gates-{uuid.uuid4().hex[:6]}"
    result = cli("repo", "onboard", repo, "--approval-rule", "ci@editor,test=workflows/", "--approval-rule",
                 "installs=pip install", "--approve-push", "--egress", "ask", "--json")
    assert result.code == 0, result.err
    config = result.json()
    assert [(r["name"], r["applies_to"]) for r in config["approval_rules"]] == [
        ("ci", ["editor", "test"]), ("installs", ["bash"])]
    assert config["approve_push"] is True and config["egress"] == "ask"
    assert cli("repo", "onboard", repo, "--no-approve-push", "--json").json()["approve_push"] is False
    assert cli("repo", "onboard", repo, "--approval-rule", "ci@network=x").code == 2
    assert cli("repo", "onboard", repo, "--approval-rule", "ci@=x").code == 2
    assert cli("repo", "onboard", repo, "--egress", "maybe").code == 2


def test_set_concurrency_writes_the_cap_and_leaves_the_live_count_alone(cli, platform):
    user = f"u{uuid.uuid4().hex[:6]}"
    table = platform.names.user_concurrency_table
    platform.boto("dynamodb").put_item(TableName=table, Item={"user_id": {"S": user}, "active_count": {"N": "2"}})
    result = cli("user", "set-concurrency", user, "7")
    assert result.code == 0, result.err
    assert "7 task(s) at once (2 running now)" in result.out
    row = _row(platform, table, {"user_id": {"S": user}})
    assert row["max_concurrency"] == 7 and row["active_count"] == 2

    fresh = f"u{uuid.uuid4().hex[:6]}"
    assert cli("user", "set-concurrency", fresh, "1", "--json").json() == {
        "user_id": fresh, "max_concurrency": 1, "active_count": 0}
    assert cli("user", "set-concurrency", fresh, "0").code == 2
