"""The task's private workspace: the sandbox's clone, the tools' home and temp dir, and the runtime's repository.

`repo/` is the sandbox's own repository and working tree: the model (and any tool in the sandbox)
runs git there freely. `git/` is the runtime's repository, which no sandboxed command can write:
clone, commit and push happen there, with a git that reads only its own configuration, and the
model's work reaches it only as data (agent/work_import.py).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import stat
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from agent.errors import BaseNotFound, PushRejected, WorkspaceError
from agent.process import ProcessResult, run_process
from agent.repo_cache import MirrorLease, RepoCache
from agent.sandbox.protocol import Sandbox
from agent.sandbox.quota import workspace_root
from agent.work_import import ChangeLimits, StagedWork, stage_work
from shared.clock import new_id
from shared.observability.redaction import redact

log = logging.getLogger(__name__)
GIT_USER = ("bgagent", "bgagent@users.noreply.local")
# What the runtime's git reads besides its own repository: nothing. Hooks, credential helpers, fsmonitor,
# attributes files and the ext:: transport are off for every call; the environment (below) drops the
# system and global configuration. safe.directory: mirrors and the sandbox's clone may belong to other uids.
_SAFE_GIT = ["-c", "core.hooksPath=/dev/null", "-c", "credential.helper=", "-c", "core.fsmonitor=false",
             "-c", "core.attributesFile=/dev/null", "-c", "protocol.ext.allow=never", "-c", "http.sslVerify=true",
             "-c", "safe.directory=*"]
_OUTPUT_LIMIT = 65_536
_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")


def _tail(text: str, lines: int = 15) -> str:
    return redact("\n".join(text.strip().splitlines()[-lines:]))


def clean_url(url: str) -> str:
    """The URL without any user:password part."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return url
    host = parts.hostname or ""
    return urlunsplit(parts._replace(netloc=host + (f":{parts.port}" if parts.port else "")))


def token_config(url: str, token: str | None) -> dict[str, str]:
    """Environment for a git process that sends the token to this URL only (never on disk or in argv).

    The global config (the tools' home, which the model can write) is ignored in that process.
    """
    if not token or urlsplit(url).scheme not in ("http", "https"):
        return {}
    clean = clean_url(url)
    authed = urlunsplit(urlsplit(clean)._replace(netloc=f"x-access-token:{token}@{urlsplit(clean).netloc}"))
    return {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": f"url.{authed}.insteadOf", "GIT_CONFIG_VALUE_0": clean}


def _add_config(path: Path, url: str, *, more: str = "") -> None:
    """The remote and the identity, appended to a config file git just made (one write, no git processes)."""
    quoted = url.replace("\\", "\\\\").replace('"', '\\"')
    with path.open("a") as config:
        config.write(f'[remote "origin"]\n\turl = "{quoted}"\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n'
                     f"[user]\n\tname = {GIT_USER[0]}\n\temail = {GIT_USER[1]}\n{more}")


class Workspace:
    """A private directory per task holding `repo/`, `home/`, `tmp/` and the runtime's `git/`; removed at the end."""

    def __init__(self, task_id: str, *, base_dir: Path | None, tool_path: str, git_timeout: float,
                 cache: RepoCache | None = None, limits: ChangeLimits | None = None, root: Path | None = None):
        if base_dir is not None:
            base_dir.mkdir(parents=True, exist_ok=True)
        self.root = root or workspace_root(base_dir, task_id)  # root: the task's capped filesystem
        self.repo, self.home, self.tmp = self.root / "repo", self.root / "home", self.root / "tmp"
        self.git_dir = self.root / "git"  # the runtime's repository: never bound writable into a sandbox
        self._spool = self.root / "spool"  # the runtime's own files (packs coming out of the sandbox)
        for path in (self.home, self.tmp):
            path.mkdir()
        self._spool.mkdir(mode=0o700)
        self._tool_path = tool_path
        self._git_timeout = git_timeout
        self._limits = limits or ChangeLimits()
        self.sandbox: Sandbox | None = None  # set once the task's sandbox is open
        self._default_branch: str | None = None
        self._cache = cache
        self._lease: MirrorLease | None = None

    @property
    def borrowed(self) -> tuple[str, ...]:
        """The repository cache's mirror the runtime's repository borrows objects from (if any)."""
        return (str(self._lease.mirror),) if self._lease is not None else ()

    @property
    def sandbox_readonly(self) -> tuple[str, ...]:
        """What the sandbox's clone reads objects from: shown read-only in the sandbox, at the same paths."""
        return (str(self.git_dir / "objects"), *self.borrowed)

    def tool_env(self) -> dict[str, str]:
        """The whole environment of tool commands: an allowlist that holds no secret."""
        return {
            "PATH": self._tool_path, "HOME": str(self.home), "TMPDIR": str(self.tmp), "LANG": "C.UTF-8",
            "TERM": "dumb", "PAGER": "cat", "GIT_PAGER": "cat", "GIT_TERMINAL_PROMPT": "0",
            "GIT_CONFIG_NOSYSTEM": "1",
        }

    def _git_env(self) -> dict[str, str]:
        """The runtime's git reads no system or global configuration, attributes or home of the tools."""
        return {"PATH": self._tool_path, "HOME": str(self._spool), "XDG_CONFIG_HOME": str(self._spool),
                "LANG": "C.UTF-8", "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_ATTR_NOSYSTEM": "1", "GIT_NO_REPLACE_OBJECTS": "1"}

    async def any_git(self, *args: str, cwd: Path | None = None, extra_env: dict[str, str] | None = None,
                      stdin: bytes | int | None = None, output_limit: int = _OUTPUT_LIMIT) -> ProcessResult:
        """One git command in a repository only the runtime writes (`cwd`: a mirror, a directory to make one in)."""
        return await run_process(["git", *_SAFE_GIT, *args], cwd=cwd or self._spool,
                                 env={**self._git_env(), **(extra_env or {})}, timeout=self._git_timeout,
                                 stdin=stdin, output_limit=output_limit)

    async def git(self, *args: str, extra_env: dict[str, str] | None = None, stdin: bytes | int | None = None,
                  output_limit: int = _OUTPUT_LIMIT) -> ProcessResult:
        """One git command on the runtime's repository (bare: there is no working tree it could read)."""
        where = {"GIT_DIR": str(self.git_dir), "GIT_COMMON_DIR": str(self.git_dir)}
        return await self.any_git(*args, cwd=self._spool, extra_env={**where, **(extra_env or {})}, stdin=stdin,
                                  output_limit=output_limit)

    async def _must(self, what: str, *args: str, stdin: bytes | None = None) -> str:
        result = await self.git(*args, stdin=stdin)
        if not result.ok:
            reason = "timed out" if result.timed_out else f"exit {result.exit_code}"
            raise WorkspaceError(f"{what} failed ({reason}): {_tail(result.output)}")
        return result.output.strip()

    async def clone(self, url: str, token: str | None, *, branch: str, default_branch: str) -> bool:
        """Fetch the repository, start `branch` (the remote's if it exists: a re-run continues it, else a new one
        from the default branch) and give the sandbox its own clone of it."""
        await self._fetch_repository(url, token)
        exists = (await self.git("rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{branch}")).ok
        start = f"refs/remotes/origin/{branch if exists else default_branch}"
        commit = await self._must(f"finding {start}", "rev-parse", "--verify", f"{start}^{{commit}}")
        await self._must(f"starting {branch}", "update-ref", f"refs/heads/{branch}", commit)
        await self._must(f"checking out {branch}", "symbolic-ref", "HEAD", f"refs/heads/{branch}")
        await self._sandbox_clone(clean_url(url), branch, default_branch)
        self._default_branch = default_branch
        return exists

    async def _fetch_repository(self, url: str, token: str | None) -> None:
        """The runtime's repository, fetched (never cloned: a local source would be hard-linked), borrowing the
        objects the repository cache's mirror has so only the rest travel."""
        env = token_config(url, token)
        if self._cache is not None:
            self._lease = await self._cache.checkout(clean_url(url), env, self.any_git)
        if self._lease is not None:
            failed = await self._fetch_into_new(url, env, borrow=self._lease.mirror / "objects")
            if failed is None:
                return
            log.warning("fetching with the repository cache failed (%s); fetching without it", failed)
            self._lease.spoil()
            self._lease.release(evict=False)
            self._lease = None
        failed = await self._fetch_into_new(url, env, borrow=None)
        if failed is not None:
            raise WorkspaceError(f"cloning {clean_url(url)} failed: {failed}")

    async def _fetch_into_new(self, url: str, env: dict[str, str], *, borrow: Path | None,
                              refspecs: tuple[str, ...] = ()) -> str | None:
        """A new runtime repository, fetched (every branch, or only `refspecs`); why it failed, or None."""
        shutil.rmtree(self.git_dir, ignore_errors=True)
        await self._must("preparing the repository", "init", "--quiet", "--bare", "--template=")
        _add_config(self.git_dir / "config", clean_url(url), more="[gc]\n\tauto = 0\n")
        if borrow is not None:
            (self.git_dir / "objects" / "info" / "alternates").write_text(f"{borrow}\n")
        only = ("--no-tags", *refspecs) if refspecs else ()
        fetched = await self.git("fetch", "--quiet", "origin", *only, extra_env=env)
        self.git_dir.chmod(0o711)  # a command user may read the objects (two-user mode), never list or write
        if fetched.ok:
            return None
        return "timed out" if fetched.timed_out else _tail(fetched.output)

    async def clone_at(self, url: str, token: str | None, *, commit: str, branch: str) -> str:
        """Only `commit` and its history (nothing newer: an evaluation's future fix and hidden tests live there),
        on `branch`, and the sandbox's clone of it; the full commit id. No repository cache: its mirror holds
        every branch and is visible to the sandbox."""
        env = token_config(url, token)
        full = commit if _FULL_SHA.match(commit) else await self._resolve(url, env, commit)
        failed = await self._fetch_into_new(url, env, borrow=None, refspecs=(f"{full}:refs/heads/{branch}",))
        if failed is not None and any(s in failed for s in ("not our ref", "couldn't find remote ref")):
            raise BaseNotFound(f"{clean_url(url)} has no commit {commit}")
        if failed is not None:
            raise WorkspaceError(f"fetching commit {commit} of {clean_url(url)} failed: {failed}")
        await self._must(f"checking out {branch}", "symbolic-ref", "HEAD", f"refs/heads/{branch}")
        await self._sandbox_clone(clean_url(url), branch, None)
        return full

    async def _resolve(self, url: str, env: dict[str, str], commit: str) -> str:
        """An abbreviated commit id made whole in a scratch repository (removed after: it holds every branch)."""
        scratch = self._spool / "resolve"
        try:
            await self.any_git("init", "--quiet", "--bare", "--template=", str(scratch))
            where = {"GIT_DIR": str(scratch), **env}
            fetched = await self.any_git("fetch", "--quiet", "--no-tags", clean_url(url), "+refs/heads/*:refs/heads/*",
                                         extra_env=where)
            found = await self.any_git("rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}", extra_env=where)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if not fetched.ok:
            raise WorkspaceError(f"cloning {clean_url(url)} failed: {_tail(fetched.output)}")
        if not found.ok:
            raise BaseNotFound(f"{clean_url(url)} has no commit {commit}")
        return found.output.strip()

    async def fresh_clone(self, commit: str, *, branch: str) -> None:
        """A new `repo/`, `home/` and `tmp/` at `commit` of the runtime's repository, with nothing a command wrote
        before (grading); the task's sandbox must be closed."""
        if self.sandbox is not None:
            raise WorkspaceError("the task's sandbox is still open")
        for path in self.root.iterdir():  # what the sandbox (its files too) and its commands made; not ours
            if path not in (self.git_dir, self._spool) and path.name != "lost+found":
                _remove_tree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
        self.home.mkdir()
        self.tmp.mkdir()
        await self._must(f"starting {branch}", "update-ref", f"refs/heads/{branch}", commit)
        url = (await self.git("config", "--get", "remote.origin.url")).output.strip()
        await self._sandbox_clone(url, branch, None)

    async def _sandbox_clone(self, url: str, branch: str, default_branch: str | None) -> None:
        """`repo/` with its own `.git`, borrowing the runtime's objects, laid out as `git clone` would (the default
        branch local too; None: `branch` alone); made before any command runs."""
        dot_git = self.repo / ".git"
        self.repo.mkdir()
        env = {"GIT_DIR": str(dot_git), "GIT_WORK_TREE": str(self.repo)}

        async def sandbox_git(what: str, *args: str) -> None:
            result = await self.any_git(*args, cwd=self.repo, extra_env=env)
            if not result.ok:
                raise WorkspaceError(f"{what} failed: {_tail(result.output)}")

        await sandbox_git("preparing the sandbox's clone", "init", "--quiet", "--template=")
        (dot_git / "objects" / "info" / "alternates").write_text(f"{self.git_dir / 'objects'}\n")
        # The hand-over to the command user changes every file's owner and ctime: compare mtime and size only,
        # so the index written here stays warm for the model's git and for the staging of its work.
        _add_config(dot_git / "config", url, more="[core]\n\tcheckStat = minimal\n\ttrustctime = false\n")
        await sandbox_git("filling the sandbox's clone", "fetch", "--quiet", "--no-tags", str(self.git_dir),
                          "+refs/remotes/origin/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*",
                          f"+refs/heads/{branch}:refs/heads/{branch}",
                          *([f"+refs/remotes/origin/{default_branch}:refs/heads/{default_branch}"]
                            if default_branch not in (None, branch) else []))
        await sandbox_git(f"checking out {branch}", "symbolic-ref", "HEAD", f"refs/heads/{branch}")
        await sandbox_git(f"checking out {branch}", "reset", "--quiet", "--hard")

    async def current_branch(self) -> str:
        """The runtime's branch ('' when none)."""
        return (await self.git("symbolic-ref", "--quiet", "--short", "HEAD")).output.strip()

    async def commit_all(self, message: str, *, branch: str) -> bool:
        """Commit the sandbox's working tree on `branch`; False when it holds no change.

        The tree comes out of the sandbox as data (work_import); the runtime commits it in its own repository.
        """
        if self.sandbox is None:
            raise WorkspaceError("the task's sandbox is not open; the work is collected inside it")
        base = await self._must(f"reading {branch}", "rev-parse", "--verify", f"refs/heads/{branch}^{{commit}}")
        work: StagedWork = await stage_work(self.sandbox, self.git, base=base, objects=self.git_dir / "objects",
                                            spool=self._spool, limits=self._limits, timeout=self._git_timeout)
        if work.files == 0:
            return False
        commit = await self._must("committing", "commit-tree", work.tree, "-p", base, "-F", "-",
                                  stdin=message.encode())
        await self._must("committing", "update-ref", f"refs/heads/{branch}", commit, base)
        await self._must(f"checking out {branch}", "symbolic-ref", "HEAD", f"refs/heads/{branch}")  # what we push
        log.info("committed %d file(s), %d bytes of new content", work.files, work.new_bytes)
        return True

    async def diff(self, base: str, head: str) -> bytes:
        """The change base..head as a patch `git apply` takes (binary files included), from the runtime's own
        objects; no external diff, no text conversion."""
        out = self._spool / f"diff-{new_id()}.patch"
        try:
            await self._must("writing the diff", "diff", "--binary", "--full-index", "--no-ext-diff", "--no-textconv",
                             "--no-renames", f"--output={out}", base, head)
            return out.read_bytes()
        finally:
            out.unlink(missing_ok=True)

    async def commits_ahead(self, default_branch: str) -> int:
        """How many commits the branch has that the remote `default_branch` (or branch) lacks."""
        return int(await self._must("counting commits", "rev-list", "--count", f"origin/{default_branch}..HEAD")
                   or 0)

    async def files_changed(self) -> int | None:
        """How many files the task's commits changed against the remote default branch (None if unknown)."""
        if self._default_branch is None:
            return None
        result = await self.git("diff", "--name-only", f"origin/{self._default_branch}...HEAD")
        return len(result.output.split()) if result.ok else None

    async def push(self, url: str, token: str | None, *, branch: str) -> None:
        """Push the branch from the runtime's repository (nothing a command wrote can change what goes)."""
        result = await self.git("push", "--quiet", clean_url(url), f"refs/heads/{branch}:refs/heads/{branch}",
                                extra_env=token_config(url, token))
        if not result.ok:
            detail = "timed out" if result.timed_out else _tail(result.output)
            raise PushRejected(f"the remote rejected the push of {branch}: {detail}")

    async def rebase_on_remote(self, url: str, token: str | None, *, branch: str) -> None:
        """Fetch the remote branch and put our work on top of it (merged without a working tree, as one commit);
        PushRejected when it does not apply cleanly."""
        remote = f"refs/remotes/origin/{branch}"
        fetched = await self.git("fetch", "--quiet", clean_url(url), f"+refs/heads/{branch}:{remote}",
                                 extra_env=token_config(url, token))
        if not fetched.ok:
            raise PushRejected(f"the push of {branch} was rejected and fetching it failed: {_tail(fetched.output)}")
        merged = await self.git("merge-tree", "--write-tree", "--no-messages", remote, "HEAD")
        if not merged.ok:
            raise PushRejected(f"{branch} moved while the agent worked and its commits do not rebase cleanly on "
                               "it: resolve the conflict or submit the iteration again")
        tree = merged.output.split()[0]
        message = (await self.git("log", "-1", "--format=%B", "HEAD")).output
        commit = await self._must("committing", "commit-tree", tree, "-p", remote, "-F", "-", stdin=message.encode())
        await self._must("committing", "update-ref", f"refs/heads/{branch}", commit)

    async def run_script(self, command: str, *, timeout: float, output_limit: int = 65_536) -> ProcessResult:
        """Run a repository command (setup, tests) in the clone, inside the task's sandbox."""
        if self.sandbox is None:
            raise WorkspaceError("the task's sandbox is not open; no command runs outside it")
        return await self.sandbox.run(command, timeout=timeout, output_limit=output_limit)

    def remove(self) -> None:
        """Delete the whole workspace, read-only files and directories included."""
        _remove_tree(self.root)
        if self._lease is not None:
            self._lease.release()
            self._lease = None


def _remove_tree(root: Path) -> None:
    """Delete a directory a command may have written, read-only files and directories included."""
    def make_writable(func, path, _exc_info):  # type: ignore[no-untyped-def]
        try:
            os.chmod(os.path.dirname(path), stat.S_IRWXU)
            if not os.path.islink(path):  # chmod follows links: never onto a host file a command linked to
                os.chmod(path, stat.S_IRWXU)
            func(path)
        except OSError:
            pass  # gone already, or truly undeletable: nothing more to do

    shutil.rmtree(root, onerror=make_writable)
