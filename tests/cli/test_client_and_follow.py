"""The API client's error handling and the follow loop, against in-memory doubles (no platform)."""

from __future__ import annotations

import io
import json
from contextlib import contextmanager

import httpx
import pytest
from rich.console import Console

from cli.api import ApiClient
from cli.errors import ApiError, NetworkError
from cli.events import EventCursor
from cli.follow import Watcher, follow_task
from cli.stream import sse_events


class StaticTokens:
    def __init__(self):
        self.refreshed = 0
        self.current = "t1"

    def token(self) -> str:
        return self.current

    def refresh(self) -> bool:
        self.refreshed += 1
        self.current = "t2"
        return True


def test_an_error_envelope_becomes_an_api_error_with_its_code_and_request_id():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(409, json={"error": {"code": "TASK_ALREADY_TERMINAL", "message": "done",
                                                   "request_id": "r-1"}})
    api = ApiClient("http://api", StaticTokens(), transport=httpx.MockTransport(handler))
    with pytest.raises(ApiError) as caught:
        api.cancel_task("T1")
    err = caught.value
    assert (err.code, err.message, err.status, err.request_id, err.exit_code) == (
        "TASK_ALREADY_TERMINAL", "done", 409, "r-1", 3)
    assert "bgagent status" in err.hint


def test_a_non_json_answer_is_an_api_error_not_a_crash():
    api = ApiClient("http://api", None, transport=httpx.MockTransport(
        lambda r: httpx.Response(502, text="<html>Bad Gateway</html>")))
    with pytest.raises(ApiError) as caught:
        api.get_task("T1")
    assert caught.value.code == "HTTP_502" and "Bad Gateway" in caught.value.message


def test_a_refused_token_is_refreshed_once_and_the_call_repeated():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        if request.headers["Authorization"] == "Bearer t1":
            return httpx.Response(401, json={"error": {"code": "UNAUTHORIZED", "message": "expired",
                                                       "request_id": "r"}})
        return httpx.Response(200, json={"data": {"task_id": "T1"}})
    tokens = StaticTokens()
    api = ApiClient("http://api", tokens, transport=httpx.MockTransport(handler))
    assert api.get_task("T1") == {"task_id": "T1"}
    assert seen == ["Bearer t1", "Bearer t2"] and tokens.refreshed == 1


def test_a_path_segment_is_quoted():
    paths = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path)
        return httpx.Response(200, json={"data": {}})
    ApiClient("http://api", None, transport=httpx.MockTransport(handler)).get_task("../webhooks")
    assert paths == [b"/v1/tasks/..%2Fwebhooks"]


def test_a_connection_failure_names_the_url():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)
    with pytest.raises(NetworkError) as caught:
        ApiClient("http://api:1", None, transport=httpx.MockTransport(handler)).list_tasks()
    assert caught.value.exit_code == 4 and "http://api:1/v1/tasks" in caught.value.message


class FakeTrail:
    """A task whose events grow between polls, served in pages of `limit` with index tokens."""

    def __init__(self, script: list[tuple[str, list[dict]]]):
        self._script = script
        self.events: list[dict] = []
        self.status = "SUBMITTED"

    def get_task(self, task_id: str) -> dict:
        if self._script:
            self.status, new = self._script.pop(0)
            self.events += new
        return {"task_id": task_id, "status": self.status}

    def open_event_stream(self, task_id: str, **_: object):
        raise NetworkError("http://api/stream", "connection refused")  # no stream: the follow loop polls

    def list_events(self, task_id: str, *, limit: int, next_token: str | None = None):
        start = int(next_token or 0)
        page = self.events[start:start + limit]
        more = start + limit < len(self.events) or (len(page) == limit)
        return page, (str(start + limit) if more else None)


def _transition(n: int, to: str) -> dict:
    return {"event_id": f"E{n:03d}", "event_type": "transition", "timestamp": "2026-01-01T00:00:00Z",
            "metadata": {"to": to}}


def _turn(n: int, turn: int) -> dict:
    return {"event_id": f"E{n:03d}", "event_type": "agent.turn", "timestamp": "2026-01-01T00:00:01Z",
            "metadata": {"turn": turn, "tools": ["bash"], "cost_usd": 0.01 * turn}}


def test_the_cursor_reads_each_event_once_across_pages_and_polls():
    trail = FakeTrail([])
    trail.events = [_transition(i, "X") for i in range(5)]
    cursor = EventCursor(trail, "T", page=2)
    assert [e["event_id"] for e in cursor.poll()] == ["E000", "E001", "E002", "E003", "E004"]
    assert cursor.poll() == []
    trail.events += [_transition(5, "Y"), _transition(6, "Z")]
    assert [e["event_id"] for e in cursor.poll()] == ["E005", "E006"]


def test_follow_prints_events_in_order_and_waits_for_the_final_transition():
    trail = FakeTrail([
        ("SUBMITTED", [_transition(0, "SUBMITTED")]),
        ("RUNNING", [_transition(1, "HYDRATING"), _transition(2, "RUNNING"), _turn(3, 1)]),
        ("COMPLETED", [_turn(4, 2)]),  # the row is terminal before its transition event is readable
        ("COMPLETED", [_transition(5, "FINALIZING"), _transition(6, "COMPLETED")]),
    ])
    out = io.StringIO()
    task = follow_task(trail, "T", Watcher(Console(file=out, width=200), live=False), interval=0,
                       sleep=lambda _s: None)
    assert task["status"] == "COMPLETED"
    lines = out.getvalue().splitlines()
    assert [line.split("→ ")[-1] for line in lines if "→" in line] == [
        "SUBMITTED", "HYDRATING", "RUNNING", "FINALIZING", "COMPLETED"]
    assert any("turn 2 · bash · $0.0200" in line for line in lines)


def test_a_rate_limited_call_waits_retry_after_and_is_repeated():
    answers = [httpx.Response(429, headers={"Retry-After": "2"}, json={"error": {
        "code": "RATE_LIMIT_EXCEEDED", "message": "slow down", "request_id": "r"}}),
        httpx.Response(201, json={"data": {"task_id": "T1"}})]
    waits = []
    api = ApiClient("http://api", None, transport=httpx.MockTransport(lambda r: answers.pop(0)), sleep=waits.append)
    assert api.create_task({"repo": "a/b", "task_description": "x"}) == ({"task_id": "T1"}, False)
    assert waits == [2.0]


def test_rate_limiting_that_persists_is_an_api_error():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "1"}, json={"error": {
            "code": "RATE_LIMIT_EXCEEDED", "message": "slow down", "request_id": "r"}})
    waits = []
    api = ApiClient("http://api", None, transport=httpx.MockTransport(handler), sleep=waits.append)
    with pytest.raises(ApiError) as caught:
        api.list_tasks()
    assert caught.value.code == "RATE_LIMIT_EXCEEDED" and waits == [1.0, 1.0]


class StreamingTrail(FakeTrail):
    """A task whose live stream drops once mid-task, then resumes from the Last-Event-ID it is sent."""

    def __init__(self, events: list[dict]):
        super().__init__([])
        self.events, self.status, self.resumed_from = events, "COMPLETED", []

    @contextmanager
    def open_event_stream(self, task_id: str, *, last_event_id: str | None = None, **_: object):
        self.resumed_from.append(last_event_id)
        start = next((i + 1 for i, e in enumerate(self.events) if e["event_id"] == last_event_id), 0)
        lines = [part for e in self.events[start:] for part in (f"id: {e['event_id']}", f"data: {json.dumps(e)}", "")]
        if last_event_id is None:
            class Dropped:  # two events, then the connection dies
                def iter_lines(self):
                    yield from lines[:6]
                    raise NetworkError("http://api/stream", "connection reset")
            yield Dropped()
            return

        class Body:
            def iter_lines(self):
                yield ": heartbeat"
                yield from lines
        yield Body()


def test_follow_streams_and_resumes_a_dropped_stream_without_loss_or_repeats():
    events = [_transition(0, "SUBMITTED"), _transition(1, "RUNNING"), _turn(2, 1), _transition(3, "COMPLETED")]
    trail = StreamingTrail(events)
    out = io.StringIO()
    task = follow_task(trail, "T", Watcher(Console(file=out, width=200), live=False), interval=0,
                       sleep=lambda _s: None)
    assert task["status"] == "COMPLETED" and trail.resumed_from == [None, "E001"]
    lines = out.getvalue().splitlines()
    assert [line.split("→ ")[-1] for line in lines if "→" in line] == ["SUBMITTED", "RUNNING", "COMPLETED"]
    assert sum("turn 1" in line for line in lines) == 1 and "unavailable" not in out.getvalue()


def test_sse_parsing_skips_comments_and_retry_hints():
    lines = ["retry: 2000", "", ": heartbeat", "", "id: E1", 'data: {"event_id": "E1"}', ""]
    assert list(sse_events(lines)) == [{"event_id": "E1"}]
