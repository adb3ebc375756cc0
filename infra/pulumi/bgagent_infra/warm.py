"""ecsMode warm: an ECS service of idle agent tasks that take sessions from the sessions queue, and its scaling.

Every agent task runs one session and exits, so the service's count is busy plus idle agents. Scaling keeps
`minIdle` of them idle: idle agents are counted from the queue's empty long polls (each idle agent makes one
every `WAIT_SECONDS`), busy ones are protected from scale-in by the agents themselves while they run.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from bgagent_infra.agent import Agent
from bgagent_infra.config import StackConfig
from bgagent_infra.network import Network
from shared.topology.definition import Topology

WAIT_SECONDS = 20  # agent.warm.WarmSettings.warm_receive_wait_seconds
_PERIOD = 60
# Step sizes by how many idle agents are missing (relative to the alarm's threshold of one).
_OUT_STEPS = ((0, 1, 1), (1, 3, 2), (3, 7, 4), (7, None, 8))


def _queries(queue_name: str, min_idle: int, expression: str) -> list[dict]:
    """Metric math over the sessions queue: `idle` agents, `backlog` of waiting sessions, then `expression`."""
    def sqs(metric: str) -> dict:
        return {"namespace": "AWS/SQS", "metric_name": metric, "dimensions": {"QueueName": queue_name},
                "stat": "Sum" if metric == "NumberOfEmptyReceives" else "Maximum", "period": _PERIOD}

    return [
        {"id": "empty", "metric": sqs("NumberOfEmptyReceives"), "return_data": False},
        {"id": "visible", "metric": sqs("ApproximateNumberOfMessagesVisible"), "return_data": False},
        {"id": "idle", "expression": f"FILL(empty, 0) / {_PERIOD / WAIT_SECONDS:g}", "label": "idle agents",
         "return_data": False},
        {"id": "backlog", "expression": "FILL(visible, 0)", "label": "sessions waiting", "return_data": False},
        {"id": "result", "expression": expression.format(min_idle=min_idle), "return_data": True},
    ]


class WarmAgents(pulumi.ComponentResource):
    """The warm agents' service and its Application Auto Scaling on queue depth and idle count."""

    def __init__(self, name: str, config: StackConfig, topology: Topology, cluster: aws.ecs.Cluster, agent: Agent,
                 network: Network, sessions: aws.sqs.Queue, opts: pulumi.ResourceOptions | None = None):
        super().__init__("bgagent:infra:WarmAgents", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        capacity = config.warm_capacity
        service_name = topology.names.warm_agents_service  # the ECS events' group is "service:<this>"
        self.service = aws.ecs.Service(
            f"{name}-service", name=service_name, cluster=cluster.arn, task_definition=agent.task_definition.arn,
            desired_count=capacity.min_idle, launch_type="FARGATE",
            network_configuration={"subnets": network.private_subnet_ids, "assign_public_ip": False,
                                   "security_groups": [network.agent_sg.id]},
            deployment_circuit_breaker={"enable": True, "rollback": True},
            # A deployment replaces idle agents; busy ones are protected until their session ends.
            deployment_minimum_healthy_percent=100, deployment_maximum_percent=200,
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["desiredCount"]))
        target = aws.appautoscaling.Target(
            f"{name}-scaling", service_namespace="ecs", scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.concat("service/", cluster.name, "/", self.service.name),
            min_capacity=capacity.min_idle, max_capacity=capacity.max_agents, opts=child)
        common = {"resource_id": target.resource_id, "scalable_dimension": target.scalable_dimension,
                  "service_namespace": target.service_namespace, "policy_type": "StepScaling"}
        on_target = pulumi.ResourceOptions(parent=target)
        out = aws.appautoscaling.Policy(f"{name}-scale-out", **common, step_scaling_policy_configuration={
            "adjustment_type": "ChangeInCapacity", "metric_aggregation_type": "Maximum",
            "cooldown": 120,  # about one cold start: the agents just added are not idle yet
            "step_adjustments": [
                {"metric_interval_lower_bound": str(low), "scaling_adjustment": add,
                 **({"metric_interval_upper_bound": str(high)} if high is not None else {})}
                for low, high, add in _OUT_STEPS]}, opts=on_target)
        scale_in = aws.appautoscaling.Policy(f"{name}-scale-in", **common, step_scaling_policy_configuration={
            "adjustment_type": "ChangeInCapacity", "cooldown": 300, "metric_aggregation_type": "Maximum",
            "step_adjustments": [{"metric_interval_lower_bound": "0", "scaling_adjustment": -1}]}, opts=on_target)
        queue = topology.sessions.name if topology.sessions else ""
        aws.cloudwatch.MetricAlarm(
            f"{name}-idle-short", alarm_description=f"fewer than {capacity.min_idle} idle agents, or sessions "
            "waiting: add agents", comparison_operator="GreaterThanOrEqualToThreshold", threshold=1,
            evaluation_periods=1, treat_missing_data="notBreaching", alarm_actions=[out.arn],
            metric_queries=_queries(queue, capacity.min_idle, "{min_idle} + backlog - idle"), opts=on_target)
        aws.cloudwatch.MetricAlarm(
            f"{name}-idle-surplus", alarm_description=f"more than {capacity.min_idle} idle agents for 15 minutes: "
            "remove one", comparison_operator="GreaterThanOrEqualToThreshold", threshold=1, evaluation_periods=15,
            treat_missing_data="notBreaching", alarm_actions=[scale_in.arn],
            metric_queries=_queries(queue, capacity.min_idle, "idle - {min_idle} - backlog"), opts=on_target)
        self.register_outputs({"service": self.service.name})
