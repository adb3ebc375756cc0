"""Attachments on task creation: every limit and code, content checked by magic bytes, nothing stored on refusal."""

from __future__ import annotations

import base64

import pytest

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 40
PDF = b"%PDF-1.4\n1 0 obj << /Type /Page >> endobj\n%%EOF\n"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def body(*attachments: dict, **extra) -> dict:
    return {"repo": "acme/app", "task_description": "see attached", "attachments": list(attachments), **extra}


def image(data: bytes = PNG, content_type: str = "image/png", **extra) -> dict:
    return {"type": "image", "content_type": content_type, "data": b64(data), "filename": "shot.png", **extra}


async def test_inline_attachments_are_stored_under_the_task_and_referenced(gw):
    text = {"type": "file", "content_type": "text/markdown", "data": b64("# Notes\n".encode()), "filename": "n.md"}
    pdf = {"type": "file", "content_type": "application/pdf", "data": b64(PDF), "filename": "spec.pdf"}
    url = {"type": "url", "url": "https://example.com/design.png"}
    async with gw.client("alice") as c:
        resp = await c.post("/v1/tasks", json=body(image(), text, pdf, url))
    assert resp.status_code == 201, resp.text
    task = resp.json()["data"]
    refs = task["attachments"]
    assert [r["type"] for r in refs] == ["image", "file", "file", "url"]
    stored = gw.deps.attachments.objects
    assert stored[refs[0]["key"]] == (PNG, "image/png") and stored[refs[2]["key"]] == (PDF, "application/pdf")
    assert all(r["key"].startswith(f"tasks/{task['task_id']}/attachments/") for r in refs[:3])
    assert refs[3]["url"] == url["url"] and "key" not in refs[3] or refs[3]["key"] is None


async def test_secrets_in_text_attachments_are_masked_before_storing(gw):
    leaked = "token ghp_" + "a" * 36
    text = {"type": "file", "content_type": "text/plain", "data": b64(leaked.encode()), "filename": "log.txt"}
    async with gw.client("alice") as c:
        resp = await c.post("/v1/tasks", json=body(text))
    key = resp.json()["data"]["attachments"][0]["key"]
    assert b"ghp_" + b"a" * 36 not in gw.deps.attachments.objects[key][0]


@pytest.mark.parametrize("attachment, code", [
    (image(JPEG), "ATTACHMENT_INVALID_CONTENT"),                       # declared png, is jpeg
    (image(b"not an image at all"), "ATTACHMENT_INVALID_CONTENT"),
    (image(content_type="image/svg+xml"), "ATTACHMENT_INVALID"),      # not an accepted type
    ({"type": "file", "content_type": "application/pdf", "data": b64(b"%PDF-1.4 truncated")},
     "ATTACHMENT_INVALID_CONTENT"),
    ({"type": "file", "content_type": "application/pdf", "data": b64(PDF.replace(b"<<", b"<< /Encrypt 5 0 R"))},
     "ATTACHMENT_INVALID_CONTENT"),
    ({"type": "file", "content_type": "application/json", "data": b64(b"{not json")}, "ATTACHMENT_INVALID_CONTENT"),
    ({"type": "file", "content_type": "text/plain", "data": b64(b"\xff\xfe\xfa")}, "ATTACHMENT_INVALID_CONTENT"),
    ({"type": "file", "content_type": "text/plain", "data": "%%% not base64"}, "ATTACHMENT_INVALID_CONTENT"),
    (image(PNG + b"\x00" * (500 * 1024)), "ATTACHMENT_TOO_LARGE"),
    (image(filename="../../etc/passwd"), "ATTACHMENT_INVALID"),
    (image(filename=".bashrc"), "ATTACHMENT_INVALID"),
    (image(filename="a\\b.png"), "ATTACHMENT_INVALID"),
    ({"type": "url", "url": "http://example.com/x.png"}, "ATTACHMENT_INVALID"),
    ({"type": "url", "url": "https://user:pw@example.com/x.png"}, "ATTACHMENT_INVALID"),
    ({"type": "url", "url": "https://example.com/x", "data": b64(PNG)}, "ATTACHMENT_INVALID"),
    ({"type": "image", "content_type": "image/png", "url": "https://example.com/x.png"}, "ATTACHMENT_INVALID"),
])
async def test_bad_attachments_are_400_with_their_code_and_nothing_is_stored(gw, attachment, code):
    async with gw.client("alice") as c:
        resp = await c.post("/v1/tasks", json=body(attachment))
    assert resp.status_code == 400, resp.text
    err = resp.json()["error"]
    assert err["code"] == code and err["details"][0]["field"] == "attachments.0"
    assert gw.deps.attachments.objects == {}
    assert (await gw.tasks.list_for_user("alice"))[0] == []


async def test_too_many_and_too_much_in_all(gw):
    async with gw.client("alice") as c:
        many = await c.post("/v1/tasks", json=body(*[image()] * 11))
        assert many.status_code == 400 and many.json()["error"]["code"] == "ATTACHMENT_LIMIT_EXCEEDED"
        big = PNG + b"\x00" * (450 * 1024)
        total = await c.post("/v1/tasks", json=body(*[image(big)] * 7))  # 7 × 450 KB > 3 MB
        assert total.status_code == 400 and total.json()["error"]["code"] == "ATTACHMENT_TOO_LARGE"
        ten = await c.post("/v1/tasks", json=body(*[image()] * 10))
        assert ten.status_code == 201
    assert len(gw.deps.attachments.objects) == 10


async def test_the_task_route_takes_more_than_a_megabyte_but_other_routes_do_not(gw):
    big = PNG + b"\x00" * (400 * 1024)
    async with gw.client("alice") as c:
        resp = await c.post("/v1/tasks", json=body(*[image(big)] * 5))  # ≈ 2.7 MB of JSON
        assert resp.status_code == 201, resp.text[:300]
        hook = await c.post("/v1/webhooks", json={"name": "x" * 10, "pad": "y" * 1_100_000})
        assert hook.status_code == 413
        huge = await c.post("/v1/tasks", content=b"{" + b" " * 5_000_000 + b"}",
                            headers={"content-type": "application/json"})
        assert huge.status_code == 413


async def test_a_failed_create_leaves_no_orphaned_content(gw):
    async with gw.client("alice") as c:
        first = await c.post("/v1/tasks", json=body(image()), headers={"Idempotency-Key": "k1"})
        again = await c.post("/v1/tasks", json=body(image()), headers={"Idempotency-Key": "k1"})
    assert first.status_code == 201 and again.status_code == 200
    assert list(gw.deps.attachments.objects) == [first.json()["data"]["attachments"][0]["key"]]
