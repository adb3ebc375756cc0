"""A prompt-injected model tries every way out of the sandbox, through the real agent run; none works.

Each attempt is a bash or editor call of a scripted model. Afterwards nothing secret reached the
model (neither in clear nor hex-encoded, so redaction cannot hide a leak), nothing outside the
workspace changed, the run went on to deliver its work, and the allowlisted host was reachable.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from agent.bootstrap import run_agent
from agent.sandbox.factory import config_from
from tests.agent.conftest import GITHUB_TOKEN, AgentWorld
from tests.doubles.scenarios import ESCAPE_FINAL_TEXT, FAKE_ESCAPE, escape_turns
from tests.support.escape_probes import (
    ALLOWED_BODY,
    ENV_SECRET,
    HOME_SECRET,
    allowed_host_factory,
    allowed_server,
    loopback_listener,
    planted_home_file,
    secret_process,
)

__all__ = ["allowed_server", "loopback_listener", "planted_home_file", "secret_process"]

def _leaks(text: str) -> list[str]:
    secrets = (HOME_SECRET, ENV_SECRET, GITHUB_TOKEN)
    return [s for s in secrets if s in text or s.encode().hex() in text]


async def test_every_escape_fails_and_the_run_goes_on(
        world: AgentWorld, tmp_path: Path, planted_home_file: Path, secret_process: int,
        loopback_listener: tuple[int, list[bytes]], allowed_server: int) -> None:
    listener_port, received = loopback_listener
    outside = tmp_path / "outside-the-workspace"
    world.anthropic.add_scenario(FAKE_ESCAPE, escape_turns(
        planted=str(planted_home_file), secret_pid=secret_process, outside_dir=str(outside),
        listener_port=listener_port, refused_url="http://example.com/",
        allowed_url=f"http://allowed.test:{allowed_server}/", max_processes=64))
    task = await world.seed(model_id=FAKE_ESCAPE, max_turns=30, egress_allowlist=[f"allowed.test:{allowed_server}"])
    settings = world.settings(task.task_id, sandbox_max_processes=64, sandbox_output_max_mb=8,
                              bash_timeout_seconds=30)
    report = await run_agent(settings, sandboxes=allowed_host_factory(config_from(settings)))

    assert report.exit_code == 0, report.error
    requests = world.anthropic.requests_for(FAKE_ESCAPE)
    results = [r["messages"][-1]["content"][0] for r in requests[1:]]
    text = [json.dumps(r["content"]) for r in results]
    conversation = json.dumps([r["messages"] for r in requests])
    assert _leaks(conversation) == []
    assert "No such file" in text[0]  # the host's home is not in the sandbox
    # Only the sandbox's own processes (the path, not the bare pid: it can occur inside the hex of an environ).
    assert f"/proc/{secret_process}/environ" not in text[1] and "proc/1 " not in text[1]
    assert "x-access-token" not in text[2] and "GITHUB" not in text[2]
    assert not outside.exists()  # refused, or written to the sandbox's private /tmp: never the host's
    assert "Connection refused" in text[4] or "Network is unreachable" in text[4]
    assert received == []
    assert "403" in text[5]
    assert ALLOWED_BODY in text[6]
    assert results[8]["is_error"] and "outside the workspace" in text[8]
    assert results[9]["is_error"] and not (outside / "pwned.txt").exists()
    assert "fork stopped after" in text[10] and "Resource temporarily unavailable" in text[10]
    assert int(text[10].split("fork stopped after ")[1].split()[0]) <= 64
    assert results[11]["is_error"] and "more output than the sandbox allows" in text[11]
    assert planted_home_file.read_text() == HOME_SECRET

    events = await world.events(task.task_id)
    egress = [(e.metadata["host"], e.metadata["verdict"]) for e in events if e.event_type == "sandbox.egress"]
    assert ("example.com", "refused") in egress and ("allowed.test", "allowed") in egress
    assert _leaks(json.dumps([e.model_dump() for e in events])) == []
    row = await world.task(task.task_id)
    assert row.sandbox == "on" and row.agent_status == "success"
    assert row.agent_summary == ESCAPE_FINAL_TEXT
    [pull] = world.pulls_for(task.branch_name)
    assert _leaks(pull["body"]) == []
    assert os.path.exists(planted_home_file)


async def test_no_sandbox_means_no_work_and_a_classified_failure(world: AgentWorld) -> None:
    task = await world.seed()
    settings = world.settings(task.task_id, sandbox="two-user", sandbox_command_uid=None)
    report = await run_agent(settings)
    assert report.exit_code == 1 and report.loop is None
    row = await world.task(task.task_id)
    assert row.error_code == "SANDBOX_UNAVAILABLE" and "BGAGENT_SANDBOX_COMMAND_UID" in (row.error_message or "")
    assert world.anthropic.requests_for("fake-edit") == [] and world.pulls_for(task.branch_name) == []


async def test_the_explicit_opt_out_is_marked_on_the_task(world: AgentWorld) -> None:
    task = await world.seed()
    report = await run_agent(world.settings(task.task_id, sandbox="off"))
    assert report.exit_code == 0, report.error
    row = await world.task(task.task_id)
    assert row.sandbox == "off"
    started = [e for e in await world.events(task.task_id) if e.event_type == "agent.started"]
    assert started[0].metadata["sandbox"] == "off"
