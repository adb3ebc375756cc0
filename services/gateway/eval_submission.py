"""Turning an accepted dataset into an evaluation run: every case checked, kept, and the first attempts started."""

from __future__ import annotations

import asyncio
import logging

from services.gateway.deps import GatewayDeps
from services.gateway.eval_schemas import CreateEvalRequest
from services.gateway.refusals import InvalidField, InvalidRequest, Unavailable
from services.gateway.submission import check_model_endpoint
from shared.aws.errors import StoreUnavailable
from shared.engines import DEFAULT_ENGINE
from shared.evals.cases import EvalCase, case_key
from shared.evals.driver import EvalDriver
from shared.evals.errors import InvalidCases
from shared.evals.intake import base_pairs, case_rows, missing_bases, parse_cases, unknown_repos
from shared.evals.models import EvalRun, RunSettings
from shared.evals.store import EvalStore
from shared.githost.errors import GitHostError
from shared.llm.errors import ModelCatalogError
from shared.llm.lifecycle import vet_model
from shared.tasks.limits import effective

log = logging.getLogger(__name__)
_PUT_AT_ONCE = 32  # cases written to the artifacts bucket concurrently
_ASK_AT_ONCE = 16  # base commits asked about concurrently


def eval_store(d: GatewayDeps) -> EvalStore:
    """The runs' store; 503 when this gateway has none."""
    if d.evals is None:
        raise Unavailable("evaluation runs are not configured on this gateway")
    return d.evals


def driver(d: GatewayDeps) -> EvalDriver:
    """The driver, as the gateway runs it when a run is created or cancelled."""
    return EvalDriver(eval_store(d), d.tasks, d.bus, max_running=d.settings.eval_max_running)


async def submit_eval(d: GatewayDeps, body: CreateEvalRequest, user_id: str) -> EvalRun:
    """Check the whole dataset (400 naming each fault, nothing created), keep the cases, store the run and start
    what it may start now."""
    store = eval_store(d)
    cases = await _checked_cases(d, body)
    await check_model_endpoint(d, body.model_endpoint)
    settings = RunSettings(**body.model_dump(exclude={"name", "cases", "engine"}),
                           engine=body.engine or DEFAULT_ENGINE)
    run = EvalRun(user_id=user_id, name=body.name, settings=settings, case_count=len(cases))
    await _keep_cases(d, run.eval_id, cases)  # before the run exists: an attempt never misses its case
    await store.create(run, case_rows(cases))
    try:
        return await driver(d).advance(run.eval_id) or run
    except StoreUnavailable:  # the run exists: the reconciler's next tick starts its attempts
        log.warning("evaluation run created, its first attempts left to the reconciler", extra={"eval_id": run.eval_id})
        return run


async def _checked_cases(d: GatewayDeps, body: CreateEvalRequest) -> list[EvalCase]:
    """Every case valid, on an onboarded repository, with the run's model usable there; 400 naming each fault."""
    try:
        cases = parse_cases(body.cases, engine=body.engine)
        repos = {name: await d.repos.get(name) for name in sorted({c.repo for c in cases})}
        unknown_repos(cases, [name for name, config in repos.items() if config is not None and config.active])
        missing_bases(cases, await _missing_bases(d, base_pairs(cases)[:d.settings.eval_base_checks]))
    except InvalidCases as exc:
        raise InvalidRequest(f"the dataset is not valid: {exc}", details=[
            {"field": field, "message": message} for field, message in exc.problems]) from exc
    if body.model_endpoint is None and body.engine != "oracle":  # an endpoint's models are priced by it
        for config in repos.values():
            assert config is not None
            chosen = effective(body, config, d.settings)
            try:
                vet_model(chosen.model_id, chosen.model_prices, today=d.today())
            except ModelCatalogError as exc:
                raise InvalidField("model_id", str(exc)) from exc
    return cases


async def _missing_bases(d: GatewayDeps, pairs: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (repository, base) pairs the git host says do not exist; one it cannot tell about now is let through
    (its attempts fail at hydration with BASE_NOT_FOUND)."""
    if d.git is None or not pairs:
        return set()
    git, gate = d.git, asyncio.Semaphore(_ASK_AT_ONCE)

    async def lacks(repo: str, base: str) -> bool:
        async with gate:
            try:
                return not await git.has_commit(repo, base)
            except GitHostError:
                return False

    found = await asyncio.gather(*(lacks(repo, base) for repo, base in pairs))
    return {pair for pair, missing in zip(pairs, found, strict=True) if missing}


async def _keep_cases(d: GatewayDeps, eval_id: str, cases: list[EvalCase]) -> None:
    """Each whole case (hidden tests included) in the artifacts bucket, where only grading reads it."""
    for start in range(0, len(cases), _PUT_AT_ONCE):
        await asyncio.gather(*(d.attachments.put(case_key(eval_id, c.id), c.model_dump_json().encode(),
                                                 "application/json") for c in cases[start:start + _PUT_AT_ONCE]))
