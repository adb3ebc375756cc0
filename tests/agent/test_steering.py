"""The agent's side of steering: nudges reach the next request, gated commands wait for a decision."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest

from agent.approvals import ApprovalGate, ApprovalWaiter, RuleCheck
from agent.engines.protocol import BashApproval
from agent.errors import Cancelled
from agent.guard import TaskGuard
from agent.model_client import ModelReply
from agent.model_loop import ModelLoop
from agent.nudges import NudgeInbox
from agent.tools.protocol import ToolResult
from shared.steering.models import ApprovalRule, Nudge
from shared.steering.resume import resume_task
from shared.tasks.models import Task
from shared.tasks.outbox import Outbox
from shared.tasks.states import TaskStatus as S
from tests.agent.test_model_loop import ScriptedModel, job, make_loop
from tests.fakes.collaborators import RecordingBus
from tests.fakes.steering import InMemoryApprovals, InMemoryNudges
from tests.fakes.tasks import InMemoryTaskStore

INSTALLS = ApprovalRule(name="installs", pattern=r"pip install", timeout_s=60)


async def _running(store: InMemoryTaskStore, **fields: Any) -> Task:
    task = await store.create(Task.new(user_id="alice", repo="acme/app", task_description="x", **fields))
    await store.transition(task.task_id, S.HYDRATING, max_active=3)
    return await store.transition(task.task_id, S.RUNNING)


@dataclass
class CountingBash:
    commands: list[str] = field(default_factory=list)

    @property
    def definition(self) -> dict[str, Any]:
        return {"type": "bash_20250124", "name": "bash"}

    async def run(self, tool_input: dict[str, Any]) -> ToolResult:
        self.commands.append(tool_input["command"])
        return ToolResult(f"output of {tool_input['command']}")


def _waiter(store, approvals, task, guard=None):
    guard = guard or TaskGuard(store, task.task_id)
    return ApprovalWaiter(approvals, store, guard, task, outbox=Outbox(store, RecordingBus()), poll_seconds=0.01)


def _gate(store, approvals, task, bash, *, rules=(INSTALLS,), pre_approved=()):
    guard = TaskGuard(store, task.task_id)
    waiter = _waiter(store, approvals, task, guard)
    return ApprovalGate(bash, list(rules), pre_approved=set(pre_approved), waiter=waiter,
                        reason=lambda: "I need the requests library"), guard


async def _decide_when_asked(store, approvals, decision: str, reason: str | None = None):
    while not approvals.rows:
        await asyncio.sleep(0.005)
    approval = next(iter(approvals.rows.values()))
    assert store.tasks[approval.task_id].status == S.AWAITING_APPROVAL
    decided = await approvals.decide(approval, decision, by="alice", reason=reason)
    await resume_task(Outbox(store, RecordingBus()), decided)
    return decided


async def test_an_approved_command_runs_and_the_task_is_running_again():
    store = InMemoryTaskStore()
    approvals, bash = InMemoryApprovals(store), CountingBash()
    task = await _running(store)
    gate, _ = _gate(store, approvals, task, bash)
    result, decided = await asyncio.gather(gate.run({"command": "pip install requests"}),
                                           _decide_when_asked(store, approvals, "approved"))
    assert result.text == "output of pip install requests" and bash.commands == ["pip install requests"]
    assert decided.reason == "I need the requests library" and decided.command == "pip install requests"
    assert store.tasks[task.task_id].status == S.RUNNING


async def test_a_denied_command_never_runs_and_the_model_gets_the_reason():
    store = InMemoryTaskStore()
    approvals, bash = InMemoryApprovals(store), CountingBash()
    task = await _running(store)
    gate, _ = _gate(store, approvals, task, bash)
    result, _ = await asyncio.gather(gate.run({"command": "cd x && pip install requests"}),
                                     _decide_when_asked(store, approvals, "denied", "no new dependencies"))
    assert bash.commands == [] and result.is_error and "no new dependencies" in result.text


async def test_an_undecided_request_expires_as_a_denial_by_the_agent_itself():
    store = InMemoryTaskStore()
    approvals, bash = InMemoryApprovals(store), CountingBash()
    task = await _running(store)
    rule = ApprovalRule(name="installs", pattern="pip install", timeout_s=1)
    gate, _ = _gate(store, approvals, task, bash, rules=(rule,))
    result = await asyncio.wait_for(gate.run({"command": "pip install x"}), 5)
    assert bash.commands == [] and "nobody decided within 1 s" in result.text
    assert [a.status for a in approvals.rows.values()] == ["expired"]
    assert store.tasks[task.task_id].status == S.RUNNING


async def test_an_engine_that_runs_commands_itself_asks_the_same_rules():
    store = InMemoryTaskStore()
    approvals = InMemoryApprovals(store)
    task = await _running(store)
    check = RuleCheck([INSTALLS], pre_approved=set(), waiter=_waiter(store, approvals, task),
                      reason=lambda: "Claude Code wants requests")
    approval: BashApproval = check  # what the Claude Code engine's PreToolUse hook asks
    assert await approval("ls -la") is None and approvals.rows == {}
    allowed, decided = await asyncio.gather(approval("pip install requests"),
                                            _decide_when_asked(store, approvals, "approved"))
    assert allowed is None and decided.reason == "Claude Code wants requests"
    approvals.rows.clear()
    refused, _ = await asyncio.gather(approval("pip install x"),
                                      _decide_when_asked(store, approvals, "denied", "no new dependencies"))
    assert refused is not None and "no new dependencies" in refused and "Command not run" in refused
    assert store.tasks[task.task_id].status == S.RUNNING


async def test_unmatched_and_pre_approved_commands_run_without_asking():
    store = InMemoryTaskStore()
    approvals, bash = InMemoryApprovals(store), CountingBash()
    task = await _running(store)
    gate, _ = _gate(store, approvals, task, bash, pre_approved={"installs"})
    await gate.run({"command": "pip install x"})
    plain, _ = _gate(store, approvals, task, bash)
    await plain.run({"command": "ls"})
    assert bash.commands == ["pip install x", "ls"] and approvals.rows == {}


async def test_cancellation_while_waiting_stops_the_run_and_writes_nothing_more():
    store = InMemoryTaskStore()
    approvals, bash = InMemoryApprovals(store), CountingBash()
    task = await _running(store)
    gate, guard = _gate(store, approvals, task, bash)
    waiting = asyncio.create_task(gate.run({"command": "pip install x"}))
    while store.tasks[task.task_id].status != S.AWAITING_APPROVAL:
        await asyncio.sleep(0.005)
    await store.transition(task.task_id, S.CANCELLED)
    trail = len(store.events[task.task_id])
    with pytest.raises(Cancelled):
        await asyncio.wait_for(waiting, 5)
    assert guard.is_stopped() and bash.commands == []
    assert len(store.events[task.task_id]) == trail


async def test_the_heartbeat_goes_on_while_awaiting_approval_and_stops_at_cancel():
    store = InMemoryTaskStore()
    task = await _running(store)
    guard = TaskGuard(store, task.task_id)
    await store.transition(task.task_id, S.AWAITING_APPROVAL)
    await guard.beat()
    assert store.tasks[task.task_id].agent_heartbeat_at and not guard.is_stopped()
    await store.transition(task.task_id, S.CANCELLED)
    with pytest.raises(Cancelled):
        await guard.beat()
    assert guard.is_stopped()


def _loop(model: ScriptedModel) -> ModelLoop:
    return make_loop(model, max_turns=3)[0]  # the relay's turn cap ends the run after three calls


async def test_a_nudge_reaches_the_next_request_once_marked_as_from_the_owner():
    store = InMemoryTaskStore()
    nudges = InMemoryNudges(store)
    task = await _running(store)
    inbox = NudgeInbox(nudges, task.task_id)
    model = ScriptedModel()
    loop = _loop(model)
    await nudges.add(Nudge(task_id=task.task_id, user_id="alice", message="use httpx please"))
    await loop.run(job(inbox=inbox))
    texts = [[b.get("text", "") for m in call["messages"] for b in m["content"] if b.get("type") == "text"]
             for call in model.calls]
    carrying = [i for i, t in enumerate(texts) if any("use httpx please" in x for x in t)]
    assert carrying and carrying[0] == 0 and "owner of this task" in next(x for x in texts[0] if "httpx" in x)
    kinds = [e.event_type for e in store.events[task.task_id]]
    assert kinds.count("nudge.received") == kinds.count("nudge.delivered") == 1
    assert await nudges.pending(task.task_id) == []


async def test_a_nudge_arriving_mid_run_joins_the_tool_results_message():
    store = InMemoryTaskStore()
    nudges = InMemoryNudges(store)
    task = await _running(store)

    class NudgingModel(ScriptedModel):
        async def create(self, **request: Any) -> ModelReply:
            if len(self.calls) == 1:
                await nudges.add(Nudge(task_id=task.task_id, user_id="alice", message="stop and summarise"))
            return await super().create(**request)

    model = NudgingModel(replies=[])
    loop = _loop(model)
    await loop.run(job(inbox=NudgeInbox(nudges, task.task_id)))
    third = model.calls[2]["messages"][-1]
    assert third["role"] == "user" and third["content"][0]["type"] == "tool_result"
    assert "stop and summarise" in third["content"][-1]["text"]
    assert [m["role"] for m in model.calls[2]["messages"]] == ["user", "assistant", "user", "assistant", "user"]
