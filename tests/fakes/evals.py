"""In-memory evaluation stores with the same conditional semantics as the DynamoDB ones."""

from __future__ import annotations

from typing import Sequence

from shared.aws.pagination import InvalidToken
from shared.evals.errors import AttemptAlreadyCounted, EvalCapReached, EvalChanged
from shared.evals.models import AttemptRecord, CaseRow, EvalRun
from shared.llm.endpoints import ModelEndpoint
from shared.llm.errors import EndpointExists


class InMemoryEvals:
    def __init__(self) -> None:
        self.runs: dict[str, EvalRun] = {}
        self.case_rows: dict[str, dict[int, CaseRow]] = {}
        self.counted: dict[str, dict[tuple[int, int], AttemptRecord]] = {}
        self.places = 0

    async def create(self, run: EvalRun, cases: Sequence[CaseRow]) -> EvalRun:
        self.case_rows.setdefault(run.eval_id, {}).update({c.index: c for c in cases})
        if run.eval_id in self.runs:
            raise EvalChanged(f"evaluation run {run.eval_id} exists")
        self.runs[run.eval_id] = run
        return run

    async def get(self, eval_id: str) -> EvalRun | None:
        return self.runs.get(eval_id)

    async def list_for_user(self, user_id: str, *, limit: int = 20,
                            next_token: str | None = None) -> tuple[list[EvalRun], str | None]:
        mine = sorted((r for r in self.runs.values() if r.user_id == user_id),
                      key=lambda r: (r.created_at, r.eval_id), reverse=True)
        start = 0
        if next_token:
            owner, _, after = next_token.partition(":")
            if owner != user_id:
                raise InvalidToken("next_token belongs to another listing")
            start = next((i + 1 for i, r in enumerate(mine) if r.eval_id == after), len(mine))
        page = mine[start:start + limit]
        return page, f"{user_id}:{page[-1].eval_id}" if start + limit < len(mine) and page else None

    async def running(self, *, limit: int = 100) -> list[EvalRun]:
        return sorted((r for r in self.runs.values() if r.status == "running"), key=lambda r: r.created_at)[:limit]

    def _check(self, run: EvalRun) -> None:
        current = self.runs.get(run.eval_id)
        if current is None or current.version != run.version:
            raise EvalChanged(f"evaluation run {run.eval_id} changed since it was read")

    async def replace(self, run: EvalRun, new: EvalRun) -> EvalRun:
        self._check(run)
        self.runs[run.eval_id] = new
        return new

    async def claim(self, run: EvalRun, new: EvalRun, *, cap: int) -> EvalRun:
        self._check(run)
        if self.places >= cap:
            raise EvalCapReached(f"the platform runs {cap} evaluation attempts at most")
        self.places += 1
        self.runs[run.eval_id] = new
        return new

    async def places_taken(self) -> int:
        return self.places

    async def count(self, run: EvalRun, new: EvalRun, record: AttemptRecord) -> EvalRun:
        done = self.counted.setdefault(run.eval_id, {})
        if (record.case_index, record.attempt) in done:
            raise AttemptAlreadyCounted(f"attempt {record.attempt} of {record.case_id} was counted")
        self._check(run)
        done[(record.case_index, record.attempt)] = record
        self.runs[run.eval_id] = new
        self.places -= 1
        return new

    async def cases(self, eval_id: str, *, start: int = 0, limit: int = 100) -> list[CaseRow]:
        rows = self.case_rows.get(eval_id, {})
        return [rows[i] for i in sorted(rows) if i >= start][:limit]

    async def attempts(self, eval_id: str, *, first: int = 0, last: int | None = None) -> list[AttemptRecord]:
        done = self.counted.get(eval_id, {})
        return [done[key] for key in sorted(done) if key[0] >= first and (last is None or key[0] <= last)]


class InMemoryEndpoints:
    def __init__(self) -> None:
        self.rows: dict[str, ModelEndpoint] = {}

    async def create(self, endpoint: ModelEndpoint) -> ModelEndpoint:
        if endpoint.name in self.rows:
            raise EndpointExists(endpoint.name)
        self.rows[endpoint.name] = endpoint
        return endpoint

    async def get(self, name: str) -> ModelEndpoint | None:
        return self.rows.get(name)

    async def list(self) -> list[ModelEndpoint]:
        return [self.rows[n] for n in sorted(self.rows)]

    async def delete(self, name: str) -> ModelEndpoint | None:
        return self.rows.pop(name, None)
