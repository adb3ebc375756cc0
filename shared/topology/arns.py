"""The ARNs of a topology's resources in one account, for rendering role policies without a deployment."""

from __future__ import annotations

from shared.topology.account import Account
from shared.topology.definition import Topology
from shared.topology.policies import Refs, index_grants, table_grants


def topology_refs(topology: Topology, account: Account, *, secrets: dict[str, str] | None = None) -> Refs:
    """What `task_role_policy` needs, computed from names the way AWS forms these ARNs."""
    names = topology.names
    iam = f"arn:{account.partition}:iam::{account.account_id}:role"
    return Refs(
        account=account, stack=names.stack,
        tables={t.logical: account.arn("dynamodb", f"table/{t.name}") for t in topology.tables},
        grants=table_grants(topology), index_grants=index_grants(topology),
        queues={q.service: (account.arn("sqs", q.name), account.arn("sqs", q.dlq_name)) for q in topology.queues},
        bus_arn=account.arn("events", f"event-bus/{topology.bus_name}"),
        bucket_arn=f"arn:{account.partition}:s3:::{topology.bucket_name}",
        secrets=dict(secrets or {}),
        cluster_arn=account.arn("ecs", f"cluster/{names.stack}"), cluster_name=names.stack,
        agent_task_definition_arn=account.arn("ecs", f"task-definition/{names.agent_task_family}:*"),
        agent_role_arns=(f"{iam}/{names.stack}-agent-task", f"{iam}/{names.stack}-agent-exec"),
        sessions_queue_arn=account.arn("sqs", topology.sessions.name) if topology.sessions else "",
    )
