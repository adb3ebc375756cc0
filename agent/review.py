"""Delivering a PR review: one submitted COMMENT review with inline comments, never a push."""

from __future__ import annotations

import json
import logging
import re

from agent.delivery import Deliverer, Delivery
from agent.model_loop import LoopResult
from shared.githost.errors import GitHostError, GitHostRejected
from shared.githost.model_text import code_span, render_model_text
from shared.githost.models import DraftComment, PostedReview
from shared.githost.status_comment import marker
from shared.hydration.context import HydratedContext
from shared.observability.redaction import redact
from shared.tasks.models import Task

log = logging.getLogger(__name__)
_JSON_BLOCK = re.compile(r"```json\s*(\{.*?\})\s*```", re.DOTALL)
_MAX_COMMENTS = 50
_BODY_LIMIT = 60_000


def parse_review(text: str) -> tuple[str, list[DraftComment]]:
    """The review's summary and inline comments from the model's last JSON block (the text itself if none)."""
    blocks = _JSON_BLOCK.findall(text or "")
    try:
        data = json.loads(blocks[-1]) if blocks else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return (text or "").strip(), []
    comments = []
    for c in data.get("comments") or []:
        if isinstance(c, dict) and isinstance(c.get("path"), str) and isinstance(c.get("line"), int) \
                and isinstance(c.get("body"), str) and c["line"] > 0 and c["body"].strip():
            comments.append(DraftComment(path=c["path"], line=c["line"], body=redact(c["body"].strip())))
    summary = str(data.get("summary") or _JSON_BLOCK.sub("", text)).strip()
    return redact(summary), comments[:_MAX_COMMENTS]


def _folded(summary: str, comments: list[DraftComment]) -> str:
    """Inline comments the host refused (lines outside the diff), kept in the review's body instead."""
    notes = "\n".join(f"- {code_span(c.path)} line {c.line}: {c.body}" for c in comments)
    return f"{summary}\n\n### Comments\n\n{notes}"


def _as_text(context: HydratedContext, summary: str,
             comments: list[DraftComment]) -> tuple[str, list[DraftComment]]:
    """The review's words as the host will show them: the model's text rendered as text."""
    def render(text: str) -> str:
        return render_model_text(text, repo=context.repo, web_url=context.pr_url or context.clone_url,
                                 issue=context.issue_number)
    return render(summary), [c.model_copy(update={"body": render(c.body)}) for c in comments]


class ReviewDeliverer(Deliverer):
    """Submits the review once per task: a review carrying the task's marker is never posted again."""

    async def deliver(self, task: Task, context: HydratedContext, loop: LoopResult) -> Delivery:
        delivery = Delivery()
        summary, comments = parse_review(loop.summary)
        delivery.summary = summary
        number, mark = context.pr_number or 0, marker(task.task_id)
        summary, comments = _as_text(context, summary, comments)
        try:
            delivery.review = await self._host.find_review(context.repo, number, mark)
            if delivery.review is None:
                delivery.review = await self._submit(context, number, summary, comments, mark)
        except GitHostError as exc:
            delivery.error = f"could not submit the review: {redact(str(exc))}"
        return delivery

    async def _submit(self, context: HydratedContext, number: int, summary: str, comments: list[DraftComment],
                      mark: str) -> PostedReview:
        body = f"{summary[:_BODY_LIMIT]}\n\n{mark}"
        create = self._host.create_review
        try:
            return await create(context.repo, number, body=body, comments=comments, commit_id=context.pr_head_sha)
        except GitHostRejected:
            if not comments:
                raise
            log.info("the host refused the inline comments; submitting them in the review body")
            review = await create(context.repo, number, body=f"{_folded(summary, comments)[:_BODY_LIMIT]}\n\n{mark}",
                                  comments=[], commit_id=context.pr_head_sha)
            return review.model_copy(update={"comment_count": len(comments)})
