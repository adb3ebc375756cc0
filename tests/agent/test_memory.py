"""The agent leaves an episode and its stated learnings for the next task on the repository."""

from agent.memory import learnings_from, remember
from shared.tasks.models import Task
from tests.fakes.collaborators import InMemoryMemory


def test_learnings_are_the_bullets_under_the_heading():
    summary = "Fixed the parser.\n\nLearnings:\n- tests run with `make check`\n* uses tabs\n\nThanks"
    assert learnings_from(summary) == ["tests run with `make check`", "uses tabs"]
    assert learnings_from("## Learnings\n1. one\n2) two") == ["one", "two"]
    assert learnings_from("no such section\n- not a learning") == []


async def test_episode_and_learnings_are_written_redacted():
    memory = InMemoryMemory()
    task = Task.new(user_id="u", repo="a/b", task_description="fix it")
    await remember(memory, task, status="success",
                   summary="Fixed it with ghp_abcdefghijklmnopqrstuvwxyz0123.\nLearnings:\n- run pytest -q", error=None)
    episodes = await memory.recent("a/b", "episode")
    learnings = await memory.recent("a/b", "learning")
    assert episodes[0].entry_id == task.task_id and "ghp_" not in episodes[0].text
    assert [e.text for e in learnings] == ["run pytest -q"]
