"""The hydrated context of a task: everything the agent needs, stored apart from the event."""

from __future__ import annotations

from typing import Any, Literal, Protocol

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from shared.attachments.models import AttachmentRef
from shared.aws.guarded import S3_ANSWERS, GuardedClient
from shared.engines import DEFAULT_ENGINE, Engine
from shared.llm.endpoints import EndpointRef
from shared.llm.prices import ModelPrice
from shared.repos.mcp import McpServers
from shared.steering.models import ApprovalRule


class HydratedContext(BaseModel):
    """What the hydrator assembled for one task; the agent's whole input besides the task row."""

    model_config = ConfigDict(extra="ignore")

    version: int = 1
    task_id: str
    repo: str
    clone_url: str
    default_branch: str
    branch_name: str
    git_host: str = "github"
    system_prompt: str
    user_prompt: str
    prompt_version: str
    model_id: str
    model_price: ModelPrice | None = None  # resolved by the hydrator: operator prices, else the catalog's
    # A registered endpoint the model calls go to (its key is read by the agent's relay, never the sandbox).
    model_endpoint: EndpointRef | None = None
    max_turns: int
    max_budget_usd: float | None = None
    setup_command: str | None = None
    test_command: str | None = None
    issue_number: int | None = None
    issue_title: str | None = None
    github_token_secret: str | None = None
    save_trajectory: bool = False
    attachments: list[AttachmentRef] = []  # stored in the artifacts bucket; URLs were fetched by the hydrator
    egress_allowlist: list[str] = []  # hosts the sandbox may reach through the egress proxy
    egress: Literal["deny", "ask"] = "deny"  # other hosts: refused, or refused and asked about
    approve_push: bool = False
    sandbox_readonly_paths: list[str] = []
    approval_rules: list[ApprovalRule] = []
    task_type: str = "new_task"
    pr_number: int | None = None
    pr_url: str | None = None
    pr_head_sha: str | None = None  # the commit a review comments on
    review_feedback: list[str] = []  # the PR's newest review comments: learnings once the agent acts on them
    engine: Engine = DEFAULT_ENGINE  # resolved by the hydrator: task > repo > platform
    mcp_servers: McpServers = {}  # the repository's MCP servers (claude-code only)
    # An evaluation attempt: it starts at `base_commit`, reads and writes no memory, pushes nothing, and is
    # graded by the case's hidden tests (which never enter this context).
    evaluation: bool = False
    base_commit: str | None = None
    eval_id: str | None = None
    case_id: str | None = None


class ContextStore(Protocol):
    async def put(self, context: HydratedContext) -> str:
        """Store the context; return its key."""

    async def get(self, key: str) -> HydratedContext | None: ...


class S3ContextStore:
    """ContextStore in the stack's artifacts bucket (the prompt may exceed EventBridge's 256 KB)."""

    def __init__(self, s3: Any, bucket: str):
        self._s3 = GuardedClient(s3, S3_ANSWERS)
        self._bucket = bucket

    @staticmethod
    def key_for(task_id: str) -> str:
        return f"tasks/{task_id}/context.json"

    async def put(self, context: HydratedContext) -> str:
        key = self.key_for(context.task_id)
        await self._s3.put_object(Bucket=self._bucket, Key=key, Body=context.model_dump_json().encode(),
                                  ContentType="application/json")
        return key

    async def get(self, key: str) -> HydratedContext | None:
        try:
            resp = await self._s3.get_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        async with resp["Body"] as body:
            return HydratedContext.model_validate_json(await body.read())
