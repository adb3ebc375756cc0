"""The stack's typed configuration, read from `pulumi.Config` (keys `bgagent:<camelCaseName>`)."""

from __future__ import annotations

import json
from typing import Literal

import pulumi
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from shared.engines import DEFAULT_ENGINE, Engine
from shared.llm.catalog import DEFAULT_MODEL_ID
from shared.llm.errors import ModelCatalogError
from shared.llm.lifecycle import vet_model
from shared.llm.prices import ModelPrice
from shared.repos.egress import EgressEntry
from shared.repos.mcp import McpServers
from shared.repos.models import PrTasks
from shared.tasks.fields import MaxBudgetUsd, MaxTurns, TaskEngine

SERVICES = ("gateway", "hydrator", "dispatcher", "finalizer", "reconciler")
WORKERS = ("hydrator", "dispatcher", "finalizer", "reconciler")
# Values CloudWatch Logs accepts for a log group's retention.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                      2922, 3288, 3653)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True,
                              coerce_numbers_to_str=True)


class ServiceSize(_Model):
    """Fargate size and task counts of one service."""

    cpu: int = 256
    memory: int = 512
    desired_count: int = Field(1, ge=0)
    min_count: int = Field(1, ge=0)
    max_count: int = Field(4, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> "ServiceSize":
        if not self.min_count <= self.desired_count <= self.max_count:
            raise ValueError("need minCount <= desiredCount <= maxCount")
        return self


class AgentSize(_Model):
    """Fargate size of one agent task."""

    cpu: int = 2048
    memory: int = 4096
    ephemeral_storage_gib: int = Field(50, ge=21, le=200)


class WarmCapacity(_Model):
    """ecsMode warm: how many idle agent tasks wait for sessions (docs/deploy.md, "Warm capacity")."""

    min_idle: int = Field(2, ge=1, le=100)  # kept idle at all times: each costs a running agent task
    max_agents: int = Field(20, ge=1, le=1000)  # idle and busy together

    @model_validator(mode="after")
    def _ordered(self) -> "WarmCapacity":
        if self.min_idle > self.max_agents:
            raise ValueError("need minIdle <= maxAgents")
        return self


class BlueprintConfig(_Model):
    """A repository onboarded as code: its row in the Repos table (attribute names of RepoConfig)."""

    repo: str
    model_id: str | None = None
    max_turns: MaxTurns | None = None
    max_budget_usd: MaxBudgetUsd | None = None
    engine: TaskEngine | None = None  # the repo's tasks' engine unless a task names one
    mcp_servers: McpServers = {}  # RepoConfig.mcp_servers: name → {type, command, args, env, url}; no credentials
    system_prompt_overrides: str | None = None
    setup_command: str | None = None
    test_command: str | None = None
    github_token_secret: str | None = None
    compute_type: Literal["process", "ecs"] | None = None
    egress_allowlist: list[EgressEntry] = []
    sandbox_readonly_paths: list[str] = []
    github_triggers: list[dict[str, list[str]]] | None = None  # RepoConfig.github_triggers: events, actions, labels
    model_prices: dict[str, ModelPrice] | None = None  # prices of models the catalog lacks
    pr_tasks: PrTasks = "owner"  # who may iterate on or review the repo's PRs (RepoConfig.pr_tasks)


class StackConfig(_Model):
    """Everything a deployment may choose; the defaults make a small, working stack."""

    stack_name: str = Field(pattern=r"^[a-z][a-z0-9-]{2,38}[a-z0-9]$")  # prefixes every name, the bucket's too
    image_tag: str = "0.1.0"
    vpc_cidr: str = "10.40.0.0/16"
    availability_zones: int = Field(2, ge=2, le=3)
    nat_gateways: int = Field(1, ge=1, le=3)
    ingress_cidrs: list[str] = ["0.0.0.0/0"]
    certificate_arn: str | None = None  # HTTPS on the ALB when set, plain HTTP otherwise
    log_level: str = "INFO"
    log_retention_days: int = 30
    container_insights: bool = True
    xray: bool = True
    xray_daemon_image: str = "public.ecr.aws/xray/aws-xray-daemon:3.x"
    github_api_url: str = "https://api.github.com"
    model_provider: Literal["anthropic", "bedrock"] = "anthropic"
    default_model_id: str = DEFAULT_MODEL_ID
    # BGAGENT_DEFAULT_ENGINE: the engine of tasks that, like their repository, name none.
    default_engine: TaskEngine = DEFAULT_ENGINE
    # BGAGENT_AGENT_ENGINES: what the agent image has (docker/agent.Dockerfile installs both); the gateway refuses
    # a task naming any other (ENGINE_UNAVAILABLE), since its own image need not carry the engine.
    agent_engines: list[Engine] = ["native", "claude-code"]  # every TASK_ENGINES (a test holds them equal)
    model_prices: dict[str, ModelPrice] = {}  # BGAGENT_MODEL_PRICES: prices of models the catalog lacks
    bedrock_model_arns: list[str] = []
    default_max_concurrency: int = Field(3, ge=1, le=1000)
    eval_max_running: int = Field(16, ge=1, le=10_000)  # evaluation attempts started, not yet counted
    services: dict[str, ServiceSize] = {}
    agent: AgentSize = AgentSize()
    # run_task: one Fargate task started per coding task (30-70 s pending first); warm: idle agents take them.
    ecs_mode: Literal["run_task", "warm"] = "run_task"
    warm_capacity: WarmCapacity = WarmCapacity()
    scale_out_backlog: int = Field(10, ge=1)  # visible messages that add a worker task
    handler_error_threshold: int = Field(5, ge=1)  # HandlerErrors per 5 minutes that raise the alarm
    gateway_5xx_threshold: int = Field(5, ge=1)
    alarm_email: str | None = None
    deletion_protection: bool = True
    artifacts_retention_days: int = Field(30, ge=1)
    blueprints: list[BlueprintConfig] = []
    # Route 53 Resolver DNS Firewall on the VPC: block (default), alert (log only) or off.
    dns_firewall: Literal["block", "alert", "off"] = "block"
    dns_firewall_extra_domains: list[str] = []

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"logRetentionDays must be one of {LOG_RETENTION_DAYS}")
        return value

    @field_validator("services")
    @classmethod
    def _known_services(cls, value: dict[str, ServiceSize]) -> dict[str, ServiceSize]:
        unknown = set(value) - set(SERVICES)
        if unknown:
            raise ValueError(f"unknown services {sorted(unknown)}; known: {SERVICES}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "StackConfig":
        if self.nat_gateways > self.availability_zones:
            raise ValueError("natGateways cannot exceed availabilityZones")
        if self.model_provider == "bedrock" and not self.bedrock_model_arns:
            raise ValueError("modelProvider bedrock needs bedrockModelArns")
        repos = [b.repo for b in self.blueprints]
        if len(repos) != len(set(repos)):
            raise ValueError("a repository appears in two blueprints")
        self._check_models()
        self._check_engines()
        return self

    def _check_engines(self) -> None:
        """The default and every blueprint's engine must be one the agent image has."""
        chosen = [("defaultEngine", self.default_engine)] + [
            (f"blueprint {b.repo} engine", b.engine) for b in self.blueprints if b.engine]
        for where, engine in chosen:
            if engine not in self.agent_engines:
                raise ValueError(f"{where}: {engine} is not in agentEngines ({', '.join(self.agent_engines)})")

    def _check_models(self) -> None:
        """The default and every blueprint's model must be priced and not past its end of life."""
        checks = [("defaultModelId", self.default_model_id, {})] + [
            (f"blueprint {b.repo} modelId", b.model_id, b.model_prices or {}) for b in self.blueprints if b.model_id]
        for where, model_id, prices in checks:
            try:
                vet_model(model_id, {**self.model_prices, **prices})
            except ModelCatalogError as exc:
                raise ValueError(f"{where}: {exc}") from exc

    def size(self, service: str) -> ServiceSize:
        return self.services.get(service, ServiceSize())


def _decode(raw: str) -> object:
    """Structured values arrive as JSON text, plain ones as bare strings."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def load_config(config: pulumi.Config | None = None) -> StackConfig:
    """The stack configuration; `stackName` defaults to `bgagent-<pulumi stack>`."""
    config = config or pulumi.Config("bgagent")
    raw: dict[str, object] = {}
    for field in StackConfig.model_fields.values():
        value = config.get(field.alias)
        if value is not None:
            raw[field.alias] = _decode(value)
    raw.setdefault("stackName", f"bgagent-{pulumi.get_stack()}")
    return StackConfig.model_validate(raw)
