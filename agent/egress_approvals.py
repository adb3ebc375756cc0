"""`egress: ask`: a connection to an unlisted host is refused at once and asked about once; approved, it goes."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Callable

from shared.aws.errors import StoreUnavailable
from shared.clock import utcnow
from shared.steering.approvals import ApprovalStore
from shared.steering.errors import TaskNotSteerable
from shared.steering.models import EGRESS_GATE, Approval
from shared.tasks.models import Task

log = logging.getLogger(__name__)
_ASKED = "the task's owner was asked (bgagent pending); retry once they approve"
_NOT_ASKED = "the task's owner could not be asked just now; retry later"
_WHY = "a command in the sandbox connected to a host outside the repository's egress allowlist"


@dataclass
class _Request:
    writing: asyncio.Task[Approval | None]
    approval: Approval | None = None
    read_at: float = 0.0


class EgressAsker:
    """One egress request per host and task; the proxy's retries read its decision (at most once per `recheck`)."""

    def __init__(self, approvals: ApprovalStore, task: Task, *, recheck_seconds: float,
                 clock: Callable[[], float] = time.monotonic):
        self._approvals = approvals
        self._task = task
        self._recheck = recheck_seconds
        self._clock = clock
        self._requests: dict[str, _Request] = {}

    async def __call__(self, host: str, port: int) -> tuple[bool, str]:
        """(approved, what the refusal adds); never waits for a person, so the client hears back at once."""
        key = host.strip().rstrip(".").lower()
        request = self._requests.get(key)
        if request is None:
            # The refusal goes out first; the request is written beside it.
            self._requests[key] = _Request(asyncio.create_task(self._ask(key, port)))
            return False, _ASKED
        if not request.writing.done():
            return False, _ASKED
        if request.approval is None:
            request.approval = request.writing.result()
            if request.approval is None:
                del self._requests[key]  # not written: the next attempt asks again
                return False, _NOT_ASKED
        return await self._answer(request)

    async def _answer(self, request: _Request) -> tuple[bool, str]:
        approval = request.approval
        assert approval is not None
        if approval.status == "pending" and self._clock() - request.read_at >= self._recheck:
            request.read_at = self._clock()
            try:
                approval = await self._approvals.get(approval.task_id, approval.approval_id) or approval
            except StoreUnavailable as exc:
                log.warning("could not read the egress request: %s", exc)
            request.approval = approval
        if approval.status == "approved":
            return True, ""
        if approval.status == "pending" and not approval.expired(utcnow()):
            return False, _ASKED
        if approval.status == "denied":
            return False, f"the task's owner denied it: {approval.decision_reason or 'no reason given'}"
        return False, "nobody approved it in time"

    async def _ask(self, host: str, port: int) -> Approval | None:
        approval = Approval.new(task_id=self._task.task_id, user_id=self._task.user_id, rule=EGRESS_GATE,
                                kind="egress", command=f"connect to {host}:{port}", reason=_WHY)
        try:
            return await self._approvals.request(approval)
        except TaskNotSteerable as exc:  # e.g. the task waits for a command's approval meanwhile
            log.info("egress request for %s not written: %s", host, exc)
        except StoreUnavailable as exc:
            log.warning("could not write the egress request for %s: %s", host, exc)
        return None
