"""Cache breakpoints and the eliding of old tool output."""

from __future__ import annotations

from agent.conversation import ELIDED, Conversation, cached_system, cached_tools
from agent.relay.estimate import request_size


def tool_turn(conversation: Conversation, n: int) -> None:
    conversation.add_assistant([{"type": "tool_use", "id": f"t{n}", "name": "bash", "input": {}}])
    conversation.add_user([{"type": "tool_result", "tool_use_id": f"t{n}", "content": f"output {n}"}])


def test_system_and_tools_carry_stable_breakpoints() -> None:
    system = cached_system("be careful", "/ws/repo")
    assert system[0] == {"type": "text", "text": "be careful", "cache_control": {"type": "ephemeral"}}
    assert "/ws/repo" in system[1]["text"] and "cache_control" not in system[1]
    tools = cached_tools([{"name": "a"}, {"name": "b"}])
    assert "cache_control" not in tools[0] and tools[1]["cache_control"] == {"type": "ephemeral"}


def test_the_breakpoint_rolls_and_the_stored_history_stays_clean() -> None:
    conversation = Conversation("task")
    first = conversation.request_messages()
    assert first[-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    tool_turn(conversation, 1)
    second = conversation.request_messages()
    assert "cache_control" not in second[0]["content"][-1]
    assert second[-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert all("cache_control" not in b for m in conversation.messages for b in m["content"])


def test_a_request_grows_by_only_what_is_new() -> None:
    conversation = Conversation("task")
    system, tools = cached_system("s" * 100, "/w"), cached_tools([{"name": "bash"}])

    def chars() -> int:
        return request_size({"system": system, "tools": tools, "messages": conversation.request_messages()})

    first = chars()
    assert first > 100
    tool_turn(conversation, 1)
    assert 0 < chars() - first < 200


def test_old_tool_results_are_elided_keeping_the_newest() -> None:
    conversation = Conversation("task")
    for n in range(6):
        tool_turn(conversation, n)
    assert conversation.elide_old_tool_results(keep_last=3) == 3
    contents = [b["content"] for m in conversation.messages for b in m["content"] if b.get("type") == "tool_result"]
    assert contents == [ELIDED] * 3 + ["output 3", "output 4", "output 5"]
    assert conversation.elide_old_tool_results(keep_last=3) == 0
