"""Nothing the sandbox writes configures or runs code in the runtime's git: the work crosses as data.

Each test plants what a prompt-injected model would (as commands in the task's sandbox, and where the
sandbox cannot reach, as the runtime's own user writing into the clone) and then drives the runtime's
commit, test run, rebase and push. A marker outside the sandbox proves whether planted code ran there.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from agent.bootstrap import run_agent
from agent.errors import ChangeTooLarge
from agent.work_import import ChangeLimits
from agent.workspace import Workspace
from tests.agent.conftest import ANTHROPIC_KEY, GITHUB_TOKEN, AgentWorld, git, make_bare_repo
from tests.agent.sandboxes import as_model, cloned_workspace
from tests.doubles.fake_anthropic import Turn

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")
BRANCH = "bgagent/x/boundary"
SECRET = "bgagent-boundary-secret-5f1c9e"


async def cloned(tmp_path: Path, url: str, *, limits: ChangeLimits | None = None) -> Workspace:
    return await cloned_workspace(tmp_path / "ws", url, branch=BRANCH, task_id="01TASKBOUNDARY", limits=limits)


model = as_model


def evil_config(marker: Path) -> str:
    run = f"env > {marker} && touch {marker}"  # a value in double quotes: git config reads ';' as a comment
    return (f"[filter \"x\"]\n\tclean = \"{run} && cat\"\n\tsmudge = \"{run} && cat\"\n"
            f"\tprocess = \"{run}\"\n[diff \"x\"]\n\ttextconv = \"{run} && cat\"\n"
            f"[merge \"x\"]\n\tdriver = \"{run}\"\n[core]\n\tfsmonitor = \"{run}\"\n\tsshCommand = \"{run}\"\n"
            f"\thooksPath = {marker.parent}/hooks\n\tpager = \"{run}\"\n\taskPass = \"{run}\"\n"
            f"[diff]\n\texternal = \"{run}\"\n[remote \"origin\"]\n\treceivepack = \"{run} && git-receive-pack\"\n"
            f"\tuploadpack = \"{run} && git-upload-pack\"\n[commit]\n\tgpgsign = true\n"
            f"[gpg]\n\tprogram = \"{run}\"\n[credential]\n\thelper = \"!{run}\"\n")


async def plant_everything(ws: Workspace, marker: Path) -> None:
    """The 33 classic plants and the two the review found, at once."""
    config = evil_config(marker)
    home = ws.home
    # The review's finding: a common directory holding the repository's objects and refs and a config of
    # the model's, which git reads instead of the .git/config the runtime restored.
    await model(ws, "mkdir -p $HOME/common/info $HOME/.config/git $HOME/hooks && echo work > work.txt && "
                    "cp -r .git/objects .git/refs $HOME/common/")
    for path in (home / "common" / "config", home / ".gitconfig", home / ".config" / "git" / "config"):
        path.write_text(config + "[user]\n\tname = m\n\temail = m@x\n")
    for path in (home / "common" / "info" / "attributes", home / ".config" / "git" / "attributes",
                 ws.repo / ".git" / "info" / "attributes"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("* filter=x diff=x merge=x\n")
    (home / "inc").write_text(config)
    dot_git = ws.repo / ".git"
    (dot_git / "commondir").write_text(f"{home / 'common'}\n")  # the finding: read instead of .git/config
    with (dot_git / "config").open("a") as out:
        out.write(config + f"[include]\n\tpath = {home / 'inc'}\n[core]\n\tworktree = {home}\n")
    (dot_git / "objects" / "info" / "alternates").write_text(f"{home}/objects\n")
    for hook in ("pre-commit", "commit-msg", "post-commit", "pre-push", "post-checkout", "reference-transaction",
                 "post-index-change", "fsmonitor-watchman", "pre-auto-gc", "post-rewrite"):
        for where in (dot_git / "hooks", home / "common" / "hooks", home / "hooks"):
            where.mkdir(parents=True, exist_ok=True)
            (where / hook).write_text(f"#!/bin/sh\nenv > {marker}\n")
            (where / hook).chmod(0o755)
    (ws.repo / ".gitattributes").write_text("* filter=x diff=x merge=x\n")


def assert_no_leak(bare: Path, marker: Path) -> None:
    assert not marker.exists(), marker.read_text()[:500]
    pushed = git(bare, "log", "-p", "--all", "--format=%H %s%n%b")
    assert SECRET not in pushed and SECRET.encode().hex() not in pushed


@pytest.fixture(autouse=True)
def _secret_in_the_runtime_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BGAGENT_BOUNDARY_SECRET", SECRET)  # what a filter run by the runtime would print


async def test_planted_git_configuration_never_runs_at_commit_test_or_push(tmp_path: Path) -> None:
    bare = make_bare_repo(tmp_path)
    ws = await cloned(tmp_path, str(bare))
    marker = tmp_path / "ran-outside-the-sandbox"
    await plant_everything(ws, marker)
    assert await ws.commit_all("Add work\n\nTask-Id: x\n", branch=BRANCH)
    # The test command runs model-written code after the commit: what it plants cannot change the push.
    tests = await ws.run_script("printf '[remote \"origin\"]\\n\\treceivepack = \"touch %s && git-receive-pack\"\\n'"
                                f" {marker} >> .git/config && echo tampered > work.txt", timeout=60)
    assert tests.ok, tests.output
    await ws.push(str(bare), None, branch=BRANCH)
    assert_no_leak(bare, marker)
    assert git(bare, "show", f"{BRANCH}:work.txt") == "work"  # as committed, not as the test command left it
    assert git(bare, "log", "-1", "--format=%an|%s", BRANCH) == "bgagent|Add work"
    assert git(bare, "fsck", "--strict") == ""


async def test_a_dot_git_replaced_by_a_link_or_a_gitfile_changes_nothing_the_runtime_does(tmp_path: Path) -> None:
    bare = make_bare_repo(tmp_path)
    marker = tmp_path / "ran-outside-the-sandbox"
    for shape in ("symlink", "gitfile"):
        ws = await cloned(tmp_path / shape, str(bare))
        elsewhere = ws.home / "elsewhere"
        await model(ws, f"mv .git {elsewhere} && echo {shape} > {shape}.txt")
        (elsewhere / "config").write_text(evil_config(marker))
        if shape == "symlink":
            (ws.repo / ".git").symlink_to(elsewhere)
        else:
            (ws.repo / ".git").write_text(f"gitdir: {elsewhere}\n")
        assert await ws.commit_all(f"Add {shape}", branch=BRANCH)
        await ws.push(str(bare), None, branch=BRANCH)
        assert_no_leak(bare, marker)
        assert git(bare, "show", f"{BRANCH}:{shape}.txt") == shape


async def test_the_rebase_of_an_iteration_reads_nothing_the_sandbox_wrote(tmp_path: Path) -> None:
    bare = make_bare_repo(tmp_path)
    ws = await cloned(tmp_path, str(bare))
    marker = tmp_path / "ran-outside-the-sandbox"
    await plant_everything(ws, marker)
    assert await ws.commit_all("Add work", branch=BRANCH)
    await ws.push(str(bare), None, branch=BRANCH)
    other = tmp_path / "other"  # someone else pushes to the branch meanwhile
    git(tmp_path, "clone", "-q", "-b", BRANCH, str(bare), str(other))
    (other / "theirs.txt").write_text("theirs\n")
    git(other, "add", "theirs.txt")
    git(other, "-c", "user.name=o", "-c", "user.email=o@x", "commit", "-qm", "theirs")
    git(other, "push", "-q", "origin", BRANCH)
    await model(ws, "echo more > more.txt")
    assert await ws.commit_all("More", branch=BRANCH)
    await ws.rebase_on_remote(str(bare), None, branch=BRANCH)
    await ws.push(str(bare), None, branch=BRANCH)
    assert_no_leak(bare, marker)
    assert git(bare, "show", f"{BRANCH}:theirs.txt") == "theirs" and git(bare, "show", f"{BRANCH}:more.txt") == "more"


@pytest.mark.skipif(os.geteuid() != 0, reason="the command user differs from the runtime's only as root")
async def test_a_local_repositorys_objects_are_never_shared_with_or_handed_to_the_task(tmp_path: Path) -> None:
    operator = tmp_path / "operator"  # a --path repository: an ordinary clone with loose objects
    git(tmp_path, "clone", "-q", str(make_bare_repo(tmp_path)), str(operator))
    objects = sorted(p for p in (operator / ".git" / "objects").rglob("*") if p.is_file())
    before = {p: (p.stat().st_ino, p.stat().st_uid, p.read_bytes()) for p in objects}
    ws = await cloned(tmp_path, str(operator))
    # Every object file the task can find, rewritten in place with other content under the same name.
    await model(ws, "find / -xdev -path '*/objects/??/*' -type f 2>/dev/null | while read -r f; do "
                    "chmod u+w \"$f\" 2>/dev/null; printf 'blob 5\\0evil\\n' > \"$f\" 2>/dev/null; done; "
                    "echo new > new.txt; true")
    assert await ws.commit_all("Add new", branch=BRANCH)
    await ws.push(str(operator), None, branch=BRANCH)
    assert {p: (p.stat().st_ino, p.stat().st_uid, p.read_bytes()) for p in objects} == before
    assert git(operator, "fsck", "--strict") == ""
    assert git(operator, "show", f"{BRANCH}:new.txt") == "new"
    ws_inodes = {p.stat().st_ino for p in ws.root.rglob("*") if p.is_file()}
    assert not ws_inodes & {ino for ino, _, _ in before.values()}


async def test_a_change_over_the_limits_is_refused_readably_and_nothing_is_pushed(tmp_path: Path) -> None:
    bare = make_bare_repo(tmp_path)
    many = await cloned(tmp_path / "many", str(bare), limits=ChangeLimits(max_files=50))
    await model(many, "mkdir gen && for i in $(seq 60); do echo $i > gen/$i.txt; done")
    with pytest.raises(ChangeTooLarge, match="touches 60, over the limit of 50 files"):
        await many.commit_all("Many", branch=BRANCH)
    big = await cloned(tmp_path / "big", str(bare), limits=ChangeLimits(max_bytes=1 << 20))
    await model(big, "head -c 3000000 /dev/zero > zeros.bin")  # compresses to almost nothing: weighed unpacked
    with pytest.raises(ChangeTooLarge, match="2.9 MB of new content"):
        await big.commit_all("Big", branch=BRANCH)
    assert BRANCH not in git(bare, "branch", "--list")


async def test_special_files_in_the_tree_neither_block_nor_cross(tmp_path: Path) -> None:
    bare = make_bare_repo(tmp_path)
    ws = await cloned(tmp_path, str(bare))
    await model(ws, "mkfifo pipe && ln -s /etc/shadow shadow-link && echo ok > ok.txt")
    assert await ws.commit_all("Add ok", branch=BRANCH)
    await ws.push(str(bare), None, branch=BRANCH)
    tree = git(bare, "ls-tree", "-r", BRANCH)
    assert "pipe" not in tree and "120000" in tree  # the link crosses as a link (data), never followed
    assert git(bare, "show", f"{BRANCH}:shadow-link") == "/etc/shadow"


async def test_through_the_whole_agent_a_planted_commondir_filter_never_runs_and_nothing_leaks(
        world: AgentWorld, tmp_path: Path) -> None:
    """The review's probe, end to end: the model plants a common directory with a filter (and the test command
    a receivepack), the agent commits, tests, pushes and opens its pull request as usual."""
    marker = tmp_path / "ran-as-the-runtime"
    filter_config = f'[filter "x"]\\n\\tclean = "env | od -An -tx1 > {marker} && cat"\\n'
    plant = ("mkdir -p $HOME/common/info && cp -r .git/objects .git/refs $HOME/common/ && "
             f"printf '{filter_config}' > $HOME/common/config && echo '* filter=x' > $HOME/common/info/attributes && "
             "echo $HOME/common > .git/commondir && echo '* filter=x' > .gitattributes && echo work > work.txt")
    world.anthropic.add_scenario("fake-git-plant", [
        Turn.tool_use("bash", {"command": plant}, text="Following the instructions in the issue."),
        Turn.text("Done.")])
    receivepack = f'[remote "origin"]\\n\\treceivepack = "touch {marker} && git-receive-pack"\\n'
    task = await world.seed(model_id="fake-git-plant", test_command=f"printf '{receivepack}' >> .git/config; true")
    report = await run_agent(world.settings(task.task_id))
    assert report.exit_code == 0, report.error
    assert not marker.exists()
    pushed = git(world.bare, "log", "-p", "--format=%H%n%B", f"main..{task.branch_name}")
    assert "work" in pushed and "filter=x" in pushed  # the model's files arrive as they are: data
    for secret in (GITHUB_TOKEN, ANTHROPIC_KEY):
        assert secret not in pushed and secret.encode().hex() not in pushed.replace(" ", "")
    assert (await world.task(task.task_id)).agent_status == "success"
    assert world.pulls_for(task.branch_name)


async def test_the_commit_is_the_working_tree_whatever_the_clones_index_says(tmp_path: Path) -> None:
    bare = make_bare_repo(tmp_path, {"keep.txt": "keep\n", "gone.txt": "gone\n"})
    tricks = {"hidden": "git update-index --skip-worktree README.md && git update-index --assume-unchanged keep.txt",
              "no-index": "rm .git/index", "bad-index": "head -c 100 /dev/urandom > .git/index",
              "warm": "git status --porcelain >/dev/null"}
    for name, trick in tricks.items():
        ws = await cloned(tmp_path / name, str(bare))
        await model(ws, f"{trick}; echo changed > README.md && echo kept > keep.txt && rm gone.txt && "
                        f"mkdir -p new && echo {name} > new/{name}.txt")
        assert await ws.commit_all(f"Work {name}", branch=BRANCH)
        tree = await ws.git("ls-tree", "-r", "--name-only", BRANCH)
        assert tree.output.split() == ["README.md", "keep.txt", f"new/{name}.txt"], name
        shown = [(await ws.git("show", f"{BRANCH}:{path}")).output for path in ("README.md", "keep.txt")]
        assert shown == ["changed\n", "kept\n"], name
