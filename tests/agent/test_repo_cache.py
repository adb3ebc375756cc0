"""The repository cache: mirrors made, refreshed, shared by concurrent tasks, evicted, rebuilt, and kept read-only."""

from __future__ import annotations

import asyncio
import fcntl
import os
import shutil
from pathlib import Path

import pytest

from agent.bootstrap import run_agent
from agent.repo_cache import RepoCache, mirror_name
from agent.sandbox.factory import SandboxConfig, SandboxFactory, TaskSandboxRequest
from agent.sandbox.protocol import SandboxPaths
from agent.workspace import Workspace
from tests.agent.conftest import AgentWorld, git, make_bare_repo
from tests.agent.git_http import git_http_server
from tests.agent.sandboxes import ignore_egress, open_sandbox

BRANCH = "bgagent/x/task"


def url(bare: Path) -> str:
    """A remote's URL for `bare`: git's pack protocol, as over the network (a plain path would hard-link)."""
    return f"file://{bare}"


def new_cache(root: Path, **limits: float) -> RepoCache:
    return RepoCache(root / "cache", max_bytes=int(limits.get("max_bytes", 1 << 30)),
                     max_age_seconds=limits.get("max_age_seconds", 3600))


def new_workspace(base: Path, cache: RepoCache | None, task_id: str = "01TASKCACHE") -> Workspace:
    return Workspace(task_id, base_dir=base, tool_path=os.environ["PATH"], git_timeout=30, cache=cache)


async def write(ws: Workspace, name: str) -> None:
    """The model writes `name` in the clone, through the task's sandbox (opened on first use)."""
    if ws.sandbox is None:
        ws.sandbox = await open_sandbox(ws, task_id=ws.root.name)
    result = await ws.sandbox.run(f"echo {name.removesuffix('.txt')} > {name}", timeout=30, output_limit=1000)
    assert result.ok, result.output


def push_commit(bare: Path, work: Path, name: str) -> str:
    """Commit `name` to main from a separate clone and push it; returns the new commit."""
    if not work.exists():
        git(bare.parent, "clone", "-q", str(bare), str(work))
    (work / name).write_text(f"{name}\n")
    git(work, "add", name)
    git(work, "commit", "-q", "-m", f"add {name}")
    git(work, "push", "-q", "origin", "main")
    return git(work, "rev-parse", "HEAD")


def mirror_of(cache: RepoCache, url: str) -> Path:
    return cache.root / f"{mirror_name(url)}.git"


async def test_a_workspace_borrows_from_a_mirror_that_each_use_refreshes(tmp_path: Path) -> None:
    bare = make_bare_repo(tmp_path)
    cache = new_cache(tmp_path)
    first = new_workspace(tmp_path / "ws", cache)
    assert await first.clone(url(bare), None, branch=BRANCH, default_branch="main") is False
    mirror = mirror_of(cache, url(bare))
    alternates = (first.git_dir / "objects" / "info" / "alternates").read_text().strip()
    assert alternates == str(mirror / "objects") and first.borrowed == (str(mirror),)
    assert (first.repo / ".git" / "objects" / "info" / "alternates").read_text().strip() == \
        str(first.git_dir / "objects")  # the sandbox's clone borrows from the runtime's, which borrows from it
    assert git(first.repo, "remote", "get-url", "origin") == url(bare)
    for objects in (first.git_dir / "objects", first.repo / ".git" / "objects"):
        assert not list((objects / "pack").iterdir())  # nothing was copied
    assert git(mirror, "config", "gc.auto") == "0"
    first.remove()

    head = push_commit(bare, tmp_path / "other", "new.txt")
    second = new_workspace(tmp_path / "ws", cache)
    await second.clone(url(bare), None, branch=BRANCH, default_branch="main")
    assert git(mirror, "rev-parse", "main") == head  # the refresh fetched the pushed commit
    assert (second.repo / "new.txt").read_text() == "new.txt\n" and await second.current_branch() == BRANCH
    await write(second, "mine.txt")
    assert await second.commit_all("Add mine", branch=BRANCH)
    await second.push(url(bare), None, branch=BRANCH)
    assert git(bare, "show", f"{BRANCH}:mine.txt") == "mine"
    assert git(bare, "fsck", "--connectivity-only") == ""  # the push carried every object it needed
    second.remove()


async def test_the_token_reaches_the_mirrors_fetch_but_never_its_files(tmp_path: Path) -> None:
    bare = make_bare_repo(tmp_path)
    token = "ghs_cachetoken123456"
    cache = new_cache(tmp_path)
    with git_http_server(bare.parent, token) as (base_url, _seen):
        url = f"{base_url}/{bare.name}"
        for _ in range(2):  # made, then refreshed
            ws = new_workspace(tmp_path / "ws", cache)
            await ws.clone(url, token, branch=BRANCH, default_branch="main")
            ws.remove()
    mirror = mirror_of(cache, url)
    assert git(mirror, "rev-parse", "main") == git(bare, "rev-parse", "main")
    assert not [p for p in cache.root.rglob("*") if p.is_file() and token.encode() in p.read_bytes()]


async def test_two_tasks_clone_the_same_repository_at_once(tmp_path: Path) -> None:
    bare = make_bare_repo(tmp_path)
    cache = new_cache(tmp_path)
    spaces = [new_workspace(tmp_path / "ws", cache, f"01TASK{n}") for n in range(3)]
    await asyncio.gather(*(ws.clone(url(bare), None, branch=f"bgagent/x/{n}", default_branch="main")
                           for n, ws in enumerate(spaces)))
    assert [len(ws.borrowed) for ws in spaces] == [1, 1, 1] and len(list(cache.root.glob("*.git"))) == 1
    for n, ws in enumerate(spaces):
        await write(ws, f"{n}.txt")
        assert await ws.commit_all(f"Add {n}", branch=f"bgagent/x/{n}")
        await ws.push(url(bare), None, branch=f"bgagent/x/{n}")
    cache.max_bytes = 1  # trimming to nothing must spare the mirror the others still borrow from
    spaces[0].remove()
    assert cache.evict() == []
    assert git(spaces[1].repo, "-c", "safe.directory=*", "cat-file", "-t", "main^{tree}") == "tree"
    assert [git(bare, "show", f"bgagent/x/{n}:{n}.txt") for n in range(3)] == ["0", "1", "2"]


async def test_eviction_by_age_and_size_removes_the_least_recent_and_skips_mirrors_in_use(tmp_path: Path) -> None:
    bares = [make_bare_repo(tmp_path / name) for name in ("a", "b", "c")]
    now = 1_000_000.0
    cache = RepoCache(tmp_path / "cache", max_bytes=1 << 30, max_age_seconds=100, clock=lambda: now)

    async def use(bare: Path, age: float) -> Workspace:
        ws = new_workspace(tmp_path / "ws", cache)
        await ws.clone(url(bare), None, branch=BRANCH, default_branch="main")
        os.utime(cache.root / f"{mirror_name(url(bare))}.use", (now - age, now - age))
        return ws

    spaces = [await use(bare, age) for bare, age in zip(bares, (500, 300, 50), strict=True)]
    a, b, c = (mirror_of(cache, url(bare)) for bare in bares)
    spaces[0].remove()  # a is free now; b (older than the limit) is still in use
    assert not a.exists() and b.exists() and c.exists()
    assert not (cache.root / f"{a.stem}.use").exists()
    spaces[1].remove()  # b is released and old: gone
    assert not b.exists()
    spaces[2].remove()

    # By size: room for one mirror and a half, so only the least recently used of the two goes.
    (await use(bares[0], 10)).remove()
    os.utime(cache.root / f"{c.stem}.use", (now - 20, now - 20))
    cache.max_bytes = sum(p.lstat().st_blocks * 512 for p in c.rglob("*")) * 3 // 2
    (cache.root / "never-made-0123456789ab.use").touch()  # a first clone that failed leaves its lock
    assert cache.evict() == [c] and a.exists() and not (cache.root / "never-made-0123456789ab.use").exists()


async def test_a_corrupt_mirror_is_rebuilt_and_a_leftover_half_made_one_cleared(tmp_path: Path) -> None:
    bare = make_bare_repo(tmp_path)
    cache = new_cache(tmp_path)
    ws = new_workspace(tmp_path / "ws", cache)
    await ws.clone(url(bare), None, branch=BRANCH, default_branch="main")
    ws.remove()
    mirror = mirror_of(cache, url(bare))
    (mirror / "config").write_text("[this is not\n")  # fetching from it fails
    half_made = cache.root / f"{mirror.stem}.tmp-crashed"
    half_made.mkdir()
    again = new_workspace(tmp_path / "ws", cache)
    await again.clone(url(bare), None, branch=BRANCH, default_branch="main")
    assert again.borrowed == (str(mirror),) and git(mirror, "config", "gc.auto") == "0"
    assert not half_made.exists() and (again.repo / "README.md").exists()


async def test_a_mirror_that_cannot_be_used_falls_back_to_a_plain_clone(tmp_path: Path) -> None:
    bare = make_bare_repo(tmp_path)
    cache = new_cache(tmp_path)
    holder = new_workspace(tmp_path / "ws", cache)
    await holder.clone(url(bare), None, branch=BRANCH, default_branch="main")
    mirror = mirror_of(cache, url(bare))
    for stored in (mirror / "objects").glob("[0-9a-f]*/*"):  # corrupt, and in use: it cannot be rebuilt now
        stored.chmod(0o644)
        stored.write_bytes(b"garbage")
    ws = new_workspace(tmp_path / "ws", cache)
    await ws.clone(url(bare), None, branch=BRANCH, default_branch="main")
    assert ws.borrowed == () and not (ws.git_dir / "objects" / "info" / "alternates").exists()
    assert (ws.repo / "README.md").exists() and (cache.root / f"{mirror.stem}.bad").exists()

    broken = RepoCache(tmp_path / "README-is-a-file", max_bytes=1, max_age_seconds=1)
    (tmp_path / "README-is-a-file").write_text("not a directory")
    plain = new_workspace(tmp_path / "ws", broken)
    await plain.clone(url(bare), None, branch=BRANCH, default_branch="main")
    assert plain.borrowed == () and (plain.repo / "README.md").exists()

    holder.remove()  # free now: the next task rebuilds the spoiled mirror
    rebuilt = new_workspace(tmp_path / "ws", cache)
    await rebuilt.clone(url(bare), None, branch=BRANCH, default_branch="main")
    assert rebuilt.borrowed == (str(mirror),) and not (cache.root / f"{mirror.stem}.bad").exists()
    assert git(rebuilt.repo, "fsck", "--connectivity-only") == ""


async def test_a_planted_alternates_lends_nothing_to_the_push(tmp_path: Path) -> None:
    bare = make_bare_repo(tmp_path)
    elsewhere = make_bare_repo(tmp_path / "secret", {"secret.txt": "not for the push\n"})
    ws = new_workspace(tmp_path / "ws", new_cache(tmp_path))
    await ws.clone(url(bare), None, branch=BRANCH, default_branch="main")
    await write(ws, "x.txt")
    (ws.repo / ".git" / "objects" / "info" / "alternates").write_text(f"{elsewhere}/objects\n")
    assert await ws.commit_all("Add x", branch=BRANCH)
    shutil.rmtree(ws.repo / ".git" / "objects" / "info")
    (ws.repo / ".git" / "objects" / "info").symlink_to(tmp_path / "secret")
    await write(ws, "y.txt")
    assert await ws.commit_all("Add y", branch=BRANCH)
    await ws.push(url(bare), None, branch=BRANCH)
    assert git(bare, "show", f"{BRANCH}:y.txt") == "y" and git(bare, "fsck", "--connectivity-only") == ""
    secret_commit = git(elsewhere, "rev-parse", "main")
    assert git(bare, "cat-file", "--batch-check", "--batch-all-objects").count(secret_commit) == 0
    assert not (tmp_path / "secret" / "alternates").exists()


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("bwrap") is None, reason="needs bwrap, run as root")
async def test_a_sandboxed_command_cannot_write_the_mirror(tmp_path: Path) -> None:
    bare = make_bare_repo(tmp_path)
    cache = new_cache(tmp_path)
    ws = new_workspace(tmp_path / "ws", cache)
    await ws.clone(url(bare), None, branch=BRANCH, default_branch="main")
    mirror = Path(ws.borrowed[0])
    sandbox = await SandboxFactory(SandboxConfig()).open(TaskSandboxRequest(
        "01TASKCACHE", SandboxPaths(ws.repo, ws.home, ws.tmp), ws.tool_env(), readonly_paths=ws.sandbox_readonly),
        ignore_egress)
    before = sorted((str(p), p.stat().st_mtime_ns) for p in mirror.rglob("*"))
    attempts = [f"touch {mirror}/objects/planted", f"echo x > {mirror}/hooks/post-checkout",
                f"git -C {mirror} update-ref refs/heads/main HEAD~0 2>&1 || false",
                f"printf '[core]\\nhooksPath=/tmp\\n' >> {mirror}/config", f"ls {cache.root}/*.use",
                f"touch {ws.git_dir}/objects/planted", f"echo x > {ws.git_dir}/config"]
    for attempt in attempts:
        result = await sandbox.run(attempt, timeout=30, output_limit=10_000)
        assert not result.ok, attempt
    seen = await sandbox.run("git log --oneline -1 main && git cat-file -e HEAD^{tree}", timeout=30,
                             output_limit=10_000)
    assert seen.ok, seen.output  # the borrowed objects are readable inside
    await sandbox.close()
    assert sorted((str(p), p.stat().st_mtime_ns) for p in mirror.rglob("*")) == before
    fd = os.open(cache.root / f"{mirror.stem}.use", os.O_RDONLY)
    with pytest.raises(BlockingIOError):  # still leased by the workspace
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.close(fd)
    ws.remove()


async def test_a_task_with_the_cache_on_reads_its_borrowed_objects_in_the_sandbox_and_delivers(
        world: AgentWorld, tmp_path: Path) -> None:
    cache_dir = tmp_path / "repo-cache"
    # The clone holds no objects of its own: the setup command fails unless the mirror is bound in.
    task = await world.seed(model_id="fake-edit", setup_command="git cat-file -e 'HEAD^{tree}' && git log -1 main",
                            clone_url=url(world.bare))
    report = await run_agent(world.settings(task.task_id, repo_cache_dir=cache_dir))
    assert report.exit_code == 0, report.error
    assert git(world.bare, "show", f"{task.branch_name}:NOTES.md")
    [mirror] = cache_dir.glob("*.git")
    assert git(mirror, "rev-parse", "main") == git(world.bare, "rev-parse", "main")
    assert not list(world.workspaces.iterdir())
    fd = os.open(cache_dir / f"{mirror.stem}.use", os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released with the workspace
    os.close(fd)
