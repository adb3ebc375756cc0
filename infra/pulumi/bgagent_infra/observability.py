"""The dashboard and the alarms: DLQs, handler errors, stuck tasks, counter drift, API 5xx."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from bgagent_infra.account import Account
from bgagent_infra.config import SERVICES, StackConfig
from bgagent_infra.dashboard import ALB_ELB_5XX, ALB_TARGET_5XX, SQS_VISIBLE, dashboard_body
from bgagent_infra.services import Services
from shared.observability import metric_names as m
from shared.topology.definition import Topology


class Observability(pulumi.ComponentResource):
    """CloudWatch dashboard, alarms and the SNS topic they notify."""

    def __init__(self, name: str, config: StackConfig, topology: Topology, account: pulumi.Output[Account],
                 services: Services, opts: pulumi.ResourceOptions | None = None):
        super().__init__("bgagent:infra:Observability", name, None, opts)
        self._name, self._stack = name, config.stack_name
        child = pulumi.ResourceOptions(parent=self)
        self.topic = aws.sns.Topic(f"{name}-alarms", name=f"{self._stack}-alarms", opts=child)
        if config.alarm_email:
            aws.sns.TopicSubscription(f"{name}-alarms-email", topic=self.topic.arn, protocol="email",
                                      endpoint=config.alarm_email, opts=child)
        lb_suffix = services.api.load_balancer.arn_suffix
        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard", dashboard_name=self._stack,
            dashboard_body=pulumi.Output.all(account, lb_suffix).apply(
                lambda a: json.dumps(dashboard_body(topology, a[0].region, a[1]))),
            opts=child)
        self.dashboard_url = account.apply(
            lambda a: f"https://{a.region}.console.aws.amazon.com/cloudwatch/home?region={a.region}"
                      f"#dashboards:name={self._stack}")

        self.alarms: dict[str, aws.cloudwatch.MetricAlarm] = {}
        for q in (*topology.queues, *([topology.sessions] if topology.sessions else [])):
            self._alarm(f"{q.service}-dlq-not-empty", f"{q.dlq_name} holds messages that failed {q.max_receive_count}"
                        " times: read them, fix the cause, redrive", namespace="AWS/SQS", metric_name=SQS_VISIBLE,
                        dimensions={"QueueName": q.dlq_name}, statistic="Maximum", period=60, threshold=0)
        for service in SERVICES:
            self._alarm(f"{service}-handler-errors", f"{service} handlers are failing", namespace=m.NAMESPACE,
                        metric_name=m.HANDLER_ERRORS, dimensions={m.SERVICE_DIMENSION: service}, statistic="Sum",
                        period=300, threshold=config.handler_error_threshold - 1)
        for metric, what in ((m.STUCK_TASKS_REPAIRED, "stuck-tasks"), (m.DRIFT_CORRECTIONS, "counter-drift")):
            self._alarm(f"reconciler-{what}", f"the reconciler repaired {what.replace('-', ' ')}: a service is losing "
                        "work or events", namespace=m.NAMESPACE, metric_name=metric,
                        dimensions={m.SERVICE_DIMENSION: "reconciler"}, statistic="Sum", period=300, threshold=0)
        self._alarm("gateway-5xx", "the API answers 5xx", threshold=config.gateway_5xx_threshold - 1, metric_queries=[
            {"id": "errors", "expression": "FILL(target, 0) + FILL(elb, 0)", "label": "5xx", "return_data": True},
            *[{"id": qid, "return_data": False, "metric": {
                "namespace": "AWS/ApplicationELB", "metric_name": metric, "dimensions": {"LoadBalancer": lb_suffix},
                "stat": "Sum", "period": 300}} for qid, metric in (("target", ALB_TARGET_5XX), ("elb", ALB_ELB_5XX))],
        ])
        self.register_outputs({"dashboard_url": self.dashboard_url})

    def _alarm(self, key: str, description: str, *, threshold: float, **metric: object) -> None:
        """Alarm when the metric exceeds `threshold` in one period; notify the topic on alarm and recovery."""
        self.alarms[key] = aws.cloudwatch.MetricAlarm(
            f"{self._name}-{key}", name=f"{self._stack}-{key}", alarm_description=description,
            comparison_operator="GreaterThanThreshold", threshold=threshold, evaluation_periods=1,
            treat_missing_data="notBreaching", alarm_actions=[self.topic.arn], ok_actions=[self.topic.arn],
            opts=pulumi.ResourceOptions(parent=self), **metric)
