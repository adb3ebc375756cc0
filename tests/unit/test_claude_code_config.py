"""The claude-code engine's configuration: what a task may use, what pins the relay, what the settings give."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.engines.claude_code import ClaudeCodeSettings
from agent.engines.cli_config import DISALLOWED_TOOLS, cli_env, disallowed_tools, managed_settings
from agent.relay.client import RELAY_API_KEY
from agent.settings import AgentSettings


def test_a_review_also_loses_every_tool_that_writes() -> None:
    assert set(DISALLOWED_TOOLS) <= set(disallowed_tools("new_task"))
    assert {"Write", "Edit", "MultiEdit", "NotebookEdit"} & set(disallowed_tools("new_task")) == set()
    assert {"Write", "Edit", "MultiEdit", "NotebookEdit"} <= set(disallowed_tools("pr_review"))


def test_the_managed_settings_pin_the_relay_the_key_and_the_locked_tools() -> None:
    env = cli_env(bash_timeout_seconds=120, retries=2)
    settings = json.loads(managed_settings(env, "pr_review"))
    assert settings["env"]["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:3129"
    assert settings["env"]["ANTHROPIC_API_KEY"] == RELAY_API_KEY and RELAY_API_KEY in settings["apiKeyHelper"]
    assert settings["env"]["BASH_MAX_TIMEOUT_MS"] == "120000" and settings["env"]["CLAUDE_CODE_MAX_RETRIES"] == "2"
    assert "Write" in settings["permissions"]["deny"] and "ScheduleWakeup" in settings["permissions"]["deny"]


def test_the_engine_settings_come_from_the_agents_and_refuse_an_idle_limit_below_a_command() -> None:
    agent = AgentSettings(task_id="t", bash_timeout_seconds=90, claude_code_idle_seconds=200,
                          claude_code_model_retries=1)
    engine = ClaudeCodeSettings.from_agent(agent, Path("/opt/claude"))
    assert (engine.bash_timeout_seconds, engine.idle_seconds, engine.model_retries) == (90, 200, 1)
    with pytest.raises(ValueError, match="idle limit"):
        ClaudeCodeSettings(cli=Path("/opt/claude"), bash_timeout_seconds=120, idle_seconds=60)
    with pytest.raises(ValueError, match="BGAGENT_CLAUDE_CODE_IDLE_SECONDS must exceed"):
        AgentSettings(task_id="t", bash_timeout_seconds=600)
