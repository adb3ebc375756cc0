"""The ComputeStrategy contract, for local processes, ECS on the emulator (RunTask and warm) and the in-memory fake."""

from __future__ import annotations

import asyncio

import boto3
import httpx
import pytest

from shared.aws.clients import AwsClients
from shared.compute.ecs import EcsCompute, EcsTasks
from shared.compute.process import ProcessCompute
from shared.compute.protocol import SessionState
from shared.compute.sessions import SessionClaims
from shared.compute.warm import WarmEcsCompute
from shared.topology.bootstrap import create_topology
from shared.topology.definition import build_topology
from tests.fakes.collaborators import FakeCompute

TASK = "01CONTRACTAAAAAAAAAAAAAAAA"


async def emulated_ecs(stack) -> tuple[dict, str]:
    """The emulator's ECS with one agent task definition; tasks stay RUNNING until stopped."""
    httpx.post(f"{stack.endpoint}/moto-api/state-manager/set-transition",
               json={"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1}})
    ec2 = stack.boto("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName=f"{stack.names.stack}-agents", Description="agents",
                                   VpcId=vpc)["GroupId"]
    ecs = stack.boto("ecs")
    cluster = ecs.create_cluster(clusterName=f"{stack.names.stack}-cluster")["cluster"]["clusterArn"]
    taskdef = ecs.register_task_definition(
        family=f"{stack.names.stack}-agent", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
        cpu="1024", memory="2048",
        containerDefinitions=[{"name": "agent", "image": "bgagent-agent:test", "memory": 2048, "essential": True}],
    )["taskDefinition"]["taskDefinitionArn"]
    return {"cluster": cluster, "task_definition": taskdef, "container_name": "agent", "subnets": [subnet],
            "security_groups": [sg]}, cluster


def warm_topology(stack) -> str:
    """Add warm capacity's queue and table to the stack; return the sessions queue's URL."""
    create_topology(build_topology(stack.names, warm=True), session=boto3.Session(region_name="us-east-1"),
                    endpoint_url=stack.endpoint)
    return stack.boto("sqs").get_queue_url(QueueName=stack.names.sessions_queue)["QueueUrl"]


@pytest.fixture(params=["fake", "process", "process-warm", "ecs", "ecs-warm"])
async def compute(request, tmp_path):
    if request.param == "fake":
        yield FakeCompute()
        return
    stack = request.getfixturevalue("stack")
    if request.param.startswith("process"):
        env, module = stack.env(), "tests.contract.idle_agent"
        process = (ProcessCompute.warm(tmp_path, env, agent_module=module, size=1, idle_seconds=60)
                   if request.param == "process-warm" else ProcessCompute(tmp_path, env, agent_module=module))
        yield process
        process.stop_all()
        return
    wiring, cluster = await emulated_ecs(stack)
    async with AwsClients(stack.settings) as clients:
        if request.param == "ecs":
            yield EcsCompute(await clients.client("ecs"), **wiring)
            return
        claims = SessionClaims(await clients.client("dynamodb"), stack.names.sessions_table)
        yield WarmEcsCompute(await clients.client("sqs"), warm_topology(stack), claims,
                             EcsTasks(await clients.client("ecs"), cluster=cluster))


async def _until(compute, handle: str, state: SessionState, timeout: float = 20.0) -> SessionState:
    deadline = asyncio.get_running_loop().time() + timeout
    seen = await compute.describe(handle)
    while seen != state and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
        seen = await compute.describe(handle)
    return seen


async def test_a_start_is_idempotent_per_task_and_a_stop_stops(compute):
    handle = await compute.start(TASK)
    assert await compute.start(TASK) == handle  # a redelivered start finds the same session
    assert await compute.describe(handle) in (SessionState.PENDING, SessionState.RUNNING)
    await compute.stop(handle, reason="cancelled by user")
    assert await _until(compute, handle, SessionState.STOPPED) == SessionState.STOPPED
    await compute.stop(handle, reason="again")  # stopping a stopped session is a no-op


async def test_a_handle_it_never_issued_is_unknown(compute):
    assert await compute.describe("nonsense") == SessionState.UNKNOWN
