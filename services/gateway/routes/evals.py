"""Evaluation runs: create (a dataset of cases), list, read with results, cancel, and their rollouts — owner only."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, AsyncIterator, Literal, cast

from botocore.exceptions import ClientError
from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse

from services.gateway.deps import Caller, Deps, GatewayDeps, Writer
from services.gateway.eval_schemas import (
    AttemptView,
    CaseView,
    CreateEvalRequest,
    EvalDetail,
    EvalDetailResponse,
    EvalListResponse,
    EvalResponse,
    EvalView,
    Results,
)
from services.gateway.eval_submission import driver, eval_store, submit_eval
from services.gateway.openapi import AUTHENTICATED, WRITES, errors, success_headers
from services.gateway.refusals import EvalNotRunning, InvalidRequest, NoSuchEval
from services.gateway.schemas import Pagination
from shared.aws.guarded import S3_ANSWERS, error_code
from shared.aws.pagination import InvalidToken, decode_token, encode_token
from shared.evals.models import AttemptRecord, EvalRun
from shared.evals.results import results
from shared.evals.rollouts import rollout_line

router = APIRouter(prefix="/v1/evals", tags=["evals"])
_EVAL_ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_NDJSON = "application/x-ndjson"
_ROLLOUTS_DOC: dict[int | str, dict[str, Any]] = {200: {
    "description": "`application/x-ndjson`: one rollout per counted attempt (case order, then attempt) — the one "
                   "exception to the JSON envelope; see docs/api.md",
    "content": {_NDJSON: {"schema": {"type": "string"}}}}}


async def _owned(d: GatewayDeps, eval_id: str, user_id: str) -> EvalRun:
    """Another user's run answers exactly like a missing one: 404 EVAL_NOT_FOUND."""
    found = await eval_store(d).get(eval_id) if _EVAL_ID.match(eval_id) else None
    if found is None or found.user_id != user_id:
        raise NoSuchEval(f"evaluation run {eval_id[:64]} not found")
    return found


@router.post("", status_code=201, response_model=EvalResponse, summary="Start an evaluation run",
             description="Each attempt is a task owned by you (channel_source `eval`); bodies up to 16 MiB.",
             responses={**errors(*AUTHENTICATED, *WRITES),
                        201: {"description": "Created", "headers": success_headers(Location="the run's URL")}})
async def create_eval(body: CreateEvalRequest, caller: Writer, d: Deps, response: Response) -> EvalResponse:
    run = await submit_eval(d, body, caller.user_id)
    response.headers["Location"] = f"/v1/evals/{run.eval_id}"
    return EvalResponse(data=EvalView.of(run))


@router.get("", response_model=EvalListResponse, summary="List your evaluation runs, newest first",
            responses=errors(*AUTHENTICATED))
async def list_evals(caller: Caller, d: Deps, limit: Annotated[int, Query(ge=1, le=100)] = 20,
                     next_token: Annotated[str | None, Query(max_length=2048)] = None) -> EvalListResponse:
    try:
        rows, token = await eval_store(d).list_for_user(caller.user_id, limit=limit, next_token=next_token)
    except InvalidToken as exc:
        raise InvalidRequest("next_token is not valid for this listing") from exc
    return EvalListResponse(data=[EvalView.of(r) for r in rows],
                            pagination=Pagination(next_token=token, has_more=token is not None))


def _page_start(eval_id: str, next_token: str | None) -> int:
    try:
        token = decode_token(next_token) or {"e": eval_id, "i": 0}
    except InvalidToken as exc:
        raise InvalidRequest("next_token is not valid for this listing") from exc
    if token.get("e") != eval_id or not isinstance(token.get("i"), int) or token["i"] < 0:
        raise InvalidRequest("next_token is not valid for this listing")
    return token["i"]


async def _running_attempts(d: GatewayDeps, run: EvalRun, first: int, last: int) -> dict[int, list[AttemptView]]:
    out: dict[int, list[AttemptView]] = {}
    for slot, task_id in sorted(run.in_flight.items(), key=lambda kv: int(kv[0])):
        index, attempt = run.place(int(slot))
        if first <= index <= last:
            task = await d.tasks.get(task_id) if task_id else None
            out.setdefault(index, []).append(AttemptView(attempt=attempt, task_id=task_id or None,
                                                         status=task.status.value if task else "SUBMITTED"))
    return out


@router.get("/{eval_id}", response_model=EvalDetailResponse, summary="Read one of your runs with its results",
            description="`results` cover the whole run; `cases` is one page of its cases, in order.",
            responses=errors(*AUTHENTICATED, "EVAL_NOT_FOUND"))
async def get_eval(eval_id: str, caller: Caller, d: Deps, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                   next_token: Annotated[str | None, Query(max_length=2048)] = None) -> EvalDetailResponse:
    run = await _owned(d, eval_id, caller.user_id)
    start = _page_start(eval_id, next_token)
    store = eval_store(d)
    counted = await store.attempts(eval_id)
    cases = await store.cases(eval_id, start=start, limit=limit)
    by_case: dict[int, list[AttemptView]] = {}
    for record in counted:
        by_case.setdefault(record.case_index, []).append(AttemptView.of(record))
    if cases:
        for index, views in (await _running_attempts(d, run, cases[0].index, cases[-1].index)).items():
            by_case[index] = sorted([*by_case.get(index, []), *views], key=lambda a: a.attempt)
    following = start + len(cases)
    token = encode_token({"e": eval_id, "i": following}) if cases and following < run.case_count else None
    detail = EvalDetail(**EvalView.of(run).model_dump(),
                        results=Results(**results(counted, k=run.settings.attempts, case_count=run.case_count)),
                        cases=[CaseView.of(c, by_case.get(c.index, [])) for c in cases])
    return EvalDetailResponse(data=detail, pagination=Pagination(next_token=token, has_more=token is not None))


@router.delete("/{eval_id}", response_model=EvalResponse, summary="Cancel one of your runs",
               description="Running attempts are cancelled and no more start; finished attempts and their results "
                           "stay.",
               responses=errors(*AUTHENTICATED, "RATE_LIMIT_EXCEEDED", "EVAL_NOT_FOUND", "EVAL_NOT_RUNNING"))
async def cancel_eval(eval_id: str, caller: Writer, d: Deps) -> EvalResponse:
    run = await _owned(d, eval_id, caller.user_id)
    if run.status != "running":
        raise EvalNotRunning(f"evaluation run {eval_id} is already {run.status}")
    cancelled = await driver(d).cancel(run)
    return EvalResponse(data=EvalView.of(await eval_store(d).get(eval_id) or cancelled))


async def _trajectory(d: GatewayDeps, task_id: str) -> dict[str, Any] | None:
    try:
        data = await d.attachments.get(f"trajectories/{task_id}.json")
    except KeyError:  # the in-memory store's "no such object"
        return None
    except ClientError as exc:  # no trajectory: the attempt failed before the model ran, or the oracle ran it
        if error_code(exc) in S3_ANSWERS:
            return None
        raise
    return cast(dict[str, Any], json.loads(data))


async def _rollouts(d: GatewayDeps, run: EvalRun, records: list[AttemptRecord],
                    fmt: Literal["anthropic", "openai"]) -> AsyncIterator[bytes]:
    for record in records:
        if record.classification == "CANCELLED":
            continue
        task = await d.tasks.get(record.task_id)
        line = rollout_line(record, task, await _trajectory(d, record.task_id),
                            engine=getattr(task, "engine", None) or run.settings.engine, fmt=fmt)
        yield (json.dumps(line, separators=(",", ":")) + "\n").encode()


@router.get("/{eval_id}/rollouts", response_class=StreamingResponse,
            summary="The conversations of a run's attempts, with their rewards, for training",
            responses={**errors(*AUTHENTICATED, "EVAL_NOT_FOUND"), **_ROLLOUTS_DOC})
async def get_eval_rollouts(eval_id: str, caller: Caller, d: Deps,
                            format: Literal["anthropic", "openai"] = "anthropic") -> StreamingResponse:
    run = await _owned(d, eval_id, caller.user_id)
    records = await eval_store(d).attempts(eval_id)
    return StreamingResponse(_rollouts(d, run, records, format), media_type=_NDJSON)
