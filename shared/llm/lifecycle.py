"""End of life: from the catalog and the installed SDK's deprecation table; refuse past it, warn near it."""

from __future__ import annotations

import functools
import importlib.util
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from shared.llm.catalog import DEFAULT_MODEL_ID, REPLACEMENT_BY_FAMILY, RETIRED
from shared.llm.errors import ModelRetired
from shared.llm.lookup import find_model, price_for
from shared.llm.prices import ModelPrice

WARN_WITHIN = timedelta(days=30)
_FAMILY = re.compile(r"claude-(?:\d+-\d+-)?(fable|mythos|opus|sonnet|haiku)")
_ORDINAL = re.compile(r"(\d+)(st|nd|rd|th)\b")


def today_utc() -> date:
    return datetime.now(timezone.utc).date()


def parse_sdk_date(text: str) -> date | None:
    """'November 30th, 2026' → date(2026, 11, 30); None when the SDK writes something else."""
    try:
        return datetime.strptime(_ORDINAL.sub(r"\1", text.strip()), "%B %d, %Y").date()
    except ValueError:
        return None


@functools.cache
def sdk_deprecations() -> dict[str, date]:
    """The installed `anthropic` SDK's table of deprecated models and their end-of-life dates.

    Read from its data file alone: importing the SDK for it costs a service ~1.4 s on its first task.
    """
    table = _sdk_table()
    parsed = {model: parse_sdk_date(text) for model, text in table.items() if isinstance(text, str)}
    return {model: day for model, day in parsed.items() if day is not None}


def _sdk_table() -> Mapping[str, object]:
    spec = importlib.util.find_spec("anthropic")  # finds the package without importing it
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder, "_data", "deprecated_models.py")
        data = importlib.util.spec_from_file_location("_bgagent_anthropic_deprecations", path)
        if path.is_file() and data is not None and data.loader is not None:
            module = importlib.util.module_from_spec(data)
            try:
                data.loader.exec_module(module)
            except Exception:  # a private file of the SDK: a layout we do not know means no table
                return {}
            table = getattr(module, "DEPRECATED_MODELS", {})
            return table if isinstance(table, Mapping) else {}
    return {}


def end_of_life(model_id: str) -> date | None:
    """The earliest end-of-life date the catalog or the SDK gives the model; None when it has none."""
    entry = find_model(model_id)
    ids = {model_id, *((entry.model_id, *entry.aliases) if entry else ())}
    sdk = sdk_deprecations()
    dates = [d for d in (entry.end_of_life if entry else None, *(RETIRED.get(i) for i in ids),
                         *(sdk.get(i) for i in ids)) if d is not None]
    return min(dates, default=None)


def replacement_for(model_id: str) -> str:
    """The current model of the same family (the platform default when the family is unknown)."""
    entry = find_model(model_id)
    match = _FAMILY.search(model_id)
    family = entry.family if entry else (match.group(1) if match else None)
    replacement = REPLACEMENT_BY_FAMILY.get(family or "", DEFAULT_MODEL_ID)
    return replacement if replacement != model_id else DEFAULT_MODEL_ID


def lifecycle_warning(model_id: str, today: date) -> str | None:
    """ModelRetired past the end of life; a warning within WARN_WITHIN of it; None otherwise."""
    eol = end_of_life(model_id)
    if eol is None:
        return None
    if eol <= today:
        raise ModelRetired(model_id, eol, replacement_for(model_id))
    if eol - today <= WARN_WITHIN:
        return (f"model {model_id!r} reaches its end of life on {eol.isoformat()} ({(eol - today).days} days); "
                f"move to {replacement_for(model_id)!r} before then")
    return None


def vet_model(model_id: str, overrides: Mapping[str, ModelPrice] | None = None, *,
              today: date | None = None) -> list[str]:
    """Warnings for a model a task may use; ModelRetired or UnknownModel when it must be refused."""
    warning = lifecycle_warning(model_id, today or today_utc())
    price_for(model_id, overrides)
    return [warning] if warning else []


def deprecation_notice(model_id: str, today: date) -> str | None:
    """A line for operators when the model has an end-of-life date at all (past or future); None otherwise."""
    eol = end_of_life(model_id)
    if eol is None:
        return None
    if eol <= today:
        return (f"model {model_id!r} reached its end of life on {eol.isoformat()}: tasks using it are refused; "
                f"move to {replacement_for(model_id)!r}")
    return f"model {model_id!r} is deprecated (end of life {eol.isoformat()}); move to {replacement_for(model_id)!r}"


def configured_model_notices(default_model_id: str, repo_models: Mapping[str, str], *,
                             today: date | None = None) -> list[str]:
    """Notices for the platform default and each onboarded repository's model that is deprecated or retired."""
    day = today or today_utc()
    notices = [f"the default model: {n}" for n in [deprecation_notice(default_model_id, day)] if n]
    for repo, model_id in sorted(repo_models.items()):
        notice = deprecation_notice(model_id, day)
        if notice:
            notices.append(f"repository {repo}: {notice}")
    return notices
