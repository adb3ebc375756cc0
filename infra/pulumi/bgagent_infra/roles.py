"""IAM roles with one inline policy each, so a role's whole permission set reads in one place."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from bgagent_infra.account import Account
from shared.topology.policies import trust_policy


def role_with_policy(resource_name: str, *, role_name: str, principal: str, account: pulumi.Output[Account],
                     policy: pulumi.Output[dict], parent: pulumi.Resource) -> aws.iam.Role:
    """A role `principal` may assume, holding exactly `policy`."""
    role = aws.iam.Role(
        resource_name,
        name=role_name,
        assume_role_policy=account.apply(lambda a: json.dumps(trust_policy(principal, a.account_id))),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    aws.iam.RolePolicy(
        f"{resource_name}-policy",
        role=role.id,
        name="least-privilege",
        policy=policy.apply(json.dumps),
        opts=pulumi.ResourceOptions(parent=role),
    )
    return role
