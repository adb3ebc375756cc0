"""Mounting the panel on the gateway app: its routes, static files, headers and error pages."""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import HTMLResponse, RedirectResponse
from starlette.staticfiles import StaticFiles

from services.gateway.ui import admin_pages, eval_pages, login_pages, submit_page, task_pages
from services.gateway.ui.errors import CsrfRejected, LoginLinkRejected, SignInRequired
from services.gateway.ui.panel import HERE, render
from services.gateway.ui.security import PREFIX, SecurityHeaders


def install(app: FastAPI) -> None:
    for module in (login_pages, task_pages, submit_page, admin_pages, eval_pages):
        app.include_router(module.router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="ui-static")
    app.add_middleware(SecurityHeaders)

    @app.get(PREFIX, include_in_schema=False)
    async def panel_root() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", status_code=308)

    @app.get(PREFIX + "/{rest:path}", include_in_schema=False)
    async def no_such_page(request: Request, rest: str) -> HTMLResponse:
        return render(request, "not_found.html", status=404, message="There is no such page in the panel.")

    @app.exception_handler(SignInRequired)
    async def sign_in(request: Request, exc: SignInRequired) -> HTMLResponse:
        return render(request, "sign_in.html", status=401, reason="Your session has ended or you are not signed in.")

    @app.exception_handler(LoginLinkRejected)
    async def link_rejected(request: Request, exc: LoginLinkRejected) -> HTMLResponse:
        return render(request, "sign_in.html", status=401,
                      reason="This login link has expired or was used already: links work once, for two minutes.")

    @app.exception_handler(CsrfRejected)
    async def csrf_rejected(request: Request, exc: CsrfRejected) -> HTMLResponse:
        return render(request, "error.html", status=403, code="FORBIDDEN",
                      message="The form was not accepted: reload the page and try again.")
