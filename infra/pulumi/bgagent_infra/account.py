"""The deploying account, looked up from the provider; the Account type itself is shared with the emulator."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from shared.topology.account import Account

__all__ = ["Account", "lookup_account"]


def lookup_account() -> pulumi.Output[Account]:
    """The deploying account, from the provider's credentials and region."""
    return pulumi.Output.all(
        aws.get_partition_output().partition,
        aws.get_region_output().region,
        aws.get_caller_identity_output().account_id,
    ).apply(lambda a: Account(partition=a[0], region=a[1], account_id=a[2]))
