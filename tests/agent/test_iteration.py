"""An iteration's push when the PR's branch moved meanwhile: rebase once and push, or fail with a remedy."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.errors import NotApproved, PushRejected
from agent.iteration import IterationDeliverer, iteration_comment
from agent.model_loop import LoopResult
from agent.pricing import Usage
from agent.pull_request import TestReport
from agent.workspace import Workspace
from shared.githost.models import PostedComment
from shared.hydration.context import HydratedContext
from shared.tasks.models import Task
from tests.agent.conftest import git, make_bare_repo
from tests.agent.sandboxes import open_sandbox

BRANCH = "bgagent/x/feature"


def _context(bare: Path) -> HydratedContext:
    return HydratedContext(task_id="t", repo="acme/app", clone_url=str(bare), default_branch="main",
                           branch_name=BRANCH, system_prompt="s", user_prompt="u", prompt_version="v",
                           model_id="m", max_turns=5, task_type="pr_iteration", pr_number=1)


async def _moved_branch(tmp_path: Path, theirs: dict[str, str]) -> tuple[Path, Workspace, IterationDeliverer]:
    """A PR branch, our clone of it with one new commit, and someone else's push after we cloned."""
    bare = make_bare_repo(tmp_path, {"shared.txt": "base\n"})
    git(tmp_path, "clone", "-q", str(bare), "other")
    other = tmp_path / "other"
    git(other, "checkout", "-q", "-b", BRANCH)
    git(other, "push", "-q", "origin", BRANCH)
    ws = Workspace("01TASKITERATION", base_dir=tmp_path / "ws", tool_path=os.environ["PATH"], git_timeout=30)
    assert await ws.clone(str(bare), None, branch=BRANCH, default_branch="main") is True
    ws.sandbox = await open_sandbox(ws)
    assert (await ws.sandbox.run("echo ours > ours.txt && echo ours > shared.txt", timeout=30, output_limit=1000)).ok
    await ws.commit_all("ours", branch=BRANCH)
    for path, text in theirs.items():
        (other / path).write_text(text)
    git(other, "-c", "user.name=o", "-c", "user.email=o@x", "commit", "-qam", "theirs")
    git(other, "push", "-q", "origin", BRANCH)
    return bare, ws, IterationDeliverer(ws, None, None, token=None, test_timeout=30)  # type: ignore[arg-type]


async def test_a_branch_that_moved_is_rebased_on_once_and_pushed(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    bare, ws, deliverer = await _moved_branch(tmp_path / "x", {"README.md": "changed by a teammate\n"})
    await deliverer._push_once_more_after_rebase(_context(bare))
    log = git(bare, "log", "--format=%s", BRANCH).splitlines()
    assert log[:2] == ["ours", "theirs"]  # our commit replayed on top of theirs, nothing overwritten


async def test_a_conflicting_move_fails_with_a_remedy_and_overwrites_nothing(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    bare, ws, deliverer = await _moved_branch(tmp_path / "x", {"shared.txt": "theirs\n"})
    with pytest.raises(PushRejected, match="submit the iteration again"):
        await deliverer._push_once_more_after_rebase(_context(bare))
    assert git(bare, "log", "-1", "--format=%s", BRANCH) == "theirs"


def test_the_comment_says_what_changed_and_how_the_tests_went() -> None:
    text = iteration_comment("Renamed it.", 2, TestReport("pytest", False, 1, "boom"), None)
    assert "pushed 2 commit(s)" in text and "Renamed it." in text and "**failed** (exit 1)" in text
    assert "found nothing to change" in iteration_comment("", 0, None, None)


class CommentHost:
    """The PR's conversation as a list of bodies."""

    def __init__(self) -> None:
        self.bodies: list[str] = []

    async def find_comment(self, repo: str, number: int, marker: str) -> None:
        return None

    async def create_comment(self, repo: str, number: int, body: str) -> PostedComment:
        self.bodies.append(body)
        return PostedComment(id=len(self.bodies))


async def test_the_models_summary_reaches_the_pr_comment_as_text(tmp_path: Path) -> None:
    bare = make_bare_repo(tmp_path, {"README.md": "hi\n"})
    git(tmp_path, "--git-dir", str(bare), "branch", BRANCH, "main")
    ws = Workspace("01TASKITERATION", base_dir=tmp_path / "ws", tool_path=os.environ["PATH"], git_timeout=30)
    assert await ws.clone(str(bare), None, branch=BRANCH, default_branch="main") is True
    ws.sandbox = await open_sandbox(ws)
    host = CommentHost()
    task = Task.new(user_id="u", repo="acme/app", task_type="pr_iteration", pr_number=1, branch_name=BRANCH)
    summary = "Nothing to do. <img src=x onerror=alert(1)> ![p](https://evil.example/p.png) Closes #99"
    loop = LoopResult(stop="end_turn", summary=summary, usage=Usage(), cost_usd=0.0)  # type: ignore[arg-type]
    deliverer = IterationDeliverer(ws, host, None, token=None, test_timeout=30)  # type: ignore[arg-type]
    await deliverer.deliver(task, _context(bare), loop)
    [body] = host.bodies
    assert "<img" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body
    assert "`![p](https://evil.example/p.png)`" in body and "Closes `#99`" in body


class DenyingGates:
    """The owner said no to every push (approve_push); scripts run."""

    async def script(self, target: str, command: str) -> None:
        return None

    async def push(self, repo: str, branch: str, commit_count: int) -> None:
        raise NotApproved("nothing was pushed and no pull request opened: the owner denied it")


async def test_an_iteration_push_the_owner_denies_reaches_nothing_and_says_why(tmp_path: Path) -> None:
    bare = make_bare_repo(tmp_path, {"a.txt": "a\n"})
    git(tmp_path, "clone", "-q", str(bare), "other")
    git(tmp_path / "other", "push", "-q", "origin", f"HEAD:refs/heads/{BRANCH}")
    ws = Workspace("01TASKITERDENY", base_dir=tmp_path / "ws", tool_path=os.environ["PATH"], git_timeout=30)
    await ws.clone(str(bare), None, branch=BRANCH, default_branch="main")
    ws.sandbox = await open_sandbox(ws)
    (ws.repo / "new.txt").write_text("new\n")
    before = git(bare, "rev-parse", BRANCH)
    deliverer = IterationDeliverer(ws, None, None, token=None, test_timeout=30,  # type: ignore[arg-type]
                                   gates=DenyingGates())
    task = Task.new(user_id="u", repo="acme/app", task_description="fix it")
    delivery = await deliverer.deliver(task, _context(bare), LoopResult("end_turn", "done", Usage(), 0.0))
    assert git(bare, "rev-parse", BRANCH) == before  # the PR's branch did not move
    assert delivery.error_code == "NOT_APPROVED" and "nothing was pushed" in (delivery.error or "")
