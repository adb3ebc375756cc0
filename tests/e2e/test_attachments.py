"""Attachments through the whole platform: the model's first request carries an image block and a document
block with the very bytes submitted; a URL to a private address fails the task in hydration, classified."""

from __future__ import annotations

import base64

import pytest

from tests.doubles.scenarios import FAKE_EDIT

pytestmark = pytest.mark.e2e

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
       + b"\x00" * 32)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Page >> endobj\n%%EOF\n"


def test_an_image_and_a_pdf_reach_the_model_with_the_same_bytes(platform):
    platform.add_repo("acme/attach")
    body = {"repo": "acme/attach", "task_description": "Implement what the screenshot and spec show",
            "model_id": FAKE_EDIT, "attachments": [
                {"type": "image", "content_type": "image/png", "data": base64.b64encode(PNG).decode(),
                 "filename": "screen.png"},
                {"type": "file", "content_type": "application/pdf", "data": base64.b64encode(PDF).decode(),
                 "filename": "spec.pdf"},
                {"type": "file", "content_type": "text/csv", "data": base64.b64encode(b"a,b\n1,2\n").decode(),
                 "filename": "data.csv"}]}
    with platform.client("ada") as c:
        resp = c.post("/v1/tasks", json=body)
    assert resp.status_code == 201, resp.text
    task = platform.wait_for("ada", resp.json()["data"]["task_id"])
    assert task["status"] == "COMPLETED", task
    first = next(r for r in platform.anthropic.requests_for(FAKE_EDIT)
                 if any(b.get("type") == "image" for b in r["messages"][0]["content"]))
    content = first["messages"][0]["content"]
    assert content[0]["type"] == "text"
    image, pdf, csv = content[1:4]
    assert image["type"] == "image" and image["source"]["media_type"] == "image/png"
    assert base64.b64decode(image["source"]["data"]) == PNG
    assert pdf["type"] == "document" and pdf["title"] == "spec.pdf"
    assert base64.b64decode(pdf["source"]["data"]) == PDF
    assert csv["source"] == {"type": "text", "media_type": "text/plain", "data": "a,b\n1,2\n"}


def test_a_url_to_a_private_address_fails_in_hydration_with_a_remedy(platform):
    platform.add_repo("acme/attach-url")
    body = {"repo": "acme/attach-url", "task_description": "look at this", "model_id": FAKE_EDIT,
            "attachments": [{"type": "url", "url": "https://127.0.0.1/metadata.png"}]}
    with platform.client("ada") as c:
        task_id = c.post("/v1/tasks", json=body).json()["data"]["task_id"]
    task = platform.wait_for("ada", task_id)
    assert task["status"] == "FAILED" and task["error_code"] == "ATTACHMENT_FETCH_FAILED"
    assert "private" in task["error_message"] and task["error_classification"]["remedy"]
    assert task["started_at"] is None  # no agent was started
