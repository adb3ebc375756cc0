"""What every ECS task needs besides its code: an image repository, a log group, an execution role."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from bgagent_infra.account import Account
from bgagent_infra.config import StackConfig
from bgagent_infra.roles import role_with_policy
from shared.topology.policies import execution_role_policy

XRAY_MEMORY_MIB = 64
XRAY_PORT = 2000
_KEEP_IMAGES = 30


@dataclass(frozen=True)
class TaskPlumbing:
    repository: aws.ecr.Repository
    log_group: aws.cloudwatch.LogGroup
    execution_role: aws.iam.Role
    image: pulumi.Output[str]  # repository URL and the configured tag


def task_plumbing(name: str, image_name: str, *, config: StackConfig, account: pulumi.Output[Account],
                  injected_secret_arns: list[pulumi.Output[str]], parent: pulumi.Resource) -> TaskPlumbing:
    """ECR repository, log group and execution role (pull, log, inject exactly these secrets) of one image."""
    stack = config.stack_name
    child = pulumi.ResourceOptions(parent=parent)
    repository = aws.ecr.Repository(f"{name}-image", name=f"{stack}/{image_name}", image_tag_mutability="IMMUTABLE",
                                    image_scanning_configuration={"scan_on_push": True}, opts=child)
    aws.ecr.LifecyclePolicy(f"{name}-image", repository=repository.name, policy=json.dumps({"rules": [{
        "rulePriority": 1, "description": f"keep the last {_KEEP_IMAGES} images",
        "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": _KEEP_IMAGES},
        "action": {"type": "expire"},
    }]}), opts=child)
    log_group = aws.cloudwatch.LogGroup(f"{name}-logs", name=f"/bgagent/{stack}/{image_name}",
                                        retention_in_days=config.log_retention_days, opts=child)
    policy = pulumi.Output.all(repository.arn, log_group.arn, *injected_secret_arns).apply(
        lambda a: execution_role_policy(a[0], a[1], list(a[2:])))
    execution_role = role_with_policy(f"{name}-exec", role_name=f"{stack}-{image_name}-exec",
                                      principal="ecs-tasks.amazonaws.com", account=account, policy=policy,
                                      parent=parent)
    image = repository.repository_url.apply(lambda url: f"{url}:{config.image_tag}")
    return TaskPlumbing(repository, log_group, execution_role, image)


def container(name: str, *, image: str, log_group: str, region: str, memory: int,
              environment: Mapping[str, str], secrets: Mapping[str, str], port: int | None = None,
              health_check: dict | None = None, stop_timeout: int | None = None,
              command: list[str] | None = None) -> dict:
    """One ECS container definition; `secrets` maps a variable to the secret ARN ECS injects into it."""
    definition: dict = {
        "name": name,
        "image": image,
        "essential": True,
        "memory": memory,
        "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
        "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(secrets.items())],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": log_group, "awslogs-region": region, "awslogs-stream-prefix": name}},
    }
    if port:
        definition["portMappings"] = [{"containerPort": port, "protocol": "tcp"}]
    if health_check:
        definition["healthCheck"] = health_check
    if stop_timeout:
        definition["stopTimeout"] = stop_timeout
    if command:
        definition["command"] = command
    return definition


def xray_container(image: str, log_group: str, region: str) -> dict:
    """The X-Ray daemon sidecar the services send segments to over UDP 2000."""
    return {
        "name": "xray-daemon",
        "image": image,
        "essential": False,
        "memory": XRAY_MEMORY_MIB,
        "portMappings": [{"containerPort": XRAY_PORT, "protocol": "udp"}],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": log_group, "awslogs-region": region, "awslogs-stream-prefix": "xray"}},
    }
