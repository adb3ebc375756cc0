"""Choosing the compute strategy once per service, from settings."""

from __future__ import annotations

from shared.aws.clients import AwsClients
from shared.compute.ecs import EcsCompute, EcsTasks
from shared.compute.process import ProcessCompute
from shared.compute.protocol import ComputeStrategy
from shared.compute.sessions import SessionClaims
from shared.compute.settings import ComputeSettings
from shared.compute.warm import WarmEcsCompute


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


async def build_compute(settings: ComputeSettings, clients: AwsClients, agent_env: dict[str, str], *,
                        starts_sessions: bool = False) -> ComputeStrategy:
    """The strategy; `starts_sessions` (the dispatcher) also warms the process strategy's workers."""
    if settings.compute_type == "process":
        if starts_sessions and settings.warm_pool:
            return ProcessCompute.warm(settings.runtime_dir, agent_env, agent_module=settings.agent_module,
                                       size=settings.warm_pool_size, idle_seconds=settings.warm_pool_idle_seconds)
        return ProcessCompute(settings.runtime_dir, agent_env, agent_module=settings.agent_module)
    if settings.ecs_mode == "warm":
        if not (settings.ecs_cluster and settings.ecs_sessions_queue_url and settings.ecs_sessions_table):
            raise SystemExit("warm ecs compute needs BGAGENT_ECS_CLUSTER, BGAGENT_ECS_SESSIONS_QUEUE_URL and "
                             "BGAGENT_ECS_SESSIONS_TABLE")
        return WarmEcsCompute(await clients.client("sqs"), settings.ecs_sessions_queue_url,
                              SessionClaims(await clients.client("dynamodb"), settings.ecs_sessions_table),
                              EcsTasks(await clients.client("ecs"), cluster=settings.ecs_cluster))
    if not (settings.ecs_cluster and settings.ecs_task_definition and _split(settings.ecs_subnets)):
        raise SystemExit("ecs compute needs BGAGENT_ECS_CLUSTER, BGAGENT_ECS_TASK_DEFINITION and BGAGENT_ECS_SUBNETS")
    return EcsCompute(
        await clients.client("ecs"), cluster=settings.ecs_cluster, task_definition=settings.ecs_task_definition,
        container_name=settings.ecs_container_name, subnets=_split(settings.ecs_subnets),
        security_groups=_split(settings.ecs_security_groups), assign_public_ip=settings.ecs_assign_public_ip,
    )
