"""A dataset as it arrives: every case checked, each problem naming the case (index and id) and the field."""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from pydantic import ValidationError

from shared.evals.cases import EvalCase
from shared.evals.errors import InvalidCases
from shared.evals.models import CaseRow

MAX_PROBLEMS = 50  # enough to fix a dataset in one go, without an answer as large as the dataset


def _label(raw: Any) -> str:
    case_id = raw.get("id") if isinstance(raw, dict) else None
    return f'case "{str(case_id)[:200]}"' if isinstance(case_id, str) and case_id else "case"


def _field(index: int, loc: Sequence[Any]) -> str:
    return ".".join(["cases", str(index), *map(str, loc)])


def parse_cases(raw_cases: Sequence[Any], *, engine: str | None) -> list[EvalCase]:
    """The cases, valid and with unique ids (and each with a gold_patch for the oracle); InvalidCases otherwise."""
    problems: list[tuple[str, str]] = []
    cases: list[EvalCase] = []
    first_at: dict[str, int] = {}
    for i, raw in enumerate(raw_cases):
        try:
            case = EvalCase.model_validate(raw)
        except ValidationError as exc:
            problems += [(_field(i, e["loc"]), f"{_label(raw)}: {e['msg']}") for e in exc.errors()]
            continue
        if case.id in first_at:
            problems.append((_field(i, ["id"]), f"{_label(raw)}: duplicate id, first at cases.{first_at[case.id]}"))
        first_at.setdefault(case.id, i)
        if engine == "oracle" and case.gold_patch is None:
            problems.append((_field(i, ["gold_patch"]), f"{_label(raw)}: the oracle engine applies gold_patch: "
                                                        "give one (\"\" applies nothing)"))
        cases.append(case)
    if problems:
        raise InvalidCases(problems[:MAX_PROBLEMS])
    return cases


def unknown_repos(cases: Sequence[EvalCase], known: Iterable[str]) -> None:
    """InvalidCases naming every case whose repository is not onboarded and active."""
    ok = set(known)
    problems = [(_field(i, ["repo"]), f'case "{c.id}": repository {c.repo} is not onboarded')
                for i, c in enumerate(cases) if c.repo not in ok]
    if problems:
        raise InvalidCases(problems[:MAX_PROBLEMS])


def case_rows(cases: Sequence[EvalCase]) -> list[CaseRow]:
    """What the driver keeps of each case (no hidden tests, no gold patch)."""
    return [CaseRow(index=i, case_id=c.id, repo=c.repo, task=c.task, tags=c.tags) for i, c in enumerate(cases)]


def base_pairs(cases: Sequence[EvalCase]) -> list[tuple[str, str]]:
    """Each distinct (repository, base commit) of a dataset, in the order the cases name them."""
    return list(dict.fromkeys((c.repo, c.base) for c in cases))


def missing_bases(cases: Sequence[EvalCase], missing: set[tuple[str, str]]) -> None:
    """InvalidCases naming every case whose base commit its repository lacks."""
    problems = [(_field(i, ["base"]), f'case "{c.id}": {c.repo} has no commit {c.base}')
                for i, c in enumerate(cases) if (c.repo, c.base) in missing]
    if problems:
        raise InvalidCases(problems[:MAX_PROBLEMS])
