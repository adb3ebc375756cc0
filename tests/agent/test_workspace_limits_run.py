"""A model that fills the workspace and hands the editor a huge file, through the real agent run: the
command fails, the editor answers in bounded memory, the user sees which limit applies, the run goes on."""

from __future__ import annotations

import json

import pytest

from agent.bootstrap import run_agent
from tests.agent.conftest import AgentWorld
from tests.agent.test_workspace_limits import can_mount
from tests.doubles.fake_anthropic import Turn
from tests.doubles.scenarios import edit_turns

FAKE_FILL = "fake-fill"
FINAL_TEXT = "The workspace filled up; I cleaned it and added the notes."


def fill_turns() -> list[Turn]:
    """Make a 400 MB sparse log, view it, write 100 MB into a 64 MB workspace, clean up, do honest work."""
    return [
        Turn.tool_use("bash", {"command": "seq 5000 > huge.log && truncate -s 400M huge.log"}),
        Turn.tool_use("str_replace_based_edit_tool", {"command": "view", "path": "huge.log"}),
        Turn.tool_use("bash", {"command": "head -c 100000000 /dev/zero > fill && echo filled"}),
        Turn.tool_use("bash", {"command": "rm -f fill huge.log && echo cleaned"}),
        *edit_turns()[2:4],
        Turn.text(FINAL_TEXT),
    ]


@pytest.mark.parametrize("quota", [pytest.param("auto", marks=can_mount), "watchdog"])
async def test_a_full_workspace_fails_the_command_and_the_run_goes_on(world: AgentWorld, quota: str) -> None:
    world.anthropic.add_scenario(FAKE_FILL, fill_turns())
    task = await world.seed(model_id=FAKE_FILL, max_turns=12)
    report = await run_agent(world.settings(task.task_id, workspace_max_mb=64, workspace_max_files=5_000,
                                            workspace_quota=quota, view_max_characters=2_000))

    assert report.exit_code == 0, report.error
    results = [r["messages"][-1]["content"][0] for r in world.anthropic.requests_for(FAKE_FILL)[1:]]
    text = [json.dumps(r["content"]) for r in results]
    assert "the file is 419,430,400 bytes" in text[1] and "use view_range" in text[1]
    if quota == "auto":  # the filesystem refuses the write: the command fails
        assert "No space left on device" in text[2] and "[exit code: 1]" in text[2] and "filled" not in text[2]
    else:  # the watchdog measures after the (quick) command and tells the model
        assert results[2].get("is_error") and "BGAGENT_WORKSPACE_MAX_MB" in text[2]
    assert "cleaned" in text[3] and not results[3].get("is_error")
    [limits] = [e.metadata for e in await world.events(task.task_id) if e.event_type == "workspace.limits"]
    assert limits["max_mb"] == 64 and limits["max_files"] == 5_000
    assert limits["mechanism"] == ("filesystem" if quota == "auto" else "watchdog")
    assert (limits.get("reason") is None) == (quota == "auto")
    row = await world.task(task.task_id)
    assert row.agent_status == "success" and row.agent_summary == FINAL_TEXT
    assert len(world.pulls_for(task.branch_name)) == 1
    assert list(world.workspaces.iterdir()) == []  # unmounted and deleted
