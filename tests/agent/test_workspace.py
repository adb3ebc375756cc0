"""The workspace's git work against a local bare repository, and how the token reaches git.

Every commit is collected through the task's sandbox (bwrap by default), as in a real run: the model's
changes are made by commands in the sandbox where a test can.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.errors import PushRejected, WorkspaceError
from agent.workspace import Workspace, clean_url, token_config
from tests.agent.conftest import git, make_bare_repo
from tests.agent.git_http import git_http_server
from tests.agent.sandboxes import as_model, cloned_workspace


def new_workspace(base: Path) -> Workspace:
    return Workspace("01TASKWORKSPACE", base_dir=base, tool_path=os.environ["PATH"], git_timeout=30)


async def cloned(base: Path, url: str, branch: str = "bgagent/x/task", token: str | None = None) -> Workspace:
    return await cloned_workspace(base, url, branch=branch, task_id="01TASKWORKSPACE", token=token)


run = as_model


async def test_clone_creates_the_branch_from_the_default_branch(tmp_path: Path) -> None:
    bare = make_bare_repo(tmp_path)
    ws = new_workspace(tmp_path / "ws")
    continued = await ws.clone(str(bare), None, branch="bgagent/x/task", default_branch="main")
    assert continued is False and await ws.current_branch() == "bgagent/x/task"
    assert (ws.repo / "README.md").exists()
    assert git(ws.repo, "config", "--local", "user.email") == "bgagent@users.noreply.local"
    ws.remove()
    assert not ws.root.exists()


async def test_commit_push_and_a_rerun_continues_the_branch(tmp_path: Path) -> None:
    bare = make_bare_repo(tmp_path)
    first = await cloned(tmp_path / "ws", str(bare))
    assert await first.commit_all("nothing", branch="bgagent/x/task") is False
    await run(first, "echo a > a.txt")
    assert await first.commit_all("Add a\n\nBody\n\nTask-Id: x\nPrompt-Version: v1\n", branch="bgagent/x/task")
    assert await first.commits_ahead("main") == 1
    await first.push(str(bare), None, branch="bgagent/x/task")
    assert "Task-Id: x" in git(bare, "log", "-1", "--format=%(trailers)", "bgagent/x/task")
    assert git(bare, "log", "-1", "--format=%an <%ae>", "bgagent/x/task") == "bgagent <bgagent@users.noreply.local>"

    second = new_workspace(tmp_path / "ws")
    assert await second.clone(str(bare), None, branch="bgagent/x/task", default_branch="main") is True
    assert (second.repo / "a.txt").read_text() == "a\n" and await second.commits_ahead("main") == 1


async def test_the_commit_lands_on_the_task_branch_even_if_the_model_switched(tmp_path: Path) -> None:
    bare = make_bare_repo(tmp_path)
    ws = await cloned(tmp_path / "ws", str(bare))
    await run(ws, "git checkout -q -b elsewhere && echo b > b.txt && git add b.txt && git commit -qm 'model commit'")
    assert await ws.commit_all("Add b", branch="bgagent/x/task")
    assert await ws.current_branch() == "bgagent/x/task" and await ws.commits_ahead("main") == 1


async def test_model_written_hooks_do_not_run_in_the_agents_git_commands(tmp_path: Path) -> None:
    bare = make_bare_repo(tmp_path)
    ws = await cloned(tmp_path / "ws", str(bare))
    for hook in ("pre-commit", "pre-push", "commit-msg"):
        await run(ws, f"mkdir -p .git/hooks && printf '#!/bin/sh\\nexit 1\\n' > .git/hooks/{hook} && "
                      f"chmod +x .git/hooks/{hook}")
    marker = tmp_path / "hook-ran"
    for hook in ("pre-commit", "pre-push", "commit-msg"):  # and the same, written by the runtime's own user
        (ws.repo / ".git" / "hooks" / hook).write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    await run(ws, "echo c > c.txt")
    assert await ws.commit_all("Add c", branch="bgagent/x/task")
    await ws.push(str(bare), None, branch="bgagent/x/task")
    assert not marker.exists() and git(bare, "show", "bgagent/x/task:c.txt") == "c"


async def test_a_rejected_push_is_a_readable_error(tmp_path: Path) -> None:
    bare = make_bare_repo(tmp_path)
    ws = await cloned(tmp_path / "ws", str(bare), branch="main")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(bare), str(other))
    (other / "x.txt").write_text("x\n")
    git(other, "add", ".")
    git(other, "commit", "-q", "-m", "someone else")
    git(other, "push", "-q", "origin", "main")
    await run(ws, "echo y > y.txt")
    await ws.commit_all("mine", branch="main")
    with pytest.raises(PushRejected, match="rejected the push of main"):
        await ws.push(str(bare), None, branch="main")


async def test_a_missing_repository_is_a_clone_error(tmp_path: Path) -> None:
    ws = new_workspace(tmp_path / "ws")
    with pytest.raises(WorkspaceError, match="cloning"):
        await ws.clone(str(tmp_path / "nope.git"), None, branch="b", default_branch="main")


def test_the_token_travels_in_the_git_process_environment_only(tmp_path: Path) -> None:
    env = token_config("https://github.com/acme/app.git", "ghp_tokentokentoken")
    assert env["GIT_CONFIG_KEY_0"] == "url.https://x-access-token:ghp_tokentokentoken@github.com/acme/app.git.insteadOf"
    assert env["GIT_CONFIG_VALUE_0"] == "https://github.com/acme/app.git"
    assert env["GIT_CONFIG_GLOBAL"] == "/dev/null"
    assert token_config("/srv/git/app.git", "ghp_tokentokentoken") == {}
    assert token_config("https://github.com/acme/app.git", None) == {}
    assert clean_url("https://user:pw@git.example.com:8443/a/b.git") == "https://git.example.com:8443/a/b.git"
    assert "ghp_" not in repr(new_workspace(tmp_path / "ws").tool_env())


async def test_clone_and_push_over_http_send_the_token_but_never_store_it(tmp_path: Path) -> None:
    token = "ghp_httpTokenForTheWorkspaceTest01"
    bare = make_bare_repo(tmp_path)
    with git_http_server(bare.parent, token) as (base_url, seen):
        url = f"{base_url}/{bare.name}"
        with pytest.raises(WorkspaceError):
            await new_workspace(tmp_path / "denied").clone(url, None, branch="b", default_branch="main")
        ws = await cloned(tmp_path / "ws", url, branch="bgagent/x/http", token=token)
        await run(ws, "echo h > h.txt")
        assert await ws.commit_all("Add h", branch="bgagent/x/http")
        await ws.push(url, token, branch="bgagent/x/http")
    assert git(bare, "show", "bgagent/x/http:h.txt") == "h"
    assert any(header.startswith("Basic ") for header in seen)
    stored = "\n".join(p.read_text(errors="replace") for p in ws.root.rglob("*") if p.is_file()
                       and p.stat().st_size < 1_000_000)
    assert token not in stored and (await run(ws, "git remote get-url origin")).strip() == url




async def test_an_edit_of_the_same_size_in_the_second_the_clone_was_made_is_committed(tmp_path: Path) -> None:
    bare = make_bare_repo(tmp_path)  # README.md: "# app\n\nA small app.\n"
    ws = await cloned(tmp_path / "ws", str(bare))
    # The edit keeps the size and lands in the very second the clone's index was written (a patch applied at
    # once, a fast model): only the index's own time says the file must be read again.
    await run(ws, "printf '# app\\n\\nA small App.\\n' > README.md && touch -r .git/index README.md")
    assert await ws.commit_all("Capitalise", branch="bgagent/x/task")
    assert git(ws.git_dir, "show", "bgagent/x/task:README.md") == "# app\n\nA small App."
