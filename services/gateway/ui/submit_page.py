"""The submit form: the API's own request model and submission function, its errors shown by the fields."""

from __future__ import annotations

import re
import secrets

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import HTMLResponse, RedirectResponse, Response

from services.gateway.deps import enforce_rate_limit
from services.gateway.refusals import Refused
from services.gateway.schemas import CreateTaskRequest
from services.gateway.submission import submit_task
from services.gateway.ui.panel import SignedIn, Viewer, render
from services.gateway.ui.refused import on_refusal
from services.gateway.ui.security import check_csrf
from shared.engines import TASK_ENGINES

router = APIRouter(prefix="/ui", include_in_schema=False)

_FORM_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# The request fields the form offers, when the API's request model has them (task types arrive with PR work).
_FIELDS = ("repo", "task_type", "issue_number", "pr_number", "task_description", "max_turns", "max_budget_usd",
           "model_id", "engine")
_TASK_TYPES = ("new_task", "pr_iteration", "pr_review")
_MARKED = "The task was not submitted: correct the fields marked below."


def _offered() -> list[str]:
    return [f for f in _FIELDS if f in CreateTaskRequest.model_fields]


async def _form(request: Request, who: Viewer, *, values: dict, errors: dict[str, str], message: str | None,
                status: int = 200) -> HTMLResponse:
    repos = sorted(r.repo for r in await who.deps.repos.list() if r.active)
    return render(request, "submit.html", who=who, status=status, repos=repos, fields=_offered(),
                  task_types=_TASK_TYPES, engines=TASK_ENGINES, values=values, errors=errors, message=message,
                  form_key=values.get("form_key") or secrets.token_urlsafe(16))


def _field_errors(exc: ValidationError) -> dict[str, str]:
    """The first message per field; model-level messages go under 'form'."""
    found: dict[str, str] = {}
    for error in exc.errors():
        field = str(error["loc"][0]) if error.get("loc") else "form"
        found.setdefault(field, error["msg"].removeprefix("Value error, "))
    return found


@router.get("/submit")
async def submit_form(request: Request, who: SignedIn) -> HTMLResponse:
    return await _form(request, who, values={}, errors={}, message=None)


@router.post("/submit")
async def submit(request: Request, who: SignedIn) -> Response:
    form = await request.form()
    check_csrf(who.session, form.get("csrf_token"))
    enforce_rate_limit(who.deps, who.user_id)
    values = {k: v.strip() for k in (*_FIELDS, "form_key") if isinstance(v := form.get(k), str)}
    try:
        body = CreateTaskRequest.model_validate({k: v for k, v in values.items() if v and k in _offered()})
    except ValidationError as exc:
        return await _form(request, who, values=values, errors=_field_errors(exc), status=400,
                           message=_MARKED)
    form_key = values.get("form_key", "")
    # The form's own key makes a double click (or a resubmitted page) return the same task.
    key = f"ui#{form_key}" if _FORM_KEY.match(form_key) else None

    async def refused(refusal: Refused) -> Response:  # a refusal about a field is shown by that field
        errors = refusal.field_errors()
        return await _form(request, who, values=values, errors=errors, status=refusal.status,
                           message=_MARKED if errors else refusal.message)

    on_refusal(request, refused)
    submitted = await submit_task(who.deps, user_id=who.user_id, body=body, channel_source="ui", idempotency_key=key)
    return RedirectResponse(f"/ui/tasks/{submitted.task.task_id}", status_code=303)
