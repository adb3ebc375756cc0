"""What a run leaves for the next task on the repository: its episode and the learnings it stated."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from shared.memory.notes import bounded_learning, episode_text
from shared.memory.store import MemoryEntry, MemoryStore
from shared.tasks.models import Task

log = logging.getLogger(__name__)

_HEADING = re.compile(r"^\s*(?:#+\s*)?\**learnings?\**\s*:?\s*$", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+(.*\S)\s*$")
MAX_LEARNINGS = 5


def learnings_from(summary: str) -> list[str]:
    """The bullet points under a 'Learnings:' heading of the model's final summary."""
    found: list[str] = []
    in_section = False
    for line in summary.splitlines():
        if _HEADING.match(line):
            in_section = True
            continue
        if in_section:
            bullet = _BULLET.match(line)
            if bullet:
                found.append(bullet.group(1)[:300])
            elif line.strip():
                break
    return found[:MAX_LEARNINGS]


def reviewer_learnings(feedback: list[str]) -> list[str]:
    """What reviewers of this repository asked for, as learnings for the next task (bounded, redacted)."""
    return [bounded_learning(f"Reviewers here asked {item}") for item in feedback[:MAX_LEARNINGS] if item.strip()]


async def remember_review(memory: MemoryStore, task: Task, feedback: list[str]) -> None:
    """After an iteration pushed changes: the review comments it answered become repo learnings."""
    try:
        for i, learning in enumerate(reviewer_learnings(feedback)):
            await memory.put(MemoryEntry(repo=task.repo, kind="learning", entry_id=f"{task.task_id}-review-{i}",
                                         text=learning, task_id=task.task_id), only_if_new=True)
    except Exception:  # the next task only loses a hint
        log.warning("could not write review learnings", exc_info=True)


@dataclass(frozen=True)
class RunFacts:
    """What the platform measured of a run; the episode is made of these, never of the task's text."""

    status: str
    commits: int | None = None
    files_changed: int | None = None
    tests_passed: bool | None = None
    error_code: str | None = None


async def remember(memory: MemoryStore, task: Task, facts: RunFacts, *, summary: str) -> None:
    """Write the episode and learnings; memory is best effort and never fails the run."""
    text = episode_text(facts.status, commits=facts.commits, files_changed=facts.files_changed,
                        tests_passed=facts.tests_passed, error_code=facts.error_code)
    try:
        await memory.put(MemoryEntry(repo=task.repo, kind="episode", entry_id=task.task_id, text=text,
                                     task_id=task.task_id, outcome=facts.status, source="agent"))
        for learning in filter(None, map(bounded_learning, learnings_from(summary))):
            await memory.put(MemoryEntry(repo=task.repo, kind="learning", text=learning, task_id=task.task_id))
    except Exception:  # the next task only loses a hint
        log.warning("could not write repository memory", exc_info=True)
