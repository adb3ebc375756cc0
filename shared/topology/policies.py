"""Least-privilege IAM for every role of the stack, as plain JSON: Pulumi and the emulator render the same documents.

Table access comes from the topology (`Table.grants`); everything else a role may touch is in ACCESS.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.topology.account import Account
from shared.topology.definition import EVENT_SOURCE, Topology

# Actions AWS authorizes only on Resource "*" (no resource-level permissions): the only "*" we grant.
WILDCARD_RESOURCE_ACTIONS = frozenset({
    "ecr:GetAuthorizationToken",  # a registry-wide login token
    "xray:PutTraceSegments", "xray:PutTelemetryRecords",  # the X-Ray daemon sidecar
    "xray:GetSamplingRules", "xray:GetSamplingTargets",
    "ecs:ListTasks",  # narrowed by an ecs:cluster condition instead
})
XRAY_ACTIONS = ("xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords",
                "xray:PutTraceSegments")

QUEUE_CONSUME = ("sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl",
                 "sqs:ReceiveMessage")
DLQ_SEND = ("sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage")  # the consumer dead-letters itself
WEBHOOK_SECRET_ACTIONS = ("secretsmanager:CreateSecret", "secretsmanager:DeleteSecret",
                          "secretsmanager:GetSecretValue")
SESSION_ACTIONS = ("ecs:DescribeTasks", "ecs:StopTask")
SESSIONS_SEND = ("sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage")
SESSIONS_TAKE = ("sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl",
                 "sqs:ReceiveMessage")
BEDROCK_ACTIONS = ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream")


@dataclass(frozen=True)
class Access:
    """What one role may touch besides its tables; names are the topology's logical names."""

    consumes_queue: bool = False
    publishes: bool = True
    event_types: tuple[str, ...] = ()  # if set, the only detail-types it may put on the bus (events:detail-type)
    objects: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # artifacts key prefix → actions
    secrets: tuple[str, ...] = ()  # platform secrets read at run time ("github", "anthropic")
    webhook_secrets: bool = False  # secrets under bgagent/<stack>/webhooks/ (signed and GitHub webhooks)
    sessions: bool = False  # describe and stop agent tasks in the cluster
    runs_agent: bool = False  # RunTask on the agent task definition, PassRole on its roles (warm: hands out sessions)
    takes_sessions: bool = False  # warm capacity: an idle agent takes a session and protects its own task
    invokes_models: bool = False  # Bedrock, when model ARNs are configured


ACCESS: dict[str, Access] = {
    # Evaluation runs: the gateway keeps each case (hidden tests included), reads attempts' trajectories (rollouts)
    # and their diffs.
    "gateway": Access(objects={"tasks/*/attachments/": ("s3:PutObject", "s3:DeleteObject"),
                               "evals/": ("s3:PutObject",), "trajectories/": ("s3:GetObject",),
                               "diffs/": ("s3:GetObject",)},
                      webhook_secrets=True),
    "hydrator": Access(consumes_queue=True, objects={"tasks/": ("s3:PutObject",), "evals/": ("s3:GetObject",)},
                       secrets=("github",)),
    "dispatcher": Access(consumes_queue=True, sessions=True, runs_agent=True),
    "finalizer": Access(consumes_queue=True, secrets=("github",)),
    "reconciler": Access(consumes_queue=True, sessions=True),  # schedules create tasks: see their tables' grants
    # evals/: an attempt's case (its reference patch for the oracle; its hidden tests once the agent is done)
    "agent": Access(objects={"tasks/": ("s3:GetObject",), "trajectories/": ("s3:PutObject",),
                             "evals/": ("s3:GetObject",), "diffs/": ("s3:PutObject",)},
                    secrets=("github", "anthropic"), invokes_models=True, event_types=("AgentFinished",),
                    takes_sessions=True),
}


@dataclass(frozen=True)
class Refs:
    """Resolved ARNs and names the policy documents are written from."""

    account: Account
    stack: str
    tables: Mapping[str, str]  # logical name → table ARN
    grants: Mapping[str, Mapping[str, tuple[str, ...]]]  # logical name → role → actions (Table.grants)
    index_grants: Mapping[str, Mapping[str, tuple[str, ...]]]  # logical name → role → indexes (Table.index_grants)
    queues: Mapping[str, tuple[str, str]]  # service → (queue ARN, DLQ ARN)
    bus_arn: str
    bucket_arn: str
    secrets: Mapping[str, str]  # "github" / "anthropic" → secret ARN (only those that exist)
    cluster_arn: str
    cluster_name: str
    agent_task_definition_arn: str = ""
    agent_role_arns: tuple[str, ...] = ()
    bedrock_model_arns: tuple[str, ...] = ()
    sessions_queue_arn: str = ""  # warm capacity (set only in warm mode): the sessions queue

    @property
    def warm(self) -> bool:
        return bool(self.sessions_queue_arn)

    def secret_prefix(self, kind: str) -> str:
        return self.account.secret_prefix_arn(f"bgagent/{self.stack}/{kind}/")


def _allow(sid: str, actions: tuple[str, ...] | list[str], resources: list[str], condition: dict | None = None) -> dict:
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": sorted(set(actions)), "Resource": resources}
    if condition:
        statement["Condition"] = condition
    return statement


def _sid(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", name))


def table_grants(topology: Topology) -> dict[str, dict[str, tuple[str, ...]]]:
    """Who may do what to each table of the topology."""
    return {t.logical: dict(t.grants) for t in topology.tables}


def index_grants(topology: Topology) -> dict[str, dict[str, tuple[str, ...]]]:
    """Who may query which index of each table."""
    return {t.logical: dict(t.index_grants) for t in topology.tables}


def _table_statements(role: str, refs: Refs) -> list[dict]:
    out = []
    for table, grants in refs.grants.items():
        actions = grants.get(role)
        if not actions:
            continue
        arn = refs.tables[table]
        out.append(_allow(f"Table{_sid(table)}", actions, [arn]))
        indexes = refs.index_grants.get(table, {}).get(role, ())
        if "dynamodb:Query" in actions and indexes:
            out.append(_allow(f"Table{_sid(table)}Indexes", ("dynamodb:Query",),
                              [f"{arn}/index/{name}" for name in indexes]))
    return out


def _session_statements(access: Access, refs: Refs) -> list[dict]:
    in_cluster = {"ArnEquals": {"ecs:cluster": refs.cluster_arn}}
    tasks = refs.account.ecs_tasks_arn(refs.cluster_name)
    out = [_allow("AgentSessions", SESSION_ACTIONS, [tasks], in_cluster)] if access.sessions else []
    if refs.warm:
        if access.runs_agent:  # agents take sessions from the queue: no RunTask, nor roles to pass
            out.append(_allow("HandOutSessions", SESSIONS_SEND, [refs.sessions_queue_arn]))
        if access.takes_sessions:
            out += [_allow("TakeSessions", SESSIONS_TAKE, [refs.sessions_queue_arn]),
                    # The ECS agent calls this with the task's role when the container protects itself.
                    _allow("ProtectOwnTask", ("ecs:UpdateTaskProtection",), [tasks], in_cluster)]
    elif access.runs_agent:
        out += [
            _allow("RunAgent", ("ecs:RunTask",), [refs.agent_task_definition_arn], in_cluster),
            _allow("TagAgentOnRun", ("ecs:TagResource",), [tasks], {"StringEquals": {"ecs:CreateAction": "RunTask"}}),
            _allow("FindAgentSessions", ("ecs:ListTasks",), ["*"], in_cluster),
            _allow("PassAgentRoles", ("iam:PassRole",), list(refs.agent_role_arns),
                   {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}),
        ]
    return out


def task_role_policy(role: str, refs: Refs, *, xray: bool) -> dict:
    """The inline policy of a service's (or the agent's) task role."""
    access = ACCESS[role]
    statements = _table_statements(role, refs)
    if access.consumes_queue:
        queue_arn, dlq_arn = refs.queues[role]
        statements += [_allow("ConsumeQueue", QUEUE_CONSUME, [queue_arn]), _allow("DeadLetter", DLQ_SEND, [dlq_arn])]
    if access.publishes:
        statements.append(_allow("PublishEvents", ("events:PutEvents",), [refs.bus_arn],
                                 _only_events(access.event_types)))
    for prefix, actions in access.objects.items():
        statements.append(_allow(f"Artifacts{_sid(prefix.strip('/'))}", actions, [f"{refs.bucket_arn}/{prefix}*"]))
    readable = [refs.secrets[name] for name in access.secrets if name in refs.secrets]
    if "github" in access.secrets:
        readable.append(refs.secret_prefix("github"))  # per-repository tokens (RepoConfig.github_token_secret)
    if "anthropic" in access.secrets:
        readable.append(refs.secret_prefix("endpoints"))  # model endpoints' keys, read by the agent's model relay
    if readable:
        statements.append(_allow("ReadSecrets", ("secretsmanager:GetSecretValue",), readable))
    if access.webhook_secrets:
        statements.append(_allow("WebhookSecrets", WEBHOOK_SECRET_ACTIONS, [refs.secret_prefix("webhooks")]))
    statements += _session_statements(access, refs)
    if access.invokes_models and refs.bedrock_model_arns:
        statements.append(_allow("InvokeModels", BEDROCK_ACTIONS, list(refs.bedrock_model_arns)))
    if xray:
        statements.append(_allow("Tracing", XRAY_ACTIONS, ["*"]))
    return {"Version": "2012-10-17", "Statement": statements}


def execution_role_policy(repository_arn: str, log_group_arn: str, secret_arns: list[str]) -> dict:
    """What ECS itself needs to start a task: pull its image, write its logs, inject its secrets."""
    statements = [
        _allow("RegistryLogin", ("ecr:GetAuthorizationToken",), ["*"]),
        _allow("PullImage", ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"),
               [repository_arn]),
        _allow("WriteLogs", ("logs:CreateLogStream", "logs:PutLogEvents"), [f"{log_group_arn}:log-stream:*"]),
    ]
    if secret_arns:
        statements.append(_allow("InjectSecrets", ("secretsmanager:GetSecretValue",), sorted(secret_arns)))
    return {"Version": "2012-10-17", "Statement": statements}


def _only_events(detail_types: tuple[str, ...]) -> dict | None:
    """A PutEvents condition admitting only these detail-types from the platform's source."""
    if not detail_types:
        return None
    return {"StringEquals": {"events:source": [EVENT_SOURCE], "events:detail-type": list(detail_types)}}


def put_events_policy(bus_arn: str, detail_types: tuple[str, ...] = ()) -> dict:
    """The reconcile schedule's role (and the local supervisor's): put its events on the platform bus."""
    statement = _allow("PublishTick", ("events:PutEvents",), [bus_arn], _only_events(detail_types))
    return {"Version": "2012-10-17", "Statement": [statement]}


def trust_policy(service_principal: str, account_id: str) -> dict:
    """Let one AWS service assume the role, on behalf of this account only."""
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": service_principal}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
    }]}
