"""The task list and a task's page, each with the fragment htmx polls while something can still change."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from services.gateway.cancellation import cancel_task
from services.gateway.deps import enforce_rate_limit
from services.gateway.listing import list_user_tasks
from services.gateway.refusals import Refused
from services.gateway.routes.tasks import owned_task
from services.gateway.schemas import TaskView
from services.gateway.ui import trail
from services.gateway.ui.panel import SignedIn, Viewer, render
from services.gateway.ui.refused import on_refusal
from services.gateway.ui.security import check_csrf
from services.gateway.ui.steering_api import steering_of
from shared.tasks.models import Task, TaskEvent
from shared.tasks.states import CANCELLABLE, TaskStatus

router = APIRouter(prefix="/ui", include_in_schema=False)

_PAGE = 25
_EVENT_PAGES = 5  # at most 500 events on a page: the agent writes far fewer


async def _task_list(request: Request, who: Viewer, template: str, status: str, repo: str,
                     next_token: str | None) -> HTMLResponse:
    async def refused(refusal: Refused) -> Response:  # a filter the listing refuses: the page says why
        return render(request, "tasks.html", who=who, status=refusal.status, tasks=[], next_token=None,
                      error=refusal.message, live=False, **await _filters(who, status, repo))

    on_refusal(request, refused)
    tasks, token = await list_user_tasks(who.deps, who.user_id, status=status or None, repo=repo or None,
                                         limit=_PAGE, next_token=next_token)
    views = [TaskView.of(t) for t in tasks]
    live = any(not TaskStatus(v.status).is_terminal for v in views)
    return render(request, template, who=who, tasks=views, next_token=token, live=live, error=None,
                  **await _filters(who, status, repo))


async def _filters(who: Viewer, status: str, repo: str) -> dict:
    repos = sorted(r.repo for r in await who.deps.repos.list())
    return {"statuses": list(TaskStatus), "repos": repos, "status_filter": status, "repo_filter": repo}


@router.get("/")
async def task_list(request: Request, who: SignedIn, status: Annotated[str, Query(max_length=200)] = "",
                    repo: Annotated[str, Query(max_length=200)] = "",
                    next_token: Annotated[str | None, Query(max_length=2048)] = None) -> HTMLResponse:
    return await _task_list(request, who, "tasks.html", status, repo, next_token)


@router.get("/tasks/rows")
async def task_rows(request: Request, who: SignedIn, status: Annotated[str, Query(max_length=200)] = "",
                    repo: Annotated[str, Query(max_length=200)] = "",
                    next_token: Annotated[str | None, Query(max_length=2048)] = None) -> HTMLResponse:
    return await _task_list(request, who, "task_rows.html", status, repo, next_token)


async def _events(who: Viewer, task_id: str) -> list[TaskEvent]:
    events: list[TaskEvent] = []
    token = None
    for _ in range(_EVENT_PAGES):
        page, token = await who.deps.tasks.list_events(task_id, limit=100, next_token=token)
        events += page
        if token is None:
            break
    return events


async def _task_context(who: Viewer, task: Task) -> dict:
    events = await _events(who, task.task_id)
    recorded = None
    if task.pr_url and task.pr_url.startswith("local://") and who.deps.recorded_pulls is not None:
        recorded = await who.deps.recorded_pulls.find_pull(task.repo, task.branch_name)
    return {
        "task": TaskView.of(task), "live": not task.status.is_terminal, "cancellable": task.status in CANCELLABLE,
        "lines": [trail.line(e) for e in events], "stages": trail.timeline(events),
        "bars": trail.chart(trail.turn_costs(events)), "chart_width": trail.CHART_WIDTH,
        "chart_height": trail.CHART_HEIGHT, "cache_share": trail.cache_read_share(task.tokens),
        "recorded_pull": recorded, "web_pr": bool(task.pr_url and task.pr_url.startswith(("https://", "http://"))),
    }


@router.get("/tasks/{task_id}")
async def task_page(request: Request, who: SignedIn, task_id: str) -> Response:
    task = await owned_task(who.deps, task_id, who.principal)
    return render(request, "task.html", who=who, notice=None, **await _task_context(who, task))


@router.get("/tasks/{task_id}/live")
async def task_live(request: Request, who: SignedIn, task_id: str) -> Response:
    task = await owned_task(who.deps, task_id, who.principal)
    return render(request, "task_live.html", who=who, **await _task_context(who, task))


@router.post("/tasks/{task_id}/cancel")
async def cancel(request: Request, who: SignedIn, task_id: str,
                 csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(who.session, csrf_token)
    enforce_rate_limit(who.deps, who.user_id)
    task = await owned_task(who.deps, task_id, who.principal)

    async def refused(refusal: Refused) -> Response:  # the task's page as it is now, saying why
        current = await owned_task(who.deps, task_id, who.principal)
        return render(request, "task.html", who=who, status=refusal.status, notice=refusal.message,
                      **await _task_context(who, current))

    on_refusal(request, refused)
    await cancel_task(who.deps, task)
    return RedirectResponse(f"/ui/tasks/{task.task_id}", status_code=303)


@router.post("/tasks/{task_id}/nudge")
async def nudge(request: Request, who: SignedIn, task_id: str, csrf_token: Annotated[str, Form()] = "",
                message: Annotated[str, Form(max_length=2000)] = "") -> Response:
    check_csrf(who.session, csrf_token)
    enforce_rate_limit(who.deps, who.user_id)
    task = await owned_task(who.deps, task_id, who.principal)
    if message.strip():
        await steering_of(who.deps).nudge(who.user_id, task.task_id, message.strip())
    return RedirectResponse(f"/ui/tasks/{task.task_id}", status_code=303)
