"""The composition root: builds the agent's clients from settings and runs it."""

from __future__ import annotations

import asyncio
import functools
import getpass
import logging
import signal
from pathlib import Path
from typing import Awaitable, Callable

from agent.errors import ModelEndpointUnavailable
from agent.evals.diffs import S3DiffStore
from agent.model_client import AnthropicModelClient
from agent.relay.client import relay_sdk
from agent.relay.upstream import AnthropicUpstream, BedrockUpstream, Upstream
from agent.runner import AgentDeps, AgentRunner, RunReport
from agent.sandbox.factory import SandboxFactory
from agent.settings import AgentSettings
from agent.trajectory import S3TrajectoryStore
from shared.attachments.store import S3AttachmentStore
from shared.aws.clients import AwsClients
from shared.aws.secrets import SecretsManagerStore, SecretStore
from shared.evals.case_source import S3CaseSource
from shared.events.bus import EventBridgePublisher
from shared.githost.factory import build_git_host
from shared.hydration.context import S3ContextStore
from shared.llm.endpoints import EndpointRef
from shared.memory.store import DynamoMemoryStore
from shared.observability.redaction import register_secret
from shared.steering.approvals import DynamoApprovalStore
from shared.steering.nudges import DynamoNudgeStore
from shared.steering.transactions import SteeringTables
from shared.tasks.dynamo_store import DynamoTaskStore

log = logging.getLogger(__name__)
# The SDK's own backoff between its retries is at most 8 s.
_SDK_MAX_BACKOFF = 8.0


def register_secrets(settings: AgentSettings) -> None:
    """Make every secret this process holds redactable wherever it might appear."""
    for secret in (settings.github_token, settings.anthropic_api_key, settings.aws_secret_access_key,
                   settings.aws_session_token):
        register_secret(secret)


def build_upstream(settings: AgentSettings) -> Upstream:
    """The configured model provider, holding the credential; only the task's relay talks to it."""
    if settings.model_provider == "bedrock":
        return BedrockUpstream(settings.aws_region, timeout=settings.model_call_timeout_seconds)
    return AnthropicUpstream(settings.anthropic_base_url, settings.anthropic_api_key,
                             timeout=settings.model_call_timeout_seconds)


def endpoint_upstreams(settings: AgentSettings, secrets: SecretStore) -> Callable[[EndpointRef], Awaitable[Upstream]]:
    """A registered endpoint's upstream, its key read from the secrets store when a task names it."""
    async def build(ref: EndpointRef) -> Upstream:
        key = await secrets.get(ref.key_secret)
        if not key:
            raise ModelEndpointUnavailable(f"model endpoint {ref.name!r}: its key secret is missing; register the "
                                           "endpoint again (bgagent model-endpoint add)")
        return AnthropicUpstream(ref.base_url, key, timeout=settings.model_call_timeout_seconds)
    return build


def build_model_client(settings: AgentSettings, socket: Path) -> AnthropicModelClient:
    """The native loop's ModelClient of the relay at `socket`, with a wall-clock deadline per call that covers
    the SDK's own retries."""
    sdk = relay_sdk(socket, max_retries=settings.model_sdk_max_retries)
    retries = settings.model_sdk_max_retries
    deadline = settings.model_call_timeout_seconds * (retries + 1) + _SDK_MAX_BACKOFF * retries
    return AnthropicModelClient(sdk, call_timeout=settings.model_call_timeout_seconds, call_deadline=deadline,
                                attempts=settings.model_retry_attempts,
                                max_wait=settings.model_retry_max_wait_seconds)


async def run_agent(settings: AgentSettings, sandboxes: SandboxFactory | None = None) -> RunReport:
    """Run the task named in the settings; SIGTERM and SIGINT stop it cleanly.

    `sandboxes` replaces the sandbox factory the settings describe (tests: a resolver for a test host).
    """
    register_secrets(settings)
    if settings.sandbox == "off":
        log.warning("BGAGENT_SANDBOX=off: the model's commands run UNSANDBOXED as %s, with the host's files and "
                    "network; every task is marked sandbox=off", getpass.getuser())
    upstream = build_upstream(settings)
    loop = asyncio.get_running_loop()
    host = None
    try:
        async with AwsClients(settings) as aws:
            ddb = await aws.client("dynamodb")
            # GitHub, or the local git host for repositories onboarded from a path.
            host = build_git_host(settings, ddb, settings.names)
            store = DynamoTaskStore(ddb, settings.names)
            deps = AgentDeps(
                store=store,
                contexts=S3ContextStore(await aws.client("s3"), settings.names.artifacts_bucket),
                publisher=EventBridgePublisher(await aws.client("events"), settings.names.event_bus),
                host=host,
                upstream=upstream,
                endpoint_upstream=endpoint_upstreams(settings,
                                                     SecretsManagerStore(await aws.client("secretsmanager"))),
                relay_client=functools.partial(build_model_client, settings),
                memory=DynamoMemoryStore(ddb, settings.names.memory_table),
                trajectories=S3TrajectoryStore(await aws.client("s3"), settings.names.artifacts_bucket),
                attachments=S3AttachmentStore(await aws.client("s3"), settings.names.artifacts_bucket),
                sandboxes=sandboxes,  # None: the runner opens the sandbox the settings describe
                nudges=DynamoNudgeStore(SteeringTables(ddb, settings.names)),
                approvals=DynamoApprovalStore(SteeringTables(ddb, settings.names)),
                cases=S3CaseSource(await aws.client("s3"), settings.names.artifacts_bucket),
                diffs=S3DiffStore(await aws.client("s3"), settings.names.artifacts_bucket),
            )
            runner = AgentRunner(settings, deps)
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, runner.guard.stop, f"received {sig.name}")
            try:
                return await runner.run()
            finally:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(sig)
    finally:
        if host is not None:
            await host.aclose()
        await upstream.aclose()
