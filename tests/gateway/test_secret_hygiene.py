"""A webhook secret is shown once, in its creation response, and nowhere else: no response, no log line."""

from __future__ import annotations

import logging

import pytest

from services.gateway.adapters.webhooks import DynamoWebhookStore
from shared.aws.clients import AwsClients
from shared.aws.secrets import SecretsManagerStore
from shared.observability.logging import JsonFormatter
from tests.gateway.conftest import GITHUB_SECRET, build_gateway
from tests.gateway.signing import issue_labeled, signed_github, signed_webhook
from tests.support.aws import make_stack

CREATE = {"repo": "acme/app", "task_description": "x"}


async def _exercise(gw) -> tuple[str, list]:
    """Create a webhook and use it every way there is; the secret and every later response."""
    later = []
    async with gw.client("alice") as c:
        created = await c.post("/v1/webhooks", json={"name": "ci"})
        hook = created.json()["data"]
        secret = hook["secret"]
        later.append(await c.get("/v1/webhooks"))
    async with gw.client() as c:
        for body, delivery, key in ((CREATE, "d1", secret), (CREATE, "d1", secret), ({"repo": "x"}, "d2", secret),
                                    (CREATE, "d3", "wrong-secret")):
            raw, headers = signed_webhook(hook["webhook_id"], key, body, delivery=delivery)
            later.append(await c.post("/v1/webhooks/tasks", content=raw, headers=headers))
        raw, headers = signed_github(GITHUB_SECRET, "issues", issue_labeled(), "g1")
        later.append(await c.post("/v1/github/events", content=raw, headers=headers))
        later.append(await c.post("/v1/github/events", content=raw, headers={**headers, "X-Hub-Signature-256": "x"}))
    async with gw.client("alice") as c:
        later.append(await c.get(f"/v1/tasks/{later[1].json()['data']['task_id']}"))
        later.append(await c.delete(f"/v1/webhooks/{hook['webhook_id']}"))
        later.append(await c.delete(f"/v1/webhooks/{hook['webhook_id']}"))
        later.append(await c.get("/openapi.json"))
    return secret, later


def _assert_nowhere(secrets: list[str], later: list, caplog, *, raw_loggers: str | None) -> None:
    for resp in later:
        for secret in secrets:
            assert secret not in resp.text and secret not in str(resp.headers)
    formatter = JsonFormatter("gateway")
    for record in caplog.records:
        line = formatter.format(record)
        for secret in secrets:
            assert secret not in line, line
            if raw_loggers is None or record.name.startswith(raw_loggers):
                assert secret not in record.getMessage() and secret not in str(record.__dict__), record.name


async def test_the_secret_is_only_in_the_creation_response_and_never_logged(gw, caplog):
    caplog.set_level(logging.DEBUG)
    secret, later = await _exercise(gw)
    assert [r.status_code for r in later[1:5]] == [201, 200, 400, 401]
    assert any("request" == r.getMessage() for r in caplog.records)  # the access log did run
    _assert_nowhere([secret, GITHUB_SECRET], later, caplog, raw_loggers=None)


async def test_a_secret_pasted_into_a_task_description_is_masked_before_it_is_stored(gw):
    async with gw.client("alice") as c:
        hook = (await c.post("/v1/webhooks", json={"name": "ci"})).json()["data"]
        token = "ghp_" + "A1b2C3d4E5" * 4
        direct = await c.post("/v1/tasks", json={**CREATE, "task_description": f"rotate {token} please"})
    raw, headers = signed_webhook(hook["webhook_id"], hook["secret"],
                                  {**CREATE, "task_description": f"fix it (never echo {hook['secret']})"})
    async with gw.client() as c:
        signed = await c.post("/v1/webhooks/tasks", content=raw, headers=headers)
    stored = [(await gw.tasks.get(r.json()["data"]["task_id"])).task_description for r in (direct, signed)]
    assert stored == ["rotate [REDACTED] please", "fix it (never echo [REDACTED])"]
    assert token not in direct.text and hook["secret"] not in signed.text


@pytest.mark.integration
async def test_nor_on_secrets_manager_where_the_aws_client_logs_its_calls(issuer, aws_endpoint, caplog):
    caplog.set_level(logging.DEBUG)
    stack = make_stack(aws_endpoint)
    async with AwsClients(stack.settings) as clients:
        gw = build_gateway(issuer, webhooks=DynamoWebhookStore(await clients.client("dynamodb"),
                                                               stack.names.webhooks_table),
                           secrets=SecretsManagerStore(await clients.client("secretsmanager")),
                           stack_name=stack.settings.stack_name)
        secret, later = await _exercise(gw)
    # botocore's own DEBUG lines carry request parameters: the JSON formatter must mask the secret in them.
    assert any(secret in str(r.__dict__) for r in caplog.records if r.name.startswith("botocore"))
    _assert_nowhere([secret], later, caplog, raw_loggers="services.gateway")
