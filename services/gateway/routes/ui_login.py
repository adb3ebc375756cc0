"""Minting one-time login links for the web panel: an authenticated API call, so any sign-in works."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter, Request

from services.gateway.deps import Deps, Writer
from services.gateway.openapi import AUTHENTICATED, WRITES, errors
from services.gateway.schemas import LoginLink, LoginLinkResponse
from services.gateway.ui.panel import login_service

router = APIRouter(prefix="/v1/ui", tags=["web panel"])


@router.post("/login-links", status_code=201, response_model=LoginLinkResponse,
             summary="A one-time link to the web panel",
             description="The link carries a single-use code that expires after two minutes; opening it "
                         "exchanges the code for an HttpOnly session cookie of the panel under /ui/.",
             responses=errors(*AUTHENTICATED, *WRITES))
async def create_login_link(request: Request, caller: Writer, d: Deps) -> LoginLinkResponse:
    code, expires_at = await login_service(d).issue_code(caller.user_id)
    expiry = datetime.fromtimestamp(expires_at, timezone.utc).isoformat().replace("+00:00", "Z")
    # The configured public URL (behind a load balancer), else the address the caller reached us on.
    base = (d.settings.public_url or str(request.base_url)).rstrip("/")
    return LoginLinkResponse(data=LoginLink(login_url=f"{base}/ui/login?code={code}",
                                            expires_at=expiry))
