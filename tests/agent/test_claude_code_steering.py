"""Platform features in a Claude Code session: locked tools, approvals held by the runtime, nudges, cancel."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest

from agent.approvals import ApprovalWaiter, RuleCheck
from agent.engines.cli_config import DISALLOWED_TOOLS
from agent.engines.hooks import BACKGROUND_REFUSED
from agent.errors import Cancelled
from agent.sandbox.limits import processes_of, task_uid
from shared.steering.models import Approval, ApprovalKind, ApprovalRule
from tests.agent.claude_code import EngineWorld, engine_world, last_user_text, needs_cli, served_fake
from tests.doubles import FakeAnthropic
from tests.doubles.fake_anthropic import Turn

pytestmark = [needs_cli]
__all__ = ["served_fake"]
RULE = ApprovalRule(name="installs", pattern=r"pip install")
HELD = "echo held-command-ran > held.txt # pip install requests"


@pytest.fixture
async def world(tmp_path: Path, served_fake: tuple[FakeAnthropic, str]) -> AsyncIterator[EngineWorld]:
    async for w in engine_world(tmp_path, served_fake, {"README.md": "# app\n"}, bash_timeout_seconds=2.0,
                                idle_seconds=4.0):
        yield w


@pytest.fixture
async def patient_world(tmp_path: Path,
                        served_fake: tuple[FakeAnthropic, str]) -> AsyncIterator[EngineWorld]:
    async for w in engine_world(tmp_path, served_fake, {"README.md": "# app\n"}):
        yield w


class HeldDecision:
    """The runtime's approval flow as the gate sees it: the request waits until the test decides it."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str, str]] = []
        self.decide: asyncio.Future[tuple[str, str | None]] = asyncio.get_running_loop().create_future()

    async def decision(self, rule: ApprovalRule, command: str, reason: str, *,
                       kind: ApprovalKind = "command") -> Approval:
        self.asked.append((rule.name, command, reason))
        status, why = await self.decide
        request = Approval.new(task_id="01CLAUDECODE", user_id="owner", rule=rule, command=command, reason=reason)
        return request.model_copy(update={"status": status, "decision_reason": why})


class OneNudge:
    """An inbox holding one note, handed over once, after `after` collections."""

    def __init__(self, note: str, *, after: int = 0):
        self.note, self.after, self.calls = note, after, 0

    async def collect(self) -> list[str]:
        self.calls += 1
        return [self.note] if self.calls == self.after + 1 else []


async def until(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.05)


def tool_names(request: dict[str, Any]) -> set[str]:
    return {t.get("name") for t in request["body"].get("tools") or []}


async def test_tools_that_outlive_the_session_are_locked_and_a_review_cannot_write(world: EngineWorld) -> None:
    model = world.script([Turn.text("Looked.")])
    assert (await world.engine.run(world.job(model))).finished
    offered = tool_names(world.requests()[0])
    assert {"Bash", "Read", "Write", "Edit"} <= offered
    assert not offered & set(DISALLOWED_TOOLS)

    assert (await world.engine.run(world.job(model, task_type="pr_review"))).finished
    review = tool_names(world.requests()[-1])
    assert "Bash" in review and "Read" in review and not review & {"Write", "Edit", "MultiEdit", "NotebookEdit"}


async def test_a_background_command_is_refused(world: EngineWorld) -> None:
    model = world.script([Turn.tool_use("Bash", {"command": "touch bg.txt", "run_in_background": True}),
                          Turn.text("Fine.")])
    assert (await world.engine.run(world.job(model))).finished
    refused = last_user_text(world.requests()[-1])
    # The CLI, told to have no background tasks, drops the parameter; the hook refuses it should one remain.
    assert "unexpected parameter `run_in_background`" in refused or BACKGROUND_REFUSED in refused
    assert not (world.ws.repo / "bg.txt").exists()


@pytest.mark.parametrize("verdict", ["approved", "denied"])
async def test_a_command_matching_a_rule_waits_for_its_owner(world: EngineWorld, verdict: str) -> None:
    model = world.script([Turn.tool_use("Bash", {"command": HELD}, text="I need requests."), Turn.text("Done.")])
    decider = HeldDecision()
    check = RuleCheck([RULE], pre_approved=set(), waiter=cast(ApprovalWaiter, decider),
                      reason=lambda: "I need requests.")
    job = world.job(model, approval=check)
    run = asyncio.create_task(world.engine.run(job))

    await until(lambda: decider.asked)
    assert decider.asked == [("installs", HELD, "I need requests.")]
    await asyncio.sleep(5)  # longer than the idle limit: a held command is not a hung CLI
    assert not run.done() and not (world.ws.repo / "held.txt").exists()
    decider.decide.set_result((verdict, "not today" if verdict == "denied" else None))
    outcome = await asyncio.wait_for(run, 60)

    assert outcome.finished, outcome
    result = last_user_text(world.requests()[-1])
    if verdict == "approved":
        assert (world.ws.repo / "held.txt").read_text() == "held-command-ran\n"
    else:
        assert not (world.ws.repo / "held.txt").exists()
        assert "matches the approval rule 'installs'" in result and "not today" in result


@pytest.mark.parametrize("tool", ["Write", "Edit"])
async def test_a_file_edit_matching_an_editor_rule_waits_for_its_owner(world: EngineWorld, tool: str) -> None:
    # Write makes a new file (the CLI writes over an existing one only after reading it); Edit changes one.
    target = world.ws.repo / ("local_settings.py" if tool == "Write" else "settings.py")
    if tool == "Edit":
        target.write_text("DEBUG = False\n")
    edit = ({"file_path": str(target), "content": "DEBUG = True\n"} if tool == "Write" else
            {"file_path": str(target), "old_string": "DEBUG = False", "new_string": "DEBUG = True"})
    turns = [Turn.tool_use("Read", {"file_path": str(target)}, text="Reading it.")] if tool == "Edit" else []
    model = world.script([*turns, Turn.tool_use(tool, edit, text="Turning debug on."), Turn.text("Done.")])
    rule = ApprovalRule(name="debug", pattern=r"settings\.py", applies_to=["editor"])
    decider = HeldDecision()
    check = RuleCheck([rule], pre_approved=set(), waiter=cast(ApprovalWaiter, decider),
                      reason=lambda: "Turning debug on.", target="editor")
    run = asyncio.create_task(world.engine.run(world.job(model, edit_approval=check)))

    await until(lambda: decider.asked)
    [(name, text, _)] = decider.asked
    assert name == "debug" and str(target) in text and "DEBUG = True" in text
    decider.decide.set_result(("denied", "not in production"))
    outcome = await asyncio.wait_for(run, 60)
    assert outcome.finished, outcome
    assert (target.read_text() == "DEBUG = False\n") if tool == "Edit" else not target.exists()
    assert "Edit not made" in last_user_text(world.requests()[-1])


async def test_a_nudge_reaches_the_next_request_exactly_once(world: EngineWorld) -> None:
    note = "[Message from owner] Use tabs, not spaces."
    model = world.script([Turn.tool_use("Bash", {"command": "echo one"}),
                          Turn.tool_use("Bash", {"command": "echo two"}), Turn.text("Done.")])
    outcome = await world.engine.run(world.job(model, inbox=OneNudge(note)))

    assert outcome.finished
    requests = world.requests()
    assert note in last_user_text(requests[1])
    assert note not in last_user_text(requests[2])
    assert repr(requests[-1]["body"]["messages"]).count("Use tabs, not spaces.") == 1


async def test_a_nudge_that_arrives_as_the_model_finishes_continues_the_session(world: EngineWorld) -> None:
    note = "[Message from owner] Also update the changelog."
    model = world.script([Turn.text("All done."), Turn.text("Changelog updated too.")])
    outcome = await world.engine.run(world.job(model, inbox=OneNudge(note)))

    assert outcome.finished and outcome.summary == "Changelog updated too."
    assert "Also update the changelog." in repr(world.requests()[-1]["body"]["messages"])


async def test_cancel_stops_the_cli_and_every_process_it_started(patient_world: EngineWorld) -> None:
    world = patient_world
    model = world.script([Turn.tool_use("Bash", {"command": "touch started; (sleep 300; touch late) & sleep 300"})])
    stop = asyncio.Event()
    run = asyncio.create_task(world.engine.run(world.job(model, stop_requested=stop.is_set)))
    await until(lambda: (world.ws.repo / "started").exists())
    uid = task_uid("01CLAUDECODE", 200_000)
    assert processes_of(uid) > 0
    stopped_at = time.monotonic()
    stop.set()
    with pytest.raises(Cancelled, match="stopped"):
        await asyncio.wait_for(run, 30)

    assert time.monotonic() - stopped_at < 10
    await until(lambda: processes_of(uid) == 0, timeout=10)
