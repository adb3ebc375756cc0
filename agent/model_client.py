"""The one call the agent makes to the model, behind a narrow Protocol: timeouts, retries and readable failures."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any, Protocol

import anthropic
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from agent.errors import AUTH_REMEDY, ModelAuthFailed, ModelNotServed, ModelRefused, ModelUnavailable
from agent.pricing import Usage

log = logging.getLogger(__name__)
_RETRYABLE_STATUS = {408, 409, 429}
# How the API words a refusal because the model is gone (beside 404 not_found_error).
_RETIRED_WORDS = re.compile(r"deprecat|retired|end[- ]of[- ]life|no longer (?:available|supported|served)", re.I)
_AUTH_STATUS = {401, 403}


@dataclass(frozen=True)
class ModelReply:
    """A model's answer as plain API-shaped dicts, so the loop never touches SDK types."""

    content: list[dict[str, Any]]
    stop_reason: str | None
    usage: Usage


class ModelClient(Protocol):
    """Creates one message; raises ModelRefused (4xx) or ModelUnavailable (retries exhausted)."""

    async def create(self, *, model: str, max_tokens: int, system: list[dict[str, Any]],
                     tools: list[dict[str, Any]], messages: list[dict[str, Any]]) -> ModelReply: ...

    async def aclose(self) -> None: ...


class _Transient(Exception):
    """A failure worth another attempt (429, 5xx, 529 overloaded, timeouts, connection errors)."""


def _block(block: Any) -> dict[str, Any]:
    if block.type == "text":
        return {"type": "text", "text": block.text}
    if block.type == "tool_use":
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    return block.model_dump(mode="json", exclude_none=True)


def _usage(usage: Any) -> Usage:
    return Usage(input=usage.input_tokens or 0, output=usage.output_tokens or 0,
                 cache_read=getattr(usage, "cache_read_input_tokens", None) or 0,
                 cache_write=getattr(usage, "cache_creation_input_tokens", None) or 0)


def describe_status_error(exc: anthropic.APIStatusError) -> str:
    """`400 invalid_request_error: prompt is too long` rather than a dump of the response."""
    body = exc.body if isinstance(exc.body, dict) else {}
    raw = body.get("error")
    error: dict[str, Any] = raw if isinstance(raw, dict) else {}
    kind, message = error.get("type") or type(exc).__name__, error.get("message") or exc.message
    return f"{exc.status_code} {kind}: {message}"


def model_not_served(exc: anthropic.APIStatusError) -> bool:
    """True when the API refuses because it does not (or no longer) serve the requested model."""
    body = exc.body if isinstance(exc.body, dict) else {}
    raw = body.get("error")
    error: dict[str, Any] = raw if isinstance(raw, dict) else {}
    message = str(error.get("message") or exc.message)
    if exc.status_code == 404 or error.get("type") == "not_found_error":
        return True
    return exc.status_code in (400, 410) and "model" in message.lower() and bool(_RETIRED_WORDS.search(message))


class AnthropicModelClient:
    """ModelClient over `anthropic.AsyncAnthropic` or `AsyncAnthropicBedrock`.

    The SDK retries each call `max_retries` times (honouring retry-after); on top of that this
    client makes at most `attempts` calls with capped exponential backoff, each bounded by a
    wall-clock deadline, then gives up with ModelUnavailable.
    """

    def __init__(self, sdk: Any, *, call_timeout: float, call_deadline: float, attempts: int,
                 max_wait: float, initial_wait: float = 1.0):
        self._sdk = sdk
        self._call_timeout = call_timeout
        self._call_deadline = call_deadline
        self._attempts = attempts
        self._max_wait = max_wait
        self._initial_wait = min(initial_wait, max_wait)

    async def create(self, *, model: str, max_tokens: int, system: list[dict[str, Any]],
                     tools: list[dict[str, Any]], messages: list[dict[str, Any]]) -> ModelReply:
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type(_Transient), stop=stop_after_attempt(self._attempts),
                wait=wait_exponential_jitter(multiplier=self._initial_wait, max=self._max_wait,
                                            jitter=self._initial_wait), reraise=True,
            ):
                with attempt:
                    return await self._once(model=model, max_tokens=max_tokens, system=system, tools=tools,
                                            messages=messages)
        except _Transient as exc:
            raise ModelUnavailable(f"the model API kept failing after {self._attempts} attempts: {exc}") from exc
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        """Close the SDK's connections."""
        await self._sdk.close()

    async def _once(self, **request: Any) -> ModelReply:
        try:
            message = await asyncio.wait_for(
                self._sdk.messages.create(**request, timeout=self._call_timeout), self._call_deadline)
        except anthropic.APIStatusError as exc:
            if exc.status_code in _RETRYABLE_STATUS or exc.status_code >= 500:
                log.warning("model call failed, will retry", extra={"status": exc.status_code})
                raise _Transient(describe_status_error(exc)) from exc
            if model_not_served(exc):
                raise ModelNotServed(f"the model API does not serve model {request['model']!r} "
                                     f"({describe_status_error(exc)})", exc.status_code) from exc
            if exc.status_code in _AUTH_STATUS:
                raise ModelAuthFailed(f"the model API rejected the credentials ({describe_status_error(exc)}): "
                                      f"{AUTH_REMEDY}", exc.status_code) from exc
            raise ModelRefused(f"the model API refused the request ({describe_status_error(exc)})",
                               exc.status_code) from exc
        except (anthropic.APIConnectionError, TimeoutError) as exc:
            raise _Transient(f"{type(exc).__name__}: no answer within {self._call_deadline:g} s"
                             if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}") from exc
        except anthropic.AnthropicError as exc:  # a misconfigured client: retrying cannot help
            raise ModelRefused(f"the model client could not make the call: {exc}") from exc
        return ModelReply([_block(b) for b in message.content], message.stop_reason, _usage(message.usage))
