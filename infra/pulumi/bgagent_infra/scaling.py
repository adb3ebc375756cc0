"""Service autoscaling: workers follow their queue's depth, the gateway its CPU."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from bgagent_infra.config import ServiceSize

QUEUE_DEPTH_METRIC = "ApproximateNumberOfMessagesVisible"


def _target(name: str, resource_id: pulumi.Output[str], size: ServiceSize,
            parent: pulumi.Resource) -> aws.appautoscaling.Target:
    return aws.appautoscaling.Target(name, service_namespace="ecs", scalable_dimension="ecs:service:DesiredCount",
                                     resource_id=resource_id, min_capacity=size.min_count,
                                     max_capacity=size.max_count, opts=pulumi.ResourceOptions(parent=parent))


def scale_on_queue_depth(name: str, resource_id: pulumi.Output[str], queue_name: str, size: ServiceSize,
                         backlog: int, parent: pulumi.Resource) -> None:
    """Step scaling: add tasks while visible messages exceed `backlog`, remove one when the queue is empty."""
    target = _target(f"{name}-scaling", resource_id, size, parent)
    child = pulumi.ResourceOptions(parent=target)
    common = {"resource_id": target.resource_id, "scalable_dimension": target.scalable_dimension,
              "service_namespace": target.service_namespace, "policy_type": "StepScaling"}
    out = aws.appautoscaling.Policy(f"{name}-scale-out", **common, step_scaling_policy_configuration={
        "adjustment_type": "ChangeInCapacity", "cooldown": 60, "metric_aggregation_type": "Maximum",
        "step_adjustments": [
            {"metric_interval_lower_bound": "0", "metric_interval_upper_bound": str(backlog * 4),
             "scaling_adjustment": 1},
            {"metric_interval_lower_bound": str(backlog * 4), "scaling_adjustment": 3},
        ]}, opts=child)
    scale_in = aws.appautoscaling.Policy(f"{name}-scale-in", **common, step_scaling_policy_configuration={
        "adjustment_type": "ChangeInCapacity", "cooldown": 300, "metric_aggregation_type": "Maximum",
        "step_adjustments": [{"metric_interval_upper_bound": "0", "scaling_adjustment": -1}]}, opts=child)
    depth = {"namespace": "AWS/SQS", "metric_name": QUEUE_DEPTH_METRIC, "dimensions": {"QueueName": queue_name},
             "statistic": "Maximum", "period": 60}
    aws.cloudwatch.MetricAlarm(f"{name}-backlog-high", alarm_description=f"{queue_name} backlog: add tasks",
                               comparison_operator="GreaterThanOrEqualToThreshold", threshold=backlog,
                               evaluation_periods=2, alarm_actions=[out.arn], treat_missing_data="notBreaching",
                               **depth, opts=child)
    aws.cloudwatch.MetricAlarm(f"{name}-backlog-empty", alarm_description=f"{queue_name} empty: remove a task",
                               comparison_operator="LessThanOrEqualToThreshold", threshold=0,
                               evaluation_periods=10, alarm_actions=[scale_in.arn],
                               treat_missing_data="notBreaching", **depth, opts=child)


def scale_on_cpu(name: str, resource_id: pulumi.Output[str], size: ServiceSize, parent: pulumi.Resource) -> None:
    """Target tracking on average CPU (the gateway)."""
    target = _target(f"{name}-scaling", resource_id, size, parent)
    aws.appautoscaling.Policy(f"{name}-cpu", resource_id=target.resource_id,
                              scalable_dimension=target.scalable_dimension,
                              service_namespace=target.service_namespace, policy_type="TargetTrackingScaling",
                              target_tracking_scaling_policy_configuration={
                                  "target_value": 60, "scale_in_cooldown": 300, "scale_out_cooldown": 60,
                                  "predefined_metric_specification": {
                                      "predefined_metric_type": "ECSServiceAverageCPUUtilization"}},
                              opts=pulumi.ResourceOptions(parent=target))
