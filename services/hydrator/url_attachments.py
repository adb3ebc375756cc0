"""Fetching URL attachments at hydration: https only, public addresses only (checked after DNS resolution and
pinned for the connection, on every redirect), within a time and size cap."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from typing import Awaitable, Callable
from urllib.parse import urljoin, urlsplit

import httpx

from shared.attachments.content import checked_content
from shared.attachments.errors import AttachmentFetchFailed, AttachmentRejected
from shared.attachments.models import FILE_TYPES, IMAGE_TYPES, MAX_URL_BYTES, URL_FETCH_TIMEOUT, AttachmentRef
from shared.attachments.store import AttachmentStore, stored_ref
from shared.netaddr import public_address

Resolver = Callable[[str, int], Awaitable[list[str]]]
_REDIRECTS = {301, 302, 303, 307, 308}
_MAX_REDIRECTS = 5


async def resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _filename(path: str) -> str:
    name = path.rstrip("/").rsplit("/", 1)[-1].lstrip(".").replace("\\", "")[:100]
    return name or "attachment"


@dataclass
class UrlFetcher:
    """GETs one URL attachment; AttachmentFetchFailed with a readable reason otherwise."""

    resolver: Resolver = resolve
    allow: Callable[[str], bool] = public_address
    transport: httpx.AsyncBaseTransport | None = None
    timeout: float = URL_FETCH_TIMEOUT
    max_bytes: int = MAX_URL_BYTES
    _client: httpx.AsyncClient | None = field(default=None, init=False)

    async def fetch(self, url: str) -> tuple[bytes, str, str]:
        """(content, content type, filename) of `url`."""
        try:
            async with asyncio.timeout(self.timeout):
                return await self._follow(url)
        except TimeoutError as exc:
            raise AttachmentFetchFailed(f"{url[:200]} did not answer within {self.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise AttachmentFetchFailed(f"fetching {url[:200]} failed: {type(exc).__name__}") from exc

    async def _follow(self, url: str) -> tuple[bytes, str, str]:
        async with httpx.AsyncClient(transport=self.transport, follow_redirects=False, trust_env=False) as client:
            for _ in range(_MAX_REDIRECTS + 1):
                parts = urlsplit(url)
                if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
                    raise AttachmentFetchFailed(f"{url[:200]} is not an https URL without credentials")
                address = await self._address(parts.hostname, parts.port or 443)
                host = f"[{address}]" if ":" in address else address
                pinned = parts._replace(netloc=f"{host}:{parts.port or 443}").geturl()
                async with client.stream("GET", pinned, headers={"Host": parts.netloc},
                                         extensions={"sni_hostname": parts.hostname}) as resp:
                    if resp.status_code in _REDIRECTS and resp.headers.get("location"):
                        url = urljoin(url, resp.headers["location"])
                        continue
                    if resp.status_code != 200:
                        raise AttachmentFetchFailed(f"{url[:200]} answered HTTP {resp.status_code}")
                    content_type = resp.headers.get("content-type", "").split(";")[0].strip().lower()
                    return await self._body(resp, url), content_type, _filename(parts.path)
        raise AttachmentFetchFailed(f"{url[:200]} redirected more than {_MAX_REDIRECTS} times")

    async def _address(self, host: str, port: int) -> str:
        try:
            addresses = await self.resolver(host, port)
        except OSError as exc:
            raise AttachmentFetchFailed(f"{host} does not resolve") from exc
        refused = [a for a in addresses if not self.allow(a)]
        if refused or not addresses:
            raise AttachmentFetchFailed(f"{host} resolves to a private, loopback or link-local address: refused")
        return addresses[0]

    async def _body(self, resp: httpx.Response, url: str) -> bytes:
        declared = resp.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise AttachmentFetchFailed(f"{url[:200]} is larger than {self.max_bytes} bytes")
        chunks, size = [], 0
        async for chunk in resp.aiter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise AttachmentFetchFailed(f"{url[:200]} is larger than {self.max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


@dataclass
class AttachmentResolver:
    """Makes every attachment of a task stored content: URLs are fetched, checked and stored under the task."""

    store: AttachmentStore
    fetcher: UrlFetcher

    async def resolve(self, task_id: str, refs: list[AttachmentRef]) -> list[AttachmentRef]:
        resolved = []
        for index, ref in enumerate(refs):
            if ref.stored or not ref.url:
                resolved.append(ref)
                continue
            data, content_type, name = await self.fetcher.fetch(ref.url)
            if content_type not in IMAGE_TYPES | FILE_TYPES:
                raise AttachmentFetchFailed(f"{ref.url[:200]} is {content_type or 'of no declared type'}, "
                                            "not an accepted image or file type")
            try:
                content = checked_content(data, content_type, index)
            except AttachmentRejected as exc:
                raise AttachmentFetchFailed(f"{ref.url[:200]}: {exc.message}") from exc
            kind = "image" if content_type in IMAGE_TYPES else "file"
            fetched = AttachmentRef(type=kind, content_type=content_type, filename=ref.filename or name, url=ref.url)
            stored = stored_ref(fetched, task_id, index, content)
            await self.store.put(stored.key or "", content, content_type)
            resolved.append(stored)
        return resolved
