"""One contract for the gateway's WebhookStore and SecretStore: the fakes and AWS (on the emulator) agree."""

from __future__ import annotations

import pytest

from services.gateway.adapters.errors import WebhookAlreadyRevoked, WebhookNotFound
from services.gateway.adapters.webhooks import DynamoWebhookStore, Webhook
from shared.aws.clients import AwsClients
from shared.aws.pagination import InvalidToken, encode_token
from shared.aws.secrets import CachedSecrets, SecretsManagerStore
from tests.gateway.fakes import InMemorySecrets, InMemoryWebhooks
from tests.support.aws import make_stack


@pytest.fixture(scope="module")
def aws_stack(aws_endpoint):
    return make_stack(aws_endpoint)


@pytest.fixture(params=["memory", "aws"])
async def stores(request):
    if request.param == "memory":
        yield InMemoryWebhooks(), InMemorySecrets()
        return
    stack = request.getfixturevalue("aws_stack")
    async with AwsClients(stack.settings) as clients:
        yield (DynamoWebhookStore(await clients.client("dynamodb"), stack.names.webhooks_table),
               SecretsManagerStore(await clients.client("secretsmanager")))


async def test_webhooks_are_created_read_and_revoked_once(stores):
    webhooks, _ = stores
    hook = await webhooks.create(Webhook(user_id="contract-a", name="ci"))
    assert (await webhooks.get(hook.webhook_id)) == hook
    revoked = await webhooks.revoke(hook.webhook_id)
    assert revoked.status == "revoked" and revoked.revoked_at and not revoked.active
    with pytest.raises(WebhookAlreadyRevoked) as err:
        await webhooks.revoke(hook.webhook_id)
    assert err.value.current.webhook_id == hook.webhook_id
    with pytest.raises(WebhookNotFound):
        await webhooks.revoke("01J0000000000000000000ZZZZ")
    assert await webhooks.get("01J0000000000000000000ZZZZ") is None


async def test_webhook_listing_is_per_user_and_paginated(stores):
    webhooks, _ = stores
    mine = {(await webhooks.create(Webhook(user_id="contract-b", name=f"h{i}"))).webhook_id for i in range(3)}
    await webhooks.create(Webhook(user_id="contract-c", name="theirs"))
    seen, token = [], None
    while True:
        page, token = await webhooks.list_for_user("contract-b", limit=2, next_token=token)
        seen += [w.webhook_id for w in page]
        if not token:
            break
    assert sorted(seen) == sorted(mine)
    _, token = await webhooks.list_for_user("contract-b", limit=1)
    with pytest.raises(InvalidToken):
        await webhooks.list_for_user("contract-c", limit=1, next_token=token)
    for forged in ({"webhook_id": {"N": "1"}, "user_id": {"S": "contract-b"}}, {"user_id": {"S": "contract-b"}},
                   ["not", "a", "key"]):
        with pytest.raises(InvalidToken):
            await webhooks.list_for_user("contract-b", limit=1, next_token=encode_token(forged))


async def test_secrets_are_stored_read_and_deleted(stores):
    _, secrets = stores
    await secrets.create("bgagent/contract/webhooks/one", "s3cr3t-value-000")
    assert await secrets.get("bgagent/contract/webhooks/one") == "s3cr3t-value-000"
    assert await secrets.get("bgagent/contract/webhooks/none") is None
    await secrets.delete("bgagent/contract/webhooks/one")
    await secrets.delete("bgagent/contract/webhooks/none")
    assert await secrets.get("bgagent/contract/webhooks/one") is None


async def test_the_cache_serves_reads_for_its_period_only():
    inner, now = InMemorySecrets(), [0.0]
    await inner.create("n", "value-123456")
    cached = CachedSecrets(inner, ttl_seconds=60, clock=lambda: now[0])
    assert [await cached.get("n") for _ in range(3)] == ["value-123456"] * 3 and inner.reads == 1
    now[0] = 61
    assert await cached.get("n") == "value-123456" and inner.reads == 2
    assert await cached.get("missing") is None and await cached.get("missing") is None and inner.reads == 4
    await cached.delete("n")
    assert await cached.get("n") is None
