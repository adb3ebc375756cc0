"""POST /v1/github/events: GitHub webhooks that, by a repo's trigger rules, become tasks."""

from __future__ import annotations

import json
import logging
import re
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import RootModel, ValidationError

from services.gateway.deps import Deps
from services.gateway.github_senders import refusal, start_status
from services.gateway.github_triggers import instruction, matching_rule, read_event
from services.gateway.openapi import ALWAYS, errors, success_headers
from services.gateway.refusals import EngineUnavailable, InvalidRequest, PrNotFound, Unauthorized, Unavailable
from services.gateway.routes.tasks import submission_response
from services.gateway.schemas import (
    Acknowledgement,
    AcknowledgementResponse,
    CreateTaskRequest,
    PongResponse,
    TaskResponse,
)
from services.gateway.signatures import github_signature, matches
from services.gateway.submission import submit_task

log = logging.getLogger(__name__)
router = APIRouter(tags=["github"])

_DELIVERY = re.compile(r"^[\x21-\x7e]{1,128}$")


_BODY = {"requestBody": {"required": True, "description": "GitHub's event payload", "content": {
    "application/json": {"schema": {"type": "object"}},
    "application/x-www-form-urlencoded": {
        "schema": {"type": "object", "properties": {"payload": {"type": "string"}}}}}}}


class GitHubOkResponse(RootModel[PongResponse | TaskResponse | AcknowledgementResponse]):
    """200: the answer to a ping, a redelivered event's original task, or an event deliberately ignored."""


def _ignored(reason: str) -> JSONResponse:
    log.info("github event ignored", extra={"reason": reason})
    return JSONResponse({"data": Acknowledgement(reason=reason).model_dump()}, status_code=200)


def _payload(request: Request, raw: bytes) -> Any:
    """The event payload: JSON, or the `payload` field of a form-encoded delivery."""
    try:
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return json.loads(parse_qs(raw.decode())["payload"][0])
        return json.loads(raw)
    except (ValueError, KeyError, UnicodeDecodeError) as exc:
        raise InvalidRequest("the event payload is not valid JSON") from exc


@router.post("/v1/github/events", status_code=201, response_model=None, openapi_extra=_BODY,
             summary="Receive a GitHub webhook event",
             description="Signed with X-Hub-Signature-256 over the raw body with the platform's GitHub webhook "
                         "secret. `ping` answers 200; an event matching the repo's trigger rules (default: "
                         "issue labeled `bgagent`, `@bgagent` on a pull request, a review requesting changes on a "
                         "bgagent pull request, the `bgagent-review` label) creates a task (201; a redelivery "
                         "returns it with 200); anything else is answered 200 `ignored` with the reason.",
             responses={**errors("VALIDATION_ERROR", "UNAUTHORIZED", "PAYLOAD_TOO_LARGE", "DUPLICATE_TASK",
                                 "SERVICE_UNAVAILABLE", *ALWAYS),
                        200: {"model": GitHubOkResponse,
                              "description": "pong, a redelivery's original task, or `ignored` with the reason",
                              "headers": success_headers(Idempotent_Replay="true on a redelivery")},
                        201: {"model": TaskResponse, "description": "the task the event started",
                              "headers": success_headers(Location="the new task's URL")}})
async def receive_github_event(
    request: Request, d: Deps, response: Response,
    x_hub_signature_256: Annotated[str | None, Header()] = None,
    x_github_event: Annotated[str | None, Header()] = None,
    x_github_delivery: Annotated[str | None, Header()] = None,
) -> Any:
    secret = await d.github_secret()
    if not secret:
        raise Unavailable("GitHub webhooks are not configured on this platform")
    raw = await request.body()
    if not matches(github_signature(secret, raw), x_hub_signature_256):
        raise Unauthorized("the GitHub signature does not match")
    event = (x_github_event or "").strip()
    if event == "ping":
        return JSONResponse({"data": {"pong": True}})
    delivery = (x_github_delivery or "").strip()
    if not _DELIVERY.match(delivery):
        raise InvalidRequest("X-GitHub-Delivery must be 1-128 visible ASCII characters")
    found = read_event(event, _payload(request, raw))
    if isinstance(found, str):
        return _ignored(found)
    repo = await d.repos.get(found.repo)
    if repo is None or not repo.active:
        return _ignored(f"repository {found.repo} is not onboarded")
    rule = matching_rule(repo.effective_github_triggers, found)
    if rule is None:
        return _ignored(f"no trigger rule of {found.repo} matches {event}/{found.action}")
    refused = await refusal(d, rule, found)
    if refused:
        return _ignored(refused)
    pr = found.number if rule.task_type != "new_task" else None
    try:
        body = CreateTaskRequest(repo=found.repo, issue_number=None if pr else found.number, pr_number=pr,
                                 task_type=rule.task_type, task_description=instruction(rule, found))
    except ValidationError:
        return _ignored("the event cannot become a task")
    metadata = {"delivery_id": delivery, "event": event, "action": found.action, "sender": found.sender,
                "thread": found.number}
    try:
        # The sender's write access to the repository (github_triggers) is this path's rule, not the opener's.
        submitted = await submit_task(d, user_id=d.settings.github_task_user, body=body, channel_source="github",
                                      channel_metadata={k: v for k, v in metadata.items() if v is not None},
                                      idempotency_key=f"github#{delivery}", check_pr_opener=False)
    except (PrNotFound, EngineUnavailable) as exc:
        return _ignored(exc.message)
    await start_status(d, submitted.task)
    return submission_response(submitted, response)
