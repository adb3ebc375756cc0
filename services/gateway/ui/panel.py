"""What every page of the panel shares: the templates, the signed-in user, and rendering."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import Depends, Request
from starlette.responses import HTMLResponse

from services.gateway.auth import Principal
from services.gateway.deps import GatewayDeps, deps
from services.gateway.refusals import Unavailable
from services.gateway.ui.security import current_session
from services.gateway.ui.sessions import LoginService, Session
from shared.tasks.fields import MaxBudgetUsd, MaxTurns, TaskDescription, bounds

HERE = Path(__file__).parent
_env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                          undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
# (lowest, highest) of the task fields the submit form offers, as shared/tasks/fields.py declares them.
_env.globals["limits"] = {"max_turns": bounds(MaxTurns), "max_budget_usd": bounds(MaxBudgetUsd),
                          "task_description": bounds(TaskDescription)}


def login_service(d: GatewayDeps) -> LoginService:
    if d.ui_sessions is None:
        raise Unavailable("the web panel has no session store in this gateway")
    return LoginService(d.ui_sessions)


@dataclass(frozen=True)
class Viewer:
    """The signed-in user of a page, with what their forms need."""

    deps: GatewayDeps
    session: Session

    @property
    def user_id(self) -> str:
        return self.session.user_id

    @property
    def principal(self) -> Principal:
        return Principal(user_id=self.session.user_id, claims={"ui_session": True})


async def viewer(request: Request, d: Annotated[GatewayDeps, Depends(deps)]) -> Viewer:
    who = Viewer(d, await current_session(request, login_service(d)))
    request.state.viewer = who  # an error page of this request still shows who is signed in
    return who


SignedIn = Annotated[Viewer, Depends(viewer)]


def render(request: Request, template: str, *, who: Viewer | None = None, status: int = 200,
           **context: Any) -> HTMLResponse:
    """One page or fragment; `who` puts the user and the CSRF token in reach of its forms."""
    page = _env.get_template(template).render(
        user_id=who.user_id if who else None, csrf_token=who.session.csrf_token if who else "",
        path=request.url.path, **context)
    return HTMLResponse(page, status_code=status)
