"""Fixtures of the agent tests: a seeded stack, a bare repository and the HTTP doubles on loopback."""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import pytest

from agent.settings import AgentSettings
from shared.aws.clients import AwsClients
from shared.evals.cases import EvalCase, case_key
from shared.hydration.context import HydratedContext, S3ContextStore
from shared.llm.prices import ModelPrice
from shared.steering.approvals import DynamoApprovalStore
from shared.steering.transactions import SteeringTables
from shared.tasks.dynamo_store import DynamoTaskStore
from shared.tasks.models import Task, TaskEvent
from shared.tasks.states import TaskStatus
from tests.doubles import FakeAnthropic, FakeGitHub
from tests.doubles.scenarios import FAKE_MODEL_PRICE, install_default_scenarios
from tests.support.aws import TestStack, make_stack
from tests.support.git import git as support_git
from tests.support.git import make_bare_repo as support_bare_repo

GITHUB_TOKEN = "ghp_faketoken"
ANTHROPIC_KEY = "sk-ant-fake"
REPO = "acme/app"
_FAKE_PRICE = ModelPrice(**FAKE_MODEL_PRICE)
SYSTEM_PROMPT = "You are bgagent, a careful engineer. Make the smallest change that does the job."


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd` and return its stdout, stripped."""
    return support_git(*args, cwd=cwd).strip()


def make_bare_repo(root: Path, files: dict[str, str] | None = None) -> Path:
    """A bare repository whose `main` holds README.md (and `files`)."""
    return support_bare_repo(root, "app", {"README.md": "# app\n\nA small app.\n", **(files or {})})


@dataclass
class AgentWorld:
    """Everything one agent run talks to, and ways to look at it afterwards."""

    stack: TestStack
    github: FakeGitHub
    github_url: str
    anthropic: FakeAnthropic
    anthropic_url: str
    bare: Path
    workspaces: Path
    store: DynamoTaskStore
    contexts: S3ContextStore
    approvals: DynamoApprovalStore

    def settings(self, task_id: str, **overrides: Any) -> AgentSettings:
        """Settings for an in-process run. AWS secrets are left out on purpose: registering the
        emulator's "testing" credentials would redact that word for every later test in the session."""
        values: dict[str, Any] = dict(
            task_id=task_id, stack_name=self.stack.settings.stack_name, aws_endpoint_url=self.stack.endpoint,
            aws_region="us-east-1", github_api_url=self.github_url, github_token=GITHUB_TOKEN,
            anthropic_api_key=ANTHROPIC_KEY, anthropic_base_url=self.anthropic_url,
            aws_secret_access_key=None, aws_session_token=None, tool_path=os.environ["PATH"],
            workspace_dir=self.workspaces, start_wait_seconds=5, model_retry_max_wait_seconds=0.2,
            event_min_interval_seconds=0.0,
        )
        values.update(overrides)
        return AgentSettings(**values)

    def env(self, task_id: str, **extra: str) -> dict[str, str]:
        """The environment of a `python -m agent` subprocess."""
        return {**self.stack.env(), "PATH": os.environ["PATH"], "BGAGENT_GITHUB_API_URL": self.github_url,
                "BGAGENT_GITHUB_TOKEN": GITHUB_TOKEN, "ANTHROPIC_BASE_URL": self.anthropic_url,
                "ANTHROPIC_API_KEY": ANTHROPIC_KEY, "BGAGENT_TASK_ID": task_id,
                "BGAGENT_WORKSPACE_DIR": str(self.workspaces), "BGAGENT_START_WAIT_SECONDS": "5",
                "BGAGENT_EVENT_MIN_INTERVAL_SECONDS": "0", **extra}

    async def seed(self, *, model_id: str = "fake-edit", max_turns: int = 10, max_budget_usd: float | None = None,
                   description: str = "Add a NOTES.md file describing the app", test_command: str | None = None,
                   setup_command: str | None = None, running: bool = True, save_trajectory: bool = False,
                   model_price: ModelPrice | None = _FAKE_PRICE,
                   egress_allowlist: list[str] | None = None, clone_url: str | None = None,
                   issue_number: int | None = None, **repo_settings: Any) -> Task:
        """A task taken through SUBMITTED → HYDRATING → RUNNING with its context in S3."""
        store = self.store
        # A user per task: the module's tasks share one stack and must not share concurrency slots.
        task = await store.create(Task.new(user_id=f"user-{uuid.uuid4().hex[:8]}", repo=REPO,
                                           task_description=description, model_id=model_id,
                                           max_turns=max_turns, max_budget_usd=max_budget_usd,
                                           issue_number=issue_number))
        context = HydratedContext(
            task_id=task.task_id, repo=REPO, clone_url=clone_url or str(self.bare), default_branch="main",
            branch_name=task.branch_name, system_prompt=SYSTEM_PROMPT,
            user_prompt=f"Task: {description}", prompt_version="sha256:abc123", model_id=model_id,
            model_price=model_price,
            max_turns=max_turns, max_budget_usd=max_budget_usd, test_command=test_command,
            setup_command=setup_command, save_trajectory=save_trajectory, egress_allowlist=egress_allowlist or [],
            issue_number=issue_number,
            **repo_settings,
        )
        key = await self.contexts.put(context)
        task = await store.transition(task.task_id, TaskStatus.HYDRATING, max_active=5,
                                      changes={"context_key": key, "prompt_version": context.prompt_version})
        if running:
            task = await store.transition(task.task_id, TaskStatus.RUNNING)
        return task

    async def seed_attempt(self, clone_url: Path, case: EvalCase, *, engine: str = "oracle",
                           model_id: str = "fake-edit", max_turns: int = 10, **repo_settings: Any) -> Task:
        """An evaluation attempt at RUNNING: its case stored where its run keeps it, its context as hydrated."""
        eval_id = f"ev-{uuid.uuid4().hex[:8]}"
        self.stack.boto("s3").put_object(Bucket=self.stack.names.artifacts_bucket, Key=case_key(eval_id, case.id),
                                         Body=case.model_dump_json().encode())
        return await self.seed(model_id=model_id, max_turns=max_turns, clone_url=str(clone_url),
                               description=case.task, evaluation=True, base_commit=case.base, eval_id=eval_id,
                               case_id=case.id, engine=engine, setup_command=case.setup_command, **repo_settings)

    def artifact(self, key: str) -> str:
        """An object of the artifacts bucket, as text."""
        body = self.stack.boto("s3").get_object(Bucket=self.stack.names.artifacts_bucket, Key=key)["Body"]
        return body.read().decode()

    async def task(self, task_id: str) -> Task:
        found = await self.store.get(task_id)
        assert found is not None
        return found

    async def events(self, task_id: str) -> list[TaskEvent]:
        events, _ = await self.store.list_events(task_id, limit=500)
        return events

    def finalizer_details(self, task_id: str, *, expect: bool = True) -> list[dict[str, Any]]:
        """AgentFinished details for this task that reached the finalizer's queue.

        Drains the queue (earlier tests' leftovers included). The emulator delivers bus events
        to queues synchronously, so when none is expected, draining what is there is conclusive."""
        sqs, url, found, empty = self.stack.boto("sqs"), self.stack.queue_urls["finalizer"], [], 0
        while empty < (3 if expect and not found else 1):
            resp = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       WaitTimeSeconds=1 if expect and not found else 0)
            messages = resp.get("Messages", [])
            empty = 0 if messages else empty + 1
            for message in messages:
                envelope = json.loads(message["Body"])
                if envelope["detail"].get("task_id") == task_id and envelope["detail-type"] == "AgentFinished":
                    found.append(envelope["detail"])
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return found

    def pulls_for(self, branch: str) -> list[dict[str, Any]]:
        return [p for p in self.github.pulls(REPO) if p["head"]["ref"] == branch]


# The stack and the HTTP doubles are shared by the tests of a module: creating them per test cost
# more than the agent runs themselves on a 2-core machine. Each test still gets its own task, branch,
# bare repository and workspace directory, and looks only at those.
@pytest.fixture(scope="module")
def agent_stack(aws_endpoint: str) -> TestStack:
    return make_stack(aws_endpoint)


@pytest.fixture(scope="module")
def fake_anthropic() -> Iterator[tuple[FakeAnthropic, str]]:
    fake = install_default_scenarios(FakeAnthropic(api_key=ANTHROPIC_KEY))
    with fake.serve() as url:
        yield fake, url


@pytest.fixture(scope="module")
def fake_github() -> Iterator[tuple[FakeGitHub, str]]:
    fake = FakeGitHub(token=GITHUB_TOKEN)
    with fake.serve() as url:
        yield fake, url


@pytest.fixture
async def world(agent_stack: TestStack, fake_github: tuple[FakeGitHub, str],
                fake_anthropic: tuple[FakeAnthropic, str], tmp_path: Path) -> AsyncIterator[AgentWorld]:
    bare = make_bare_repo(tmp_path)
    github, github_url = fake_github
    github.add_repo(REPO, clone_url=str(bare), default_branch="main")
    anthropic, anthropic_url = fake_anthropic
    anthropic.reset()
    async with AwsClients(agent_stack.settings) as aws:
        store = DynamoTaskStore(await aws.client("dynamodb"), agent_stack.names)
        contexts = S3ContextStore(await aws.client("s3"), agent_stack.names.artifacts_bucket)
        approvals = DynamoApprovalStore(SteeringTables(await aws.client("dynamodb"), agent_stack.names))
        yield AgentWorld(agent_stack, github, github_url, anthropic, anthropic_url, bare, tmp_path / "workspaces",
                         store, contexts, approvals)
