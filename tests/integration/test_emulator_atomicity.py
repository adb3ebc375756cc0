"""The emulator keeps DynamoDB's guarantees under concurrent transactions (moto alone does not)."""

from __future__ import annotations

import asyncio

import pytest
from botocore.exceptions import ClientError

from shared.aws.clients import AwsClients
from shared.tasks.dynamo_store import DynamoTaskStore
from shared.tasks.errors import TransitionConflict
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus as S

pytestmark = pytest.mark.integration


async def test_racing_transitions_apply_once_and_are_never_lost(stack):
    async with AwsClients(stack.settings) as clients:
        store = DynamoTaskStore(await clients.client("dynamodb"), stack.names)
        tasks = [await store.create(Task.new(user_id="race", repo="a/b", task_description="x")) for _ in range(8)]
        for t in tasks:
            await store.transition(t.task_id, S.HYDRATING, max_active=100)
        attempts = [store.transition(t.task_id, S.RUNNING, expected={S.HYDRATING}) for t in tasks for _ in range(3)]
        results = await asyncio.gather(*attempts, return_exceptions=True)
        wins = [r for r in results if isinstance(r, Task)]
        assert len(wins) == len(tasks)
        assert all(isinstance(r, TransitionConflict) for r in results if not isinstance(r, Task))
        for t in tasks:
            assert (await store.get(t.task_id)).status == S.RUNNING  # no failed transaction rolled it back
            events, _ = await store.list_events(t.task_id)
            assert [e.metadata["to"] for e in events].count("RUNNING") == 1


def test_a_transaction_failing_halfway_leaves_nothing_written(stack):
    ddb = stack.boto("dynamodb")
    table = stack.names.repos_table
    ddb.put_item(TableName=table, Item={"repo": {"S": "a/kept"}, "status": {"S": "active"}})
    with pytest.raises(ClientError):
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"repo": {"S": "a/new"}}}},
            {"Update": {"TableName": table, "Key": {"repo": {"S": "a/kept"}},
                        # ADD of a number to a string: refused only while writing
                        "UpdateExpression": "ADD #s :one", "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        ])
    assert "Item" not in ddb.get_item(TableName=table, Key={"repo": {"S": "a/new"}})
    assert ddb.get_item(TableName=table, Key={"repo": {"S": "a/kept"}})["Item"]["status"]["S"] == "active"


def test_failed_conditions_name_their_item_and_write_nothing(stack):
    ddb = stack.boto("dynamodb")
    table = stack.names.repos_table
    ddb.put_item(TableName=table, Item={"repo": {"S": "b/one"}, "status": {"S": "active"}})
    with pytest.raises(ddb.exceptions.TransactionCanceledException) as err:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"repo": {"S": "b/two"}}}},
            {"Put": {"TableName": table, "Item": {"repo": {"S": "b/one"}},
                     "ConditionExpression": "attribute_not_exists(repo)"}},
        ])
    codes = [r["Code"] for r in err.value.response["CancellationReasons"]]
    assert codes == ["None", "ConditionalCheckFailed"]
    assert "Item" not in ddb.get_item(TableName=table, Key={"repo": {"S": "b/two"}})
