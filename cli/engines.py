"""Whether the deployment an operator command writes to has an engine, as its services would tell."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import TypeAdapter, ValidationError

from cli.errors import UsageError
from shared.engines import DEFAULT_ENGINE, Engine
from shared.tasks.limits import engine_notices, engine_unavailable

_ENGINES = TypeAdapter(list[Engine])


def agent_engines(environ: Mapping[str, str]) -> list[Engine] | None:
    """The engines of the stack's agents (BGAGENT_AGENT_ENGINES, JSON, as the services read it); None: this
    Python's, which are the embedded stack's."""
    raw = environ.get("BGAGENT_AGENT_ENGINES")
    try:
        return _ENGINES.validate_json(raw) if raw else None
    except ValidationError as exc:
        raise UsageError(f"BGAGENT_AGENT_ENGINES is not a JSON list of engines: {exc.errors()[0]['msg']}") from exc


def stack_engine_notices(environ: Mapping[str, str], repo_engines: Mapping[str, str]) -> list[str]:
    """Notices for the stack's default engine (BGAGENT_DEFAULT_ENGINE) and the onboarded repos' engines that
    its agents lack: their tasks would be refused."""
    default = environ.get("BGAGENT_DEFAULT_ENGINE") or DEFAULT_ENGINE
    return engine_notices(default, repo_engines, agent_engines(environ))


def check_repo_engine(engine: str, environ: Mapping[str, str]) -> None:
    """UsageError when the repo's tasks could not run `engine`: the gateway would refuse every one of them."""
    why = engine_unavailable(engine, agent_engines(environ))
    if why is not None:
        raise UsageError(f"{why}; nothing was written (its tasks would be refused with ENGINE_UNAVAILABLE)",
                         hint="for a deployed stack whose agent image has the engine, set BGAGENT_AGENT_ENGINES "
                              "as the stack does, e.g. '[\"native\", \"claude-code\"]'")
