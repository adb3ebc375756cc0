"""The model's work leaves the sandbox as data: a pack made inside it, checked and imported outside.

The runtime never runs git on a directory a sandboxed command can write. Inside the sandbox, a git
with a throwaway repository (borrowing the runtime's objects read-only) stages the working tree and
writes a pack of the new objects to a descriptor the runtime opened; whatever the model planted
(`.git/*`, attributes, filters, a `~/.gitconfig`) acts there, on the sandbox's side. Outside, the
runtime's own git only indexes that pack (`index-pack --strict`: objects and links checked), reads
the tree it names and weighs the change — plumbing that runs no filter, driver or hook.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from agent.errors import ChangeTooLarge, WorkspaceError
from agent.process import ProcessResult
from agent.sandbox.protocol import Sandbox
from shared.clock import new_id
from shared.observability.redaction import redact

_SHA = re.compile(r"^[0-9a-f]{40}$")
_OUTPUT_LIMIT = 65_536
# Runs in the sandbox as the command user. The model's own repository (.git) and configuration do not decide
# anything here: this is about the working tree only (and a ~/.gitconfig the model wrote cannot break it). The
# staging repository is new each time, in the task's home (not the size-capped /tmp), and removed after. Its
# index starts as a copy of the clone's own (warm: only changed files are hashed; checkStat=minimal because the
# runtime's hand-over to the command user changed every file's owner and ctime), or, when that index is missing,
# unusable or hides files (assume-unchanged, skip-worktree), from the base commit with every file hashed. The
# copy keeps the index's time cut to the whole second: checkStat=minimal compares seconds and sizes only, so a
# same-size edit in the second the index was written is found by git's racy-entry check alone, which reads
# again every file whose time is not before the index's.
_STAGE = r"""set -eu
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_CONFIG_PARAMETERS="'core.hooksPath=/dev/null' 'core.fsmonitor=false' 'core.checkStat=minimal'"
export GIT_CONFIG_PARAMETERS="$GIT_CONFIG_PARAMETERS 'core.trustctime=false'"
g=$(mktemp -d "$HOME/.bgagent-stage.XXXXXX")
trap 'rm -rf "$g"' EXIT
git init --quiet --bare --template= "$g"
printf '%s\n' "$objects" > "$g/objects/info/alternates"
if [ -d .git/objects ] && [ ! -L .git ]; then printf '%s\n' "$PWD/.git/objects" >> "$g/objects/info/alternates"; fi
export GIT_DIR="$g" GIT_INDEX_FILE="$g/index" GIT_WORK_TREE="$PWD"
export GIT_AUTHOR_NAME=bgagent GIT_AUTHOR_EMAIL=bgagent@invalid
export GIT_COMMITTER_NAME=bgagent GIT_COMMITTER_EMAIL=bgagent@invalid
warm() {
  [ -f .git/index ] && cp .git/index "$g/index" 2>/dev/null || return 1
  touch -d "@$(stat -c %Y .git/index)" "$g/index" 2>/dev/null || return 1
  ! git ls-files -v 2>/dev/null | grep -q '^[a-zS]' || return 1
  git add --all 2>/dev/null && tree=$(git write-tree 2>/dev/null)
}
if ! warm; then
  rm -f "$g/index"
  git read-tree "$base"
  git add --all
  tree=$(git write-tree)
fi
commit=$(git commit-tree "$tree" -p "$base" -m staged </dev/null)
printf '%s\n^%s\n' "$commit" "$base" | git pack-objects --revs --thin --stdout --quiet >&"$fd"
echo "staged $commit"
"""


@dataclass(frozen=True)
class ChangeLimits:
    """The largest change the runtime commits and pushes (new file content, files touched)."""

    max_bytes: int = 100 << 20
    max_files: int = 10_000


@dataclass(frozen=True)
class StagedWork:
    """The tree the sandbox's working tree holds, now in the runtime's repository, and its weight."""

    tree: str
    files: int
    new_bytes: int


class RuntimeGit(Protocol):
    """The runtime's git on its own repository."""

    async def __call__(self, *args: str, stdin: bytes | int | None = None,
                       output_limit: int = _OUTPUT_LIMIT) -> ProcessResult: ...


def _tail(text: str, lines: int = 15) -> str:
    return redact("\n".join(text.strip().splitlines()[-lines:]))


async def stage_work(sandbox: Sandbox, git: RuntimeGit, *, base: str, objects: Path, spool: Path,
                     limits: ChangeLimits, timeout: float) -> StagedWork:
    """The working tree as the sandbox sees it, as a tree in the runtime's repository (checked, bounded)."""
    pack = spool / f"work-{new_id()}.pack"
    fd = os.open(pack, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        script = f"base={base} objects={shlex.quote(str(objects))} fd={fd}\n{_STAGE}"
        result = await sandbox.run(script, timeout=timeout, output_limit=_OUTPUT_LIMIT, data_fd=fd)
    finally:
        os.close(fd)
    try:
        commit = _staged_commit(result)
        await _import_pack(git, pack, limits)
    finally:
        pack.unlink(missing_ok=True)
    tree = (await _must(git, "reading the staged tree", "rev-parse", "--verify", f"{commit}^{{tree}}")).strip()
    if not _SHA.match(tree):
        raise WorkspaceError("the sandbox's staged work names no tree")
    files, new_bytes = await _weigh(git, base, tree, limits)
    return StagedWork(tree, files, new_bytes)


def _staged_commit(result: ProcessResult) -> str:
    if not result.ok:
        how = "timed out" if result.timed_out else f"exit {result.exit_code}"
        raise WorkspaceError(f"collecting the work from the sandbox failed ({how}): {_tail(result.output)}")
    last = result.output.strip().splitlines()[-1:] or [""]
    word, _, commit = last[0].partition(" ")
    if word != "staged" or not _SHA.match(commit):
        raise WorkspaceError(f"collecting the work from the sandbox gave no result: {_tail(result.output)}")
    return commit


async def _import_pack(git: RuntimeGit, pack: Path, limits: ChangeLimits) -> None:
    """Index the pack into the runtime's repository, refusing it unread when it is over the size limit."""
    fd = os.open(pack, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        size = os.fstat(fd).st_size
        if size > limits.max_bytes + (1 << 20):
            raise ChangeTooLarge(f"the change is too large to commit: its objects take {size / 2**20:.1f} MB "
                                 f"compressed (limit {limits.max_bytes / 2**20:.0f} MB, BGAGENT_MAX_CHANGE_MB)")
        # --strict: every object well-formed and every link present, as a server checks a push.
        result = await git("index-pack", "--stdin", "--fix-thin", "--strict", stdin=fd)
    finally:
        os.close(fd)
    if not result.ok:
        raise WorkspaceError(f"the sandbox's work did not import as a valid pack: {_tail(result.output)}")


async def _weigh(git: RuntimeGit, base: str, tree: str, limits: ChangeLimits) -> tuple[int, int]:
    """Files the change touches and the bytes of its new content; ChangeTooLarge past either limit."""
    listing = await git("diff-tree", "-r", "-z", "--no-renames", base, tree,
                        output_limit=limits.max_files * 160 + _OUTPUT_LIMIT)
    if not listing.ok:
        raise WorkspaceError(f"comparing the work with its base failed: {_tail(listing.output)}")
    fields = listing.output.split("\0")
    metas = [m for m in fields[0::2] if m.startswith(":")]
    if listing.omitted_bytes or len(metas) > limits.max_files:
        count = "more than" if listing.omitted_bytes else f"{len(metas):,}, over the limit of"
        raise ChangeTooLarge(f"the change is too large to commit: it touches {count} {limits.max_files:,} files "
                             "(BGAGENT_MAX_CHANGE_FILES)")
    # ":old_mode new_mode old_sha new_sha status": the new content of everything but deletions and gitlinks
    blobs = [f[3] for f in map(str.split, metas) if len(f) >= 5 and f[1] not in ("000000", "160000")]
    if not blobs:
        return len(metas), 0
    sizes = await git("cat-file", "--batch-check=%(objectsize)", stdin="\n".join(blobs).encode() + b"\n",
                      output_limit=len(blobs) * 24 + _OUTPUT_LIMIT)
    if not sizes.ok:
        raise WorkspaceError(f"weighing the work failed: {_tail(sizes.output)}")
    total = sum(int(n) for n in sizes.output.split() if n.isdigit())
    if total > limits.max_bytes:
        raise ChangeTooLarge(f"the change is too large to commit: {total / 2**20:.1f} MB of new content "
                             f"(limit {limits.max_bytes / 2**20:.0f} MB, BGAGENT_MAX_CHANGE_MB)")
    return len(metas), total


async def _must(git: RuntimeGit, what: str, *args: str) -> str:
    result = await git(*args)
    if not result.ok:
        raise WorkspaceError(f"{what} failed: {_tail(result.output)}")
    return result.output
