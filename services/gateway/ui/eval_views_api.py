"""The panel's reads of evaluation runs, answered by the API's own route functions (one source for a run's view)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.gateway.auth import Principal
from services.gateway.deps import GatewayDeps
from services.gateway.refusals import NoSuchEval
from services.gateway.routes import evals as routes

_CASES_PAGE = 1_000


@dataclass
class ApiEvalViews:
    """EvalViews over GET /v1/evals and GET /v1/evals/{eval_id}, as the signed-in user."""

    deps: GatewayDeps

    async def list_runs(self, user_id: str, *, limit: int,
                        next_token: str | None) -> tuple[list[dict[str, Any]], str | None]:
        page = await routes.list_evals(Principal(user_id, {}), self.deps, limit=min(limit, 100),
                                       next_token=next_token)
        return [v.model_dump(mode="json") for v in page.data], page.pagination.next_token

    async def get_run(self, user_id: str, eval_id: str) -> dict[str, Any] | None:
        who = Principal(user_id, {})
        try:
            page = await routes.get_eval(eval_id, who, self.deps, limit=_CASES_PAGE, next_token=None)
        except NoSuchEval:
            return None
        view, token = page.data.model_dump(mode="json"), page.pagination.next_token
        while token:
            page = await routes.get_eval(eval_id, who, self.deps, limit=_CASES_PAGE, next_token=token)
            view["cases"] += [c.model_dump(mode="json") for c in page.data.cases]
            token = page.pagination.next_token
        return view
