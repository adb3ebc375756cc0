"""Per-repository configuration: how tasks on an onboarded repository run."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from shared.clock import utcnow
from shared.llm.prices import ModelPrice
from shared.repos.egress import EgressEntry
from shared.repos.mcp import McpServers
from shared.steering.models import ApprovalRule
from shared.tasks.fields import MaxBudgetUsd, MaxTurns, TaskEngine
from shared.tasks.models import TaskType

# GitHub's shapes: an owner of up to 39 letters, digits and dashes; a name that does not start with
# a dot (so never "." or ".."), of up to 100 letters, digits, dots, dashes and underscores.
# Who may iterate on or review a repository's pull requests through the API, CLI, panel, schedules and
# signed webhooks: only the user whose task opened the PR, or any user (GitHub's @bgagent path has its own rule).
PrTasks = Literal["owner", "any_user"]

REPO_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$")


def valid_repo_name(repo: str) -> bool:
    return bool(REPO_PATTERN.match(repo))


def _repo_name(value: str) -> str:
    if not valid_repo_name(value):
        raise ValueError("repo must look like OWNER/NAME")
    return value


# A repository's full name wherever one is taken (a task, a repository's row, an evaluation case).
RepoName = Annotated[str, AfterValidator(_repo_name)]


class GitHubTrigger(BaseModel):
    """A GitHub event that turns into a task: event name, actions and labels (empty list = any), and for
    comments and reviews the mention, review states and senders that count."""

    model_config = ConfigDict(extra="ignore")

    events: list[str] = ["issues"]
    actions: list[str] = ["labeled"]
    labels: list[str] = ["bgagent"]
    task_type: TaskType = "new_task"
    mention: str | None = None  # e.g. "@bgagent": the comment must mention it (as a word, any case)
    review_states: list[str] = []  # pull_request_review: e.g. ["changes_requested"]
    only_bgagent_prs: bool = False  # only pull requests bgagent opened (branch bgagent/…)
    allowlist: list[str] = []  # logins that may trigger without write access


# When a repo sets no rules: an issue labeled `bgagent` starts a task; on a pull request, `@bgagent review`
# (or the label `bgagent-review`) reviews it, any other `@bgagent` mention or a review requesting changes on
# a bgagent pull request iterates on it. The first matching rule wins.
DEFAULT_GITHUB_TRIGGERS: tuple[GitHubTrigger, ...] = (
    GitHubTrigger(),
    GitHubTrigger(events=["issue_comment"], actions=["created"], labels=[], task_type="pr_review",
                  mention="@bgagent review"),
    GitHubTrigger(events=["issue_comment"], actions=["created"], labels=[], task_type="pr_iteration",
                  mention="@bgagent"),
    GitHubTrigger(events=["pull_request_review"], actions=["submitted"], labels=[], task_type="pr_iteration",
                  review_states=["changes_requested"], only_bgagent_prs=True),
    GitHubTrigger(events=["pull_request"], actions=["labeled"], labels=["bgagent-review"], task_type="pr_review"),
)


class RepoConfig(BaseModel):
    """A row of the Repos table."""

    model_config = ConfigDict(extra="ignore")

    repo: RepoName
    status: Literal["active", "removed"] = "active"
    model_id: str | None = None
    max_turns: MaxTurns | None = None
    max_budget_usd: MaxBudgetUsd | None = None
    engine: TaskEngine | None = None  # the repo's tasks' engine unless a task names one; None: the platform's
    # MCP servers its claude-code tasks may use (stdio ones run in the sandbox); no credentials are held for them.
    mcp_servers: McpServers = {}
    system_prompt_overrides: str | None = None
    github_token_secret: str | None = None
    compute_type: Literal["process", "ecs"] | None = None
    setup_command: str | None = None
    test_command: str | None = None
    egress_allowlist: list[EgressEntry] = []  # hosts the sandbox may reach: pypi.org, *.example.com, host:8443
    # A connection to a host outside the allowlist: refused ("deny"), or refused and asked about ("ask"): once the
    # owner approves, the host is reachable for the rest of the task.
    egress: Literal["deny", "ask"] = "deny"
    approve_push: bool = False  # the runtime's push and pull request wait for the task owner's approval
    sandbox_readonly_paths: list[str] = []  # toolchains outside /usr and /opt the sandbox may read
    git_host: Literal["github", "local"] = "github"
    local_path: str | None = None
    # None: DEFAULT_GITHUB_TRIGGERS; an empty list turns GitHub-triggered tasks off for the repo.
    github_triggers: list[GitHubTrigger] | None = None
    # Prices of models the catalog lacks, by model id (US dollars per million tokens).
    model_prices: dict[str, ModelPrice] | None = None
    # Calls matching one of these (bash by default; see ApprovalRule.applies_to) wait for the owner's decision.
    approval_rules: list[ApprovalRule] = []
    pr_tasks: PrTasks = "owner"
    created_at: str = Field(default_factory=utcnow)
    updated_at: str = Field(default_factory=utcnow)

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def effective_github_triggers(self) -> tuple[GitHubTrigger, ...]:
        return DEFAULT_GITHUB_TRIGGERS if self.github_triggers is None else tuple(self.github_triggers)
