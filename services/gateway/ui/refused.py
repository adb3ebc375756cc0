"""How the panel shows a refusal: the page that asked, again, with its fields marked; or an error page."""

from __future__ import annotations

from typing import Awaitable, Callable

from fastapi import Request
from starlette.responses import Response

from services.gateway.refusals import Refused
from services.gateway.ui.panel import render
from services.gateway.ui.security import PREFIX

Page = Callable[[Refused], Awaitable[Response]]


def is_panel_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def on_refusal(request: Request, page: Page) -> None:
    """From here on, a refusal of this request answers with `page` (a form again, its fields marked)."""
    request.state.refused_page = page


async def refused_page(request: Request, refusal: Refused) -> Response:
    """The page a route named with `on_refusal`; otherwise not-found or the error page, within the panel."""
    page: Page | None = getattr(request.state, "refused_page", None)
    if page is not None:
        return await page(refusal)
    template = "not_found.html" if refusal.status == 404 else "error.html"
    response = render(request, template, who=getattr(request.state, "viewer", None), status=refusal.status,
                      message=refusal.message, code=refusal.code)
    response.headers.update(refusal.headers)
    return response
