"""In-memory fakes of the bus, repos, contexts, git host and compute Protocols."""

from __future__ import annotations

from pydantic import BaseModel

from shared.compute.errors import ComputeStartFailed
from shared.compute.protocol import SessionState
from shared.events.errors import PublishFailed
from shared.githost.errors import GitHostNotFound, GitHostUnavailable
from shared.githost.models import Issue, IssueComment, PostedComment, PullContext, PullRequest, RepoInfo
from shared.hydration.context import HydratedContext
from shared.memory.store import MemoryEntry
from shared.pull_outcomes.models import PullOpener
from shared.repos.models import RepoConfig


class RecordingBus:
    """Keeps what is published; `fail_next` refuses that many publish calls first, as a dying publisher."""

    def __init__(self) -> None:
        self.published: list[BaseModel] = []
        self.fail_next = 0

    async def publish(self, *details: BaseModel) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise PublishFailed("the bus refused the events (injected)")
        self.published.extend(details)

    def of(self, kind: type) -> list:
        return [d for d in self.published if isinstance(d, kind)]


class InMemoryRepos:
    def __init__(self, *configs: RepoConfig) -> None:
        self.rows = {c.repo: c for c in configs}

    async def get(self, repo: str) -> RepoConfig | None:
        return self.rows.get(repo)

    async def put(self, config: RepoConfig) -> None:
        self.rows[config.repo] = config

    async def list(self) -> list[RepoConfig]:
        return list(self.rows.values())


class InMemoryContexts:
    def __init__(self) -> None:
        self.items: dict[str, HydratedContext] = {}
        self.fail_next = 0  # puts to refuse first

    async def put(self, context: HydratedContext) -> str:
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionError("the context store is unreachable (injected)")
        key = f"tasks/{context.task_id}/context.json"
        self.items[key] = context
        return key

    async def get(self, key: str) -> HydratedContext | None:
        return self.items.get(key)


class FakeGitHost:
    """Repositories, issues and pull requests held in dicts; `down` simulates an outage."""

    def __init__(self) -> None:
        self.repos: dict[str, RepoInfo] = {}
        self.issues: dict[tuple[str, int], Issue] = {}
        self.pulls: dict[str, list[PullRequest]] = {}
        self.ahead: dict[tuple[str, str], int] = {}
        self.commits: dict[str, set[str]] = {}  # repo → full commit ids it holds
        self.down = False
        self.issues_down = False

    def add_repo(self, repo: str, default_branch: str = "main") -> None:
        self.repos[repo] = RepoInfo(full_name=repo, clone_url=f"/srv/{repo}.git", default_branch=default_branch)

    def add_issue(self, repo: str, number: int, title: str, body: str, comments: list[str] = ()) -> None:
        self.issues[(repo, number)] = Issue(number=number, title=title, body=body, comments=[
            IssueComment(author=f"user{i}", body=c) for i, c in enumerate(comments)])

    def _check(self) -> None:
        if self.down:
            raise GitHostUnavailable("github is down", 503)

    async def get_repository(self, repo: str) -> RepoInfo:
        self._check()
        if repo not in self.repos:
            raise GitHostNotFound(repo, 404)
        return self.repos[repo]

    async def get_issue(self, repo: str, number: int, *, max_comments: int = 300) -> Issue:
        self._check()
        if self.issues_down:
            raise GitHostUnavailable("issues API is down", 502)
        if (repo, number) not in self.issues:
            raise GitHostNotFound(f"{repo}#{number}", 404)
        return self.issues[(repo, number)]

    async def find_pull(self, repo: str, head: str) -> PullRequest | None:
        self._check()
        found = [p for p in self.pulls.get(repo, []) if p.head == head]
        return found[-1] if found else None

    async def create_pull(self, repo: str, *, head: str, base: str, title: str, body: str) -> PullRequest:
        self._check()
        pulls = self.pulls.setdefault(repo, [])
        pr = PullRequest(number=len(pulls) + 1, url=f"https://github.test/{repo}/pull/{len(pulls) + 1}",
                         head=head, base=base, title=title, body=body)
        pulls.append(pr)
        return pr

    async def update_pull(self, repo: str, number: int, *, title: str, body: str) -> PullRequest:
        self._check()
        pr = self.pulls[repo][number - 1].model_copy(update={"title": title, "body": body})
        self.pulls[repo][number - 1] = pr
        return pr

    async def commits_ahead(self, repo: str, *, base: str, head: str) -> int | None:
        self._check()
        return self.ahead.get((repo, head))

    async def has_commit(self, repo: str, sha: str) -> bool:
        self._check()
        return any(c.startswith(sha) for c in self.commits.get(repo, ()))


class FakePullHost(FakeGitHost):
    """FakeGitHost with pull request conversations, comments and reviews."""

    def __init__(self) -> None:
        super().__init__()
        self.contexts: dict[tuple[str, int], PullContext] = {}
        self.comments: dict[int, tuple[str, int, str]] = {}  # id -> (repo, thread, body)
        self.reviews: list[tuple[str, int, str, list]] = []
        self.permissions: dict[str, str] = {}

    def add_pull(self, repo: str, pull: PullRequest, **context: object) -> None:
        self.contexts[(repo, pull.number)] = PullContext(pull=pull, **context)

    async def get_pull(self, repo: str, number: int) -> PullRequest:
        return (await self.pull_context(repo, number)).pull

    async def pull_context(self, repo: str, number: int, *, max_items: int = 100) -> PullContext:
        self._check()
        if (repo, number) not in self.contexts:
            raise GitHostNotFound(f"{repo} pull {number}", 404)
        return self.contexts[(repo, number)]

    async def find_comment(self, repo: str, number: int, marker: str) -> PostedComment | None:
        found = [i for i, (r, n, b) in self.comments.items() if (r, n) == (repo, number) and marker in b]
        return PostedComment(id=found[0], body=self.comments[found[0]][2]) if found else None

    async def create_comment(self, repo: str, number: int, body: str) -> PostedComment:
        self._check()
        comment_id = len(self.comments) + 1
        self.comments[comment_id] = (repo, number, body)
        return PostedComment(id=comment_id, body=body)

    async def update_comment(self, repo: str, comment_id: int, body: str) -> PostedComment:
        self._check()
        if comment_id not in self.comments:
            raise GitHostNotFound(f"comment {comment_id}", 404)
        self.comments[comment_id] = (*self.comments[comment_id][:2], body)
        return PostedComment(id=comment_id, body=body)

    async def permission(self, repo: str, user: str) -> str:
        self._check()
        return self.permissions.get(user, "read")


class FakeCompute:
    """Sessions as entries in a dict, keyed by task id like ECS's clientToken."""

    def __init__(self, *, fail: ComputeStartFailed | None = None) -> None:
        self.sessions: dict[str, str] = {}
        self.states: dict[str, SessionState] = {}
        self.stopped: list[str] = []
        self.fail = fail

    async def start(self, task_id: str) -> str:
        if self.fail:
            raise self.fail
        handle = self.sessions.setdefault(task_id, f"fake:{task_id}")
        self.states.setdefault(handle, SessionState.RUNNING)
        return handle

    async def stop(self, handle: str, *, reason: str) -> None:
        self.stopped.append(handle)
        self.states[handle] = SessionState.STOPPED

    async def describe(self, handle: str) -> SessionState:
        return self.states.get(handle, SessionState.UNKNOWN)


class InMemoryMemory:
    """MemoryStore in a dict."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], MemoryEntry] = {}
        self.fail_next = 0  # puts to refuse first

    async def put(self, entry, *, only_if_new: bool = False) -> bool:
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionError("the memory store is unreachable (injected)")
        key = (entry.repo, entry.sk)
        if only_if_new and key in self.entries:
            return False
        self.entries[key] = entry
        return True

    async def recent(self, repo: str, kind: str, *, limit: int = 20) -> list:
        found = [e for (r, sk), e in self.entries.items() if r == repo and sk.startswith(f"{kind}#")]
        return sorted(found, key=lambda e: e.entry_id, reverse=True)[:limit]


class InMemoryAttachments:
    """AttachmentStore in a dict; `fail_puts` makes every put raise."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.fail_puts = False

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        if self.fail_puts:
            raise OSError("storage unavailable")
        self.objects[key] = (data, content_type)

    async def get(self, key: str) -> bytes:
        return self.objects[key][0]

    async def delete(self, key: str) -> None:
        self.objects.pop(key, None)


class InMemoryPullOutcomes:
    """PullOutcomeStore in memory: the first opener recorded for a (repo, pr_number) stands."""

    def __init__(self, *openers: PullOpener) -> None:
        self.rows = {(o.repo, o.pr_number): o for o in openers}

    async def opener(self, repo: str, pr_number: int) -> PullOpener | None:
        return self.rows.get((repo, pr_number))

    async def record_opener(self, opener: PullOpener) -> PullOpener:
        return self.rows.setdefault((opener.repo, opener.pr_number), opener)
