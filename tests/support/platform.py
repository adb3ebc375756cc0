"""The whole platform as processes, with GitHub and Anthropic doubles on loopback, for e2e tests."""

from __future__ import annotations

import json
import time
import uuid
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import boto3
import httpx

from cli.local.stack import EmbeddedStack, StackConfig, free_port
from shared.auth.local_issuer import LocalIssuer
from shared.aws.dynamo import to_item
from shared.repos.models import RepoConfig
from shared.topology.names import ResourceNames
from tests.doubles import FakeAnthropic, FakeGitHub
from tests.doubles.scenarios import fake_model_prices, install_default_scenarios
from tests.support.aws import TEST_CREDENTIALS
from tests.support.git import make_bare_repo

GITHUB_TOKEN = "ghp_e2eFakeToken000000000000000000000000"
ANTHROPIC_KEY = "sk-ant-e2e-fake-key-0000000000"
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"}


class CrashableStack(EmbeddedStack):
    """The embedded stack, with the hands tests need on its services: stop, kill, start again."""

    def stop_service(self, service: str, grace: float = 15.0) -> None:
        """Stop one service (tests use it to hold messages in a queue)."""
        if service in self._procs:
            self._terminate([service], grace)

    def kill_service(self, service: str) -> None:
        """SIGKILL one service, as a crash would."""
        proc = self._procs.get(service)
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    def restart(self, service: str) -> None:
        """Start a service again after it died or was killed."""
        proc = self._procs.get(service)
        if proc is not None and proc.poll() is None:
            return
        self._start_service(service)
        if (self.config.state_dir / "stack.json").exists():
            self._write_state()


@dataclass
class Platform:
    stack: CrashableStack
    github: FakeGitHub
    anthropic: FakeAnthropic
    issuer: LocalIssuer
    api_url: str
    aws_endpoint: str
    names: ResourceNames
    root: Path
    github_url: str = ""

    def token(self, user: str) -> str:
        return self.issuer.mint(user)

    def client(self, user: str) -> httpx.Client:
        return httpx.Client(base_url=self.api_url, headers={"Authorization": f"Bearer {self.token(user)}"},
                            timeout=30)

    def boto(self, service: str):
        """A client acting as the operator (in an IAM-enforcing stack, its administrator user)."""
        credentials = self.stack.credentials
        keys = credentials.keys("operator") if credentials else {"aws_access_key_id": "testing",
                                                                 "aws_secret_access_key": "testing"}
        return boto3.client(service, endpoint_url=self.aws_endpoint, region_name="us-east-1", **keys)

    def add_repo(self, full_name: str, **config: object) -> Path:
        """A bare repository, known to the fake GitHub and onboarded on the platform."""
        bare = make_bare_repo(self.root, full_name.replace("/", "-") + "-" + uuid.uuid4().hex[:6])
        self.github.add_repo(full_name, clone_url=str(bare))
        row = RepoConfig(repo=full_name, **config).model_dump(mode="json")
        self.boto("dynamodb").put_item(TableName=self.names.repos_table, Item=to_item(row))
        return bare

    def wait_for(self, user: str, task_id: str, statuses: set[str] = TERMINAL, timeout: float = 90) -> dict:
        deadline = time.monotonic() + timeout
        with self.client(user) as c:
            while True:
                task = c.get(f"/v1/tasks/{task_id}").json()["data"]
                if task["status"] in statuses or time.monotonic() > deadline:
                    return task
                time.sleep(0.25)

    def queue_depth(self, service: str) -> int:
        """Messages in a service's queue, waiting or being handled."""
        sqs = self.boto("sqs")
        url = sqs.get_queue_url(QueueName=self.names.queue(service))["QueueUrl"]
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])

    def wait_for_queue(self, service: str, done: Callable[[int], bool] = lambda depth: depth == 0,
                       timeout: float = 60) -> None:
        """A barrier: wait until the service's queue depth passes `done` (by default: all handled)."""
        deadline = time.monotonic() + timeout
        while not done(self.queue_depth(service)) and time.monotonic() < deadline:
            time.sleep(0.2)

    def active_count(self, user: str) -> int:
        item = self.boto("dynamodb").get_item(TableName=self.names.user_concurrency_table,
                                               Key={"user_id": {"S": user}}, ConsistentRead=True).get("Item")
        return int(item["active_count"]["N"]) if item and "active_count" in item else 0


@contextmanager
def running_platform(aws_endpoint: str, root: Path, *, iam: str = "off", **stack_env: str) -> Iterator[Platform]:
    """Start the embedded stack (on a shared emulator) with fresh doubles; stop everything after.

    `iam="enforce"` switches the emulator to enforcing IAM for good: give such a stack an emulator of its own.
    """
    with ExitStack() as stack_ctx:
        github = FakeGitHub(token=GITHUB_TOKEN)
        anthropic = FakeAnthropic(api_key=ANTHROPIC_KEY)
        install_default_scenarios(anthropic)
        github_url = stack_ctx.enter_context(github.serve())
        anthropic_url = stack_ctx.enter_context(anthropic.serve())
        names = ResourceNames(f"e2e{uuid.uuid4().hex[:8]}")
        config = StackConfig(
            state_dir=root / "state", api_port=free_port(), stack_name=names.stack, aws_endpoint_url=aws_endpoint,
            reconcile_interval=3600, iam=iam,
            extra_env={**TEST_CREDENTIALS, "BGAGENT_GITHUB_API_URL": github_url, "BGAGENT_GITHUB_TOKEN": GITHUB_TOKEN,
                       "ANTHROPIC_BASE_URL": anthropic_url, "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
                       "BGAGENT_CONSUMER_WAIT_SECONDS": "2", "BGAGENT_HEARTBEAT_SECONDS": "2",
                       "BGAGENT_DRIFT_GRACE_SECONDS": "0",
                       "BGAGENT_MODEL_PRICES": json.dumps(fake_model_prices()), **stack_env},
        )
        embedded = CrashableStack(config)
        embedded.start()
        stack_ctx.callback(embedded.stop)
        issuer = LocalIssuer(config.state_dir / "issuer", config.api_url)
        yield Platform(embedded, github, anthropic, issuer, config.api_url, aws_endpoint, names, root, github_url)
