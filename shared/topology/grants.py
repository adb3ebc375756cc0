"""What a role may do to a table, as IAM actions; tables in the topology name their users with these."""

from __future__ import annotations

from collections.abc import Iterable

READ = ("dynamodb:GetItem", "dynamodb:Query")
APPEND = (*READ, "dynamodb:PutItem")  # append-only rows: task events, memory, idempotency keys
WRITE = (*APPEND, "dynamodb:UpdateItem")
SCAN = ("dynamodb:Scan",)
OWN = (*WRITE, "dynamodb:DeleteItem")  # rows a user creates and removes (schedules)
CHECK = ("dynamodb:ConditionCheckItem",)  # a transaction's check on a row it does not write (steering)

SERVICES = ("gateway", "hydrator", "dispatcher", "finalizer", "reconciler")
ROLES = (*SERVICES, "agent")  # every role with a task role of its own


def each(roles: Iterable[str], actions: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """The same table access for several roles."""
    return {role: actions for role in roles}
