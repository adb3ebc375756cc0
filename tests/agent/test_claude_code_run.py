"""A task on the claude-code engine through the whole agent: clone, sandbox, relay, the CLI, tests, push, PR."""

from __future__ import annotations

import asyncio
import os

import pytest

from agent.bootstrap import run_agent
from shared.llm.lookup import provider_model_id
from shared.steering.models import ApprovalRule
from shared.steering.resume import resume_task
from shared.tasks.outbox import Outbox
from shared.tasks.states import TaskStatus
from tests.agent.claude_code import MODEL, needs_cli
from tests.agent.conftest import ANTHROPIC_KEY, GITHUB_TOKEN, AgentWorld, git
from tests.doubles import Turn
from tests.fakes.collaborators import RecordingBus

pytestmark = [needs_cli]
NOTES = "Written by Claude Code in the sandbox.\n"
FINAL = "I added NOTES.md and the check passes."


async def test_a_claude_code_task_writes_runs_bash_and_opens_a_pull_request(world: AgentWorld) -> None:
    model = provider_model_id(MODEL, "anthropic")
    task = await world.seed(model_id=MODEL, engine="claude-code", test_command="test -f NOTES.md && echo notes-ok")
    world.anthropic.add_scenario(model, [
        Turn.tool_use("Bash", {"command": f"printf '{NOTES.strip()}\\n' > NOTES.md && git status --short"},
                      text="Adding the notes."),
        Turn.tool_use("Bash", {"command": "cat NOTES.md; env | grep -c KEY || true"}, text="Checking."),
        Turn.text(FINAL),
    ])
    report = await run_agent(world.settings(task.task_id))
    assert report.exit_code == 0, report.error

    assert git(world.bare, "show", f"{task.branch_name}:NOTES.md") == NOTES.strip()
    [pull] = world.pulls_for(task.branch_name)
    assert FINAL in pull["body"] and "notes-ok" in pull["body"]
    row = await world.task(task.task_id)
    assert row.status == TaskStatus.RUNNING and row.agent_status == "success"
    assert row.turns == 3 and row.cost_usd and row.cost_usd > 0
    types = [e.event_type for e in await world.events(task.task_id)]
    assert types.count("agent.turn") == 3 and "agent.pull_request" in types
    # Claude Code sizes its replies itself (32k tokens and more): held to the model's ceiling, not the native 8,192.
    assert max(r["max_tokens"] for r in world.anthropic.requests_for(model)) > 8_192
    sent = repr(world.anthropic.requests_for(model))
    assert GITHUB_TOKEN not in sent and "NOTES.md" in sent
    # The provider saw the real key (added by the relay); the conversation never did.
    assert all(r["headers"].get("x-api-key") == ANTHROPIC_KEY for r in world.anthropic.requests_for(model))
    assert ANTHROPIC_KEY not in repr([r["messages"] for r in world.anthropic.requests_for(model)])


async def _approve_when_held(world: AgentWorld, task_id: str) -> str:
    """Approve the task's first request once the task waits for it; the command the owner saw."""
    for _ in range(600):
        found = await world.approvals.pending_for_task(task_id)
        if found and (await world.task(task_id)).status == TaskStatus.AWAITING_APPROVAL:
            decided = await world.approvals.decide(found[0], "approved", by="owner", reason="fine")
            await resume_task(Outbox(world.store, RecordingBus()), decided)
            return decided.command
        await asyncio.sleep(0.05)
    raise AssertionError("no approval request appeared")


async def test_a_claude_code_bash_command_matching_a_rule_waits_for_the_owner(world: AgentWorld) -> None:
    model = provider_model_id(MODEL, "anthropic")
    rule = ApprovalRule(name="installs", pattern=r"pip install", timeout_s=60)
    task = await world.seed(model_id=MODEL, engine="claude-code", approval_rules=[rule])
    held = "echo approved-and-ran > NOTES.md # pip install requests"
    world.anthropic.add_scenario(model, [Turn.tool_use("Bash", {"command": held}, text="I need requests."),
                                         Turn.text(FINAL)])
    report, command = await asyncio.gather(run_agent(world.settings(task.task_id, approval_poll_seconds=0.1)),
                                           _approve_when_held(world, task.task_id))

    assert report.exit_code == 0, report.error
    assert command == held
    assert git(world.bare, "show", f"{task.branch_name}:NOTES.md") == "approved-and-ran"
    moves = [e.metadata.get("to") for e in await world.events(task.task_id) if e.event_type == "transition"]
    assert moves[-2:] == ["AWAITING_APPROVAL", "RUNNING"]


@pytest.mark.skipif(os.geteuid() != 0, reason="as another user the CLI runs unsandboxed as that user")
async def test_claude_code_without_a_sandbox_as_root_fails_readably_before_any_call(world: AgentWorld) -> None:
    model = provider_model_id(MODEL, "anthropic")
    task = await world.seed(model_id=MODEL, engine="claude-code")
    report = await run_agent(world.settings(task.task_id, sandbox="off"))
    row = await world.task(task.task_id)
    assert report.exit_code == 1 and row.error_code == "ENGINE_UNAVAILABLE"
    assert "needs a sandbox" in (row.error_message or "") and world.anthropic.requests_for(model) == []
