"""Known fake secrets planted everywhere a run touches; none may come out anywhere it writes."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from tests.doubles.scenarios import FAKE_EDIT
from tests.support.git import git
from tests.support.platform import ANTHROPIC_KEY, GITHUB_TOKEN, running_platform

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def platform(aws_endpoint, tmp_path_factory):
    with running_platform(aws_endpoint, tmp_path_factory.mktemp("leak")) as p:
        yield p


def _texts(platform, responses: list[str]) -> dict[str, str]:
    """Everything the run wrote, by where it was written."""
    out: dict[str, str] = {}
    state = platform.stack.config.state_dir
    for path in [*(state / "logs").glob("*.log"), *(state / "runtime" / "logs").glob("*.log")]:
        out[f"log:{path.name}"] = path.read_text(errors="replace")
    ddb = platform.boto("dynamodb")
    for table in (platform.names.task_events_table, platform.names.tasks_table, platform.names.memory_table):
        items = ddb.scan(TableName=table)["Items"]
        out[f"table:{table}"] = json.dumps(items)
    for repo in ("acme/leaky",):
        for pr in platform.github.pulls(repo):
            out[f"pr:{pr['number']}"] = f"{pr['title']}\n{pr['body']}"
    out["model-requests"] = json.dumps([{k: v for k, v in r.items() if k != "headers"}
                                         for r in platform.anthropic.requests])
    out["api-responses"] = "\n".join(responses)
    return out


def test_no_secret_leaves_the_platform(platform):
    bare = platform.add_repo("acme/leaky")
    work = bare.parent / "leaky-plant"
    git("clone", str(bare), str(work))
    (work / "README.md").write_text(f"# App\n\nHello\n\ndeploy token: {GITHUB_TOKEN}\nmodel key: {ANTHROPIC_KEY}\n")
    git("add", "-A", cwd=work)
    git("commit", "-m", "oops, secrets", cwd=work)
    git("push", "origin", "main", cwd=work)

    responses: list[str] = []
    with platform.client("leak-user") as c:
        created = c.post("/v1/webhooks", json={"name": "ci"})
        assert created.status_code == 201, created.text
        hook = created.json()["data"]
        secret, hook_id = hook["secret"], hook["webhook_id"]
        body = json.dumps({"repo": "acme/leaky", "task_description": f"fix the README (never echo {secret})",
                           "model_id": FAKE_EDIT}).encode()
        ts = str(int(time.time()))
        sig = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
        signed = c.post("/v1/webhooks/tasks", content=body, headers={
            "Content-Type": "application/json", "X-Webhook-Id": hook_id, "X-Webhook-Timestamp": ts,
            "X-Webhook-Signature": f"sha256={sig}", "Authorization": ""})
        responses.append(signed.text)
        assert signed.status_code == 201, signed.text
        webhook_task = signed.json()["data"]["task_id"]
        direct = c.post("/v1/tasks", json={"repo": "acme/leaky", "task_description": "tidy the README",
                                           "model_id": FAKE_EDIT})
        responses.append(direct.text)
        api_task = direct.json()["data"]["task_id"]
        for task_id in (webhook_task, api_task):
            final = platform.wait_for("leak-user", task_id, timeout=120)
            assert final["status"] == "COMPLETED", final
            responses.append(c.get(f"/v1/tasks/{task_id}").text)
            responses.append(c.get(f"/v1/tasks/{task_id}/events", params={"limit": 100}).text)
        responses.append(c.get("/v1/tasks").text)
        responses.append(c.get("/v1/webhooks").text)
    commits = git("--git-dir", str(bare), "log", "--all", "--format=%B")
    texts = {**_texts(platform, responses), "commits": commits}
    # The model did read the planted README, so the test exercises redaction, not luck.
    assert any("deploy token" in json.dumps(r) for r in platform.anthropic.requests)
    secrets = {"github token": GITHUB_TOKEN, "anthropic key": ANTHROPIC_KEY, "webhook secret": secret}
    hits = [(name, where) for where, text in texts.items() for name, value in secrets.items() if value in text]
    assert hits == [], hits
    print(f"\nsecret leakage: scanned {len(texts)} sources, {sum(len(t) for t in texts.values()):,} chars, 0 hits")
