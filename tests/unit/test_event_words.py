"""One table of event words: every event type the platform writes has words, and every surface reads them."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import get_args

from rich.text import Text

from cli.events import event_text
from services.gateway.ui import trail
from shared.githost.status_comment import markdown
from shared.steering.models import Decision
from shared.tasks.event_types import EVENT_TYPES
from shared.tasks.event_words import WORDS, event_words, plain
from shared.tasks.models import TaskEvent

ROOT = Path(__file__).resolve().parents[2]


def _written_types() -> set[str]:
    """Literals in product code named like an event family ("agent.…", "nudge.…"), and `event_type=` literals."""
    families = "|".join(sorted({t.split(".")[0] for t in EVENT_TYPES if "." in t}))
    named = re.compile(rf"(?:{families})\.[a-z_]+")
    found: set[str] = set()
    for package in ("shared", "services", "agent", "cli"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and named.fullmatch(node.value):
                    found.add(node.value)
                if isinstance(node, ast.keyword) and node.arg == "event_type" and isinstance(node.value, ast.Constant):
                    found.add(node.value.value)
    return found


def test_every_event_type_has_words() -> None:
    assert set(WORDS) == EVENT_TYPES
    for kind in EVENT_TYPES:
        assert plain(event_words(kind, {})).strip(), kind


def test_every_type_written_is_declared() -> None:
    written = _written_types() | {f"approval.{d}" for d in get_args(Decision)}  # steering writes f"approval.{d}"
    assert {"transition", "agent.turn", "nudge.received", "hydration.degraded"} <= written  # the scan sees the writers
    assert written <= EVENT_TYPES, written - EVENT_TYPES


def test_the_cli_and_the_panel_say_the_same_words() -> None:
    samples = {"transition": {"from": "RUNNING", "to": "FINALIZING", "trigger": "agent"},
               "agent.tests": {"passed": False, "command": "pytest", "exit_code": 1, "tail": "boom"},
               "agent.finished": {"outcome": "success", "turns": 1, "cost_usd": 0.5},
               "sandbox.egress": {"host": "pypi.org", "port": 443, "verdict": "refused", "reason": "not listed"}}
    for kind, metadata in samples.items():
        panel = trail.line(TaskEvent(task_id="T", event_type=kind, timestamp="2026-01-01T10:00:00.000Z",
                                     metadata=metadata)).text
        cli = Text.from_markup(event_text({"event_type": kind, "metadata": metadata})).plain
        assert cli.splitlines()[0] == panel, kind
    assert trail.line(TaskEvent(task_id="T", event_type="agent.finished", metadata={"turns": 1})).text \
        .startswith("agent finished: None · 1 turn ·")


def test_markdown_marks_a_failure_and_leaves_the_tail_to_the_trail() -> None:
    words = event_words("agent.tests", {"passed": False, "command": "pytest", "exit_code": 2, "tail": "boom"})
    assert markdown(words) == "tests **failed** · pytest · exit 2"


def test_the_agent_started_line_names_the_engine_on_every_surface() -> None:
    metadata = {"model_id": "claude-opus-5-5", "engine": "claude-code", "max_turns": 40}
    expected = "agent started · engine claude-code · model claude-opus-5-5 · at most 40 turns"
    assert trail.line(TaskEvent(task_id="T", event_type="agent.started", metadata=metadata)).text == expected
    assert Text.from_markup(event_text({"event_type": "agent.started", "metadata": metadata})).plain == expected
    older = {"model_id": "claude-opus-5-5", "max_turns": 40}  # written before engines: no engine named
    assert plain(event_words("agent.started", older)) == "agent started · model claude-opus-5-5 · at most 40 turns"
