"""The task-level metrics every service records the same way."""

from __future__ import annotations

from datetime import datetime, timezone

from shared.clock import parse_time
from shared.observability import metric_names as m
from shared.observability.metrics import MetricsSink
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus

_TERMINAL = {TaskStatus.COMPLETED: m.TASKS_COMPLETED, TaskStatus.FAILED: m.TASKS_FAILED,
             TaskStatus.CANCELLED: m.TASKS_CANCELLED, TaskStatus.TIMED_OUT: m.TASKS_TIMED_OUT}


def _ms_between(start: str | None, end: str | None) -> float | None:
    if not start:
        return None
    stop = parse_time(end) if end else datetime.now(timezone.utc)
    return (stop - parse_time(start)).total_seconds() * 1000


def record_terminal(metrics: MetricsSink, task: Task) -> None:
    """Count a task that just reached a terminal state, with its run time and spend."""
    name = _TERMINAL.get(task.status)
    if name is None:
        return
    metrics.count(name, 1, task_id=task.task_id, repo=task.repo, error_code=task.error_code)
    ran = _ms_between(task.started_at, task.completed_at)
    if ran is not None:
        metrics.timing(m.RUNNING_TO_TERMINAL_MS, ran, task_id=task.task_id)
    if task.cost_usd is not None:
        metrics.value(m.AGENT_COST_USD, task.cost_usd, task_id=task.task_id, model_id=task.model_id)
    if task.tokens is not None:
        metrics.count(m.AGENT_INPUT_TOKENS, task.tokens.input + task.tokens.cache_read + task.tokens.cache_write,
                      task_id=task.task_id)
        metrics.count(m.AGENT_OUTPUT_TOKENS, task.tokens.output, task_id=task.task_id)


def record_started(metrics: MetricsSink, task: Task) -> None:
    """How long a task took from submission to a running agent."""
    waited = _ms_between(task.created_at, task.started_at)
    if waited is not None:
        metrics.timing(m.SUBMIT_TO_RUNNING_MS, waited, task_id=task.task_id)
