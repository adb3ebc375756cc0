"""Gateway settings (environment variables BGAGENT_*)."""

from pathlib import Path

from pydantic import Field, SecretStr

from shared.settings import GitHubSettings, PlatformSettings
from shared.tasks.limits import TaskDefaults


class GatewaySettings(PlatformSettings, TaskDefaults, GitHubSettings):
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = None

    # Cognito (or any RS256 issuer): the issuer URL, its JWKS (default: <issuer>/.well-known/jwks.json)
    # and the app client id(s), comma-separated: `aud` of ID tokens, `client_id` of access tokens.
    jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    # Seconds between two JWKS refreshes triggered by an unknown key id (a refresh-storm guard).
    jwks_min_refresh_seconds: float = Field(10.0, ge=0)
    # When set, the gateway issues and verifies its own tokens (embedded stack only).
    local_issuer_dir: Path | None = None

    max_body_bytes: int = Field(1_048_576, ge=1024)
    # Task creation carries up to 3 MB of inline attachments, base64-encoded: its own, larger limit.
    max_task_body_bytes: int = Field(4_718_592, ge=1024)
    # An evaluation run carries its whole dataset (patches included): 1,000 cases fit in 16 MiB.
    eval_max_body_bytes: int = Field(16_777_216, ge=1024)
    # How many distinct (repository, base) pairs of a dataset the git host is asked about at submission; the
    # rest are checked when their attempts are hydrated.
    eval_base_checks: int = Field(200, ge=0)
    # User ids with the operator role (model endpoints), comma-separated (`*`: every user, the embedded stack's
    # default); also members of the `bgagent-admins` Cognito group.
    admin_users: str = ""
    # Per user and per gateway process: requests that create or change something.
    rate_limit_per_second: float = Field(20.0, gt=0)
    rate_limit_burst: int = Field(40, ge=1)

    # Live event streams: how often the shared poller of a task reads its trail, how old an event must
    # be before it is sent (see services/gateway/streaming.py), the comment heartbeat, the cap per user.
    stream_poll_seconds: float = Field(0.2, gt=0)
    stream_settle_seconds: float = Field(0.25, ge=0)
    stream_heartbeat_seconds: float = Field(15.0, gt=0)
    stream_max_per_user: int = Field(10, ge=1)

    # Nudges, per task and per gateway process: a token bucket.
    nudge_rate_per_minute: float = Field(6.0, gt=0)
    nudge_burst: int = Field(3, ge=1)

    webhook_max_skew_seconds: int = Field(300, ge=1)
    webhook_secret_cache_seconds: float = Field(60.0, ge=0)

    # GitHub webhooks: the shared secret itself, or the name of a Secrets Manager secret holding it.
    github_webhook_secret: SecretStr | None = Field(None, repr=False)
    github_webhook_secret_name: str | None = None
    # The platform user that owns GitHub-triggered tasks.
    github_task_user: str = Field("github", min_length=1, max_length=128)
    # The bot's own login: its comments never trigger a task (GitHub Apps post as `<app>[bot]`).
    github_bot_login: str = Field("bgagent[bot]", min_length=1, max_length=100)

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def client_ids(self) -> frozenset[str]:
        return frozenset(c.strip() for c in (self.jwt_audience or "").split(",") if c.strip())

    def webhook_secret_name(self, webhook_id: str) -> str:
        """Where a webhook's secret lives in Secrets Manager."""
        return f"bgagent/{self.stack_name}/webhooks/{webhook_id}"
