"""An evaluation attempt's delivery: the work committed in the runtime's repository and its diff stored; never a
push, a pull request or a comment."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from agent.delivery import Delivery
from agent.errors import WorkspaceError
from agent.evals.diffs import DiffStore
from agent.model_loop import LoopResult
from agent.progress import Progress
from agent.pull_request import commit_message, pr_title
from agent.workspace import Workspace
from shared.hydration.context import HydratedContext
from shared.tasks.models import Task

log = logging.getLogger(__name__)


@dataclass
class EvalDelivery(Delivery):
    """What an attempt left: its commit (if any) and its diff against the case's base."""

    diff: bytes = b""


class EvalDeliverer:
    """Stages the work out of the sandbox (as every delivery does), commits it, stores base..work as a patch."""

    def __init__(self, workspace: Workspace, diffs: DiffStore, progress: Progress):
        self._ws = workspace
        self._diffs = diffs
        self._progress = progress

    async def deliver(self, task: Task, context: HydratedContext, loop: LoopResult) -> EvalDelivery:
        """The attempt's diff, stored; errors end up in `error`."""
        delivery = EvalDelivery()
        base = context.base_commit or ""
        try:
            message = commit_message(pr_title(task, context), loop.summary, task_id=task.task_id,
                                     prompt_version=context.prompt_version)
            committed = await self._ws.commit_all(message, branch=context.branch_name)
            delivery.commit_count = 1 if committed else 0
            # From the runtime's own objects: the work came out of the sandbox as a checked pack.
            delivery.diff = await self._ws.diff(base, f"refs/heads/{context.branch_name}")
            delivery.diff_key = await self._diffs.put(task.task_id, delivery.diff)
        except WorkspaceError as exc:
            delivery.error, delivery.error_code = str(exc), getattr(exc, "code", None)
            return delivery
        except (BotoCoreError, ClientError) as exc:
            delivery.error = f"could not store the attempt's diff in the artifacts bucket: {exc}"
            return delivery
        log.info("evaluation attempt: %d bytes of diff stored at %s", len(delivery.diff), delivery.diff_key)
        await self._progress.emit("agent.diff", {"diff_key": delivery.diff_key, "bytes": len(delivery.diff),
                                                 "files": delivery.diff.count(b"\ndiff --git ")
                                                 + delivery.diff.startswith(b"diff --git ")})
        return delivery
