"""The workspace's git work against a local bare repository, and how the token reaches git."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agent.errors import PushRejected, WorkspaceError
from agent.workspace import Workspace, clean_url, token_config
from tests.agent.conftest import git, make_bare_repo
from tests.agent.git_http import git_http_server


def new_workspace(base: Path) -> Workspace:
    return Workspace("01TASKWORKSPACE", base_dir=base, tool_path=os.environ["PATH"], git_timeout=30)


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
    first = new_workspace(tmp_path / "ws")
    await first.clone(str(bare), None, branch="bgagent/x/task", default_branch="main")
    assert await first.commit_all("nothing", branch="bgagent/x/task") is False
    (first.repo / "a.txt").write_text("a\n")
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
    ws = new_workspace(tmp_path / "ws")
    await ws.clone(str(bare), None, branch="bgagent/x/task", default_branch="main")
    git(ws.repo, "checkout", "-q", "-b", "elsewhere")
    (ws.repo / "b.txt").write_text("b\n")
    assert await ws.commit_all("Add b", branch="bgagent/x/task")
    assert await ws.current_branch() == "bgagent/x/task" and await ws.commits_ahead("main") == 1


async def test_model_written_hooks_do_not_run_in_the_agents_git_commands(tmp_path: Path) -> None:
    bare = make_bare_repo(tmp_path)
    ws = new_workspace(tmp_path / "ws")
    await ws.clone(str(bare), None, branch="bgagent/x/task", default_branch="main")
    for hook in ("pre-commit", "pre-push", "commit-msg"):
        path = ws.repo / ".git" / "hooks" / hook
        path.write_text(f"#!/bin/sh\ntouch {tmp_path}/{hook}-ran\nexit 1\n")
        path.chmod(0o755)
    (ws.repo / "c.txt").write_text("c\n")
    assert await ws.commit_all("Add c", branch="bgagent/x/task")
    await ws.push(str(bare), None, branch="bgagent/x/task")
    assert not list(tmp_path.glob("*-ran"))


async def test_a_rejected_push_is_a_readable_error(tmp_path: Path) -> None:
    bare = make_bare_repo(tmp_path)
    ws = new_workspace(tmp_path / "ws")
    await ws.clone(str(bare), None, branch="main", default_branch="main")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(bare), str(other))
    (other / "x.txt").write_text("x\n")
    git(other, "add", ".")
    git(other, "commit", "-q", "-m", "someone else")
    git(other, "push", "-q", "origin", "main")
    (ws.repo / "y.txt").write_text("y\n")
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
        ws = new_workspace(tmp_path / "ws")
        await ws.clone(url, token, branch="bgagent/x/http", default_branch="main")
        (ws.repo / "h.txt").write_text("h\n")
        assert await ws.commit_all("Add h", branch="bgagent/x/http")
        await ws.push(url, token, branch="bgagent/x/http")
    assert git(bare, "show", "bgagent/x/http:h.txt") == "h"
    assert any(header.startswith("Basic ") for header in seen)
    stored = "\n".join(p.read_text(errors="replace") for p in (ws.repo / ".git").rglob("*") if p.is_file()
                       and p.stat().st_size < 1_000_000)
    assert token not in stored and git(ws.repo, "remote", "get-url", "origin") == url


async def test_config_a_command_wrote_never_runs_code_in_the_agents_git(tmp_path: Path) -> None:
    bare = make_bare_repo(tmp_path)
    ws = new_workspace(tmp_path / "ws")
    await ws.clone(str(bare), None, branch="bgagent/x/task", default_branch="main")
    marker = tmp_path / "ran-outside-the-sandbox"
    filter_config = f"[filter \"evil\"]\n\tclean = touch {marker}; cat\n\tsmudge = cat\n"
    (ws.home / ".gitconfig").write_text(filter_config)
    with (ws.repo / ".git" / "config").open("a") as config:
        config.write(filter_config + "[core]\n\tsshCommand = touch " + str(marker) + "\n")
    (ws.repo / ".gitattributes").write_text("* filter=evil\n")
    (ws.repo / "a.txt").write_text("a\n")
    assert await ws.commit_all("Add a", branch="bgagent/x/task")
    await ws.push(str(bare), None, branch="bgagent/x/task")
    assert not marker.exists()
    assert "evil" not in (ws.repo / ".git" / "config").read_text()


async def test_a_git_dir_replaced_by_a_link_is_refused(tmp_path: Path) -> None:
    bare = make_bare_repo(tmp_path)
    ws = new_workspace(tmp_path / "ws")
    await ws.clone(str(bare), None, branch="bgagent/x/task", default_branch="main")
    (ws.repo / ".git").rename(tmp_path / "elsewhere")
    (ws.repo / ".git").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(WorkspaceError, match="no longer a directory"):
        await ws.commit_all("x", branch="bgagent/x/task")
