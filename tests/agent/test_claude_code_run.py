"""A task on the claude-code engine through the whole agent: clone, sandbox, relay, the CLI, tests, push, PR."""

from __future__ import annotations

from agent.bootstrap import run_agent
from shared.llm.lookup import provider_model_id
from shared.tasks.states import TaskStatus
from tests.agent.claude_code import MODEL, needs_cli
from tests.agent.conftest import ANTHROPIC_KEY, GITHUB_TOKEN, AgentWorld, git
from tests.doubles import Turn

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
    sent = repr(world.anthropic.requests_for(model))
    assert GITHUB_TOKEN not in sent and "NOTES.md" in sent
    # The provider saw the real key (added by the relay); the conversation never did.
    assert all(r["headers"].get("x-api-key") == ANTHROPIC_KEY for r in world.anthropic.requests_for(model))
    assert ANTHROPIC_KEY not in repr([r["messages"] for r in world.anthropic.requests_for(model)])
