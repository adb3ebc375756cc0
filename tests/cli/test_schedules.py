"""bgagent schedule: create, list, show, pause, resume, delete against the running platform."""

from __future__ import annotations

import uuid

import pytest


@pytest.mark.e2e
def test_schedule_lifecycle_from_the_cli(cli, platform):
    cli("login", "--user", f"sched-{uuid.uuid4().hex[:6]}")
    repo = f"acme/sched-{uuid.uuid4().hex[:6]}"
    platform.add_repo(repo)
    created = cli("schedule", "create", "--name", "bumps", "--cron", "0 3 * * 1-5", "--timezone", "Europe/Paris",
                  "--repo", repo, "--description", "Update [deps]", "--max-turns", "5", "--json")
    assert created.code == 0, created.err
    s = created.json()
    assert s["cron"] == "0 3 * * 1-5" and s["max_turns"] == 5 and s["task_description"] == "Update [deps]"
    listed = cli("schedule", "list")
    assert listed.code == 0 and s["schedule_id"] in listed.out and "0 3 * * 1-5" in listed.out
    shown = cli("schedule", "show", s["schedule_id"])
    assert "Update [deps]" in shown.out and "Europe/Paris" in shown.out and "0 made, 0 skipped" in shown.out
    assert cli("schedule", "pause", s["schedule_id"], "--json").json()["paused"] is True
    resumed = cli("schedule", "resume", s["schedule_id"], "--json").json()
    assert resumed["paused"] is False and resumed["next_run_at"]
    assert cli("schedule", "delete", s["schedule_id"]).code == 0
    missing = cli("schedule", "show", s["schedule_id"])
    assert missing.code == 3 and "SCHEDULE_NOT_FOUND" in missing.err


def test_schedule_create_needs_exactly_one_expression(bgagent):
    both = bgagent("schedule", "create", "--name", "x", "--cron", "* * * * *", "--rate", "rate(1 hour)",
                   "--repo", "a/b", "--description", "d")
    neither = bgagent("schedule", "create", "--name", "x", "--repo", "a/b", "--description", "d")
    assert both.code == 2 and neither.code == 2
