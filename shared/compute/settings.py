"""Settings of the compute strategies, shared by the services that start, stop or inspect sessions."""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ComputeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BGAGENT_", extra="ignore")

    compute_type: Literal["process", "ecs"] = "process"
    runtime_dir: Path = Path.home() / ".bgagent" / "runtime"
    agent_module: str = Field("agent", description="python -m <module> --task-id ID runs one session")
    warm_pool: bool = Field(True, description="process strategy: fork sessions from a pre-imported zygote")
    warm_pool_size: int = Field(2, ge=0, le=64, description="workers forked and waiting for a session")
    warm_pool_idle_seconds: float = Field(300.0, gt=0, description="with no start for this long, idle workers go")
    ecs_cluster: str | None = None
    ecs_task_definition: str | None = None
    ecs_container_name: str = "agent"
    ecs_subnets: str = Field("", description="comma-separated subnet ids")
    ecs_security_groups: str = Field("", description="comma-separated security group ids")
    ecs_assign_public_ip: bool = False
    # run_task: one RunTask per task (a fresh Fargate task, 30-70 s pending). warm: idle agent tasks of an ECS
    # service take sessions from a queue (docs/deploy.md, "Warm capacity").
    ecs_mode: Literal["run_task", "warm"] = "run_task"
    ecs_sessions_queue_url: str | None = Field(None, description="warm: the FIFO queue idle agents read")
    ecs_sessions_table: str | None = Field(None, description="warm: which agent task claimed which task")
