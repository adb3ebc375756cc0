"""The dashboard reads only metrics the services emit by name, and every failure mode has an alarm."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from shared.observability import metric_names as m
from shared.observability.metrics import NAMESPACE as EMF_NAMESPACE
from shared.topology.definition import build_topology
from shared.topology.names import ResourceNames
from tests.infra.conftest import STACK_NAME

ROOT = Path(__file__).resolve().parents[2]
TOPOLOGY = build_topology(ResourceNames(STACK_NAME))
SERVICES = ("gateway", "hydrator", "dispatcher", "finalizer", "reconciler")
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
_SEARCH = re.compile(r"SEARCH\('\{(?P<ns>[^,}]+)[^}]*\} MetricName=\"(?P<name>[^\"]+)\"")


def _dashboard(deployed) -> dict:
    (dashboard,) = deployed.of_type("aws:cloudwatch/dashboard:Dashboard")
    return json.loads(dashboard.inputs["dashboardBody"])


def _referenced(body: dict) -> set[tuple[str, str]]:
    """(namespace, metric name) of every metric and SEARCH expression in the dashboard."""
    found = set()
    for widget in body["widgets"]:
        for row in widget["properties"]["metrics"]:
            if isinstance(row[0], dict):
                found |= {(s["ns"], s["name"]) for s in _SEARCH.finditer(row[0]["expression"])}
            else:
                found.add((row[0], row[1]))
    return found


def test_dashboard_is_valid_json_and_reads_only_named_platform_metrics(deployed):
    referenced = _referenced(_dashboard(deployed))
    ours = {name for ns, name in referenced if ns == m.NAMESPACE}
    assert ours <= m.ALL_METRICS, f"not in metric_names.py: {ours - m.ALL_METRICS}"
    assert ours == m.ALL_METRICS, f"emitted but not on the dashboard: {m.ALL_METRICS - ours}"
    assert {ns for ns, _ in referenced} == {m.NAMESPACE, "AWS/SQS", "AWS/ApplicationELB"}


def test_dashboard_shows_every_queue_and_dlq(deployed):
    queues = set()
    for widget in _dashboard(deployed)["widgets"]:
        queues |= {row[3] for row in widget["properties"]["metrics"] if isinstance(row[0], str) and row[0] == "AWS/SQS"}
    assert queues == {q.name for q in TOPOLOGY.queues} | {q.dlq_name for q in TOPOLOGY.queues}


def test_every_dlq_has_an_alarm_on_any_message(deployed):
    alarms = [a.inputs for a in deployed.of_type(ALARM) if a.inputs.get("dimensions", {}).get("QueueName", "")
              in {q.dlq_name for q in TOPOLOGY.queues}]
    assert sorted(a["dimensions"]["QueueName"] for a in alarms) == sorted(q.dlq_name for q in TOPOLOGY.queues)
    for a in alarms:
        assert (a["metricName"], a["comparisonOperator"], a["threshold"]) == (
            "ApproximateNumberOfMessagesVisible", "GreaterThanThreshold", 0)


def _platform_alarms(deployed, metric: str) -> dict[str, dict]:
    return {a.inputs["dimensions"][m.SERVICE_DIMENSION]: a.inputs for a in deployed.of_type(ALARM)
            if a.inputs.get("namespace") == m.NAMESPACE and a.inputs["metricName"] == metric}


def test_handler_errors_alarm_per_service(deployed):
    assert set(_platform_alarms(deployed, m.HANDLER_ERRORS)) == set(SERVICES)


def test_stuck_task_repairs_and_drift_corrections_alarm(deployed):
    for metric in (m.STUCK_TASKS_REPAIRED, m.DRIFT_CORRECTIONS):
        alarms = _platform_alarms(deployed, metric)
        assert set(alarms) == {"reconciler"}
        assert alarms["reconciler"]["threshold"] == 0


def test_gateway_5xx_alarm_reads_the_alb(deployed):
    (lb,) = deployed.of_type("aws:lb/loadBalancer:LoadBalancer")
    (alarm,) = [a.inputs for a in deployed.of_type(ALARM) if a.inputs.get("name") == f"{STACK_NAME}-gateway-5xx"]
    metrics = [q["metric"] for q in alarm["metricQueries"] if "metric" in q]
    assert {q["metricName"] for q in metrics} == {"HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count"}
    assert all(q["dimensions"] == {"LoadBalancer": lb.outputs["arnSuffix"]} for q in metrics)


def test_operational_alarms_notify_the_topic(deployed):
    (topic,) = deployed.of_type("aws:sns/topic:Topic")
    operational = [a.inputs for a in deployed.of_type(ALARM) if "backlog" not in a.name]
    assert len(operational) == len(TOPOLOGY.queues) + len(SERVICES) + 3
    assert all(a["alarmActions"] == [topic.outputs["arn"]] for a in operational)


def _receiver(node: ast.AST) -> str:
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def _emitted_metric_names() -> set[str]:
    """Metric names (literals or metric_names constants) passed to `<…metrics…>.count(` / `.timing(` / `.value(`."""
    names = set()
    for folder in ("services", "shared", "agent"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr in ("count", "timing", "value") and "metric" in _receiver(node.func.value)
                        and node.args):
                    name = _metric_name(node.args[0])
                    if name is not None:
                        names.add(name)
    return names


def _metric_name(arg: ast.expr) -> str | None:
    """A literal name, or a constant of metric_names (`DRIFT_CORRECTIONS`, `m.DRIFT_CORRECTIONS`)."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    ident = arg.id if isinstance(arg, ast.Name) else arg.attr if isinstance(arg, ast.Attribute) else None
    value = getattr(m, ident, None) if ident and ident.isupper() else None
    return value if isinstance(value, str) else None


def test_metrics_the_code_emits_are_named_in_metric_names():
    emitted = _emitted_metric_names()
    assert m.DRIFT_CORRECTIONS in emitted  # the walk finds real emitters
    assert emitted <= m.ALL_METRICS, f"add to shared/observability/metric_names.py: {emitted - m.ALL_METRICS}"
    assert EMF_NAMESPACE == m.NAMESPACE
