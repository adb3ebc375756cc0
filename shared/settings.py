"""Settings every bgagent process shares; each service extends them with its own."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.topology.names import ResourceNames


class PlatformSettings(BaseSettings):
    """Where the platform's AWS resources live and what they are called."""

    model_config = SettingsConfigDict(env_prefix="BGAGENT_", extra="ignore", populate_by_name=True)

    stack_name: str = "bgagent"
    aws_region: str = Field(
        "us-east-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION", "BGAGENT_AWS_REGION")
    )
    aws_endpoint_url: str | None = Field(
        None, validation_alias=AliasChoices("AWS_ENDPOINT_URL", "BGAGENT_AWS_ENDPOINT_URL")
    )
    log_level: str = "INFO"
    xray_daemon_address: str | None = Field(
        None, validation_alias=AliasChoices("AWS_XRAY_DAEMON_ADDRESS", "BGAGENT_XRAY_DAEMON_ADDRESS"))
    default_max_concurrency: int = Field(3, ge=1, le=1000)
    # Evaluation attempts running at once on the whole platform (they take no user's slots).
    eval_max_running: int = Field(16, ge=1, le=10_000)

    @property
    def names(self) -> ResourceNames:
        """Names of every table, queue, bus and bucket of this stack."""
        return ResourceNames(self.stack_name)


class GitHubSettings(BaseSettings):
    """How services reach the git host's REST API."""

    model_config = SettingsConfigDict(env_prefix="BGAGENT_", extra="ignore")

    github_api_url: str = "https://api.github.com"
    github_token: str | None = Field(default=None, repr=False)
    github_timeout_seconds: float = 15.0


class WorkerSettings(PlatformSettings):
    """Settings of a queue-consuming service."""

    consumer_batch_size: int = Field(10, ge=1, le=10)
    consumer_wait_seconds: int = Field(20, ge=0, le=20)
    consumer_visibility_seconds: int = Field(60, ge=5)
    consumer_concurrency: int = Field(16, ge=1)
