"""The panel's guards: the session cookie, the CSRF token of every form, and the response headers."""

from __future__ import annotations

import hmac

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.ui.errors import CsrfRejected, SignInRequired
from services.gateway.ui.sessions import SESSION_TTL_SECONDS, LoginService, Session

COOKIE = "bgagent_session"
PREFIX = "/ui"

# No inline script or style anywhere: htmx and the stylesheet are files served from /ui/static.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def is_tls(request: Request, public_url: str) -> bool:
    """Whether the browser talks TLS: directly, or to the load balancer in front (the configured URL)."""
    return request.url.scheme == "https" or public_url.startswith("https://")


def set_session_cookie(response: Response, session_id: str, *, secure: bool) -> None:
    response.set_cookie(COOKIE, session_id, max_age=SESSION_TTL_SECONDS, path=PREFIX, httponly=True,
                        samesite="strict", secure=secure)


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(COOKIE, path=PREFIX, httponly=True, samesite="strict", secure=secure)


async def current_session(request: Request, login: LoginService) -> Session:
    session = await login.resolve(request.cookies.get(COOKIE))
    if session is None:
        raise SignInRequired()
    request.state.user_id = session.user_id
    return session


def check_csrf(session: Session, submitted: object) -> None:
    if not isinstance(submitted, str) or not hmac.compare_digest(submitted.encode(), session.csrf_token.encode()):
        raise CsrfRejected()


class SecurityHeaders:
    """Adds the panel's headers to every response under /ui, static files included; pages are never cached."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == PREFIX or path.startswith(PREFIX + "/")):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                if not path.startswith(PREFIX + "/static/"):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)
