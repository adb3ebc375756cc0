"""The agent end to end: moto stack, a bare git repo, FakeGitHub and FakeAnthropic on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from agent.bootstrap import run_agent
from shared.tasks.states import TaskStatus
from tests.agent.conftest import ANTHROPIC_KEY, GITHUB_TOKEN, AgentWorld, git, make_bare_repo
from tests.doubles import Turn
from tests.doubles.scenarios import EDIT_FINAL_TEXT, EDIT_NOTES_TEXT

ROOT = Path(__file__).resolve().parents[2]


def branch_file(world: AgentWorld, branch: str, path: str) -> str:
    return git(world.bare, "show", f"{branch}:{path}")


def trailers(world: AgentWorld, branch: str) -> str:
    return git(world.bare, "log", "-1", "--format=%(trailers)", branch)


async def test_fake_edit_run_delivers_a_branch_a_pr_and_a_result(world: AgentWorld) -> None:
    task = await world.seed(model_id="fake-edit")
    report = await run_agent(world.settings(task.task_id))
    assert report.exit_code == 0, report.error

    assert branch_file(world, task.branch_name, "NOTES.md") == EDIT_NOTES_TEXT.strip()
    assert f"Task-Id: {task.task_id}" in trailers(world, task.branch_name)
    assert "Prompt-Version: sha256:abc123" in trailers(world, task.branch_name)
    pulls = world.pulls_for(task.branch_name)
    assert [(p["head"]["ref"], p["base"]["ref"]) for p in pulls] == [(task.branch_name, "main")]
    assert EDIT_FINAL_TEXT in pulls[0]["body"] and task.task_id in pulls[0]["body"]

    row = await world.task(task.task_id)
    assert row.status == TaskStatus.RUNNING and row.agent_status == "success"
    assert row.pr_url == pulls[0]["html_url"] and row.pr_number == pulls[0]["number"]
    assert row.turns == 5 and row.commit_count == 1 and row.cost_usd and row.cost_usd > 0
    assert row.tokens and row.tokens.output > 0 and row.tokens.cache_read > 0
    assert row.session_id and row.agent_heartbeat_at

    [finished] = world.finalizer_details(task.task_id)
    assert finished["outcome"] == "success" and finished["summary"] == EDIT_FINAL_TEXT
    types = [e.event_type for e in await world.events(task.task_id)]
    for expected in ("agent.started", "agent.turn", "agent.pushed", "agent.pull_request", "agent.finished"):
        assert expected in types
    assert not list(world.workspaces.iterdir()), "the workspace must be removed"

    records = report.loop.records
    later = records[2:]
    fraction = sum(r.usage.cache_read for r in later) / sum(r.usage.prompt_tokens for r in later)
    overhead = statistics.median(r.other_seconds for r in records)
    print(f"\ncache-read fraction of input tokens after turn 2: {fraction:.3f}; "
          f"median agent overhead per turn: {overhead * 1000:.1f} ms")
    assert fraction > 0.5
