"""Webhooks (create with the secret shown once, revoke), onboarded repositories, pending approvals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from starlette.responses import HTMLResponse, RedirectResponse, Response

from services.gateway.deps import enforce_rate_limit
from services.gateway.routes.webhooks import create_webhook, revoke_webhook
from services.gateway.schemas import CreateWebhookRequest
from services.gateway.ui.panel import SignedIn, Viewer, render
from services.gateway.ui.refused import on_refusal
from services.gateway.ui.security import check_csrf
from services.gateway.ui.steering_api import steering_of

router = APIRouter(prefix="/ui", include_in_schema=False)


async def _webhooks(request: Request, who: Viewer, *, created=None, message: str | None = None,
                    status: int = 200) -> HTMLResponse:
    hooks, _ = await who.deps.webhooks.list_for_user(who.user_id, limit=100)
    return render(request, "webhooks.html", who=who, status=status, hooks=hooks, created=created, message=message,
                  ingest_url=f"{who.deps.settings.base_url}/v1/webhooks/tasks")


@router.get("/webhooks")
async def webhooks(request: Request, who: SignedIn) -> HTMLResponse:
    return await _webhooks(request, who)


@router.post("/webhooks")
async def add_webhook(request: Request, who: SignedIn, csrf_token: Annotated[str, Form()] = "",
                      name: Annotated[str, Form()] = "") -> Response:
    check_csrf(who.session, csrf_token)
    enforce_rate_limit(who.deps, who.user_id)
    try:
        body = CreateWebhookRequest(name=name)
    except ValidationError:
        return await _webhooks(request, who, message="Give the webhook a name of 1 to 100 characters.", status=400)
    created = await create_webhook(body, who.principal, who.deps)
    # Rendered, not redirected: the secret exists in this response only.
    return await _webhooks(request, who, created=created.data, status=201)


@router.post("/webhooks/{webhook_id}/revoke")
async def revoke(request: Request, who: SignedIn, webhook_id: str,
                 csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(who.session, csrf_token)
    enforce_rate_limit(who.deps, who.user_id)
    on_refusal(request, lambda refusal: _webhooks(request, who, message=refusal.message, status=refusal.status))
    await revoke_webhook(webhook_id, who.principal, who.deps)
    return RedirectResponse("/ui/webhooks", status_code=303)


@router.get("/repos")
async def repos(request: Request, who: SignedIn) -> HTMLResponse:
    rows = sorted(await who.deps.repos.list(), key=lambda r: r.repo)
    return render(request, "repos.html", who=who, repos=rows)


@router.get("/approvals")
async def approvals(request: Request, who: SignedIn) -> HTMLResponse:
    pending = await steering_of(who.deps).pending(who.user_id)
    return render(request, "approvals.html", who=who, pending=pending)


@router.post("/approvals/{task_id}/{request_id}")
async def decide(request: Request, who: SignedIn, task_id: str, request_id: str,
                 csrf_token: Annotated[str, Form()] = "", decision: Annotated[str, Form()] = "") -> Response:
    check_csrf(who.session, csrf_token)
    enforce_rate_limit(who.deps, who.user_id)
    if decision in ("approve", "deny"):
        await steering_of(who.deps).decide(who.user_id, task_id, request_id, approve=decision == "approve")
    return RedirectResponse("/ui/approvals", status_code=303)
