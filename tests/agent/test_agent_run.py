"""The agent end to end: moto stack, a bare git repo, FakeGitHub and FakeAnthropic on loopback."""

from __future__ import annotations

import asyncio
import json
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from agent.bootstrap import run_agent
from shared.llm.catalog import DEFAULT_MODEL_ID
from shared.tasks.classification import classify
from shared.tasks.states import TaskStatus
from tests.agent.conftest import ANTHROPIC_KEY, GITHUB_TOKEN, AgentWorld, git, make_bare_repo
from tests.doubles import Turn
from tests.doubles.scenarios import EDIT_FINAL_TEXT, EDIT_NOTES_TEXT, FAKE_NOT_FOUND

ROOT = Path(__file__).resolve().parents[2]


def branch_file(world: AgentWorld, branch: str, path: str) -> str:
    return git(world.bare, "show", f"{branch}:{path}")


def trailers(world: AgentWorld, branch: str) -> str:
    return git(world.bare, "log", "-1", "--format=%(trailers)", branch)


async def test_fake_edit_run_delivers_a_branch_a_pr_and_a_result(world: AgentWorld) -> None:
    task = await world.seed(model_id="fake-edit", test_command="test -f NOTES.md && echo 'all 3 checks ok'")
    report = await run_agent(world.settings(task.task_id))
    assert report.exit_code == 0, report.error

    assert branch_file(world, task.branch_name, "NOTES.md") == EDIT_NOTES_TEXT.strip()
    assert f"Task-Id: {task.task_id}" in trailers(world, task.branch_name)
    assert "Prompt-Version: sha256:abc123" in trailers(world, task.branch_name)
    pulls = world.pulls_for(task.branch_name)
    assert [(p["head"]["ref"], p["base"]["ref"]) for p in pulls] == [(task.branch_name, "main")]
    assert EDIT_FINAL_TEXT in pulls[0]["body"] and task.task_id in pulls[0]["body"]
    assert "all 3 checks ok" in pulls[0]["body"] and "passed" in pulls[0]["body"]
    assert "- Engine: native · model " in pulls[0]["body"]

    row = await world.task(task.task_id)
    assert row.status == TaskStatus.RUNNING and row.agent_status == "success"
    assert row.pr_url == pulls[0]["html_url"] and row.pr_number == pulls[0]["number"]
    assert row.turns == 5 and row.commit_count == 1 and row.cost_usd and row.cost_usd > 0
    assert row.tokens and row.tokens.output > 0 and row.tokens.cache_read > 0
    assert row.session_id and row.agent_heartbeat_at and row.tests == "passed" and row.test_exit_code == 0

    [finished] = world.finalizer_details(task.task_id)
    assert finished["outcome"] == "success" and finished["summary"] == EDIT_FINAL_TEXT
    events = await world.events(task.task_id)
    types = [e.event_type for e in events]
    for expected in ("agent.started", "agent.turn", "agent.tests", "agent.pushed", "agent.pull_request",
                     "agent.finished"):
        assert expected in types
    assert types.index("agent.tests") < types.index("agent.pushed") < types.index("agent.pull_request")
    assert [e.metadata["passed"] for e in events if e.event_type == "agent.tests"] == [True]
    assert not list(world.workspaces.iterdir()), "the workspace must be removed"

    records = [r for r in report.loop.records if r.is_turn]
    later = records[2:]
    fraction = sum(r.usage.cache_read for r in later) / sum(r.usage.prompt_tokens for r in later)
    model_time = statistics.median(r.seconds for r in records)
    print(f"\ncache-read fraction of input tokens after turn 2: {fraction:.3f}; "
          f"median model call through the relay: {model_time * 1000:.1f} ms")
    assert fraction > 0.5


async def test_model_refusal_ends_with_a_readable_error_and_no_pr(world: AgentWorld) -> None:
    task = await world.seed(model_id="fake-error")
    report = await run_agent(world.settings(task.task_id))
    assert report.exit_code == 1
    row = await world.task(task.task_id)
    assert row.agent_status == "error" and row.turns == 0 and not row.pr_url
    assert row.error_message and "400" in row.error_message and "prompt is too long" in row.error_message
    assert "Traceback" not in row.error_message
    assert len(world.anthropic.requests_for("fake-error")) == 1, "a 4xx is not retried"
    assert world.pulls_for(task.branch_name) == []
    [finished] = world.finalizer_details(task.task_id)
    assert finished["outcome"] == "error" and "prompt is too long" in finished["error_message"]


async def test_a_model_the_api_does_not_serve_fails_as_model_unavailable(world: AgentWorld) -> None:
    task = await world.seed(model_id=FAKE_NOT_FOUND)
    report = await run_agent(world.settings(task.task_id))
    assert report.exit_code == 1
    row = await world.task(task.task_id)
    assert row.agent_status == "error" and row.error_code == "MODEL_UNAVAILABLE" and row.turns == 0
    assert "404 not_found_error" in row.error_message and f"use '{DEFAULT_MODEL_ID}' instead" in row.error_message
    assert len(world.anthropic.requests_for(FAKE_NOT_FOUND)) == 1, "a model that is not served is not retried"
    assert not classify(row.error_code).retryable


async def test_a_model_without_a_price_never_reaches_the_api(world: AgentWorld) -> None:
    marker = world.workspaces.parent / f"setup-ran-{uuid.uuid4().hex[:6]}"
    task = await world.seed(model_id="fake-edit", model_price=None, setup_command=f"touch {marker}")
    report = await run_agent(world.settings(task.task_id))
    row = await world.task(task.task_id)
    assert report.exit_code == 1 and row.error_code == "MODEL_UNAVAILABLE"
    assert "unknown model 'fake-edit'" in row.error_message
    assert world.anthropic.requests_for("fake-edit") == []
    assert not marker.exists(), "no setup command runs for a model that cannot be budgeted"


async def test_rate_limit_is_retried_then_the_run_succeeds(world: AgentWorld) -> None:
    task = await world.seed(model_id="fake-429-then-edit")
    report = await run_agent(world.settings(task.task_id))
    assert report.exit_code == 0, report.error
    assert len(world.anthropic.requests_for("fake-429-then-edit")) == 6  # one 429, then five turns
    row = await world.task(task.task_id)
    assert row.agent_status == "success" and row.pr_url and row.turns == 5


async def test_turn_cap_is_never_exceeded(world: AgentWorld) -> None:
    task = await world.seed(model_id="fake-loop", max_turns=3)
    report = await run_agent(world.settings(task.task_id))
    assert report.exit_code == 1
    assert len(world.anthropic.requests_for("fake-loop")) == 3
    row = await world.task(task.task_id)
    assert row.agent_status == "error" and row.turns == 3
    assert "turn cap of 3" in (row.error_message or "")
    [finished] = world.finalizer_details(task.task_id)
    assert finished["outcome"] == "error"


@pytest.mark.parametrize("budget", [0.01, 0.03])
async def test_budget_stops_before_the_call_that_would_cross_it(world: AgentWorld, budget: float) -> None:
    task = await world.seed(model_id="fake-loop", max_turns=200, max_budget_usd=budget)
    report = await run_agent(world.settings(task.task_id))
    row = await world.task(task.task_id)
    calls = len(world.anthropic.requests_for("fake-loop"))
    print(f"\n${budget} budget: {calls} model calls, ${row.cost_usd:.5f} spent")
    assert report.exit_code == 1 and row.agent_status == "error"
    assert f"budget of ${budget:.2f}" in (row.error_message or "")
    assert row.cost_usd is not None and row.cost_usd <= budget
    assert row.turns == calls < 200


AWS_SHAPED_KEY = "AKIAIOSFODNN7EXAMPLE"


async def test_a_planted_secret_never_leaves_the_agent(world: AgentWorld, tmp_path: Path) -> None:
    secrets = f"GITHUB_TOKEN={GITHUB_TOKEN}\nANTHROPIC_API_KEY={ANTHROPIC_KEY}\nAWS_ACCESS_KEY_ID={AWS_SHAPED_KEY}\n"
    world.bare = make_bare_repo(tmp_path / "leaky", {"secrets.env": secrets})
    world.github.add_repo("acme/app", clone_url=str(world.bare))
    world.anthropic.add_scenario("fake-leak", [
        Turn.tool_use("bash", {"command": "cat secrets.env"}),
        Turn.tool_use("bash", {"command": "cat /proc/self/environ"}),
        Turn.tool_use("str_replace_based_edit_tool", {"command": "view", "path": "secrets.env"}),
        Turn.tool_use("str_replace_based_edit_tool", {"command": "create", "path": "NOTES.md", "file_text": "hi\n"}),
        Turn.text(f"Done. I noticed the token {GITHUB_TOKEN} and the key {ANTHROPIC_KEY} in secrets.env."),
    ])
    task = await world.seed(model_id="fake-leak")
    report = await run_agent(world.settings(task.task_id))
    assert report.exit_code == 0, report.error

    def leaks(text: str) -> list[str]:
        return [s for s in (GITHUB_TOKEN, ANTHROPIC_KEY, AWS_SHAPED_KEY) if s in text]

    requests = world.anthropic.requests_for("fake-leak")
    assert len(requests) == 5
    conversation = json.dumps([r["messages"] for r in requests])
    assert leaks(conversation) == [] and "[REDACTED]" in conversation
    refused = requests[2]["messages"][-1]["content"][0]
    assert refused["is_error"] is True and "refused" in refused["content"]
    events = await world.events(task.task_id)
    assert leaks(json.dumps([e.model_dump() for e in events])) == []
    assert [e.metadata["command"] for e in events if e.event_type == "agent.command_refused"] == \
        ["cat /proc/self/environ"]
    [pull] = world.pulls_for(task.branch_name)
    assert leaks(pull["title"] + pull["body"]) == [] and "[REDACTED]" in pull["body"]
    assert leaks(git(world.bare, "log", "-1", "--format=%B", task.branch_name)) == []
    row = await world.task(task.task_id)
    assert leaks(row.model_dump_json()) == []
    assert leaks(json.dumps(world.finalizer_details(task.task_id))) == []


HOSTILE_SUMMARY = ("Done. <img src=x onerror=alert(1)> ![x](https://evil.example/p.png) "
                   "[a](https://evil.example/login) Closes #99. Closes #5.")


async def test_the_models_summary_reaches_the_pull_request_as_text(world: AgentWorld) -> None:
    world.anthropic.add_scenario("fake-hostile-summary", [
        Turn.tool_use("str_replace_based_edit_tool", {"command": "create", "path": "NOTES.md", "file_text": "hi\n"}),
        Turn.text(HOSTILE_SUMMARY),
    ])
    task = await world.seed(model_id="fake-hostile-summary", issue_number=5)
    report = await run_agent(world.settings(task.task_id))
    assert report.exit_code == 0, report.error
    [pull] = world.pulls_for(task.branch_name)
    body = pull["body"]
    assert "<img" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body
    assert "`![x](https://evil.example/p.png)`" in body and "`[a](https://evil.example/login)`" in body
    assert "Closes `#99`" in body and "Closes #99" not in body
    assert "Closes #5." in body  # the task's own issue, as the model wrote it (and the platform's own line)


async def test_cancellation_mid_run_stops_the_agent_and_nothing_is_written_after(world: AgentWorld) -> None:
    task = await world.seed(model_id="fake-loop", max_turns=500)
    run = asyncio.create_task(run_agent(world.settings(task.task_id, heartbeat_seconds=0.3)))
    deadline = time.monotonic() + 15
    while len(world.anthropic.requests_for("fake-loop")) < 3:
        assert time.monotonic() < deadline and not run.done(), "the agent never got going"
        await asyncio.sleep(0.05)
    await world.store.transition(task.task_id, TaskStatus.CANCELLED, expected={TaskStatus.RUNNING})
    cancelled_at = time.monotonic()
    cancelled = await world.task(task.task_id)  # the row as the cancel left it
    report = await asyncio.wait_for(run, 10)
    stopped_in = time.monotonic() - cancelled_at
    print(f"\nstopped {stopped_in:.2f} s after the cancel")
    assert report.outcome == "cancelled" and report.exit_code == 0
    assert stopped_in < 3
    calls = len(world.anthropic.requests_for("fake-loop"))
    await asyncio.sleep(0.5)
    assert len(world.anthropic.requests_for("fake-loop")) == calls, "no model call after the agent returned"
    row = await world.task(task.task_id)
    assert row.status == TaskStatus.CANCELLED and row.agent_status is None and row.turns is None
    assert row.model_dump() == cancelled.model_dump(), "nothing written to the task after the cancel"
    assert "agent.finished" not in [e.event_type for e in await world.events(task.task_id)]
    assert world.finalizer_details(task.task_id, expect=False) == []
    assert world.pulls_for(task.branch_name) == []
    assert not list(world.workspaces.iterdir())


async def test_a_rerun_updates_the_same_pull_request(world: AgentWorld) -> None:
    task = await world.seed(model_id="fake-edit")
    first = await run_agent(world.settings(task.task_id))
    second = await run_agent(world.settings(task.task_id))
    assert first.exit_code == second.exit_code == 0
    [pull] = world.pulls_for(task.branch_name)
    patches = [r for r in world.github.requests
               if r["method"] == "PATCH" and r["path"].endswith(f"/pulls/{pull['number']}")]
    assert len(patches) == 1
    row = await world.task(task.task_id)
    assert row.pr_number == pull["number"] and row.commit_count == 1


async def test_a_clone_or_setup_failure_ends_with_a_written_result(world: AgentWorld) -> None:
    failing_setup = await world.seed(model_id="fake-edit", setup_command="echo 'missing tool' >&2; exit 7")
    report = await run_agent(world.settings(failing_setup.task_id))
    row = await world.task(failing_setup.task_id)
    assert report.exit_code == 1 and row.agent_status == "error"
    assert "setup command failed (exit 7): missing tool" in (row.error_message or "")

    world.bare.rename(world.bare.with_name("moved.git"))
    task = await world.seed(model_id="fake-edit")
    report = await run_agent(world.settings(task.task_id))
    assert report.exit_code == 1
    row = await world.task(task.task_id)
    assert row.agent_status == "error" and "cloning" in (row.error_message or "")
    assert world.anthropic.requests_for("fake-edit") == []
    assert [d["outcome"] for d in world.finalizer_details(task.task_id)] == ["error"]
    assert not list(world.workspaces.iterdir())


async def test_a_task_that_never_runs_gets_no_writes(world: AgentWorld) -> None:
    waiting = await world.seed(running=False)
    report = await run_agent(world.settings(waiting.task_id, start_wait_seconds=0.5, start_poll_seconds=0.1))
    assert report.exit_code == 2 and report.outcome == "not_started"
    assert (await world.task(waiting.task_id)).model_dump() == waiting.model_dump()

    cancelled = await world.seed(running=False)
    cancelled = await world.store.transition(cancelled.task_id, TaskStatus.CANCELLED)
    report = await run_agent(world.settings(cancelled.task_id))
    assert report.exit_code == 0 and report.outcome == "skipped"
    assert (await world.task(cancelled.task_id)).model_dump() == cancelled.model_dump()
    assert world.anthropic.requests == []


def _start_agent(world: AgentWorld, task_id: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "agent", "--task-id", task_id], cwd=ROOT,
                            env=world.env(task_id, **env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


async def test_the_agent_runs_as_a_process(world: AgentWorld) -> None:
    task = await world.seed(model_id="fake-edit")
    proc = _start_agent(world, task.task_id)
    output, _ = await asyncio.to_thread(proc.communicate, timeout=60)
    assert proc.returncode == 0, output
    assert branch_file(world, task.branch_name, "NOTES.md") == EDIT_NOTES_TEXT.strip()
    assert f"Task-Id: {task.task_id}" in trailers(world, task.branch_name)
    assert len(world.pulls_for(task.branch_name)) == 1
    row = await world.task(task.task_id)
    assert row.agent_status == "success" and row.pr_url and row.turns == 5
    assert [d["outcome"] for d in world.finalizer_details(task.task_id)] == ["success"]
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert lines and all(line["service"] == "agent" for line in lines)
    assert GITHUB_TOKEN not in output and ANTHROPIC_KEY not in output


async def test_sigterm_stops_the_process_cleanly_without_a_result(world: AgentWorld) -> None:
    task = await world.seed(model_id="fake-loop", max_turns=500)
    proc = _start_agent(world, task.task_id)
    deadline = time.monotonic() + 30
    while len(world.anthropic.requests_for("fake-loop")) < 2:
        assert time.monotonic() < deadline and proc.poll() is None, "the agent never got going"
        await asyncio.sleep(0.05)
    asked = len(world.anthropic.requests_for("fake-loop"))
    proc.send_signal(signal.SIGTERM)
    output, _ = await asyncio.to_thread(proc.communicate, timeout=120)  # a ceiling, not a window: load slows it
    assert proc.returncode == 0, output
    # Stopped at once: at most the request already on its way when the signal landed, no further turn.
    assert len(world.anthropic.requests_for("fake-loop")) - asked <= 1
    row = await world.task(task.task_id)
    assert row.status == TaskStatus.RUNNING and row.agent_status is None
    assert world.finalizer_details(task.task_id, expect=False) == []
    assert not list(world.workspaces.iterdir())


async def test_a_task_that_asks_for_it_gets_its_trajectory_in_s3(world):
    seeded = await world.seed(model_id="fake-edit", save_trajectory=True)
    task_id = seeded.task_id
    report = await run_agent(world.settings(task_id))
    assert report.outcome == "success"
    task = await world.task(task_id)
    assert task.trajectory_key == f"trajectories/{task_id}.json"
    body = world.stack.boto("s3").get_object(Bucket=world.stack.names.artifacts_bucket,
                                             Key=task.trajectory_key)["Body"].read()
    doc = __import__("json").loads(body)
    assert doc["task_id"] == task_id and len(doc["turns"]) == task.turns
    assert doc["system_blocks"][0]["text"] == doc["system"]  # the native loop's prompt, as the relay saw it
    assert any(b.get("type") == "tool_use" for m in doc["messages"] if isinstance(m["content"], list)
               for b in m["content"])
    assert "ghp_" not in body.decode()


async def test_the_oracle_outside_an_evaluation_is_refused_never_replaced_by_the_native_loop(world: AgentWorld) -> None:
    task = await world.seed(model_id="fake-edit", engine="oracle")
    report = await run_agent(world.settings(task.task_id))
    row = await world.task(task.task_id)
    assert report.exit_code == 1 and row.agent_status == "error"
    assert "the oracle engine runs only evaluation attempts" in (row.error_message or "")
    assert world.anthropic.requests_for("fake-edit") == []
