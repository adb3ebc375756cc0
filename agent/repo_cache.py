"""A bare mirror per repository, kept across tasks, from which each task's clone borrows its objects.

Layout under the cache dir, per repository `<name>` (the URL's last part and a hash of the whole URL):
`<name>.git` the mirror, `<name>.use` held shared by every task borrowing from it (its mtime is the last
use), `<name>.fetch` held by the one task refreshing it, `<name>.bad` set when a clone from it failed.
Lock order is always use, then fetch; eviction only ever tries the use lock, exclusively and without waiting.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import logging
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from agent.process import ProcessResult
from agent.settings import AgentSettings
from shared.observability.redaction import redact

log = logging.getLogger(__name__)
_POLL_SECONDS = 0.05
# The mirror only ever gains objects: a workspace borrowing one must never find it pruned or repacked away.
_MIRROR_CONFIG = [("gc.auto", "0"), ("maintenance.auto", "false"), ("core.logAllRefUpdates", "false"),
                  ("remote.origin.fetch", "+refs/heads/*:refs/heads/*"),
                  ("remote.origin.fetch", "+refs/tags/*:refs/tags/*")]


class RunGit(Protocol):
    """The workspace's git runner (safe options, tool environment, timeout)."""

    async def __call__(self, *args: str, cwd: Path | None = None,
                       extra_env: dict[str, str] | None = None) -> ProcessResult: ...


def mirror_name(url: str) -> str:
    """A file name for the repository at `url`: readable, and distinct for distinct URLs."""
    tail = re.sub(r"[^A-Za-z0-9._-]", "_", url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git"))[:40]
    return f"{tail or 'repo'}-{hashlib.sha256(url.encode()).hexdigest()[:12]}"


def _try_lock(path: Path, mode: int) -> int | None:
    """A descriptor of `path` holding flock `mode`, or None when another holder is in the way."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            current = os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            current = False
        if current:
            return fd
        os.close(fd)  # evicted (and unlinked) while we opened it: lock the file that is there now


async def _lock(path: Path, mode: int) -> int:
    """Like _try_lock, waiting for the holders; polled, so a cancelled task leaves no lock behind."""
    while (fd := _try_lock(path, mode)) is None:
        await asyncio.sleep(_POLL_SECONDS)
    return fd


def _tree_bytes(path: Path) -> int:
    """What `path` takes on disk, directories included (a mirror of many loose objects is mostly those)."""
    total = 0
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                continue
    return total


@dataclass(frozen=True)
class _Paths:
    mirror: Path
    use: Path
    fetch: Path
    bad: Path

    @classmethod
    def of(cls, root: Path, name: str) -> _Paths:
        return cls(root / f"{name}.git", root / f"{name}.use", root / f"{name}.fetch", root / f"{name}.bad")


class MirrorLease:
    """One task's use of a mirror: it cannot be evicted until released (when the workspace goes)."""

    def __init__(self, cache: RepoCache, paths: _Paths, fd: int):
        self.mirror = paths.mirror
        self._cache, self._paths, self._fd = cache, paths, fd

    def spoil(self) -> None:
        """Mark the mirror for rebuilding: a clone from it failed."""
        self._paths.bad.touch()

    def release(self, *, evict: bool = True) -> None:
        """Stop borrowing from the mirror, then trim the cache to its limits."""
        if self._fd < 0:
            return
        os.close(self._fd)
        self._fd = -1
        if evict:
            try:
                self._cache.evict()
            except OSError as exc:  # the task is done: a cache that cannot be trimmed now is trimmed next time
                log.warning("trimming the repository cache failed: %s", exc)


class RepoCache:
    """The mirrors under one directory, refreshed before each use and evicted by age and total size."""

    def __init__(self, root: Path, *, max_bytes: int, max_age_seconds: float,
                 clock: Callable[[], float] = time.time):
        self.root = root
        self.max_bytes, self.max_age_seconds = max_bytes, max_age_seconds
        self._clock = clock

    async def checkout(self, url: str, env: dict[str, str], git: RunGit) -> MirrorLease | None:
        """The repository's mirror, fetched up to date and leased; None when it cannot be (clone plainly).

        `url` holds no credentials; `env` carries them to the fetch (never written to the mirror).
        """
        try:
            return await self._checkout(url, env, git)
        except OSError as exc:  # a full disk or a broken cache dir costs the task its speed, never its run
            log.warning("the repository cache at %s is unusable (%s); cloning without it", self.root, exc)
            return None

    async def _checkout(self, url: str, env: dict[str, str], git: RunGit) -> MirrorLease | None:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        paths = _Paths.of(self.root, mirror_name(url))
        use = await _lock(paths.use, fcntl.LOCK_SH)
        try:
            os.utime(use)
            fetch = await _lock(paths.fetch, fcntl.LOCK_EX)
            try:
                ready = await self._ready(paths, url, env, git, use)
            finally:
                os.close(fetch)
        except BaseException:
            os.close(use)
            raise
        if not ready:
            os.close(use)
            return None
        return MirrorLease(self, paths, use)

    async def _ready(self, paths: _Paths, url: str, env: dict[str, str], git: RunGit, use: int) -> bool:
        """Under the fetch lock: the mirror refreshed, or made anew when missing, half-made or spoiled."""
        if not paths.mirror.exists():
            return await self._create(paths, url, env, git)
        if not paths.bad.exists():
            fetched = await git("fetch", "--quiet", "--prune", "origin", cwd=paths.mirror, extra_env=env)
            if fetched.ok:
                return True
            log.warning("refreshing the repository cache's mirror %s failed: %s", paths.mirror.name,
                        redact(fetched.output.strip()[-300:]))
            paths.bad.touch()  # until rebuilt: the next task need not try it again
        try:  # rebuilding needs the mirror to ourselves (a failed conversion drops our lock: then fall back)
            fcntl.flock(use, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("the mirror %s needs rebuilding but another task uses it; cloning without it",
                        paths.mirror.name)
            return False
        log.warning("rebuilding the repository cache's mirror %s", paths.mirror.name)
        _remove(paths.mirror)
        paths.bad.unlink(missing_ok=True)
        made = await self._create(paths, url, env, git)
        fcntl.flock(use, fcntl.LOCK_SH)  # ours alone until now: the downgrade waits for no one
        return made

    async def _create(self, paths: _Paths, url: str, env: dict[str, str], git: RunGit) -> bool:
        """A new mirror, made under a temporary name and renamed into place once fetched."""
        for stale in self.root.glob(f"{paths.mirror.stem}.tmp-*"):  # a crashed maker's (we hold the fetch lock)
            _remove(stale)
        tmp = Path(tempfile.mkdtemp(prefix=f"{paths.mirror.stem}.tmp-", dir=self.root))
        steps = [("init", "--quiet", "--bare", str(tmp)), ("config", "remote.origin.url", url),
                 *(("config", "--add", key, value) for key, value in _MIRROR_CONFIG),
                 ("fetch", "--quiet", "--prune", "origin")]
        for step in steps:
            result = await git(*step, cwd=tmp, extra_env=env if step[0] == "fetch" else None)
            if not result.ok:
                log.warning("making the repository cache's mirror %s failed at git %s: %s", paths.mirror.name,
                            step[0], redact(result.output.strip()[-300:]))
                _remove(tmp)
                return False
        tmp.chmod(0o755)  # readable by the task's command user, through the sandbox's read-only bind
        tmp.rename(paths.mirror)
        return True

    def evict(self) -> list[Path]:
        """Remove mirrors unused for longer than the age limit, then the least recently used until the
        cache fits its size limit; a mirror some task is using is skipped. Returns the mirrors removed."""
        if not self.root.is_dir():
            return []
        for trash in self.root.glob("*.trash-*"):  # left by an eviction that crashed
            _remove(trash)
        for use in self.root.glob("*.use"):  # the locks of a mirror that was never made
            if not use.with_suffix(".git").exists():
                self._evict_one(_Paths.of(self.root, use.stem))
        entries = []
        for mirror in self.root.glob("*.git"):
            paths = _Paths.of(self.root, mirror.stem)
            try:
                used = paths.use.stat().st_mtime
            except FileNotFoundError:
                used = 0.0
            entries.append((used, paths, _tree_bytes(mirror)))
        entries.sort(key=lambda entry: entry[0])
        total, now, removed = sum(size for _, _, size in entries), self._clock(), []
        for used, paths, size in entries:
            if now - used <= self.max_age_seconds and total <= self.max_bytes:
                break  # the rest were used more recently still
            if self._evict_one(paths):
                total -= size
                removed.append(paths.mirror)
        return removed

    def _evict_one(self, paths: _Paths) -> bool:
        fd = _try_lock(paths.use, fcntl.LOCK_EX)
        if fd is None:
            return False
        existed = paths.mirror.exists()
        try:
            _remove(paths.mirror)
            for lock in (paths.bad, paths.fetch, paths.use):  # no one holds them: they come after `use`
                lock.unlink(missing_ok=True)
        finally:
            os.close(fd)
        if existed:
            log.info("evicted %s from the repository cache", paths.mirror.name)
        return True


def repo_cache_from(settings: AgentSettings) -> RepoCache | None:
    """The host's repository cache, if the settings name one and the sandbox can keep it read-only."""
    if settings.repo_cache_dir is None:
        return None
    if settings.sandbox == "two-user":  # no mount namespace: the command user could read every cached repo
        log.warning("the repository cache needs the bwrap sandbox (or none); cloning without it")
        return None
    return RepoCache(settings.repo_cache_dir.resolve(), max_bytes=settings.repo_cache_max_mb << 20,
                     max_age_seconds=settings.repo_cache_max_age_hours * 3600)


def _remove(path: Path) -> None:
    """Take `path` out of sight at once (a rename), then delete it."""
    if not path.exists():
        return
    trash = path.with_name(f"{path.name}.trash-{os.urandom(4).hex()}")
    path.rename(trash)
    shutil.rmtree(trash, ignore_errors=True)
