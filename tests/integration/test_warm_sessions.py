"""Warm capacity against the emulator: the dispatcher's start, idle agents taking sessions, stop and describe."""

from __future__ import annotations

import asyncio
import json
import os
import sys

import pytest

from agent.ecs_task import EcsTaskEndpoints
from agent.warm import SessionTaker
from shared.aws.clients import AwsClients
from shared.compute.ecs import EcsTasks
from shared.compute.errors import ComputeStartFailed
from shared.compute.protocol import SessionState
from shared.compute.sessions import SessionClaims
from shared.compute.warm import WarmEcsCompute
from shared.tasks.dynamo_store import DynamoTaskStore
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus as S
from tests.contract.test_compute import emulated_ecs, warm_topology
from tests.doubles.ecs_endpoints import EcsEndpoints, ecs_endpoints

pytestmark = pytest.mark.integration

TASK = "01WARMAAAAAAAAAAAAAAAAAAAA"


class Warm:
    """One stack with warm capacity: the strategy, the queue, and idle agents (ECS tasks of the emulator)."""

    def __init__(self, stack, clients: AwsClients, queue_url: str, cluster: str, wiring: dict):
        self.stack, self.clients, self.queue_url = stack, clients, queue_url
        self.cluster, self._wiring = cluster, wiring

    async def compute(self) -> WarmEcsCompute:
        return WarmEcsCompute(await self.clients.client("sqs"), self.queue_url, await self.claims(),
                              EcsTasks(await self.clients.client("ecs"), cluster=self.cluster))

    async def claims(self) -> SessionClaims:
        return SessionClaims(await self.clients.client("dynamodb"), self.stack.names.sessions_table)

    def agent_task(self) -> str:
        """A running ECS task of the emulator, standing for one idle agent of the warm service."""
        w = self._wiring
        return self.stack.boto("ecs").run_task(
            cluster=self.cluster, taskDefinition=w["task_definition"], launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": w["subnets"],
                                                          "securityGroups": w["security_groups"]}},
        )["tasks"][0]["taskArn"]

    async def taker(self, endpoints: EcsEndpoints, wait_seconds: int = 1) -> SessionTaker:
        return SessionTaker(await self.clients.client("sqs"), self.queue_url, await self.claims(),
                            EcsTaskEndpoints(endpoints.metadata_uri, endpoints.agent_uri), protect_minutes=300,
                            wait_seconds=wait_seconds, retry_seconds=0)

    def queued(self) -> int:
        attrs = self.stack.boto("sqs").get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages",
                                                     "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


@pytest.fixture
async def warm(stack):
    queue_url = warm_topology(stack)
    wiring, cluster = await emulated_ecs(stack)
    async with AwsClients(stack.settings) as clients:
        yield Warm(stack, clients, queue_url, cluster, wiring)


async def _until_idle_then_stop(taker: SessionTaker, warm: Warm, stopping: asyncio.Event) -> str | None:
    """Run an idle agent until the queue is empty, then stop it."""
    run = asyncio.create_task(taker.take_one(stopping))
    for _ in range(100):
        if run.done() or warm.queued() == 0:
            break
        await asyncio.sleep(0.1)
    stopping.set()
    return await asyncio.wait_for(run, 10)


async def test_an_idle_agent_claims_the_session_then_stop_and_describe_act_on_its_task(warm):
    compute = await warm.compute()
    handle = await compute.start(TASK)
    assert handle == f"warm:{TASK}" and await compute.start(TASK) == handle  # a redelivered start
    assert warm.queued() == 1  # deduplicated by task id: one session, not two
    assert await compute.describe(handle) == SessionState.PENDING
    arn = warm.agent_task()
    with ecs_endpoints(arn) as endpoints:
        taken = await (await warm.taker(endpoints)).take_one(asyncio.Event())
        assert taken == TASK and endpoints.protected  # scale-in cannot stop it mid-session
        assert endpoints.protection[-1]["ExpiresInMinutes"] == 300
    assert warm.queued() == 0
    assert await (await warm.claims()).task_of(arn) == TASK  # what the finalizer reads from ECS's event
    assert await compute.describe(handle) == SessionState.RUNNING
    await compute.stop(handle, reason="cancelled by user")
    described = warm.stack.boto("ecs").describe_tasks(cluster=warm.cluster, tasks=[arn])["tasks"][0]
    assert described["desiredStatus"] == "STOPPED" and described["stoppedReason"] == "cancelled by user"
    assert await compute.describe(handle) == SessionState.STOPPED
    await compute.stop(handle, reason="again")  # a no-op


async def test_a_session_called_off_before_any_agent_took_it_is_dropped(warm):
    compute = await warm.compute()
    handle = await compute.start(TASK)
    await compute.stop(handle, reason="cancelled while queued")
    assert await compute.describe(handle) == SessionState.STOPPED
    with ecs_endpoints(warm.agent_task()) as endpoints:
        taken = await _until_idle_then_stop(await warm.taker(endpoints), warm, asyncio.Event())
        assert taken is None and not endpoints.protected  # released again: it is idle, scale-in may take it
    assert warm.queued() == 0
    assert (await (await warm.claims()).get(TASK)).state == "cancelled"


async def test_two_agents_never_run_one_task(warm):
    compute = await warm.compute()
    await compute.start(TASK)
    # A start redelivered after SQS's deduplication window: a second message for the same task.
    warm.stack.boto("sqs").send_message(QueueUrl=warm.queue_url, MessageBody=json.dumps({"task_id": TASK}),
                                        MessageGroupId=TASK, MessageDeduplicationId=f"{TASK}-later")
    first, second = warm.agent_task(), warm.agent_task()
    with ecs_endpoints(first) as a, ecs_endpoints(second) as b:
        assert await (await warm.taker(a)).take_one(asyncio.Event()) == TASK
        assert await _until_idle_then_stop(await warm.taker(b), warm, asyncio.Event()) is None
        assert a.protected and not b.protected
    assert warm.queued() == 0
    claim = await (await warm.claims()).get(TASK)
    assert (claim.state, claim.task_arn) == ("claimed", first)


async def test_an_agent_takes_exactly_one_session_and_leaves_the_rest(warm):
    compute = await warm.compute()
    for task in ("01WARMFIRSTAAAAAAAAAAAAAAA", "01WARMSECONDAAAAAAAAAAAAAA"):
        await compute.start(task)
    arn = warm.agent_task()
    with ecs_endpoints(arn) as endpoints:
        taken = await (await warm.taker(endpoints)).take_one(asyncio.Event())
    assert warm.queued() == 1  # the other session waits for the next idle agent
    claims = await warm.claims()
    assert await claims.task_of(arn) == taken
    (other,) = {"01WARMFIRSTAAAAAAAAAAAAAAA", "01WARMSECONDAAAAAAAAAAAAAA"} - {taken}
    assert await compute.describe(f"warm:{other}") == SessionState.PENDING


async def test_an_agent_stopped_while_idle_hands_a_received_session_straight_back(warm):
    compute = await warm.compute()
    await compute.start(TASK)
    stopping = asyncio.Event()
    stopping.set()  # SIGTERM arrived during the long poll that then returned the message
    with ecs_endpoints(warm.agent_task()) as endpoints:
        taker = await warm.taker(endpoints)
        message = (await (await warm.clients.client("sqs")).receive_message(
            QueueUrl=warm.queue_url, MaxNumberOfMessages=1))["Messages"][0]
        assert await taker._take(message, endpoints.task_arn, stopping) is None
        assert endpoints.protection == []
    visible = warm.stack.boto("sqs").receive_message(QueueUrl=warm.queue_url, WaitTimeSeconds=0)
    assert [json.loads(m["Body"])["task_id"] for m in visible.get("Messages", [])] == [TASK]
    assert await (await warm.claims()).get(TASK) is None


async def test_an_unreadable_session_request_dead_letters(warm):
    sqs = warm.stack.boto("sqs")
    sqs.set_queue_attributes(QueueUrl=warm.queue_url, Attributes={"VisibilityTimeout": "1"})
    sqs.send_message(QueueUrl=warm.queue_url, MessageBody="not json", MessageGroupId="g", MessageDeduplicationId="p")
    with ecs_endpoints(warm.agent_task()) as endpoints:
        taken = await _until_idle_then_stop(await warm.taker(endpoints), warm, asyncio.Event())
        assert taken is None and endpoints.protection == []  # never claimed anything
    dlq = sqs.get_queue_url(QueueName=warm.stack.names.sessions_dlq)["QueueUrl"]
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=0)["Messages"]] == ["not json"]


async def test_python_m_agent_warm_runs_exactly_one_task_and_exits(warm):
    store = DynamoTaskStore(await warm.clients.client("dynamodb"), warm.stack.names)
    tasks = []
    for description in ("first", "second"):
        task = await store.create(Task.new(user_id="u", repo="acme/app", task_description=description))
        await store.transition(task.task_id, S.CANCELLED)  # the agent then has nothing to do but exit
        tasks.append(task.task_id)
        await (await warm.compute()).start(task.task_id)
    arn = warm.agent_task()
    with ecs_endpoints(arn) as endpoints:
        env = {**os.environ, **warm.stack.env(), **endpoints.env(), "BGAGENT_SANDBOX": "off",
               "BGAGENT_ECS_SESSIONS_QUEUE_URL": warm.queue_url,
               "BGAGENT_ECS_SESSIONS_TABLE": warm.stack.names.sessions_table}
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "agent", "--warm", env=env,
                                                    stderr=asyncio.subprocess.PIPE)
        _, stderr = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, stderr.decode()[-2000:]
    taken = await (await warm.claims()).task_of(arn)
    assert taken in tasks and "nothing to do" in stderr.decode()
    assert warm.queued() == 1  # the other task stays for the next idle agent


async def test_a_start_into_a_missing_queue_fails_the_task_rather_than_retrying_forever(warm):
    compute = WarmEcsCompute(await warm.clients.client("sqs"), f"{warm.queue_url}-gone", await warm.claims(),
                             EcsTasks(await warm.clients.client("ecs"), cluster=warm.cluster))
    with pytest.raises(ComputeStartFailed) as failed:
        await compute.start(TASK)
    assert failed.value.retryable is False and "SendMessage failed" in str(failed.value)
