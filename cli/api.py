"""The bgagent REST API over httpx: data back, or a typed ApiError / NetworkError."""

from __future__ import annotations

import time
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Callable, Iterator
from urllib.parse import quote

import httpx

from cli.auth import TokenProvider
from cli.errors import ApiError, NetworkError

USER_AGENT = "bgagent-cli/0.1"
_RATE_LIMIT_RETRIES = 2
_MAX_RETRY_AFTER = 10.0
_CASES_PAGE = 1000  # the most a run's read returns at once: each page recomputes the whole run's results


def _seg(value: str) -> str:
    return quote(value, safe="")


class ApiClient:
    """One API base URL with one caller's tokens."""

    def __init__(self, base_url: str, tokens: TokenProvider | None, *, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None, sleep: Callable[[float], None] = time.sleep):
        self.base_url = base_url.rstrip("/")
        self._tokens = tokens
        self._sleep = sleep
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport,
                                  headers={"User-Agent": USER_AGENT})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "ApiClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, path: str, *, params: dict | None = None, body: Any = None,
             headers: dict[str, str] | None = None) -> tuple[dict, httpx.Response]:
        """The response's JSON body; ApiError for an error envelope, NetworkError if nothing answered."""
        params = {k: v for k, v in (params or {}).items() if v is not None}
        refreshed = False
        for attempt in range(_RATE_LIMIT_RETRIES + 1):
            resp = self._send(method, path, params, body, headers or {})
            if resp.status_code == 401 and not refreshed and self._tokens is not None and self._tokens.refresh():
                refreshed = True
                resp = self._send(method, path, params, body, headers or {})
            wait = _retry_after(resp)
            if wait is None or attempt == _RATE_LIMIT_RETRIES:
                break
            # A 429 was refused before anything happened: waiting and repeating is safe for writes too.
            self._sleep(wait)
        return _parse(resp), resp

    def _send(self, method: str, path: str, params: dict, body: Any, headers: dict[str, str]) -> httpx.Response:
        if self._tokens is not None:
            headers = {**headers, "Authorization": f"Bearer {self._tokens.token()}"}
        url = f"{self.base_url}{path}"
        try:
            return self._http.request(method, path, params=params, json=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise NetworkError(url, f"no answer in time ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise NetworkError(url, str(exc) or type(exc).__name__) from exc

    # tasks
    def create_task(self, body: dict, idempotency_key: str | None = None) -> tuple[dict, bool]:
        """The task, and whether it is an Idempotency-Key replay of an earlier submission."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        data, resp = self.call("POST", "/v1/tasks", body=body, headers=headers)
        return data["data"], resp.headers.get("Idempotent-Replay") == "true"

    def list_tasks(self, *, status: str | None = None, repo: str | None = None, limit: int = 20,
                   next_token: str | None = None) -> tuple[list[dict], str | None]:
        data, _ = self.call("GET", "/v1/tasks", params={"status": status, "repo": repo, "limit": limit,
                                                         "next_token": next_token})
        return data["data"], (data.get("pagination") or {}).get("next_token")

    def get_task(self, task_id: str) -> dict:
        return self.call("GET", f"/v1/tasks/{_seg(task_id)}")[0]["data"]

    def cancel_task(self, task_id: str) -> dict:
        return self.call("DELETE", f"/v1/tasks/{_seg(task_id)}")[0]["data"]

    def list_events(self, task_id: str, *, limit: int = 100,
                    next_token: str | None = None) -> tuple[list[dict], str | None]:
        data, _ = self.call("GET", f"/v1/tasks/{_seg(task_id)}/events",
                            params={"limit": limit, "next_token": next_token})
        return data["data"], (data.get("pagination") or {}).get("next_token")

    def nudge(self, task_id: str, message: str) -> dict:
        return self.call("POST", f"/v1/tasks/{_seg(task_id)}/nudge", body={"message": message})[0]["data"]

    def pending(self) -> list[dict]:
        return self.call("GET", "/v1/pending")[0]["data"]

    def decide(self, task_id: str, verb: str, approval_id: str, reason: str | None = None) -> dict:
        """`verb` is approve or deny."""
        body = {"approval_id": approval_id, **({"reason": reason} if reason else {})}
        return self.call("POST", f"/v1/tasks/{_seg(task_id)}/{verb}", body=body)[0]["data"]

    def open_event_stream(self, task_id: str, *, last_event_id: str | None = None,
                          read_timeout: float = 45.0) -> AbstractContextManager[httpx.Response]:
        """The task's live event stream, open; ApiError if refused, NetworkError if unreachable."""
        headers = {"Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        return self._stream(f"/v1/tasks/{_seg(task_id)}/events/stream", headers, None,
                            read_timeout, "the stream went quiet")

    @contextmanager
    def _stream(self, path: str, headers: dict[str, str], params: dict | None, read_timeout: float,
                quiet: str) -> Iterator[httpx.Response]:
        """A GET whose body is read as it arrives; ApiError if refused, NetworkError if unreachable."""
        if self._tokens is not None:
            headers = {**headers, "Authorization": f"Bearer {self._tokens.token()}"}
        try:
            with self._http.stream("GET", path, params=params, headers=headers,
                                   timeout=httpx.Timeout(30.0, read=read_timeout)) as resp:
                if not resp.is_success:
                    resp.read()
                    _parse(resp)
                yield resp
        except httpx.TimeoutException as exc:
            raise NetworkError(f"{self.base_url}{path}", f"{quiet} ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise NetworkError(f"{self.base_url}{path}", str(exc) or type(exc).__name__) from exc

    # webhooks
    def create_webhook(self, name: str) -> dict:
        return self.call("POST", "/v1/webhooks", body={"name": name})[0]["data"]

    def list_webhooks(self, *, limit: int = 100, next_token: str | None = None) -> tuple[list[dict], str | None]:
        data, _ = self.call("GET", "/v1/webhooks", params={"limit": limit, "next_token": next_token})
        return data["data"], (data.get("pagination") or {}).get("next_token")

    def revoke_webhook(self, webhook_id: str) -> dict:
        return self.call("DELETE", f"/v1/webhooks/{_seg(webhook_id)}")[0]["data"]

    # model endpoints (operators register and remove them)
    def create_model_endpoint(self, body: dict) -> dict:
        return self.call("POST", "/v1/model-endpoints", body=body)[0]["data"]

    def list_model_endpoints(self) -> list[dict]:
        return self.call("GET", "/v1/model-endpoints")[0]["data"]

    def delete_model_endpoint(self, name: str) -> dict:
        return self.call("DELETE", f"/v1/model-endpoints/{_seg(name)}")[0]["data"]

    # schedules
    def create_schedule(self, body: dict) -> dict:
        return self.call("POST", "/v1/schedules", body=body)[0]["data"]

    def list_schedules(self, *, limit: int = 100, next_token: str | None = None) -> tuple[list[dict], str | None]:
        data, _ = self.call("GET", "/v1/schedules", params={"limit": limit, "next_token": next_token})
        return data["data"], (data.get("pagination") or {}).get("next_token")

    def get_schedule(self, schedule_id: str) -> dict:
        return self.call("GET", f"/v1/schedules/{_seg(schedule_id)}")[0]["data"]

    def update_schedule(self, schedule_id: str, changes: dict) -> dict:
        return self.call("PATCH", f"/v1/schedules/{_seg(schedule_id)}", body=changes)[0]["data"]

    def delete_schedule(self, schedule_id: str) -> dict:
        return self.call("DELETE", f"/v1/schedules/{_seg(schedule_id)}")[0]["data"]

    # evaluation runs
    def create_eval(self, body: dict) -> dict:
        return self.call("POST", "/v1/evals", body=body)[0]["data"]

    def list_evals(self, *, limit: int = 100, next_token: str | None = None) -> tuple[list[dict], str | None]:
        data, _ = self.call("GET", "/v1/evals", params={"limit": limit, "next_token": next_token})
        return data["data"], (data.get("pagination") or {}).get("next_token")

    def get_eval(self, eval_id: str, *, cases: bool = True) -> dict:
        """The run with its results and every case (later pages fetched and joined); `cases=False`: the first only."""
        data, _ = self.call("GET", f"/v1/evals/{_seg(eval_id)}", params={"limit": _CASES_PAGE if cases else 1})
        run = data["data"]
        token = (data.get("pagination") or {}).get("next_token")
        while token and cases:
            data, _ = self.call("GET", f"/v1/evals/{_seg(eval_id)}", params={"limit": _CASES_PAGE, "next_token": token})
            run["cases"] = [*run.get("cases", []), *data["data"].get("cases", [])]
            token = (data.get("pagination") or {}).get("next_token")
        return run

    def cancel_eval(self, eval_id: str) -> dict:
        return self.call("DELETE", f"/v1/evals/{_seg(eval_id)}")[0]["data"]

    def open_rollouts(self, eval_id: str, *, format: str | None = None) -> AbstractContextManager[httpx.Response]:
        """The run's rollouts (NDJSON, one attempt a line), open for streaming."""
        return self._stream(f"/v1/evals/{_seg(eval_id)}/rollouts", {"Accept": "application/x-ndjson"},
                            {"format": format} if format else None, 300.0, "no answer in time")

    # web panel
    def create_login_link(self) -> dict:
        """A one-time link that signs a browser in to the web panel as this caller."""
        return self.call("POST", "/v1/ui/login-links")[0]["data"]


Page = tuple[list[dict], str | None]


def collect(fetch: Callable[..., Page], *, limit: int | None = None, page_size: int = 100) -> Page:
    """Follow `next_token` until `limit` items or the last page; returns the items and the token left."""
    items: list[dict] = []
    token = None
    while limit is None or len(items) < limit:
        size = page_size if limit is None else min(page_size, limit - len(items))
        batch, token = fetch(limit=size, next_token=token)
        items += batch
        if not token:
            break
    return items, token


def _retry_after(resp: httpx.Response) -> float | None:
    """Seconds to wait before repeating a rate-limited request; None when it should not be repeated."""
    if resp.status_code != 429:
        return None
    try:
        wait = float(resp.headers.get("Retry-After", "1"))
    except ValueError:
        return None
    return max(wait, 0.0) if wait <= _MAX_RETRY_AFTER else None


def _parse(resp: httpx.Response) -> dict:
    try:
        body = resp.json()
    except ValueError:
        body = None
    if resp.is_success and isinstance(body, dict):
        return body
    error = body.get("error") if isinstance(body, dict) else None
    request_id = resp.headers.get("X-Request-Id")
    if isinstance(error, dict) and error.get("code"):
        raise ApiError(str(error["code"]), str(error.get("message") or ""), status=resp.status_code,
                       request_id=error.get("request_id") or request_id, details=error.get("details"))
    text = " ".join(resp.text.split())[:200] or resp.reason_phrase
    raise ApiError(f"HTTP_{resp.status_code}", f"unexpected answer from {resp.request.url}: {text}",
                   status=resp.status_code, request_id=request_id)
