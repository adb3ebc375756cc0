"""Least privilege: each role holds exactly the actions its service uses, on the stack's own resources."""

from __future__ import annotations

import json

import pytest

from shared.topology.definition import build_topology
from shared.topology.names import ResourceNames
from shared.topology.policies import WILDCARD_RESOURCE_ACTIONS
from tests.infra.conftest import ACCOUNT, BEDROCK_ARN, REGION, STACK_NAME, role_policy

S = STACK_NAME
TOPOLOGY = build_topology(ResourceNames(S))
SERVICES = ("gateway", "hydrator", "dispatcher", "finalizer", "reconciler")

# The only actions granted on Resource "*", because AWS offers no resource-level permission for them.
EXPECTED_WILDCARDS = {"ecr:GetAuthorizationToken", "xray:PutTraceSegments", "xray:PutTelemetryRecords",
                      "xray:GetSamplingRules", "xray:GetSamplingTargets", "ecs:ListTasks"}

XRAY = {"xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments"}
ROWS = {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"}
QUEUE = {"sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl",
         "sqs:ReceiveMessage", "sqs:SendMessage"}
PUBLISH = {"events:PutEvents"}
CHECK = {"dynamodb:ConditionCheckItem"}
EXPECTED_TASK_ACTIONS = {
    "gateway": ROWS | CHECK | PUBLISH | XRAY | {"dynamodb:DeleteItem", "dynamodb:Scan", "dynamodb:BatchWriteItem",
                                                "s3:PutObject", "s3:GetObject",
                                                "s3:DeleteObject", "secretsmanager:CreateSecret",
                                                "secretsmanager:DeleteSecret", "secretsmanager:GetSecretValue"},
    "hydrator": ROWS | QUEUE | PUBLISH | XRAY | {"s3:GetObject", "s3:PutObject", "secretsmanager:GetSecretValue"},
    "dispatcher": ROWS | QUEUE | PUBLISH | XRAY | {"ecs:RunTask", "ecs:StopTask", "ecs:DescribeTasks",
                                                   "ecs:ListTasks", "ecs:TagResource", "iam:PassRole"},
    "finalizer": ROWS | QUEUE | PUBLISH | XRAY | {"secretsmanager:GetSecretValue"},
    "reconciler": ROWS | CHECK | QUEUE | PUBLISH | XRAY | {"dynamodb:Scan", "ecs:StopTask", "ecs:DescribeTasks"},
    "agent": ROWS | CHECK | PUBLISH | {"s3:GetObject", "s3:PutObject", "secretsmanager:GetSecretValue",
                               "bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"},
}
EXPECTED_TABLES = {
    "gateway": {"tasks", "task_events", "user_concurrency", "repos", "webhooks", "idempotency", "schedules", "pulls",
                "nudges", "approvals", "pull_outcomes", "evals", "eval_items", "model_endpoints"},
    "hydrator": {"tasks", "task_events", "user_concurrency", "repos", "memory", "pulls", "model_endpoints"},
    "dispatcher": {"tasks", "task_events", "user_concurrency"},
    "finalizer": {"tasks", "task_events", "user_concurrency", "memory", "repos", "pulls", "pull_outcomes"},
    "reconciler": {"tasks", "task_events", "user_concurrency", "repos", "idempotency", "schedules", "approvals",
                   "pull_outcomes", "evals", "eval_items", "model_endpoints"},
    "agent": {"tasks", "task_events", "memory", "repos", "pulls", "nudges", "approvals"},
}
PULL = {"ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer", "logs:CreateLogStream", "logs:PutLogEvents"}
EXPECTED_EXECUTION_ACTIONS = {
    **{s: PULL for s in SERVICES},
    "hydrator": PULL | {"secretsmanager:GetSecretValue"},
    "finalizer": PULL | {"secretsmanager:GetSecretValue"},
    "agent": PULL | {"secretsmanager:GetSecretValue"},
}

ARN = f"arn:aws:{{}}:{REGION}:{ACCOUNT}:{{}}"
BUCKET = f"arn:aws:s3:::{TOPOLOGY.bucket_name}"
# Resources scoped by a trailing wildcard under a specific prefix: object prefixes, secret-name prefixes,
# the tasks of one ECS cluster, the streams of one log group.
PREFIX_SCOPED = {
    f"{BUCKET}/tasks/*", f"{BUCKET}/trajectories/*", f"{BUCKET}/tasks/*/attachments/*",
    f"{BUCKET}/evals/*", f"{BUCKET}/diffs/*",
    ARN.format("secretsmanager", f"secret:bgagent/{S}/github/*"),
    ARN.format("secretsmanager", f"secret:bgagent/{S}/webhooks/*"),
    ARN.format("secretsmanager", f"secret:bgagent/{S}/endpoints/*"),
    ARN.format("ecs", f"task/{S}/*"),
    *[ARN.format("logs", f"log-group:/bgagent/{S}/{image}:log-stream:*") for image in (*SERVICES, "agent")],
}


def _statements(deployed, role: str) -> list[dict]:
    return role_policy(deployed, role)["Statement"]


def _actions(statements: list[dict]) -> set[str]:
    return {a for s in statements for a in s["Action"]}


def _resources(statements: list[dict], prefix: str = "") -> set[str]:
    return {r for s in statements for r in s["Resource"] if any(a.startswith(prefix) for a in s["Action"])}


ROLES = [f"{S}-{name}-task" for name in EXPECTED_TASK_ACTIONS] + [f"{S}-{n}-exec" for n in EXPECTED_EXECUTION_ACTIONS]


def test_the_wildcard_exceptions_are_the_listed_ones():
    assert WILDCARD_RESOURCE_ACTIONS == EXPECTED_WILDCARDS


@pytest.mark.parametrize("component", list(EXPECTED_TASK_ACTIONS))
def test_task_role_holds_exactly_the_actions_its_service_uses(deployed, component):
    assert _actions(_statements(deployed, f"{S}-{component}-task")) == EXPECTED_TASK_ACTIONS[component]


@pytest.mark.parametrize("component", list(EXPECTED_EXECUTION_ACTIONS))
def test_execution_role_only_pulls_logs_and_injects_secrets(deployed, component):
    assert _actions(_statements(deployed, f"{S}-{component}-exec")) == EXPECTED_EXECUTION_ACTIONS[component]


@pytest.mark.parametrize("role", ROLES)
def test_no_wildcard_action_and_no_wildcard_resource_beyond_the_exceptions(deployed, role):
    for statement in _statements(deployed, role):
        assert statement["Effect"] == "Allow"
        assert not any("*" in a for a in statement["Action"]), statement
        for resource in statement["Resource"]:
            if resource == "*":
                assert set(statement["Action"]) <= EXPECTED_WILDCARDS, statement
            else:
                assert resource.startswith("arn:aws:"), resource
                assert "*" not in resource or resource in PREFIX_SCOPED, resource


def test_listing_tasks_is_confined_to_the_cluster(deployed):
    (statement,) = [s for s in _statements(deployed, f"{S}-dispatcher-task") if "ecs:ListTasks" in s["Action"]]
    assert statement["Condition"] == {"ArnEquals": {"ecs:cluster": ARN.format("ecs", f"cluster/{S}")}}


@pytest.mark.parametrize("component", list(EXPECTED_TABLES))
def test_roles_touch_only_their_tables_and_those_tables_indexes(deployed, component):
    table_arns = {t.name: ARN.format("dynamodb", f"table/{t.name}") for t in TOPOLOGY.tables}
    logical = {arn: next(t.logical for t in TOPOLOGY.tables if t.name == name) for name, arn in table_arns.items()}
    touched = _resources(_statements(deployed, f"{S}-{component}-task"), "dynamodb:")
    tables = {r for r in touched if "/index/" not in r}
    assert {logical[r] for r in tables} == EXPECTED_TABLES[component]
    for index_arn in touched - tables:
        table_arn, index = index_arn.split("/index/")
        assert table_arn in tables
        assert index in {i.name for t in TOPOLOGY.tables if table_arns[t.name] == table_arn for i in t.indexes}


EXPECTED_INDEXES = {"gateway": {"tasks/index/UserStatusIndex", "tasks/index/UserCreatedIndex",
                                 "webhooks/index/UserIndex", "schedules/index/UserIndex",
                                 "approvals/index/PendingIndex", "evals/index/UserIndex"},
                    "hydrator": {"tasks/index/UserStatusIndex"},
                    "reconciler": {"tasks/index/StatusIndex", "tasks/index/OutboxIndex", "schedules/index/DueIndex",
                                   "evals/index/RunningIndex"},
                    "dispatcher": set(), "finalizer": set(), "agent": set()}


@pytest.mark.parametrize("component", list(EXPECTED_INDEXES))
def test_each_role_queries_only_the_indexes_it_reads(deployed, component):
    touched = _resources(_statements(deployed, f"{S}-{component}-task"), "dynamodb:")
    indexes = {r.split(f":table/{S}-", 1)[1] for r in touched if "/index/" in r}
    assert indexes == EXPECTED_INDEXES[component]


def test_append_only_tables_are_never_updated(deployed):
    append_only = {ARN.format("dynamodb", f"table/{ResourceNames(S).task_events_table}"),
                   ARN.format("dynamodb", f"table/{ResourceNames(S).memory_table}"),
                   ARN.format("dynamodb", f"table/{ResourceNames(S).idempotency_table}")}
    for component in EXPECTED_TASK_ACTIONS:
        for statement in _statements(deployed, f"{S}-{component}-task"):
            if append_only & set(statement["Resource"]):
                assert "dynamodb:UpdateItem" not in statement["Action"], (component, statement["Sid"])


def test_only_the_gateway_writes_webhooks_and_idempotency_and_only_it_and_the_reconciler_scan(deployed):
    # Idempotency keys and schedules are also written by the reconciler: each due run of a schedule is a task
    # created under its own key.
    writers = {"webhooks": {"gateway"}, "idempotency": {"gateway", "reconciler"},
               "schedules": {"gateway", "reconciler"}}
    for component in EXPECTED_TASK_ACTIONS:
        statements = _statements(deployed, f"{S}-{component}-task")
        writes = {r for s in statements if "dynamodb:PutItem" in s["Action"] for r in s["Resource"]}
        for table, allowed in writers.items():
            name = getattr(ResourceNames(S), f"{table}_table")
            assert (ARN.format("dynamodb", f"table/{name}") in writes) == (component in allowed)
        repos = ARN.format("dynamodb", f"table/{ResourceNames(S).repos_table}")
        assert repos not in writes, "no service writes repos: operators (CLI, Blueprint) do"
        assert ("dynamodb:Scan" in _actions(statements)) == (component in ("reconciler", "gateway"))
        if component == "gateway":  # the web panel's list of repositories and the model endpoints, nothing else
            endpoints = ARN.format("dynamodb", f"table/{ResourceNames(S).model_endpoints_table}")
            assert _resources(statements, "dynamodb:Scan") == {repos, endpoints}


@pytest.mark.parametrize("component", list(EXPECTED_TASK_ACTIONS))
def test_no_role_can_touch_another_services_queue(deployed, component):
    own = set()
    if component in {q.service for q in TOPOLOGY.queues}:
        q = TOPOLOGY.queue_for(component)
        own = {ARN.format("sqs", q.name), ARN.format("sqs", q.dlq_name)}
    assert _resources(_statements(deployed, f"{S}-{component}-task"), "sqs:") == own


def test_dispatcher_runs_only_the_agent_and_passes_only_its_roles(deployed):
    statements = {s["Sid"]: s for s in _statements(deployed, f"{S}-dispatcher-task")}
    assert statements["RunAgent"]["Resource"] == [ARN.format("ecs", f"task-definition/{S}-agent:1")]
    assert statements["PassAgentRoles"]["Resource"] == [f"arn:aws:iam::{ACCOUNT}:role/{S}-agent-task",
                                                         f"arn:aws:iam::{ACCOUNT}:role/{S}-agent-exec"]
    assert statements["PassAgentRoles"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}


def test_artifacts_prefixes_and_model_arns(deployed):
    agent, hydrator = _statements(deployed, f"{S}-agent-task"), _statements(deployed, f"{S}-hydrator-task")
    assert _resources(hydrator, "s3:") == {f"{BUCKET}/tasks/*", f"{BUCKET}/evals/*"}
    assert {r for s in hydrator if "s3:PutObject" in s["Action"] for r in s["Resource"]} == {f"{BUCKET}/tasks/*"}
    gateway = _statements(deployed, f"{S}-gateway-task")
    # attachments; evaluation cases (written), attempts' trajectories (read, for rollouts) and diffs (read)
    assert _resources(gateway, "s3:") == {f"{BUCKET}/tasks/*/attachments/*", f"{BUCKET}/evals/*",
                                          f"{BUCKET}/trajectories/*", f"{BUCKET}/diffs/*"}
    assert {r for s in gateway if "s3:GetObject" in s["Action"] for r in s["Resource"]} == {
        f"{BUCKET}/trajectories/*", f"{BUCKET}/diffs/*"}
    reads = {r for s in agent if "s3:GetObject" in s["Action"] for r in s["Resource"]}
    writes = {r for s in agent if "s3:PutObject" in s["Action"] for r in s["Resource"]}
    assert reads == {f"{BUCKET}/tasks/*", f"{BUCKET}/evals/*"}  # evals/: an attempt's case, read after the run
    assert writes == {f"{BUCKET}/trajectories/*", f"{BUCKET}/diffs/*"}
    assert _resources(agent, "bedrock:") == {BEDROCK_ARN}


def test_secrets_are_readable_only_by_the_components_that_use_them(deployed):
    github = ARN.format("secretsmanager", f"secret:bgagent/{S}/github-token-AbC123")
    anthropic = ARN.format("secretsmanager", f"secret:bgagent/{S}/anthropic-api-key-AbC123")
    per_repo = ARN.format("secretsmanager", f"secret:bgagent/{S}/github/*")
    webhooks = ARN.format("secretsmanager", f"secret:bgagent/{S}/webhooks/*")
    endpoints = ARN.format("secretsmanager", f"secret:bgagent/{S}/endpoints/*")  # model endpoints' keys
    expected = {"gateway": {webhooks}, "hydrator": {github, per_repo}, "finalizer": {github, per_repo},
                "agent": {github, per_repo, anthropic, endpoints}, "dispatcher": set(), "reconciler": set()}
    for component, secrets in expected.items():
        assert _resources(_statements(deployed, f"{S}-{component}-task"), "secretsmanager:") == secrets, component
    injected = {"hydrator": {github}, "finalizer": {github}, "agent": {github, anthropic}}
    for component in (*SERVICES, "agent"):
        got = _resources(_statements(deployed, f"{S}-{component}-exec"), "secretsmanager:")
        assert got == injected.get(component, set()), component


def test_every_role_trusts_one_service_of_this_account_only(deployed):
    for role in deployed.of_type("aws:iam/role:Role"):
        (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert statement["Principal"]["Service"] in {"ecs-tasks.amazonaws.com", "scheduler.amazonaws.com"}
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    assert len(deployed.of_type("aws:iam/role:Role")) == len(ROLES) + 1  # + the reconcile schedule's
