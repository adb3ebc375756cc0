"""The CloudWatch dashboard body: the platform's own metrics by name from shared.observability.metric_names."""

from __future__ import annotations

from shared.observability import metric_names as m
from shared.topology.definition import Topology

PERIOD = 300
SQS_VISIBLE = "ApproximateNumberOfMessagesVisible"
SQS_OLDEST_AGE = "ApproximateAgeOfOldestMessage"
ALB_TARGET_5XX = "HTTPCode_Target_5XX_Count"
ALB_ELB_5XX = "HTTPCode_ELB_5XX_Count"


def search(metric: str, stat: str) -> str:
    """Every series of a bgagent metric, whichever services emit it."""
    return f"SEARCH('{{{m.NAMESPACE},{m.SERVICE_DIMENSION}}} MetricName=\"{metric}\"', '{stat}', {PERIOD})"


def _total(metric: str, n: int, stat: str = "Sum") -> list:
    return [{"expression": f"SUM({search(metric, stat)})", "label": metric, "id": f"e{n}"}]


def _per_service(metric: str, n: int, stat: str) -> list:
    return [{"expression": search(metric, stat), "label": f"{metric} {stat}", "id": f"e{n}"}]


def _sqs(metric: str, queue_name: str, label: str) -> list:
    return ["AWS/SQS", metric, "QueueName", queue_name, {"label": label}]


def dashboard_body(topology: Topology, region: str, alb_arn_suffix: str) -> dict:
    """Tasks by terminal state, stage latencies, queues and DLQs, repairs, agent spend, service errors."""
    def widget(title: str, metrics: list, x: int, y: int, *, stat: str = "Sum", width: int = 12) -> dict:
        return {"type": "metric", "x": x, "y": y, "width": width, "height": 6, "properties": {
            "title": title, "metrics": metrics, "view": "timeSeries", "stat": stat, "period": PERIOD,
            "region": region}}

    queues = [_sqs(SQS_VISIBLE, q.name, q.service) for q in topology.queues]
    ages = [_sqs(SQS_OLDEST_AGE, q.name, q.service) for q in topology.queues]
    dlqs = [_sqs(SQS_VISIBLE, q.dlq_name, q.service) for q in topology.queues]
    latencies = [_per_service(name, i * 2 + s, stat)
                 for i, name in enumerate(m.STAGE_LATENCY_METRICS) for s, stat in enumerate(("p50", "p90"), 1)]
    alb = [["AWS/ApplicationELB", metric, "LoadBalancer", alb_arn_suffix, {"label": metric}]
           for metric in (ALB_TARGET_5XX, ALB_ELB_5XX)]
    widgets = [
        widget("Tasks by terminal state", [_total(name, i) for i, name in enumerate(m.TERMINAL_TASK_METRICS, 1)], 0, 0),
        widget("Stage latencies (ms, p50 / p90)", latencies, 12, 0, stat="p90"),
        widget("Queue depth (visible messages)", queues, 0, 6, stat="Maximum"),
        widget("Oldest message age (s)", ages, 12, 6, stat="Maximum"),
        widget("Dead-letter queue depth", dlqs, 0, 12, stat="Maximum"),
        widget("Reconciler repairs",
                [_total(m.DRIFT_CORRECTIONS, 1), _total(m.STUCK_TASKS_REPAIRED, 2)], 12, 12),
        widget("Agent cost (USD)", [_total(m.AGENT_COST_USD, 1)], 0, 18),
        widget("Agent tokens", [_total(m.AGENT_INPUT_TOKENS, 1), _total(m.AGENT_OUTPUT_TOKENS, 2)], 12, 18),
        widget("Service errors", [_per_service(m.HANDLER_ERRORS, 1, "Sum"), *alb], 0, 24,
                width=24),
    ]
    return {"widgets": widgets}
