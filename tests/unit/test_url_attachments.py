"""URL attachments at hydration: https only, no private addresses after resolution (redirects re-checked),
time and size caps, content checked like inline attachments."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from services.hydrator.url_attachments import AttachmentResolver, UrlFetcher
from shared.attachments.errors import AttachmentFetchFailed
from shared.attachments.models import AttachmentRef
from tests.fakes.collaborators import InMemoryAttachments

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PUBLIC = "93.184.215.14"


def resolver(table: dict[str, list[str]]):
    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError("no such host")
        return table[host]
    return resolve


def fetcher(handler, table=None, **kw) -> tuple[UrlFetcher, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)
    table = table or {"example.com": [PUBLIC], "cdn.example.com": [PUBLIC]}
    return UrlFetcher(resolver=resolver(table), transport=httpx.MockTransport(record), **kw), seen


async def test_a_public_https_url_is_fetched_over_the_resolved_address_with_its_name():
    f, seen = fetcher(lambda r: httpx.Response(200, content=PNG, headers={"content-type": "image/png"}))
    data, content_type, name = await f.fetch("https://example.com/img/diagram.png?x=1")
    assert (data, content_type, name) == (PNG, "image/png", "diagram.png")
    request = seen[0]
    assert request.url.host == PUBLIC and request.headers["host"] == "example.com"
    assert request.extensions["sni_hostname"] == "example.com" and request.url.query == b"x=1"


@pytest.mark.parametrize("table, url", [
    ({"internal.example.com": ["10.1.2.3"]}, "https://internal.example.com/x.png"),
    ({"meta.example.com": ["169.254.169.254"]}, "https://meta.example.com/latest/meta-data/"),
    ({"mixed.example.com": [PUBLIC, "127.0.0.1"]}, "https://mixed.example.com/x.png"),
    ({}, "https://127.0.0.1/x.png"),
    ({}, "https://nowhere.invalid/x.png"),
    ({"example.com": [PUBLIC]}, "http://example.com/x.png"),
])
async def test_private_unresolvable_or_plain_http_urls_are_refused_before_any_request(table, url):
    if url.startswith("https://127.0.0.1"):
        table = {"127.0.0.1": ["127.0.0.1"]}
    f, seen = fetcher(lambda r: httpx.Response(200, content=PNG), table)
    with pytest.raises(AttachmentFetchFailed):
        await f.fetch(url)
    assert seen == []


async def test_every_redirect_is_checked_again():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": "https://sneaky.example.com/admin"})
    f, seen = fetcher(handler, {"example.com": [PUBLIC], "sneaky.example.com": ["192.168.0.10"]})
    with pytest.raises(AttachmentFetchFailed, match="private"):
        await f.fetch("https://example.com/start")
    assert len(seen) == 1

    def to_http(request: httpx.Request) -> httpx.Response:
        return httpx.Response(301, headers={"location": "http://example.com/plain"})
    f, _ = fetcher(to_http)
    with pytest.raises(AttachmentFetchFailed, match="https"):
        await f.fetch("https://example.com/start")


async def test_a_redirect_to_a_public_host_is_followed():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["host"] == "example.com":
            return httpx.Response(302, headers={"location": "https://cdn.example.com/a/b.png"})
        return httpx.Response(200, content=PNG, headers={"content-type": "image/png"})
    f, seen = fetcher(handler)
    assert (await f.fetch("https://example.com/x"))[0] == PNG
    assert [r.headers["host"] for r in seen] == ["example.com", "cdn.example.com"]


async def test_size_and_time_caps():
    f, _ = fetcher(lambda r: httpx.Response(200, content=b"x" * 2048), max_bytes=1024)
    with pytest.raises(AttachmentFetchFailed, match="larger"):
        await f.fetch("https://example.com/big")

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200, content=PNG)
    f = UrlFetcher(resolver=resolver({"example.com": [PUBLIC]}), transport=httpx.MockTransport(slow), timeout=0.2)
    with pytest.raises(AttachmentFetchFailed, match="within"):
        await f.fetch("https://example.com/slow")


async def test_the_resolver_stores_fetched_content_and_refuses_mislabelled_content():
    store = InMemoryAttachments()
    f, _ = fetcher(lambda r: httpx.Response(200, content=PNG, headers={"content-type": "image/png"}))
    refs = [AttachmentRef(type="url", url="https://example.com/p.png"),
            AttachmentRef(type="image", content_type="image/png", key="tasks/t1/attachments/01-a.png")]
    resolved = await AttachmentResolver(store, f).resolve("t1", refs)
    assert resolved[0].key == "tasks/t1/attachments/00-p.png" and resolved[0].type == "image"
    assert store.objects[resolved[0].key] == (PNG, "image/png") and resolved[1] == refs[1]

    lying, _ = fetcher(lambda r: httpx.Response(200, content=b"<html>", headers={"content-type": "image/png"}))
    with pytest.raises(AttachmentFetchFailed, match="declared image/png"):
        await AttachmentResolver(store, lying).resolve("t2", refs[:1])
    html, _ = fetcher(lambda r: httpx.Response(200, content=b"<html>", headers={"content-type": "text/html"}))
    with pytest.raises(AttachmentFetchFailed, match="text/html"):
        await AttachmentResolver(store, html).resolve("t3", refs[:1])
