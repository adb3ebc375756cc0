"""CaseSource in a dict."""

from __future__ import annotations

from shared.evals.cases import EvalCase


class InMemoryCases:
    """A run's cases, keyed by (eval_id, case_id)."""

    def __init__(self) -> None:
        self.cases: dict[tuple[str, str], EvalCase] = {}

    def add(self, eval_id: str, case: EvalCase) -> None:
        self.cases[(eval_id, case.id)] = case

    async def get(self, eval_id: str, case_id: str) -> EvalCase | None:
        return self.cases.get((eval_id, case_id))
