"""Signing in with a one-time link, and signing out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import HTMLResponse, RedirectResponse

from services.gateway.deps import Deps
from services.gateway.ui.errors import LoginLinkRejected
from services.gateway.ui.panel import SignedIn, login_service, render
from services.gateway.ui.security import COOKIE, check_csrf, clear_session_cookie, is_tls, set_session_cookie

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("/login")
async def login(request: Request, d: Deps, code: Annotated[str, Query(max_length=128)] = "") -> HTMLResponse:
    """Trade the link's code for a session cookie, then leave the URL that carried it."""
    exchanged = await login_service(d).exchange(code)
    if exchanged is None:
        raise LoginLinkRejected()
    session_id, _ = exchanged
    # A page that moves on by itself, not a redirect: a SameSite=Strict cookie set at the end of a
    # navigation that began on another site is only sent once the browser navigates again from here.
    response = render(request, "signed_in.html")
    set_session_cookie(response, session_id, secure=is_tls(request, d.settings.base_url))
    return response


@router.post("/logout")
async def logout(request: Request, who: SignedIn, csrf_token: Annotated[str, Form()] = "") -> RedirectResponse:
    check_csrf(who.session, csrf_token)
    await login_service(who.deps).end(request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/ui/signed-out", status_code=303)
    clear_session_cookie(response, secure=is_tls(request, who.deps.settings.base_url))
    return response


@router.get("/signed-out")
async def signed_out(request: Request) -> HTMLResponse:
    return render(request, "sign_in.html", reason="You are signed out.")
