"""A small fake of the documented eval API (POST/GET/DELETE /v1/evals, rollouts) for testing the CLI alone.

It keeps runs in memory and grades each attempt at once with a function the test gives; a run reads as
`running` for its first `polls` reads, then `completed`. The real routes are tested against the platform.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from shared.evals.cases import EvalCase
from tests.doubles.server import serve_app

Grader = Callable[[dict, int], dict]  # (case, attempt) → the attempt's fields: reward, cost_usd, status, grade …


def oracle_grader(case: dict, attempt: int) -> dict:
    """Solved when the case carries a non-empty gold patch; costs nothing."""
    return {"reward": int(bool(case.get("gold_patch"))), "cost_usd": 0.0, "turns": 0, "duration_s": 1.0}


def _error(status: int, code: str, message: str, details: list | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "details": details or []}}, status_code=status)


def _classified(attempt: dict) -> dict:
    """The attempt with its grade and classification, as the API lists it."""
    if attempt.get("grade") == "grader_error" or attempt.get("status") != "COMPLETED":
        return {"classification": "GRADER_ERROR" if attempt.get("grade") else "AGENT_CRASHED", **attempt}
    grade = "passed" if attempt.get("reward") else "failed"
    return {"grade": grade, "classification": "PASSED" if attempt.get("reward") else "FAILED_TESTS", **attempt}


class FakeEvals:
    def __init__(self, grader: Grader = oracle_grader, *, polls: int = 1, page_size: int = 100):
        self.grader = grader
        self.polls = polls
        self.page_size = page_size
        self.runs: dict[str, dict] = {}
        self.bodies: list[dict] = []
        self._reads: dict[str, int] = {}
        self._held: set[str] = set()
        self._lock = threading.Lock()

    def add_run(self, body: dict, status: str = "completed") -> str:
        """A run created earlier, in `status` for good (a run added as running never finishes by itself)."""
        view = self._create(body)
        view["status"] = status
        self._held.add(view["eval_id"])
        return view["eval_id"]

    def _create(self, body: dict) -> dict:
        eval_id = "ev-" + uuid.uuid4().hex[:10]
        k = body.get("attempts", 1)
        cases = []
        for case in body["cases"]:
            attempts = [_classified({"attempt": i, "task_id": f"t-{uuid.uuid4().hex[:8]}", "status": "COMPLETED",
                                     "turns": 0, "cost_usd": 0.0, "duration_s": 0.0, **self.grader(case, i)})
                        for i in range(1, k + 1)]
            cases.append({"case_id": case["id"], "attempts": attempts})
        view = {"eval_id": eval_id, "name": body["name"], "status": "running", "case_count": len(cases),
                "attempts": k, "engine": body.get("engine", "native"), "model_id": body.get("model_id"),
                "created_at": "2026-12-08T04:00:00Z", "submitted": len(cases) * k, "counted": len(cases) * k,
                "stopped_reason": None, "cases": cases}
        view["cost_usd"] = sum(a["cost_usd"] for c in cases for a in c["attempts"])
        view["results"] = self._results(cases, k)
        self.runs[eval_id] = view
        self._reads[eval_id] = 0
        return view

    @staticmethod
    def _results(cases: list[dict], k: int) -> dict:
        graded = [[a for a in c["attempts"] if a["classification"] != "GRADER_ERROR" and a.get("reward") is not None]
                  for c in cases]
        scored = [g for g in graded if g]
        solved = sum(1 for g in scored if any(a["reward"] for a in g))
        cost = sum(a.get("cost_usd") or 0.0 for c in cases for a in c["attempts"])
        durations = sorted(a.get("duration_s") or 0.0 for c in cases for a in c["attempts"])
        by_class: dict[str, int] = {}
        for c in cases:
            for a in c["attempts"]:
                by_class[a["classification"]] = by_class.get(a["classification"], 0) + 1
        # pass@k is the real API's (shared/evals/results.py): the CLI only shows it.
        return {"pass_at_1": sum(sum(a["reward"] for a in g) / len(g) for g in scored) / len(scored)
                if scored else None, "pass_at_k": None, "k": k,
                "solved": solved, "cost_usd": cost, "cost_per_solved_usd": cost / solved if solved else None,
                "duration_p50_s": durations[len(durations) // 2] if durations else None,
                "duration_p95_s": durations[min(len(durations) - 1, int(len(durations) * 0.95))] if durations
                else None, "by_classification": by_class}

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def authenticated(request: Request, call_next: Any) -> Response:
            if not request.headers.get("authorization", "").startswith("Bearer "):
                return _error(401, "UNAUTHORIZED", "no token")
            return await call_next(request)

        @app.post("/v1/evals")
        async def create(request: Request) -> Response:
            body = await request.json()
            self.bodies.append(body)
            for i, case in enumerate(body.get("cases") or []):
                try:
                    EvalCase.model_validate(case)
                except ValidationError as exc:
                    return _error(400, "VALIDATION_ERROR", f"case {i}: {exc.errors()[0]['msg']}")
            with self._lock:
                view = self._create(body)
            return JSONResponse({"data": {k: view[k] for k in ("eval_id", "status", "case_count", "attempts")}},
                                status_code=201)

        @app.get("/v1/evals")
        async def list_runs() -> Response:
            return JSONResponse({"data": [{k: v for k, v in r.items() if k not in ("cases", "results")}
                                          for r in self.runs.values()],
                                 "pagination": {"next_token": None}})

        @app.get("/v1/evals/{eval_id}")
        async def get(eval_id: str, next_token: str | None = None, limit: int = 100) -> Response:
            with self._lock:
                view = self.runs.get(eval_id)
                if view is None:
                    return _error(404, "EVAL_NOT_FOUND", f"no eval run {eval_id}")
                start = int(next_token or 0)
                if start == 0:
                    self._reads[eval_id] += 1
                    if self._reads[eval_id] > self.polls and view["status"] == "running" and eval_id not in self._held:
                        view["status"] = "completed"
                size = min(limit, self.page_size)
                page = {**view, "cases": view["cases"][start:start + size]}
            more = start + size < len(view["cases"])
            return JSONResponse({"data": page, "pagination": {"next_token": str(start + size) if more else None}})

        @app.delete("/v1/evals/{eval_id}")
        async def cancel(eval_id: str) -> Response:
            view = self.runs.get(eval_id)
            if view is None:
                return _error(404, "EVAL_NOT_FOUND", f"no eval run {eval_id}")
            view["status"] = "cancelled"
            return JSONResponse({"data": {k: v for k, v in view.items() if k != "cases"}})

        @app.get("/v1/evals/{eval_id}/rollouts")
        async def rollouts(eval_id: str, format: str = "anthropic") -> Response:
            view = self.runs.get(eval_id)
            if view is None:
                return _error(404, "EVAL_NOT_FOUND", f"no eval run {eval_id}")
            lines = []
            for case in view["cases"]:
                for a in case["attempts"]:
                    messages = ([{"role": "user", "content": "fix it"}] if format == "openai" else
                                [{"role": "user", "content": [{"type": "text", "text": "fix it"}]}])
                    lines.append(json.dumps({"case_id": case["case_id"], "attempt": a["attempt"], "format": format,
                                             "reward": a.get("reward"), "messages": messages}))
            return Response("".join(line + "\n" for line in lines), media_type="application/x-ndjson")

        return app

    @contextmanager
    def serve(self) -> Iterator[str]:
        with serve_app(self.app()) as url:
            yield url
