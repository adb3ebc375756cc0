"""How a webhook caller and GitHub sign their requests (written independently of the gateway's code)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time


def signed_webhook(webhook_id: str, secret: str, body: dict | bytes, *, timestamp: int | None = None,
                   delivery: str | None = None) -> tuple[bytes, dict[str, str]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), ts.encode() + b"." + raw, hashlib.sha256).hexdigest()
    headers = {"X-Webhook-Id": webhook_id, "X-Webhook-Timestamp": ts, "X-Webhook-Signature": f"sha256={digest}",
               "Content-Type": "application/json", "User-Agent": "ci-bot/1.0"}
    if delivery:
        headers["X-Webhook-Delivery"] = delivery
    return raw, headers


def signed_github(secret: str, event: str, payload: dict | bytes, delivery: str, *,
                  content_type: str = "application/json") -> tuple[bytes, dict[str, str]]:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"X-Hub-Signature-256": f"sha256={digest}", "X-GitHub-Event": event,
                 "X-GitHub-Delivery": delivery, "Content-Type": content_type,
                 "User-Agent": "GitHub-Hookshot/abc"}


def issue_labeled(repo: str = "acme/app", number: int = 42, label: str = "bgagent",
                  title: str = "Fix the flaky test") -> dict:
    return {"action": "labeled", "label": {"name": label},
            "issue": {"number": number, "title": title, "labels": [{"name": label}]},
            "repository": {"full_name": repo}, "sender": {"login": "octocat"}}
