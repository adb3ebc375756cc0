"""Warm capacity's IAM on an IAM-enforcing emulator: each role may do its part with sessions, and nothing more.

As in test_iam_proofs, every refusal has a control: the role meant to make the call succeeds with the same call.
"""

from __future__ import annotations

import json
from typing import Callable

import boto3
import pytest
from botocore.exceptions import ClientError

from cli.local import iam
from shared.topology.bootstrap import create_topology
from shared.topology.definition import build_topology
from shared.topology.names import ResourceNames
from tests.integration.test_iam_proofs import Enforced
from tests.support.aws import moto_server

pytestmark = pytest.mark.integration

N = ResourceNames("warmproof")


@pytest.fixture(scope="module")
def enforced(tmp_path_factory):
    with moto_server() as endpoint:
        session = boto3.Session(region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
        topology = build_topology(N, warm=True)
        create_topology(topology, session=session, endpoint_url=endpoint)
        credentials = iam.provision(session, endpoint, topology, tmp_path_factory.mktemp("iam"))
        iam.enforce(endpoint)
        yield Enforced(endpoint, topology, credentials)


def _queue(e: Enforced) -> str:
    return f"{e.endpoint}/123456789012/{N.sessions_queue}"


def _claim(task_id: str) -> Callable:
    return lambda e, role: e.client(role, "dynamodb").put_item(
        TableName=N.sessions_table, Item={"task_id": {"S": task_id}, "task_arn": {"S": f"arn:task/{role}"}})


CALLS: dict[str, Callable] = {
    "hand out a session": lambda e, role: e.client(role, "sqs").send_message(
        QueueUrl=_queue(e), MessageBody=json.dumps({"task_id": "t-1"}), MessageGroupId="t-1",
        MessageDeduplicationId=f"t-1-{role}"),
    "take a session": lambda e, role: e.client(role, "sqs").receive_message(QueueUrl=_queue(e), WaitTimeSeconds=0),
    "claim a session": _claim("t-1"),
    "find the task an ECS task claimed": lambda e, role: e.client(role, "dynamodb").query(
        TableName=N.sessions_table, IndexName="ArnIndex", KeyConditionExpression="task_arn = :a",
        ExpressionAttributeValues={":a": {"S": "arn:task/x"}}),
    "start compute (ecs:RunTask)": lambda e, role: e.client(role, "ecs").run_task(
        cluster=N.stack, taskDefinition=N.agent_task_family),
}
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "gateway": ("hand out a session", "take a session", "claim a session", "find the task an ECS task claimed"),
    "hydrator": ("hand out a session", "take a session", "claim a session", "find the task an ECS task claimed"),
    "dispatcher": ("take a session", "start compute (ecs:RunTask)", "find the task an ECS task claimed"),
    "finalizer": ("hand out a session", "take a session", "claim a session"),
    "reconciler": ("hand out a session", "take a session", "find the task an ECS task claimed"),
    "agent": ("hand out a session", "start compute (ecs:RunTask)", "find the task an ECS task claimed"),
}
ALLOWED = {"hand out a session": "dispatcher", "take a session": "agent", "claim a session": "agent",
           "find the task an ECS task claimed": "finalizer"}


@pytest.mark.parametrize(("role", "call"), [(r, c) for r, calls in FORBIDDEN.items() for c in calls])
def test_each_role_is_refused_its_share_of_sessions_it_does_not_use(enforced, role, call):
    with pytest.raises(ClientError) as denied:
        CALLS[call](enforced, role)
    error = denied.value.response["Error"]
    assert error["Code"] in ("AccessDenied", "AccessDeniedException"), error
    assert f"user/{N.stack}-{role}" in error["Message"] and "is not authorized to perform:" in error["Message"]


@pytest.mark.parametrize(("call", "role"), sorted(ALLOWED.items()))
def test_the_role_meant_to_make_each_sessions_call_may(enforced, call, role):
    CALLS[call](enforced, role)


def test_every_call_is_either_controlled_or_never_granted():
    assert set(CALLS) == set(ALLOWED) | {"start compute (ecs:RunTask)"}
