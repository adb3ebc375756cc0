"""Gateway settings."""

from pathlib import Path

from pydantic import Field

from shared.settings import PlatformSettings


class GatewaySettings(PlatformSettings):
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = None
    jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    # When set, the gateway serves the local issuer's JWKS (embedded stack only).
    local_issuer_dir: Path | None = None
    max_body_bytes: int = Field(1_048_576, ge=1024)

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")
