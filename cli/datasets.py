"""Reading an evaluation dataset (a JSONL file or a JSON list) and checking every case before anything is sent."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from cli.errors import UsageError
from shared.evals.cases import EvalCase

_SHOWN_ERRORS = 20


def _items(text: str) -> list[tuple[str, object]]:
    """(where, parsed object) for each case: `item N` of a JSON list, `line N` of a JSONL file."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            items = json.loads(text)
        except ValueError as exc:
            raise UsageError(f"not a valid JSON list: {exc}") from exc
        return [(f"item {i}", item) for i, item in enumerate(items, 1)]
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            found.append((f"line {number}", json.loads(line)))
        except ValueError as exc:
            raise UsageError(f"line {number} is not valid JSON: {exc}") from exc
    return found


def _problems(where: str, item: object, seen: dict[str, str]) -> tuple[EvalCase | None, list[str]]:
    if not isinstance(item, dict):
        return None, [f"{where}: a case is a JSON object"]
    label = f"{where} (case {item['id']!r})" if isinstance(item.get("id"), str) else where
    try:
        case = EvalCase.model_validate(item)
    except ValidationError as exc:
        return None, [f"{label}: {'.'.join(map(str, e['loc'])) or 'case'}: {e['msg']}" for e in exc.errors()]
    if case.id in seen:
        return None, [f"{label}: id: the same id as {seen[case.id]}"]
    seen[case.id] = where
    return case, []


def parse_dataset(text: str) -> list[EvalCase]:
    """Every case of the dataset, or a UsageError naming each bad case (its line or item) and field."""
    cases: list[EvalCase] = []
    errors: list[str] = []
    seen: dict[str, str] = {}
    for where, item in _items(text):
        case, problems = _problems(where, item, seen)
        errors += problems
        if case is not None:
            cases.append(case)
    if errors:
        more = f"\n  … and {len(errors) - _SHOWN_ERRORS} more" if len(errors) > _SHOWN_ERRORS else ""
        raise UsageError(f"{len(errors)} problem(s) in the dataset:\n  " + "\n  ".join(errors[:_SHOWN_ERRORS]) + more)
    if not cases:
        raise UsageError("the dataset holds no case")
    return cases


def read_dataset(path: str) -> list[EvalCase]:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not UTF-8 text") from exc
    return parse_dataset(text)


def write_dataset(path: Path, cases: list[EvalCase]) -> None:
    """A JSONL file, one case a line, as `eval run` reads it."""
    path.write_text("".join(json.dumps(c.model_dump(exclude_none=True)) + "\n" for c in cases))
