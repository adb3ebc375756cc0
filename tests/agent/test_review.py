"""A review is submitted once per task, whatever repeats, and survives a host refusing its inline comments."""

from __future__ import annotations

import json

from agent.model_loop import LoopResult
from agent.pricing import Usage
from agent.review import ReviewDeliverer
from shared.githost.errors import GitHostRejected
from shared.githost.models import DraftComment, PostedReview
from shared.hydration.context import HydratedContext
from shared.tasks.models import Task

ANSWER = 'Done.\n```json\n{"summary": "Fine", "comments": [{"path": "a.py", "line": 3, "body": "nit"}]}\n```'


class ReviewHost:
    """Reviews held in a list; `refuse_inline` answers 422 to inline comments, as GitHub does off the diff."""

    def __init__(self, refuse_inline: bool = False) -> None:
        self.reviews: list[tuple[str, list[DraftComment], str | None]] = []
        self.refuse_inline = refuse_inline

    async def find_review(self, repo: str, number: int, marker: str) -> PostedReview | None:
        found = [i for i, (body, _, _) in enumerate(self.reviews) if marker in body]
        return PostedReview(id=found[0] + 1) if found else None

    async def create_review(self, repo: str, number: int, *, body: str, comments: list[DraftComment],
                            commit_id: str | None) -> PostedReview:
        if comments and self.refuse_inline:
            raise GitHostRejected("line must be part of the diff", 422)
        self.reviews.append((body, comments, commit_id))
        return PostedReview(id=len(self.reviews), url=f"https://review/{len(self.reviews)}",
                            comment_count=len(comments))


def _run(host: ReviewHost) -> tuple[Task, HydratedContext, LoopResult, ReviewDeliverer]:
    task = Task.new(user_id="u", repo="acme/app", task_type="pr_review", pr_number=4)
    context = HydratedContext(task_id=task.task_id, repo="acme/app", clone_url="/x", default_branch="main",
                              branch_name="feature", system_prompt="s", user_prompt="u", prompt_version="v",
                              model_id="m", max_turns=3, task_type="pr_review", pr_number=4, pr_head_sha="abc")
    loop = LoopResult(stop="end_turn", summary=ANSWER, usage=Usage(), cost_usd=0.0)  # type: ignore[arg-type]
    return task, context, loop, ReviewDeliverer(None, host, None, token=None, test_timeout=1)  # type: ignore[arg-type]


async def test_a_repeated_delivery_finds_the_review_instead_of_posting_another():
    host = ReviewHost()
    task, context, loop, deliverer = _run(host)
    first = await deliverer.deliver(task, context, loop)
    again = await deliverer.deliver(task, context, loop)
    assert len(host.reviews) == 1 and first.review.id == again.review.id
    body, comments, commit = host.reviews[0]
    assert body.startswith("Fine") and [(c.path, c.line) for c in comments] == [("a.py", 3)] and commit == "abc"
    assert first.summary == "Fine" and first.review.comment_count == 1


async def test_inline_comments_the_host_refuses_go_into_the_review_body():
    host = ReviewHost(refuse_inline=True)
    task, context, loop, deliverer = _run(host)
    delivery = await deliverer.deliver(task, context, loop)
    assert delivery.error is None and len(host.reviews) == 1
    body, comments, _ = host.reviews[0]
    assert comments == [] and "`a.py` line 3: nit" in body and delivery.review.comment_count == 1


async def test_the_reviews_words_reach_the_host_as_text():
    host = ReviewHost(refuse_inline=True)
    task, context, loop, deliverer = _run(host)
    hostile = {"summary": "<b>ok</b> ![p](https://evil.example/p.png)",
               "comments": [{"path": "a`.py", "line": 3, "body": "see [here](https://evil.example)"}]}
    loop.summary = f"```json\n{json.dumps(hostile)}\n```"
    delivery = await deliverer.deliver(task, context, loop)
    body, _, _ = host.reviews[0]
    assert body.startswith("&lt;b&gt;ok&lt;/b&gt; `![p](https://evil.example/p.png)`")
    assert "- ``a`.py`` line 3: see `[here](https://evil.example)`" in body
    assert delivery.summary == hostile["summary"]  # the task keeps the model's own words
