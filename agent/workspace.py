"""The task's private workspace: a clone of the repository on the task branch, plus a home and temp dir for tools."""

from __future__ import annotations

import logging
import os
import shutil
import stat
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from agent.errors import PushRejected, WorkspaceError
from agent.process import ProcessResult, run_process
from agent.repo_cache import MirrorLease, RepoCache
from agent.sandbox.protocol import Sandbox
from agent.sandbox.quota import workspace_root
from shared.observability.redaction import redact

log = logging.getLogger(__name__)
GIT_USER = ("bgagent", "bgagent@users.noreply.local")
# Model-written hooks, credential helpers or fsmonitors must never run inside the agent's own git
# commands (the push carries the token): switch them off for every call we make.
# safe.directory: the clone belongs to the sandbox's command user when the runtime is root.
_SAFE_GIT = ["-c", "core.hooksPath=/dev/null", "-c", "credential.helper=", "-c", "core.fsmonitor=false",
             "-c", "http.sslVerify=true", "-c", "safe.directory=*"]


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


class Workspace:
    """A private directory per task holding `repo/` (the clone), `home/` and `tmp/`; removed at the end."""

    def __init__(self, task_id: str, *, base_dir: Path | None, tool_path: str, git_timeout: float,
                 cache: RepoCache | None = None, root: Path | None = None):
        if base_dir is not None:
            base_dir.mkdir(parents=True, exist_ok=True)
        self.root = root or workspace_root(base_dir, task_id)  # root: the task's capped filesystem
        self.repo, self.home, self.tmp = self.root / "repo", self.root / "home", self.root / "tmp"
        self.home.mkdir()
        self.tmp.mkdir()
        self._tool_path = tool_path
        self._git_timeout = git_timeout
        self.sandbox: Sandbox | None = None  # set once the task's sandbox is open
        self._git_config: bytes | None = None
        self._default_branch: str | None = None
        self._cache = cache
        self._lease: MirrorLease | None = None
        self._alternates: bytes | None = None  # what the clone borrows objects from, as written at clone time

    @property
    def borrowed(self) -> tuple[str, ...]:
        """Directories the clone borrows objects from: the sandbox shows them read-only at the same path."""
        return (str(self._lease.mirror),) if self._lease is not None else ()

    def tool_env(self) -> dict[str, str]:
        """The whole environment of tool and git commands: an allowlist that holds no secret."""
        return {
            "PATH": self._tool_path, "HOME": str(self.home), "TMPDIR": str(self.tmp), "LANG": "C.UTF-8",
            "TERM": "dumb", "PAGER": "cat", "GIT_PAGER": "cat", "GIT_TERMINAL_PROMPT": "0",
            "GIT_CONFIG_NOSYSTEM": "1",
        }

    async def git(self, *args: str, cwd: Path | None = None, extra_env: dict[str, str] | None = None,
                  stdin: bytes | None = None) -> ProcessResult:
        """Run one git command with the safe options and the tool environment."""
        # The home is the sandbox's: a ~/.gitconfig written there must not configure the runtime's git.
        env = {**self.tool_env(), "GIT_CONFIG_GLOBAL": "/dev/null", **(extra_env or {})}
        return await run_process(["git", *_SAFE_GIT, *args], cwd=cwd or self.repo, env=env,
                                 timeout=self._git_timeout, stdin=stdin)

    async def _must(self, what: str, *args: str, **kwargs: object) -> ProcessResult:
        result = await self.git(*args, **kwargs)  # type: ignore[arg-type]
        if not result.ok:
            reason = "timed out" if result.timed_out else f"exit {result.exit_code}"
            raise WorkspaceError(f"{what} failed ({reason}): {_tail(result.output)}")
        return result

    async def clone(self, url: str, token: str | None, *, branch: str, default_branch: str) -> bool:
        """Clone and check out `branch`: the remote's if it exists (a re-run continues it), else a new one."""
        await self._fetch_repository(url, token)
        exists = (await self.git("rev-parse", "--verify", "--quiet", f"refs/remotes/origin/{branch}")).ok
        start = f"origin/{branch}" if exists else f"origin/{default_branch}"
        await self._must(f"checking out {branch} from {start}", "checkout", "--quiet", "--no-track", "-B",
                         branch, start)
        self._git_config = (self.repo / ".git" / "config").read_bytes()
        alternates = self.repo / ".git" / "objects" / "info" / "alternates"
        self._alternates = alternates.read_bytes() if alternates.exists() else None
        self._default_branch = default_branch
        return exists

    async def _fetch_repository(self, url: str, token: str | None) -> None:
        """`git clone`, borrowing the objects the repository cache's mirror has (only the rest travel)."""
        env = token_config(url, token)
        # Files are written once, by the checkout of the task branch; the identity goes in with the clone.
        clone = ("clone", "--quiet", "--no-checkout", "-c", f"user.name={GIT_USER[0]}", "-c",
                 f"user.email={GIT_USER[1]}")
        if self._cache is not None:
            self._lease = await self._cache.checkout(clean_url(url), env, self.git)
        if self._lease is not None:
            cloned = await self.git(*clone, "--reference", str(self._lease.mirror), clean_url(url), str(self.repo),
                                    cwd=self.root, extra_env=env)
            if cloned.ok:
                return
            log.warning("cloning from the repository cache failed; cloning without it: %s", _tail(cloned.output))
            self._lease.spoil()
            self._lease.release(evict=False)
            self._lease = None
            shutil.rmtree(self.repo, ignore_errors=True)
        await self._must(f"cloning {clean_url(url)}", *clone, clean_url(url), str(self.repo), cwd=self.root,
                         extra_env=env)

    def reclaim(self) -> None:
        """Undo what sandboxed commands may have done to make the runtime's own git run their code.

        A command can write .git/config (a `filter.*.clean`, an `include.path`, a `core.sshCommand`)
        or replace .git with a link elsewhere; the runtime's git runs outside the sandbox, so it
        works only on the config it wrote at clone time.
        """
        dot_git = self.repo / ".git"
        if dot_git.is_symlink() or not dot_git.is_dir():
            raise WorkspaceError("the repository's .git is no longer a directory; refusing to run git on it")
        if self._git_config is not None:
            (dot_git / "config").unlink(missing_ok=True)
            (dot_git / "config").write_bytes(self._git_config)
        # Objects borrowed from elsewhere on the host could be pushed out with the branch: only the
        # repository cache's mirror (read-only to commands) may lend them, as written at clone time.
        info = dot_git / "objects" / "info"
        if any(p.is_symlink() or (p.exists() and not p.is_dir()) for p in (info.parent, info)):
            raise WorkspaceError("the repository's .git/objects is no longer a directory; refusing to run git on it")
        info.mkdir(parents=True, exist_ok=True)
        (info / "alternates").unlink(missing_ok=True)
        if self._alternates is not None:
            (info / "alternates").write_bytes(self._alternates)

    async def current_branch(self) -> str:
        """The checked-out branch ('' when HEAD is detached)."""
        return (await self.git("symbolic-ref", "--quiet", "--short", "HEAD")).output.strip()

    async def commit_all(self, message: str, *, branch: str) -> bool:
        """Stage everything and commit it on `branch`; False when there was nothing to commit."""
        self.reclaim()
        if await self.current_branch() != branch:
            await self._must(f"returning to {branch}", "checkout", "--quiet", branch)
        await self._must("staging changes", "add", "-A")
        if (await self.git("diff", "--cached", "--quiet")).exit_code == 0:
            return False
        await self._must("committing", "commit", "--quiet", "--no-verify", "-F", "-", stdin=message.encode())
        return True

    async def commits_ahead(self, default_branch: str) -> int:
        """How many commits the checked-out branch has that the remote default branch lacks."""
        result = await self._must("counting commits", "rev-list", "--count", f"origin/{default_branch}..HEAD")
        return int(result.output.strip() or 0)

    async def files_changed(self) -> int | None:
        """How many files the task's commits changed against the remote default branch (None if unknown)."""
        if self._default_branch is None:
            return None
        result = await self.git("diff", "--name-only", f"origin/{self._default_branch}...HEAD")
        return len(result.output.split()) if result.ok else None

    async def push(self, url: str, token: str | None, *, branch: str) -> None:
        """Push the branch to origin (reset to the clone URL first: the model may have changed it)."""
        self.reclaim()
        await self._must("resetting origin", "remote", "set-url", "origin", clean_url(url))
        result = await self.git("push", "--quiet", "origin", f"{branch}:refs/heads/{branch}",
                                extra_env=token_config(url, token))
        if not result.ok:
            detail = "timed out" if result.timed_out else _tail(result.output)
            raise PushRejected(f"the remote rejected the push of {branch}: {detail}")

    async def rebase_on_remote(self, url: str, token: str | None, *, branch: str) -> None:
        """Fetch the remote branch and replay our commits on it; PushRejected when they do not apply."""
        await self._must("resetting origin", "remote", "set-url", "origin", clean_url(url))
        fetched = await self.git("fetch", "--quiet", "origin", f"refs/heads/{branch}:refs/remotes/origin/{branch}",
                                 extra_env=token_config(url, token))
        if not fetched.ok:
            raise PushRejected(f"the push of {branch} was rejected and fetching it failed: {_tail(fetched.output)}")
        rebased = await self.git("rebase", "--quiet", f"origin/{branch}")
        if not rebased.ok:
            await self.git("rebase", "--abort")
            raise PushRejected(f"{branch} moved while the agent worked and its commits do not rebase cleanly on "
                               "it: resolve the conflict or submit the iteration again")

    async def run_script(self, command: str, *, timeout: float, output_limit: int = 65_536) -> ProcessResult:
        """Run a repository command (setup, tests) in the clone, inside the task's sandbox."""
        if self.sandbox is None:
            raise WorkspaceError("the task's sandbox is not open; no command runs outside it")
        return await self.sandbox.run(command, timeout=timeout, output_limit=output_limit)

    def remove(self) -> None:
        """Delete the whole workspace, read-only files and directories included."""
        def make_writable(func, path, _exc_info):  # type: ignore[no-untyped-def]
            try:
                os.chmod(os.path.dirname(path), stat.S_IRWXU)
                os.chmod(path, stat.S_IRWXU)
                func(path)
            except OSError:
                pass  # gone already, or truly undeletable: nothing more to do

        shutil.rmtree(self.root, onerror=make_writable)
        if self._lease is not None:
            self._lease.release()
            self._lease = None
