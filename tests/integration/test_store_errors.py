"""How the DynamoDB task store reports failures: typed, carrying the item, conflicts retried inside."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from shared.aws.clients import AwsClients
from shared.aws.dynamo import serialize
from shared.aws.errors import StoreUnavailable
from shared.tasks.dynamo_store import DynamoTaskStore
from shared.tasks.errors import TransitionConflict
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus as S

pytestmark = pytest.mark.integration


class Intercepting:
    """The real client, with a hook run before each transaction and a count of reads."""

    def __init__(self, ddb, before_transaction=None):
        self._ddb = ddb
        self.before = before_transaction
        self.transactions = 0
        self.reads = 0

    def __getattr__(self, name):
        return getattr(self._ddb, name)

    async def get_item(self, **kw):
        self.reads += 1
        return await self._ddb.get_item(**kw)

    async def transact_write_items(self, **kw):
        self.transactions += 1
        if self.before:
            await self.before(self.transactions, kw)
        return await self._ddb.transact_write_items(**kw)


def _cancelled(code: str) -> ClientError:
    return ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                        "CancellationReasons": [{"Code": code}, {"Code": "None"}]}, "TransactWriteItems")


@pytest.fixture
async def ddb(stack):
    async with AwsClients(stack.settings) as clients:
        yield await clients.client("dynamodb")


async def _running(store: DynamoTaskStore) -> Task:
    task = await store.create(Task.new(user_id="u", repo="a/b", task_description="x"))
    await store.transition(task.task_id, S.HYDRATING, max_active=5)
    return await store.transition(task.task_id, S.RUNNING)


# Defect 5: the release's retry without the counter (counter drifted to 0) ran unguarded; a task that moved
# meanwhile surfaced as a raw TransactionCanceledException instead of TransitionConflict.
async def test_a_task_moving_during_the_drift_retry_is_a_transition_conflict(stack, ddb):
    plain = DynamoTaskStore(ddb, stack.names)
    task = await _running(plain)
    assert await plain.correct_active_count("u", observed=1, actual=0)  # drift: the counter reads 0

    async def finalize_meanwhile(n, _):
        if n == 2:  # between the refused release and its retry without the counter
            await ddb.update_item(TableName=stack.names.tasks_table, Key={"task_id": serialize(task.task_id)},
                                  UpdateExpression="SET #s = :f", ExpressionAttributeNames={"#s": "status"},
                                  ExpressionAttributeValues={":f": serialize("FINALIZING")})

    store = DynamoTaskStore(Intercepting(ddb, finalize_meanwhile), stack.names)
    with pytest.raises(TransitionConflict) as caught:
        await store.transition(task.task_id, S.CANCELLED, expected={S.RUNNING})
    assert caught.value.current.status == S.FINALIZING


async def test_a_failed_condition_carries_the_item_without_a_second_read(stack, ddb):
    task = await _running(DynamoTaskStore(ddb, stack.names))

    async def finish_meanwhile(n, _):
        if n == 1:
            await ddb.update_item(TableName=stack.names.tasks_table, Key={"task_id": serialize(task.task_id)},
                                  UpdateExpression="SET #s = :f", ExpressionAttributeNames={"#s": "status"},
                                  ExpressionAttributeValues={":f": serialize("FINALIZING")})

    client = Intercepting(ddb, finish_meanwhile)
    with pytest.raises(TransitionConflict) as caught:
        await DynamoTaskStore(client, stack.names).transition(task.task_id, S.CANCELLED, expected={S.RUNNING})
    assert caught.value.current.status == S.FINALIZING
    assert client.reads == 1  # the read that planned the transition; the conflict came with the item


async def test_a_transaction_conflict_is_retried_inside_the_store(stack, ddb):
    task = await _running(DynamoTaskStore(ddb, stack.names))

    async def conflict_once(n, _):
        if n == 1:
            raise _cancelled("TransactionConflict")

    client = Intercepting(ddb, conflict_once)
    done = await DynamoTaskStore(client, stack.names).transition(task.task_id, S.CANCELLED)
    assert done.status == S.CANCELLED and client.transactions == 2


async def test_aws_failures_surface_once_as_store_unavailable(stack, ddb):
    async def throttled(n, _):
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "TransactWriteItems")

    store = DynamoTaskStore(Intercepting(ddb, throttled), stack.names)
    with pytest.raises(StoreUnavailable):
        await store.create(Task.new(user_id="u", repo="a/b", task_description="x"))
