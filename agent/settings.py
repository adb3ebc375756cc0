"""Settings of the agent process; built once by the entrypoint from the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import GitHubSettings, PlatformSettings

_DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class AgentSettings(PlatformSettings, GitHubSettings):
    """Everything the agent needs besides its task row and hydrated context."""

    model_config = SettingsConfigDict(env_prefix="BGAGENT_", extra="ignore", populate_by_name=True)

    task_id: str | None = None
    anthropic_api_key: str | None = Field(
        None, repr=False, validation_alias=AliasChoices("ANTHROPIC_API_KEY", "BGAGENT_ANTHROPIC_API_KEY")
    )
    anthropic_base_url: str | None = Field(
        None, validation_alias=AliasChoices("ANTHROPIC_BASE_URL", "BGAGENT_ANTHROPIC_BASE_URL")
    )
    model_provider: Literal["anthropic", "bedrock"] = "anthropic"
    # Held only so they can be registered for redaction; boto reads them itself.
    aws_secret_access_key: str | None = Field(None, repr=False, validation_alias="AWS_SECRET_ACCESS_KEY")
    aws_session_token: str | None = Field(None, repr=False, validation_alias="AWS_SESSION_TOKEN")
    # The PATH handed to tool commands: the tools get an allowlisted environment, never ours.
    tool_path: str = Field(_DEFAULT_PATH, validation_alias=AliasChoices("BGAGENT_TOOL_PATH", "PATH"))

    workspace_dir: Path | None = None  # None: a fresh directory under the system temp dir
    # The workspace's total bound: a capped filesystem where the runtime can mount one (root), else a
    # watchdog that stops commands; "watchdog" forces the latter (docs/security.md).
    workspace_max_mb: int = Field(8192, ge=64)
    workspace_max_files: int = Field(500_000, ge=1_000)
    workspace_quota: Literal["auto", "watchdog"] = "auto"
    workspace_watch_seconds: float = Field(2.0, gt=0)
    # Bare mirrors shared by the tasks of this host, so a clone fetches only what changed (unset: no cache).
    repo_cache_dir: Path | None = None
    repo_cache_max_mb: int = Field(5120, ge=1)
    repo_cache_max_age_hours: float = Field(168.0, gt=0)
    heartbeat_seconds: float = Field(30.0, gt=0)
    approval_poll_seconds: float = Field(1.0, gt=0)  # reading a held-back command's approval request
    start_wait_seconds: float = Field(60.0, ge=0)
    start_poll_seconds: float = Field(0.5, gt=0)

    bash_timeout_seconds: float = Field(120.0, gt=0)
    setup_timeout_seconds: float = Field(900.0, gt=0)
    test_timeout_seconds: float = Field(900.0, gt=0)
    git_timeout_seconds: float = Field(300.0, gt=0)
    # The largest change a task commits and pushes: new file content (uncompressed) and files touched.
    max_change_mb: int = Field(100, ge=1)
    max_change_files: int = Field(10_000, ge=1)
    tool_output_max_chars: int = Field(30_000, ge=1_000)
    view_max_characters: int = Field(30_000, ge=1_000)
    editor_max_file_mb: int = Field(10, ge=1)  # str_replace/insert hold the whole file in the runtime's memory

    model_call_timeout_seconds: float = Field(300.0, gt=0)
    model_max_tokens: int = Field(8192, ge=256)
    min_output_tokens: int = Field(256, ge=1)
    model_sdk_max_retries: int = Field(2, ge=0)
    model_retry_attempts: int = Field(4, ge=1)
    model_retry_max_wait_seconds: float = Field(30.0, ge=0)
    context_window_tokens: int = Field(200_000, ge=10_000)
    elide_at_fraction: float = Field(0.75, gt=0, le=1)

    # The boundary of every command the model can cause (see docs/security.md).
    sandbox: Literal["bwrap", "two-user", "off"] = "bwrap"
    sandbox_readonly_paths: str = ""  # colon-separated absolute paths, e.g. a toolchain under /srv
    sandbox_uid_base: int = Field(200_000, ge=1_000)
    sandbox_command_uid: int | None = Field(None, ge=1)
    sandbox_max_processes: int = Field(256, ge=16)
    sandbox_memory_mb: int = Field(4096, ge=64)
    sandbox_tmp_mb: int = Field(512, ge=16)
    sandbox_file_size_mb: int = Field(2048, ge=16)
    sandbox_output_max_mb: int = Field(64, ge=1)

    # The claude-code engine (agent/engines/): no output and no decision pending for this long is a hung CLI
    # (above the Bash timeout, which a silent command may use whole); the CLI's own retries of a model call.
    claude_code_idle_seconds: float = Field(300.0, gt=0)
    claude_code_model_retries: int = Field(4, ge=0)
    # Claude Code sizes its own replies; the relay holds them to this, or the model's own ceiling if lower.
    claude_code_max_tokens: int = Field(64_000, ge=1_024)

    event_min_interval_seconds: float = Field(2.0, ge=0)
    max_events: int = Field(200, ge=20)

    @field_validator("repo_cache_dir", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _idle_above_a_command(self) -> AgentSettings:
        if self.claude_code_idle_seconds <= self.bash_timeout_seconds:
            raise ValueError("BGAGENT_CLAUDE_CODE_IDLE_SECONDS must exceed BGAGENT_BASH_TIMEOUT_SECONDS: a command "
                             "may run silently that long")
        return self
