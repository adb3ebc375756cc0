"""The ecs compute strategy against the emulator's ECS."""

from __future__ import annotations

import httpx
import pytest

from shared.aws.clients import AwsClients
from shared.compute.ecs import EcsCompute
from shared.compute.protocol import SessionState

pytestmark = pytest.mark.integration


@pytest.fixture
async def ecs(stack):
    # Keep emulated tasks RUNNING until stopped, like a real agent that takes a while.
    httpx.post(f"{stack.endpoint}/moto-api/state-manager/set-transition",
               json={"model_name": "ecs::task", "transition": {"progression": "manual", "times": 1}})
    ec2 = stack.boto("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    # moto's awsvpc tasks need DNS hostnames on the VPC (as Fargate service discovery does anyway).
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName=f"{stack.names.stack}-agents", Description="agents",
                                   VpcId=vpc)["GroupId"]
    boto = stack.boto("ecs")
    cluster = boto.create_cluster(clusterName=f"{stack.names.stack}-cluster")["cluster"]["clusterArn"]
    taskdef = boto.register_task_definition(
        family=f"{stack.names.stack}-agent", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
        cpu="1024", memory="2048",
        containerDefinitions=[{"name": "agent", "image": "bgagent-agent:test", "memory": 2048, "essential": True}],
    )["taskDefinition"]["taskDefinitionArn"]
    async with AwsClients(stack.settings) as clients:
        yield EcsCompute(await clients.client("ecs"), cluster=cluster, task_definition=taskdef,
                         container_name="agent", subnets=[subnet], security_groups=[sg]), boto, cluster


async def test_start_is_idempotent_per_task_and_stop_stops(ecs):
    compute, boto, cluster = ecs
    handle = await compute.start("01TASKAAAAAAAAAAAAAAAAAAAA")
    again = await compute.start("01TASKAAAAAAAAAAAAAAAAAAAA")
    assert handle == again
    assert len(boto.list_tasks(cluster=cluster, startedBy="01TASKAAAAAAAAAAAAAAAAAAAA")["taskArns"]) == 1
    described = boto.describe_tasks(cluster=cluster, tasks=[handle])["tasks"][0]
    overrides = described["overrides"]["containerOverrides"][0]
    assert overrides["command"] == ["--task-id", "01TASKAAAAAAAAAAAAAAAAAAAA"]
    assert described["startedBy"] == "01TASKAAAAAAAAAAAAAAAAAAAA"
    assert await compute.describe(handle) in (SessionState.RUNNING, SessionState.PENDING)
    await compute.stop(handle, reason="cancelled by user")
    assert await compute.describe(handle) == SessionState.STOPPED
    await compute.stop(handle, reason="again")  # stopping a stopped session is a no-op


async def test_unknown_session_is_unknown(ecs):
    compute, _, cluster = ecs
    assert await compute.describe(f"{cluster.replace(':cluster/', ':task/')}/deadbeef") == SessionState.UNKNOWN
