"""The panel's evaluation pages: the list of runs, a run's results, and the comparison of two runs."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse

from services.gateway.refusals import Unavailable
from services.gateway.ui import evals
from services.gateway.ui.eval_views_api import ApiEvalViews
from services.gateway.ui.panel import SignedIn, Viewer, render

router = APIRouter(prefix="/ui", include_in_schema=False)

_PAGE = 50
_Id = Annotated[str, Query(max_length=200)]


def _views(who: Viewer) -> evals.EvalViews:
    if who.deps.eval_views is not None:
        return who.deps.eval_views
    if who.deps.evals is None:
        raise Unavailable("evaluation runs are not installed in this gateway")
    return ApiEvalViews(who.deps)


@router.get("/evals")
async def eval_list(request: Request, who: SignedIn,
                    next_token: Annotated[str | None, Query(max_length=2048)] = None) -> HTMLResponse:
    runs, token = await _views(who).list_runs(who.user_id, limit=_PAGE, next_token=next_token)
    return render(request, "evals.html", who=who, runs=[evals.loose(r) for r in runs], next_token=token)


def _missing(request: Request, who: Viewer, eval_id: str) -> HTMLResponse:
    return render(request, "not_found.html", who=who, status=404, message=f"You have no evaluation run {eval_id}.")


@router.get("/evals/compare")
async def eval_compare(request: Request, who: SignedIn, a: _Id = "", b: _Id = "") -> HTMLResponse:
    views = _views(who)
    run_a, run_b = await views.get_run(who.user_id, a), await views.get_run(who.user_id, b)
    if run_a is None or run_b is None:
        return _missing(request, who, a if run_a is None else b)
    # The bootstrap takes about a second for 5,000 cases: off the event loop, which serves every other request.
    compared = await asyncio.to_thread(evals.comparison, run_a, run_b)
    return render(request, "eval_compare.html", who=who, a=evals.loose(run_a), b=evals.loose(run_b), c=compared)


@router.get("/evals/{eval_id}")
async def eval_page(request: Request, who: SignedIn, eval_id: str) -> HTMLResponse:
    run = await _views(who).get_run(who.user_id, eval_id)
    if run is None:
        return _missing(request, who, eval_id)
    shown = evals.loose(run)
    bars, height = evals.outcome_chart(shown["results"]["by_classification"] or {})
    return render(request, "eval_run.html", who=who, run=shown, results=shown["results"],
                  rows=evals.case_rows(run.get("cases") or []), bars=bars, chart_width=evals.CHART_WIDTH,
                  chart_height=height, label_width=evals.LABEL_WIDTH, bar_height=evals.BAR_HEIGHT,
                  live=run.get("status") == "running")
