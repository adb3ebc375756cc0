"""POST /v1/webhooks/tasks: a task from a caller holding a webhook's secret (HMAC-signed request)."""

from __future__ import annotations

import logging
import re
import time
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from pydantic import ValidationError

from services.gateway.adapters.webhooks import WEBHOOK_ID, Webhook
from services.gateway.deps import Deps, GatewayDeps, enforce_rate_limit
from services.gateway.openapi import ALWAYS, errors, success_headers
from services.gateway.refusals import InvalidRequest, Unauthorized
from services.gateway.routes.tasks import submission_response
from services.gateway.schemas import CreateTaskRequest, TaskResponse
from services.gateway.signatures import matches, timestamp_fresh, webhook_signature
from services.gateway.submission import submit_task

log = logging.getLogger(__name__)
router = APIRouter(tags=["webhooks"])

_DELIVERY = re.compile(r"^[\x21-\x7e]{1,128}$")
# One answer for every authentication failure: no oracle for which webhooks exist or are revoked.
_REFUSED = "the webhook request is not signed correctly"

_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/CreateTaskRequest"}}}}}


def parse_task_request(raw: bytes) -> CreateTaskRequest:
    """The body as a CreateTaskRequest, or 400 VALIDATION_ERROR with the fields at fault."""
    try:
        return CreateTaskRequest.model_validate_json(raw or b"null")
    except ValidationError as exc:
        raise InvalidRequest.naming("the request is not valid", exc) from exc


async def authenticate(d: GatewayDeps, webhook_id: str | None, timestamp: str | None, signature: str | None,
                       body: bytes) -> Webhook:
    """The active webhook whose secret signed `{timestamp}.{body}` within the allowed skew; 401 otherwise."""
    refused = Unauthorized(_REFUSED)
    if not webhook_id or not WEBHOOK_ID.match(webhook_id) or not signature:
        raise refused
    if not timestamp_fresh(timestamp, time.time(), d.settings.webhook_max_skew_seconds):
        log.info("webhook refused: stale or missing timestamp", extra={"webhook_id": webhook_id})
        raise refused
    hook = await d.webhooks.get(webhook_id)  # read on every call: a revoke takes effect at once
    if hook is None or not hook.active:
        log.info("webhook refused: unknown or revoked", extra={"webhook_id": webhook_id})
        raise refused
    secret = await d.secrets.get(d.settings.webhook_secret_name(webhook_id))
    if secret is None or not matches(webhook_signature(secret, timestamp or "", body), signature):
        log.info("webhook refused: bad signature", extra={"webhook_id": webhook_id})
        raise refused
    return hook


@router.post("/v1/webhooks/tasks", status_code=201, response_model=TaskResponse, openapi_extra=_BODY,
             summary="Submit a task through a signed webhook",
             description="Headers X-Webhook-Id, X-Webhook-Timestamp (unix seconds, within 5 minutes) and "
                         "X-Webhook-Signature: sha256=HEX(HMAC-SHA256(secret, \"{timestamp}.{raw body}\")). "
                         "A repeated X-Webhook-Delivery (or signature) returns the original task.",
             responses={**errors("VALIDATION_ERROR", "UNAUTHORIZED", "RATE_LIMIT_EXCEEDED", "PAYLOAD_TOO_LARGE",
                                 "DUPLICATE_TASK", "REPO_NOT_ONBOARDED", "PR_NOT_FOUND", "PR_NOT_YOURS",
                                 "ENGINE_UNAVAILABLE",
                                 "SERVICE_UNAVAILABLE", *ALWAYS),
                        200: {"model": TaskResponse, "description": "a repeated delivery: the original task",
                              "headers": success_headers(Idempotent_Replay="true")},
                        201: {"headers": success_headers(Location="the new task's URL")}})
async def create_task_from_webhook(
    request: Request, d: Deps, response: Response,
    x_webhook_id: Annotated[str | None, Header()] = None,
    x_webhook_timestamp: Annotated[str | None, Header()] = None,
    x_webhook_signature: Annotated[str | None, Header()] = None,
    x_webhook_delivery: Annotated[str | None, Header(description="dedupe id; default: the signature")] = None,
) -> TaskResponse:
    raw = await request.body()
    hook = await authenticate(d, x_webhook_id, x_webhook_timestamp, x_webhook_signature, raw)
    request.state.user_id = hook.user_id
    enforce_rate_limit(d, hook.user_id)
    body = parse_task_request(raw)
    if x_webhook_delivery is not None and not _DELIVERY.match(x_webhook_delivery):
        raise InvalidRequest("X-Webhook-Delivery must be 1-128 visible ASCII characters")
    delivery = x_webhook_delivery or (x_webhook_signature or "").strip().lower()
    metadata = {"webhook_id": hook.webhook_id, "source_ip": request.client.host if request.client else None,
                "user_agent": (request.headers.get("user-agent") or "")[:256] or None,
                "delivery_id": x_webhook_delivery}
    submitted = await submit_task(d, user_id=hook.user_id, body=body, channel_source="webhook",
                                  channel_metadata={k: v for k, v in metadata.items() if v is not None},
                                  idempotency_key=f"webhook#{hook.webhook_id}#{delivery}")
    return submission_response(submitted, response)
