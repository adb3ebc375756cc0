"""EMF output is what CloudWatch expects, and task metrics use the shared names."""

import json

from shared.observability import metric_names as m
from shared.observability.metrics import EmfMetrics
from shared.observability.task_metrics import record_terminal
from shared.tasks.models import Task, Tokens
from shared.tasks.states import TaskStatus


def _docs(capsys):
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def test_emf_document_shape(capsys):
    EmfMetrics("reconciler").count(m.DRIFT_CORRECTIONS, 2, user_id="u1")
    (doc,) = _docs(capsys)
    directive = doc["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == m.NAMESPACE
    assert directive["Dimensions"] == [[m.SERVICE_DIMENSION]]
    assert directive["Metrics"] == [{"Name": m.DRIFT_CORRECTIONS, "Unit": "Count"}]
    assert doc[m.DRIFT_CORRECTIONS] == 2 and doc["Service"] == "reconciler" and doc["user_id"] == "u1"


def test_terminal_task_records_state_duration_and_spend(capsys):
    task = Task.new(user_id="u", repo="a/b", task_description="x").model_copy(update={
        "status": TaskStatus.COMPLETED, "started_at": "2026-01-01T00:00:00Z", "completed_at": "2026-01-01T00:01:00Z",
        "cost_usd": 0.25, "tokens": Tokens(input=10, output=5, cache_read=80, cache_write=10)})
    record_terminal(EmfMetrics("finalizer"), task)
    values = {d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"]: d for d in _docs(capsys)}
    assert values[m.TASKS_COMPLETED][m.TASKS_COMPLETED] == 1
    assert values[m.RUNNING_TO_TERMINAL_MS][m.RUNNING_TO_TERMINAL_MS] == 60_000
    assert values[m.AGENT_COST_USD][m.AGENT_COST_USD] == 0.25
    assert values[m.AGENT_INPUT_TOKENS][m.AGENT_INPUT_TOKENS] == 100
    assert set(values) <= m.ALL_METRICS
