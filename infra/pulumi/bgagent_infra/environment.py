"""Each container's environment, named after the fields of the process's pydantic settings."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bgagent_infra.config import StackConfig
from bgagent_infra.identity import github_webhook_secret_name
from bgagent_infra.network import GATEWAY_PORT
from shared.topology.names import ResourceNames

AGENT_CONTAINER = "agent"
XRAY_DAEMON_ADDRESS = "127.0.0.1:2000"  # the X-Ray sidecar of the same task (awsvpc: shared localhost)
# Secrets injected by ECS, by platform secret: the variable the settings read them from.
SECRET_VARIABLES = {"github": "BGAGENT_GITHUB_TOKEN", "anthropic": "ANTHROPIC_API_KEY"}
SECRETS_BY_CONTAINER = {"hydrator": ("github",), "finalizer": ("github",), "agent": ("github", "anthropic")}


@dataclass(frozen=True)
class EnvRefs:
    """Resolved values the environments point at."""

    region: str
    api_url: str = ""
    jwks_url: str = ""
    jwt_issuer: str = ""
    jwt_audience: str = ""
    cluster_arn: str = ""
    agent_task_definition_arn: str = ""
    subnets: tuple[str, ...] = ()
    agent_security_groups: tuple[str, ...] = ()
    sessions_queue_url: str = ""  # ecsMode warm only


def _platform(config: StackConfig, refs: EnvRefs) -> dict[str, str]:
    return {
        "BGAGENT_STACK_NAME": config.stack_name,
        "AWS_REGION": refs.region,
        "BGAGENT_LOG_LEVEL": config.log_level,
        "BGAGENT_DEFAULT_MAX_CONCURRENCY": str(config.default_max_concurrency),
        "BGAGENT_EVAL_MAX_RUNNING": str(config.eval_max_running),
    }


def _warm_sessions(config: StackConfig, refs: EnvRefs) -> dict[str, str]:
    """Where warm sessions wait and are claimed (ComputeSettings and the warm agent read the same names)."""
    return {"BGAGENT_ECS_SESSIONS_QUEUE_URL": refs.sessions_queue_url,
            "BGAGENT_ECS_SESSIONS_TABLE": ResourceNames(config.stack_name).sessions_table}


def _ecs_compute(config: StackConfig, refs: EnvRefs) -> dict[str, str]:
    """What shared.compute's ECS strategy needs to start, describe and stop agent tasks."""
    if config.ecs_mode == "warm":
        return {"BGAGENT_COMPUTE_TYPE": "ecs", "BGAGENT_ECS_MODE": "warm", "BGAGENT_ECS_CLUSTER": refs.cluster_arn,
                **_warm_sessions(config, refs)}
    return {
        "BGAGENT_COMPUTE_TYPE": "ecs",
        "BGAGENT_ECS_CLUSTER": refs.cluster_arn,
        "BGAGENT_ECS_TASK_DEFINITION": refs.agent_task_definition_arn,
        "BGAGENT_ECS_SUBNETS": ",".join(refs.subnets),
        "BGAGENT_ECS_SECURITY_GROUPS": ",".join(refs.agent_security_groups),
        "BGAGENT_ECS_CONTAINER_NAME": AGENT_CONTAINER,
    }


def service_environment(service: str, config: StackConfig, refs: EnvRefs) -> dict[str, str]:
    """The plain (non-secret) environment of one service's container."""
    env = _platform(config, refs)
    if config.xray:
        env["AWS_XRAY_DAEMON_ADDRESS"] = XRAY_DAEMON_ADDRESS
    if service == "gateway":
        env.update({
            "BGAGENT_HOST": "0.0.0.0",  # the ALB reaches the task on its VPC address
            "BGAGENT_PORT": str(GATEWAY_PORT),
            "BGAGENT_PUBLIC_URL": refs.api_url,
            "BGAGENT_JWKS_URL": refs.jwks_url,
            "BGAGENT_JWT_ISSUER": refs.jwt_issuer,
            "BGAGENT_JWT_AUDIENCE": refs.jwt_audience,
            "BGAGENT_GITHUB_WEBHOOK_SECRET_NAME": github_webhook_secret_name(config.stack_name),
        })
    if service in ("hydrator", "finalizer"):
        env["BGAGENT_GITHUB_API_URL"] = config.github_api_url
    if service in ("gateway", "hydrator"):  # the gateway checks the model a task will run, the hydrator picks it
        env["BGAGENT_DEFAULT_MODEL_ID"] = config.default_model_id
        # Likewise the engine: neither service's image carries claude-code, so the agent image's engines are named.
        env["BGAGENT_DEFAULT_ENGINE"] = config.default_engine
        env["BGAGENT_AGENT_ENGINES"] = json.dumps(config.agent_engines)
        if config.model_prices:
            env["BGAGENT_MODEL_PRICES"] = json.dumps({m: p.model_dump() for m, p in config.model_prices.items()})
    if service in ("dispatcher", "reconciler"):
        env.update(_ecs_compute(config, refs))
    return env


def agent_environment(config: StackConfig, refs: EnvRefs) -> dict[str, str]:
    """The agent container's environment; RunTask adds BGAGENT_TASK_ID per run, a warm agent claims its task."""
    return {
        **_platform(config, refs),
        "BGAGENT_GITHUB_API_URL": config.github_api_url,
        "BGAGENT_MODEL_PROVIDER": config.model_provider,
        **(_warm_sessions(config, refs) if config.ecs_mode == "warm" else {}),
    }


def secret_variables(container: str, available: set[str]) -> dict[str, str]:
    """Environment variable → platform secret name, for the secrets ECS injects into a container."""
    return {SECRET_VARIABLES[s]: s for s in SECRETS_BY_CONTAINER.get(container, ()) if s in available}
