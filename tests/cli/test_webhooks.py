"""webhook sign (checked by recomputing the HMAC, and by the gateway itself) and create / list / revoke."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

import httpx
import pytest

SECRET = "whsec_test_0123456789abcdef"


def _headers(output: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in output.strip().splitlines())


def _expected(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def test_sign_prints_headers_whose_signature_matches_the_body(bgagent, monkeypatch):
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    body = '{"repo": "acme/x",  "task_description": "spaces kept"}'
    result = bgagent("webhook", "sign", "--secret-env", "HOOK_SECRET", "--body", body, "--webhook-id", "wh-1",
                     "--timestamp", "1700000000", "--delivery", "d-1")
    assert result.code == 0, result.err
    headers = _headers(result.out)
    assert headers == {"X-Webhook-Id": "wh-1", "X-Webhook-Timestamp": "1700000000",
                       "X-Webhook-Signature": _expected(SECRET, "1700000000", body.encode()),
                       "X-Webhook-Delivery": "d-1"}
    assert SECRET not in result.out + result.err


def test_sign_uses_the_exact_bytes_of_a_body_file_and_a_secret_from_stdin(bgagent, tmp_path):
    body = b'{"repo":"acme/x","task_description":"caf\xc3\xa9"}\n'
    path = tmp_path / "body.json"
    path.write_bytes(body)
    result = bgagent("webhook", "sign", "--secret-stdin", "--body-file", path, "--json", stdin=SECRET + "\n")
    assert result.code == 0, result.err
    headers = result.json()
    assert headers["X-Webhook-Signature"] == _expected(SECRET, headers["X-Webhook-Timestamp"], body)
    assert "X-Webhook-Id" not in headers and uuid.UUID(headers["X-Webhook-Delivery"])


def test_sign_refuses_a_missing_secret_or_a_body_that_is_not_json(bgagent, monkeypatch):
    monkeypatch.delenv("NO_SUCH_SECRET", raising=False)
    missing = bgagent("webhook", "sign", "--secret-env", "NO_SUCH_SECRET", "--body", "{}")
    assert missing.code == 2 and "NO_SUCH_SECRET" in missing.err
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    assert bgagent("webhook", "sign", "--secret-env", "HOOK_SECRET", "--body", "{not json").code == 2
    assert bgagent("webhook", "sign", "--body", "{}").code == 2  # no secret source: argparse usage error


@pytest.mark.e2e
def test_create_list_sign_deliver_and_revoke(cli, platform, monkeypatch):
    cli("login", "--user", f"hook-{uuid.uuid4().hex[:6]}")
    repo = f"acme/hook-{uuid.uuid4().hex[:6]}"
    platform.add_repo(repo)
    created = cli("webhook", "create", "--name", "ci", "--json")
    assert created.code == 0, created.err
    hook = created.json()
    assert hook["secret"] and hook["status"] == "active"

    listed = cli("webhook", "list", "--json").json()
    assert [h["webhook_id"] for h in listed] == [hook["webhook_id"]]
    assert all("secret" not in h for h in listed)

    body = json.dumps({"repo": repo, "task_description": "From a webhook", "model_id": "fake-noop"})
    monkeypatch.setenv("HOOK_SECRET", hook["secret"])
    signed = cli("webhook", "sign", "--secret-env", "HOOK_SECRET", "--body", body, "--webhook-id",
                 hook["webhook_id"], "--json").json()
    resp = httpx.post(f"{platform.api_url}/v1/webhooks/tasks", content=body.encode(),
                      headers={**signed, "Content-Type": "application/json"})
    assert resp.status_code in (200, 201), resp.text
    task_id = resp.json()["data"]["task_id"]
    assert cli("status", task_id, "--json").json()["channel_source"] == "webhook"

    revoked = cli("webhook", "revoke", hook["webhook_id"])
    assert revoked.code == 0 and "revoked" in revoked.out
    assert cli("webhook", "list", "--json").json()[0]["status"] == "revoked"
    again = cli("webhook", "revoke", hook["webhook_id"])
    assert again.code == 3 and "WEBHOOK_ALREADY_REVOKED" in again.err
    cli("cancel", task_id)
