"""The real provider behind the relay: the only code that holds the model credential and adds it to a request."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import anthropic
import httpx

from agent.errors import AUTH_REMEDY
from agent.relay.errors import UpstreamUnreachable
from shared.tls import client_context

# Response headers a client may act on (retry pacing, request ids for support); nothing else is passed on.
_PASSED_ON = ("content-type", "request-id", "retry-after", "x-should-retry")
_CONNECT_TIMEOUT = 10.0


@dataclass
class UpstreamReply:
    """The provider's answer: status, the headers passed on, and the body as it arrives."""

    status: int
    headers: dict[str, str]
    chunks: AsyncIterator[bytes]
    close: Callable[[], Awaitable[None]]


class Upstream(Protocol):
    """Sends one Messages API request to the provider, with the credential added."""

    async def send(self, path: str, query: str, headers: dict[str, str], body: dict[str, Any]) -> UpstreamReply: ...

    async def aclose(self) -> None: ...


def _passed_on(headers: httpx.Headers) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k in _PASSED_ON or k.startswith("anthropic-ratelimit-")}


class AnthropicUpstream:
    """The Anthropic API (or a compatible endpoint) with an API key, over one pooled HTTPS client."""

    def __init__(self, base_url: str | None, api_key: str | None, *, timeout: float):
        self._base = (base_url or "https://api.anthropic.com").rstrip("/")
        self._key = api_key
        self._client = httpx.AsyncClient(verify=client_context(),
                                         timeout=httpx.Timeout(timeout, connect=_CONNECT_TIMEOUT))

    async def send(self, path: str, query: str, headers: dict[str, str], body: dict[str, Any]) -> UpstreamReply:
        if not self._key:  # answered here: the provider would only say the same after a round trip (or none, offline)
            return _envelope(401, "authentication_error", f"no model credentials are configured: {AUTH_REMEDY}")
        request = self._client.build_request("POST", f"{self._base}{path}" + (f"?{query}" if query else ""),
                                             headers={**headers, "x-api-key": self._key},
                                             content=json.dumps(body).encode())
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise UpstreamUnreachable(f"could not reach the model API: {type(exc).__name__}") from exc
        return UpstreamReply(response.status_code, _passed_on(response.headers), _chunks(response), response.aclose)

    async def aclose(self) -> None:
        await self._client.aclose()


async def _chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.aiter_bytes():
            yield chunk
    except httpx.HTTPError as exc:
        raise UpstreamUnreachable(f"the model API's reply broke off: {type(exc).__name__}") from exc


class BedrockUpstream:
    """Amazon Bedrock through the anthropic SDK's Bedrock client, which signs each request (SigV4) and maps the
    Messages API onto Bedrock's invoke routes; a streamed reply is re-framed as server-sent events."""

    def __init__(self, region: str, *, timeout: float):
        self._sdk = anthropic.AsyncAnthropicBedrock(aws_region=region, max_retries=0, timeout=timeout)

    async def send(self, path: str, query: str, headers: dict[str, str], body: dict[str, Any]) -> UpstreamReply:
        if path != "/v1/messages":
            return _envelope(404, "not_found_error", "token counting is not served on Bedrock")
        betas = {"anthropic-beta": headers["anthropic-beta"]} if "anthropic-beta" in headers else {}
        try:
            if body.get("stream"):
                # As the SDK's own messages.create streams: events typed by the stream class.
                stream = await self._sdk.post("/v1/messages", body=body, cast_to=anthropic.types.Message, stream=True,
                                              stream_cls=anthropic.AsyncStream[anthropic.types.RawMessageStreamEvent],
                                              options={"headers": betas})
                return UpstreamReply(200, {"content-type": "text/event-stream"}, _events(stream), stream.close)
            message = await self._sdk.post("/v1/messages", body=body, cast_to=anthropic.types.Message,
                                           options={"headers": betas})
        except anthropic.APIStatusError as exc:
            return _envelope(exc.status_code, "api_error", exc.message, exc.body)
        except anthropic.APIConnectionError as exc:
            raise UpstreamUnreachable(f"could not reach Bedrock: {type(exc).__name__}") from exc
        return _whole(200, message.to_json().encode())

    async def aclose(self) -> None:
        await self._sdk.close()


async def _events(stream: Any) -> AsyncIterator[bytes]:
    async for event in stream:
        yield f"event: {event.type}\ndata: {event.to_json(indent=None)}\n\n".encode()


def _envelope(status: int, kind: str, message: str, body: Any = None) -> UpstreamReply:
    envelope = body if isinstance(body, dict) and "error" in body else {
        "type": "error", "error": {"type": kind, "message": message}}
    return _whole(status, json.dumps(envelope).encode())


def _whole(status: int, data: bytes) -> UpstreamReply:
    async def chunks() -> AsyncIterator[bytes]:
        yield data

    async def close() -> None:
        return None

    return UpstreamReply(status, {"content-type": "application/json"}, chunks(), close)
