"""How the CLI shows model warnings: `bgagent status`, the event trail, and the stack's model notices."""

from __future__ import annotations

import io

from rich.console import Console

from cli.events import event_text
from cli.models import stack_model_notices
from cli.render import task_detail
from shared.llm.catalog import DEFAULT_MODEL_ID

WARNING = ("model 'claude-opus-4-5' reaches its end of life on 2027-01-22 (21 days); "
           "move to 'claude-opus-5-5' before then")


def _text(renderable) -> str:
    console = Console(file=io.StringIO(), width=300, color_system=None)
    console.print(renderable)
    return console.file.getvalue()


def test_status_shows_the_tasks_warnings():
    task = {"task_id": "01J", "status": "SUBMITTED", "repo": "acme/app", "model_id": "claude-opus-4-5",
            "warnings": [WARNING]}
    assert "warnings" in _text(task_detail(task)) and WARNING in _text(task_detail(task))
    assert "warnings" not in _text(task_detail({**task, "warnings": None}))


def test_the_event_trail_shows_a_model_warning():
    event = {"event_type": "model.deprecated", "metadata": {"model_id": "claude-opus-4-5", "warnings": [WARNING]}}
    assert _text(event_text(event)).strip() == f"warning {WARNING}"


def test_stack_notices_read_the_configured_default_and_the_repos_models():
    assert stack_model_notices({}, {"acme/a": DEFAULT_MODEL_ID}) == []
    notices = stack_model_notices({"BGAGENT_DEFAULT_MODEL_ID": "claude-opus-4-5"}, {"acme/a": "claude-sonnet-4-5"})
    assert [n.split(":")[0] for n in notices] == ["the default model", "repository acme/a"]
