"""The account, region and partition a stack lives in, for the ARNs no resource hands us."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Account:
    partition: str
    region: str
    account_id: str

    def arn(self, service: str, resource: str) -> str:
        """An ARN of this account and region."""
        return f"arn:{self.partition}:{service}:{self.region}:{self.account_id}:{resource}"

    def secret_prefix_arn(self, prefix: str) -> str:
        """Every Secrets Manager secret whose name starts with `prefix`."""
        return self.arn("secretsmanager", f"secret:{prefix}*")

    def ecs_tasks_arn(self, cluster_name: str) -> str:
        """Every task of one ECS cluster."""
        return self.arn("ecs", f"task/{cluster_name}/*")
