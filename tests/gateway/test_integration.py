"""The gateway on DynamoDB and Secrets Manager (the AWS emulator): races, pagination, webhooks, cancel."""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager

import pytest

from services.gateway.adapters.webhooks import DynamoWebhookStore
from shared.aws.clients import AwsClients
from shared.aws.pagination import encode_token
from shared.aws.secrets import SecretsManagerStore
from shared.events.models import SlotReleased, TaskCancelled
from shared.repos.models import RepoConfig
from shared.repos.store import DynamoRepoStore
from shared.tasks.dynamo_store import DynamoTaskStore
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus as S
from tests.gateway.conftest import GITHUB_SECRET, build_gateway
from tests.gateway.signing import issue_labeled, signed_github, signed_webhook
from tests.support.aws import make_stack

pytestmark = pytest.mark.integration

CREATE = {"repo": "acme/app", "task_description": "Document the API"}


@pytest.fixture(scope="module")
def aws_stack(aws_endpoint):
    """One stack for the module: every test uses its own users, webhooks and keys."""
    return make_stack(aws_endpoint)


@asynccontextmanager
async def dynamo_gateway(issuer, stack, **settings):
    async with AwsClients(stack.settings) as clients:
        ddb = await clients.client("dynamodb")
        repos = DynamoRepoStore(ddb, stack.names.repos_table)
        await repos.put(RepoConfig(repo="acme/app"))
        gw = build_gateway(issuer, tasks=DynamoTaskStore(ddb, stack.names), repos=repos,
                           webhooks=DynamoWebhookStore(ddb, stack.names.webhooks_table),
                           secrets=SecretsManagerStore(await clients.client("secretsmanager")),
                           stack_name=stack.settings.stack_name, **settings)
        yield gw


def _user_tasks(stack, user: str) -> list[dict]:
    resp = stack.boto("dynamodb").query(TableName=stack.names.tasks_table, IndexName="UserCreatedIndex",
                                        KeyConditionExpression="user_id = :u",
                                        ExpressionAttributeValues={":u": {"S": user}})
    return resp["Items"]


async def test_ten_racing_identical_creates_make_one_task_and_another_user_gets_409(issuer, aws_stack):
    async with dynamo_gateway(issuer, aws_stack) as gw:
        async with gw.client("race-user", **{"Idempotency-Key": "race-key"}) as c:
            responses = await asyncio.gather(*[c.post("/v1/tasks", json=CREATE) for _ in range(10)])
        async with gw.client("race-other", **{"Idempotency-Key": "race-key"}) as c:
            other = await c.post("/v1/tasks", json=CREATE)
    assert sorted(r.status_code for r in responses) == [200] * 9 + [201]
    assert len({r.json()["data"]["task_id"] for r in responses}) == 1
    assert len(_user_tasks(aws_stack, "race-user")) == 1
    assert other.status_code == 409 and other.json()["error"]["code"] == "DUPLICATE_TASK"
    assert _user_tasks(aws_stack, "race-other") == []


async def test_listing_pages_filters_and_refuses_forged_tokens(issuer, aws_stack):
    async with dynamo_gateway(issuer, aws_stack) as gw:
        created = []
        for i in range(5):
            at = f"2026-03-01T00:00:0{i}.000Z"
            created.append(await gw.tasks.create(Task.new(user_id="lister", repo="acme/app", task_description="t",
                                                          created_at=at, updated_at=at)))
        await gw.tasks.create(Task.new(user_id="lister-2", repo="acme/app", task_description="t"))
        await gw.tasks.transition(created[1].task_id, S.QUEUED)
        async with gw.client("lister") as c:
            seen, token = [], None
            while True:
                params = {"limit": 2, **({"next_token": token} if token else {})}
                body = (await c.get("/v1/tasks", params=params)).json()
                seen += [t["task_id"] for t in body["data"]]
                token = body["pagination"]["next_token"]
                if not token:
                    break
            queued = (await c.get("/v1/tasks", params={"status": "QUEUED"})).json()["data"]
            first = (await c.get("/v1/tasks", params={"limit": 1})).json()["pagination"]["next_token"]
            forged_events = await c.get(f"/v1/tasks/{created[0].task_id}/events", params={"next_token": encode_token(
                {"task_id": {"S": created[0].task_id}, "event_id": {"N": "1"}})})
        async with gw.client("lister-2") as c:
            stolen = await c.get("/v1/tasks", params={"limit": 1, "next_token": first})
    assert seen == [t.task_id for t in reversed(created)]
    assert [t["task_id"] for t in queued] == [created[1].task_id]
    assert stolen.status_code == 400 and "lister" not in stolen.text.replace("lister-2", "")
    assert forged_events.status_code == 400


async def test_cancel_of_a_running_task_releases_its_slot_in_the_same_write(issuer, aws_stack):
    async with dynamo_gateway(issuer, aws_stack) as gw:
        task = await gw.tasks.create(Task.new(user_id="canceller", repo="acme/app", task_description="t"))
        await gw.tasks.transition(task.task_id, S.HYDRATING, max_active=2)
        await gw.tasks.transition(task.task_id, S.RUNNING)
        finalizing = await gw.tasks.create(Task.new(user_id="canceller", repo="acme/app", task_description="t"))
        for step in (S.HYDRATING, S.RUNNING, S.FINALIZING):
            await gw.tasks.transition(finalizing.task_id, step, max_active=2)
        async with gw.client("canceller") as c:
            resp = await c.delete(f"/v1/tasks/{task.task_id}")
            again = await c.delete(f"/v1/tasks/{task.task_id}")
            refused = await c.delete(f"/v1/tasks/{finalizing.task_id}")
        assert resp.status_code == 200 and resp.json()["data"]["status"] == "CANCELLED"
        assert (await gw.tasks.get_concurrency("canceller")).active_count == 1  # only the finalizing one
        assert [e.task_id for e in gw.bus.of(TaskCancelled)] == [task.task_id]
        assert [e.task_id for e in gw.bus.of(SlotReleased)] == [task.task_id]
        assert again.status_code == 409 and again.json()["error"]["code"] == "TASK_ALREADY_TERMINAL"
        assert refused.status_code == 409 and "FINALIZING" in refused.json()["error"]["message"]


async def test_webhook_lifecycle_on_secrets_manager(issuer, aws_stack):
    sm = aws_stack.boto("secretsmanager")
    async with dynamo_gateway(issuer, aws_stack) as gw:
        async with gw.client("hook-owner") as c:
            hook = (await c.post("/v1/webhooks", json={"name": "deploys"})).json()["data"]
            listed = (await c.get("/v1/webhooks")).json()["data"]
        name = f"bgagent/{aws_stack.settings.stack_name}/webhooks/{hook['webhook_id']}"
        assert sm.get_secret_value(SecretId=name)["SecretString"] == hook["secret"]
        assert [h["webhook_id"] for h in listed] == [hook["webhook_id"]] and "secret" not in listed[0]

        async with gw.client() as c:
            raw, headers = signed_webhook(hook["webhook_id"], hook["secret"], CREATE, delivery="dep-1")
            first = await c.post("/v1/webhooks/tasks", content=raw, headers=headers)
            raw, headers = signed_webhook(hook["webhook_id"], hook["secret"], CREATE, delivery="dep-1",
                                          timestamp=int(time.time()) + 2)
            retry = await c.post("/v1/webhooks/tasks", content=raw, headers=headers)
        assert first.status_code == 201 and retry.status_code == 200
        assert retry.json()["data"]["task_id"] == first.json()["data"]["task_id"]
        assert len(_user_tasks(aws_stack, "hook-owner")) == 1

        async with gw.client("hook-owner") as c:
            assert (await c.delete(f"/v1/webhooks/{hook['webhook_id']}")).status_code == 200
            assert (await c.delete(f"/v1/webhooks/{hook['webhook_id']}")).status_code == 409
        async with gw.client() as c:
            raw, headers = signed_webhook(hook["webhook_id"], hook["secret"], CREATE, delivery="dep-2")
            assert (await c.post("/v1/webhooks/tasks", content=raw, headers=headers)).status_code == 401
        assert "DeletedDate" in sm.describe_secret(SecretId=name)


async def test_a_github_issue_delivered_three_times_is_one_task(issuer, aws_stack):
    async with dynamo_gateway(issuer, aws_stack, github_task_user="github-int") as gw:
        codes = []
        async with gw.client() as c:
            for _ in range(3):
                raw, headers = signed_github(GITHUB_SECRET, "issues", issue_labeled(number=9), "guid-int-1")
                codes.append((await c.post("/v1/github/events", content=raw, headers=headers)).status_code)
    assert codes == [201, 200, 200]
    items = _user_tasks(aws_stack, "github-int")
    assert len(items) == 1 and items[0]["channel_source"]["S"] == "github" and items[0]["issue_number"]["N"] == "9"
