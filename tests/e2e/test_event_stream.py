"""The live event stream on the running platform: every event in order, resumable, closed with the task."""

from __future__ import annotations

import time
from contextlib import ExitStack

import httpx
import pytest

from cli.api import ApiClient
from cli.stream import ends_task, stream_events
from tests.doubles.scenarios import FAKE_EDIT, FAKE_LOOP

pytestmark = pytest.mark.e2e
STREAM_CAP = 10  # the gateway's default BGAGENT_STREAM_MAX_PER_USER


class UserTokens:
    """A TokenProvider minting the local issuer's token of one user."""

    def __init__(self, platform, user: str):
        self._platform, self._user = platform, user

    def token(self) -> str:
        return self._platform.token(self._user)

    def refresh(self) -> bool:
        return False


def api_for(platform, user: str) -> ApiClient:
    return ApiClient(platform.api_url, UserTokens(platform, user))


def submit(platform, user: str, repo: str, model: str = FAKE_EDIT, **body) -> str:
    with platform.client(user) as c:
        resp = c.post("/v1/tasks", json={"repo": repo, "task_description": "do it", "model_id": model, **body})
    assert resp.status_code == 201, resp.text
    return resp.json()["data"]["task_id"]


def trail_until_terminal(platform, user: str, task_id: str) -> list[str]:
    with platform.client(user) as c:
        events = c.get(f"/v1/tasks/{task_id}/events", params={"limit": 100}).json()["data"]
    ids = []
    for event in events:
        ids.append(event["event_id"])
        if ends_task(event):
            return ids
    raise AssertionError("the trail has no terminal transition")


def test_the_stream_carries_every_event_in_order_and_closes_after_the_terminal_one(platform):
    platform.add_repo("acme/stream")
    task_id = submit(platform, "sse-ann", "acme/stream")
    with api_for(platform, "sse-ann") as api:
        received = list(stream_events(api, task_id))
    assert ends_task(received[-1])
    assert [e["event_id"] for e in received] == trail_until_terminal(platform, "sse-ann", task_id)
    kinds = [e["event_type"] for e in received]
    assert "agent.started" in kinds and "agent.turn" in kinds


def test_a_reconnect_with_last_event_id_loses_and_repeats_nothing(platform):
    platform.add_repo("acme/stream-resume")
    task_id = submit(platform, "sse-bob", "acme/stream-resume")
    with api_for(platform, "sse-bob") as api:
        first = []
        for event in stream_events(api, task_id):  # leaving the loop closes the connection mid-task
            first.append(event)
            if event["event_type"] == "agent.started":
                break
        rest = list(stream_events(api, task_id, after=first[-1]["event_id"]))
    ids = [e["event_id"] for e in first + rest]
    assert len(ids) == len(set(ids))
    assert ids == trail_until_terminal(platform, "sse-bob", task_id)


def test_another_users_stream_is_a_404_envelope_not_an_open_stream(platform):
    platform.add_repo("acme/stream-private")
    task_id = submit(platform, "sse-cat", "acme/stream-private")
    with platform.client("sse-mallory") as c:
        resp = c.get(f"/v1/tasks/{task_id}/events/stream", timeout=10)
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "TASK_NOT_FOUND"
    with httpx.Client(base_url=platform.api_url, timeout=10) as anonymous:
        assert anonymous.get(f"/v1/tasks/{task_id}/events/stream").status_code == 401


def test_disconnected_streams_give_their_slots_back(platform):
    platform.add_repo("acme/stream-slots")
    task_id = submit(platform, "sse-dee", "acme/stream-slots", model=FAKE_LOOP, max_turns=400)
    headers = {"Authorization": f"Bearer {platform.token('sse-dee')}"}
    with httpx.Client(base_url=platform.api_url, headers=headers, timeout=10) as c:
        for _ in range(2):  # twice the cap in all: only possible if closed streams are released
            with ExitStack() as open_streams:
                for _ in range(STREAM_CAP):
                    resp = open_streams.enter_context(c.stream("GET", f"/v1/tasks/{task_id}/events/stream"))
                    assert resp.status_code == 200
                over = c.get(f"/v1/tasks/{task_id}/events/stream")
                assert over.status_code == 429 and over.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
            time.sleep(2.0)  # each stream notices its client left within a second
        assert c.delete(f"/v1/tasks/{task_id}").status_code == 200
