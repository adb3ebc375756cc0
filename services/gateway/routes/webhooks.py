"""Managing generic webhooks: create (the secret is shown once), list, revoke."""

from __future__ import annotations

import logging
import secrets
from typing import Annotated

from botocore.exceptions import BotoCoreError, ClientError
from fastapi import APIRouter, Query

from services.gateway.adapters.errors import WebhookAlreadyRevoked, WebhookNotFound
from services.gateway.adapters.webhooks import WEBHOOK_ID, Webhook
from services.gateway.auth import Principal
from services.gateway.deps import Caller, Deps, GatewayDeps, Writer
from services.gateway.openapi import AUTHENTICATED, WRITES, errors
from services.gateway.refusals import AlreadyRevoked, InvalidRequest, NoSuchWebhook
from services.gateway.schemas import (
    CreatedWebhookResponse,
    CreatedWebhookView,
    CreateWebhookRequest,
    Pagination,
    WebhookListResponse,
    WebhookResponse,
    WebhookView,
)
from shared.aws.pagination import InvalidToken
from shared.observability.redaction import register_secret

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])



def _view(hook: Webhook) -> WebhookView:
    return WebhookView.model_validate(hook.model_dump())


async def _owned(d: GatewayDeps, webhook_id: str, caller: Principal) -> Webhook:
    """Another user's webhook answers exactly like a missing one: 404 WEBHOOK_NOT_FOUND."""
    hook = await d.webhooks.get(webhook_id) if WEBHOOK_ID.match(webhook_id) else None
    if hook is None or hook.user_id != caller.user_id:
        raise NoSuchWebhook(f"webhook {webhook_id[:64]} not found")
    return hook


@router.post("", status_code=201, response_model=CreatedWebhookResponse, summary="Create a webhook",
             description="The response carries the webhook's signing secret. It is shown this once.",
             responses=errors(*AUTHENTICATED, *WRITES))
async def create_webhook(body: CreateWebhookRequest, caller: Writer, d: Deps) -> CreatedWebhookResponse:
    hook = Webhook(user_id=caller.user_id, name=body.name)
    secret = secrets.token_urlsafe(32)
    register_secret(secret)
    name = d.settings.webhook_secret_name(hook.webhook_id)
    # Secret first: a row never points at a secret that does not exist.
    await d.secrets.create(name, secret)
    try:
        await d.webhooks.create(hook)
    except (ClientError, BotoCoreError):
        await d.secrets.delete(name)
        raise
    return CreatedWebhookResponse(data=CreatedWebhookView(**hook.model_dump(), secret=secret))


@router.get("", response_model=WebhookListResponse, summary="List your webhooks (never their secrets)",
            responses=errors(*AUTHENTICATED))
async def list_webhooks(caller: Caller, d: Deps,
                        limit: Annotated[int, Query(ge=1, le=100)] = 20,
                        next_token: Annotated[str | None, Query(max_length=2048)] = None) -> WebhookListResponse:
    try:
        hooks, token = await d.webhooks.list_for_user(caller.user_id, limit=limit, next_token=next_token)
    except InvalidToken as exc:
        raise InvalidRequest("next_token is not valid for this listing") from exc
    return WebhookListResponse(data=[_view(h) for h in hooks],
                               pagination=Pagination(next_token=token, has_more=token is not None))


@router.delete("/{webhook_id}", response_model=WebhookResponse, summary="Revoke one of your webhooks",
               description="Takes effect at once: the next signed call is refused. The row stays, revoked.",
               responses=errors(*AUTHENTICATED, "RATE_LIMIT_EXCEEDED", "WEBHOOK_NOT_FOUND",
                                "WEBHOOK_ALREADY_REVOKED"))
async def revoke_webhook(webhook_id: str, caller: Writer, d: Deps) -> WebhookResponse:
    hook = await _owned(d, webhook_id, caller)
    try:
        revoked = await d.webhooks.revoke(hook.webhook_id)
    except WebhookAlreadyRevoked as exc:
        raise AlreadyRevoked(f"webhook {webhook_id} is already revoked") from exc
    except WebhookNotFound as exc:
        raise NoSuchWebhook(f"webhook {webhook_id} not found") from exc
    try:
        await d.secrets.delete(d.settings.webhook_secret_name(hook.webhook_id))
    except (ClientError, BotoCoreError) as exc:  # the row is revoked already: the secret is useless
        log.warning("webhook secret not deleted", extra={"webhook_id": hook.webhook_id, "error": str(exc)})
    return WebhookResponse(data=_view(revoked))
