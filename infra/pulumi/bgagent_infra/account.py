"""The account, region and partition the stack deploys into, for ARNs no resource hands us."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


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


def lookup_account() -> pulumi.Output[Account]:
    """The deploying account, from the provider's credentials and region."""
    return pulumi.Output.all(
        aws.get_partition_output().partition,
        aws.get_region_output().region,
        aws.get_caller_identity_output().account_id,
    ).apply(lambda a: Account(partition=a[0], region=a[1], account_id=a[2]))
