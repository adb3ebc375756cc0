"""What a run leaves for the next task on the repository: its episode and the learnings it stated."""

from __future__ import annotations

import logging
import re

from shared.memory.store import MemoryEntry, MemoryStore
from shared.observability.redaction import redact
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


async def remember(memory: MemoryStore, task: Task, *, status: str, summary: str, error: str | None) -> None:
    """Write the episode and learnings; memory is best effort and never fails the run."""
    what = (summary or task.task_description or "").strip().splitlines()[0:1]
    text = redact((what[0] if what else "no summary")[:500] + (f" — error: {error[:300]}" if error else ""))
    try:
        await memory.put(MemoryEntry(repo=task.repo, kind="episode", entry_id=task.task_id, text=text,
                                     task_id=task.task_id, outcome=status, source="agent"))
        for learning in learnings_from(summary):
            await memory.put(MemoryEntry(repo=task.repo, kind="learning", text=redact(learning), task_id=task.task_id))
    except Exception:  # the next task only loses a hint
        log.warning("could not write repository memory", exc_info=True)
