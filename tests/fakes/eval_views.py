"""Evaluation runs for the panel's pages, held in memory as the API's views (the EvalViews adapter)."""

from __future__ import annotations

from typing import Any


class InMemoryEvalViews:
    """Runs by owner, newest first, in the shape GET /v1/evals/{eval_id} answers."""

    def __init__(self) -> None:
        self._runs: list[tuple[str, dict[str, Any]]] = []

    def add(self, user_id: str, view: dict[str, Any]) -> dict[str, Any]:
        self._runs.insert(0, (user_id, view))
        return view

    async def list_runs(self, user_id: str, *, limit: int,
                        next_token: str | None) -> tuple[list[dict[str, Any]], str | None]:
        start = int(next_token or 0)
        mine = [{k: v for k, v in view.items() if k not in ("cases", "results")}  # a listing has no results
                for owner, view in self._runs if owner == user_id]
        more = start + limit < len(mine)
        return mine[start:start + limit], str(start + limit) if more else None

    async def get_run(self, user_id: str, eval_id: str) -> dict[str, Any] | None:
        return next((view for owner, view in self._runs if owner == user_id and view["eval_id"] == eval_id), None)
