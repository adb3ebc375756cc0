"""PR tasks against in-memory fakes: admission order per PR, refusals, the PR prompt, the review parser,
the GitHub trigger rules and the status comment."""

from __future__ import annotations

import pytest

from agent.review import parse_review
from services.gateway.github_triggers import matching_rule, mentions, needs_writer, read_event
from services.hydrator.handlers import Hydrator
from services.hydrator.pr_prompt import pr_section
from services.hydrator.settings import HydratorSettings
from shared.events.models import SlotReleased, TaskSubmitted
from shared.githost.models import PullContext, PullRequest, ReviewComment
from shared.githost.status_comment import marker, post_status, status_text
from shared.repos.models import DEFAULT_GITHUB_TRIGGERS, RepoConfig
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus as S
from tests.fakes.collaborators import FakePullHost, InMemoryContexts, InMemoryRepos, RecordingBus
from tests.fakes.tasks import InMemoryTaskStore

REPO = "acme/app"


def _pull(number: int = 5, **fields: object) -> PullRequest:
    values = {"number": number, "url": f"https://github.test/{REPO}/pull/{number}", "head": "bgagent/t/x",
              "base": "main", "head_repo": REPO, "head_sha": "abc", **fields}
    return PullRequest(**values)  # type: ignore[arg-type]


@pytest.fixture
def world():
    store, bus, git, contexts = InMemoryTaskStore(), RecordingBus(), FakePullHost(), InMemoryContexts()
    git.add_repo(REPO)
    git.add_pull(REPO, _pull(), review_comments=[ReviewComment(author="rev", body="Rename foo", path="a.py", line=3)])
    hydrator = Hydrator(store, InMemoryRepos(RepoConfig(repo=REPO)), git, contexts, bus,
                        HydratorSettings(default_max_concurrency=3))
    return store, bus, git, contexts, hydrator


async def _submit(store, hydrator, **fields):
    task = await store.create(Task.new(user_id="u1", repo=REPO, **fields))
    await hydrator.on_submitted(TaskSubmitted(task_id=task.task_id, user_id="u1"))
    return await store.get(task.task_id)


async def test_a_second_iteration_on_the_same_pr_waits_for_the_first(world):
    store, bus, git, contexts, hydrator = world
    first = await _submit(store, hydrator, task_type="pr_iteration", pr_number=5)
    second = await _submit(store, hydrator, task_type="pr_iteration", pr_number=5)
    other = await _submit(store, hydrator, task_type="pr_review", pr_number=5)
    assert (first.status, second.status, other.status) == (S.HYDRATING, S.QUEUED, S.QUEUED)
    assert bus.of(SlotReleased)  # a free slot: the queue is looked at again at once
    await hydrator.on_slot_released(SlotReleased(user_id="u1"))
    # The review is not an iteration: it passes the iteration that waits for its PR.
    assert [(await store.get(t.task_id)).status for t in (second, other)] == [S.QUEUED, S.HYDRATING]
    ctx = contexts.items[first.context_key]
    assert ctx.branch_name == "bgagent/t/x" and ctx.default_branch == "main" and ctx.pr_number == 5
    assert "a.py` line 3: Rename foo" in ctx.user_prompt
    assert first.branch_name == "bgagent/t/x" and first.pr_url.endswith("/pull/5")
    await hydrator.on_slot_released(SlotReleased(user_id="u1"))
    assert (await store.get(second.task_id)).status == S.QUEUED  # the first is still running
    await store.transition(first.task_id, S.CANCELLED, expected={S.HYDRATING})
    await hydrator.on_slot_released(SlotReleased(user_id="u1"))
    assert (await store.get(second.task_id)).status == S.HYDRATING


@pytest.mark.parametrize("fields, reason", [
    ({"state": "closed"}, "is closed"), ({"merged": True, "state": "closed"}, "already merged"),
    ({"head_repo": "fork/app"}, "fork fork/app"), ({"head_sha": None}, "no longer exists"),
])
async def test_a_pr_the_agent_cannot_push_to_fails_before_it_starts(world, fields, reason):
    store, _, git, _, hydrator = world
    git.add_pull(REPO, _pull(7, **fields))
    task = await _submit(store, hydrator, task_type="pr_iteration", pr_number=7)
    assert task.status == S.FAILED and task.error_code == "PR_NOT_ITERABLE" and reason in task.error_message


async def test_a_missing_pr_fails_as_pr_not_found(world):
    store, _, _, _, hydrator = world
    task = await _submit(store, hydrator, task_type="pr_review", pr_number=99)
    assert task.status == S.FAILED and task.error_code == "PR_NOT_FOUND"


def test_the_pr_prompt_keeps_the_newest_feedback_when_trimmed():
    comments = [ReviewComment(author="r", body=f"comment {i} " + "x" * 400, path="a.py", line=i,
                              created_at=f"2025-01-01T00:00:{i:02d}Z") for i in range(20)]
    text = pr_section(PullContext(pull=_pull(title="T"), review_comments=comments), 1_000, review=False)
    assert "comment 19 " in text and "comment 0 " not in text and "left out" in text
    assert text.index("comment 19 ") < text.index("comment 18 ")


def test_the_review_is_read_from_the_last_json_block():
    text = ('Thoughts.\n```json\n{"summary": "Good", "comments": [{"path": "a.py", "line": 2, "body": "nit"},'
            ' {"path": "b.py", "line": 0, "body": "bad line"}, {"path": "c.py", "body": "no line"}]}\n```')
    summary, comments = parse_review(text)
    assert summary == "Good" and [(c.path, c.line) for c in comments] == [("a.py", 2)]
    assert parse_review("Just prose.") == ("Just prose.", [])


def _comment(body: str, **extra) -> dict:
    return {"action": "created", "repository": {"full_name": REPO}, "sender": {"login": "dev"},
            "issue": {"number": 5, "title": "T", "pull_request": {"url": "u"}},
            "comment": {"body": body, "author_association": "MEMBER"}, **extra}


@pytest.mark.parametrize("body, task_type", [
    ("@bgagent please fix the test", "pr_iteration"), ("@BGAgent review", "pr_review"),
    ("hey @bgagent review this", "pr_review"), ("@bgagents fix", None), ("mail x@bgagent", None),
])
def test_the_default_rules_read_mentions(body, task_type):
    rule = matching_rule(DEFAULT_GITHUB_TRIGGERS, read_event("issue_comment", _comment(body)))
    assert (rule.task_type if rule else None) == task_type


def test_a_mention_on_a_plain_issue_or_a_review_approval_starts_nothing():
    on_issue = _comment("@bgagent fix", issue={"number": 5, "title": "T"})
    assert matching_rule(DEFAULT_GITHUB_TRIGGERS, read_event("issue_comment", on_issue)) is None
    review = {"action": "submitted", "repository": {"full_name": REPO}, "sender": {"login": "dev"},
              "pull_request": {"number": 5, "title": "T", "head": {"ref": "bgagent/x/y"}},
              "review": {"state": "approved", "body": "ok"}}
    assert matching_rule(DEFAULT_GITHUB_TRIGGERS, read_event("pull_request_review", review)) is None
    changes = {**review, "review": {"state": "changes_requested", "body": "no"}}
    assert matching_rule(DEFAULT_GITHUB_TRIGGERS, read_event("pull_request_review", changes)).task_type == \
        "pr_iteration"
    theirs = {**changes, "pull_request": {"number": 5, "title": "T", "head": {"ref": "feature"}}}
    assert matching_rule(DEFAULT_GITHUB_TRIGGERS, read_event("pull_request_review", theirs)) is None


def test_only_comments_need_a_writer_and_the_allowlist_lets_one_in():
    ev = read_event("issue_comment", _comment("@bgagent go"))
    rule = DEFAULT_GITHUB_TRIGGERS[2]
    assert needs_writer(rule, ev) and not needs_writer(rule.model_copy(update={"allowlist": ["DEV"]}), ev)
    assert mentions("cc @bgagent.", "@bgagent") and not mentions("@bgagent-bot", "@bgagent")


async def test_the_status_comment_is_created_once_and_edited_in_place():
    git = FakePullHost()
    task = Task.new(user_id="github", repo=REPO, task_description="x", channel_source="github",
                    channel_metadata={"thread": 5})
    first = await post_status(git, task)
    done = task.model_copy(update={"status": S.FAILED, "error_code": "PR_NOT_ITERABLE", "error_message": "closed"})
    second = await post_status(git, done)
    assert first.id == second.id and len(git.comments) == 1
    body = git.comments[first.id][2]
    assert marker(task.task_id) in body and "closed" in body and "What to do:" in body
    assert "queued" in status_text(task)
