"""Named profiles: where the API is and how to authenticate to it ($BGAGENT_HOME/config.json)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from cli.errors import UsageError
from cli.files import read_json, write_private

DEFAULT_PROFILE = "default"
DEFAULT_API_URL = "http://127.0.0.1:8080"
_PROFILE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class Profile(BaseModel):
    """One profile of config.json."""

    model_config = ConfigDict(extra="ignore")

    api_url: str = DEFAULT_API_URL
    auth: Literal["local", "cognito"] = "local"
    region: str | None = None
    user_pool_id: str | None = None
    client_id: str | None = None
    # local auth: the embedded stack's issuer key (default: $BGAGENT_HOME/local/issuer)
    local_issuer_dir: str | None = None
    # operator commands (repo, user): which stack's tables, on which endpoint
    stack_name: str | None = None
    aws_endpoint_url: str | None = None

    @field_validator("api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("api_url must start with http:// or https://")
        return value.rstrip("/")


def check_profile_name(name: str) -> str:
    if not _PROFILE_NAME.match(name):
        raise UsageError(f"profile name {name!r} is not valid: use letters, digits, '.', '_' and '-'")
    return name


class ConfigFile:
    """config.json: {"profiles": {name: Profile}}."""

    def __init__(self, home: Path):
        self.path = home / "config.json"

    def profiles(self) -> dict[str, Profile]:
        raw = read_json(self.path).get("profiles") or {}
        try:
            return {name: Profile.model_validate(p) for name, p in raw.items()}
        except ValidationError as exc:
            raise UsageError(f"{self.path}: {exc.errors()[0]['msg']}",
                             hint="run `bgagent configure` to fix the profile") from exc

    def get(self, name: str) -> Profile | None:
        return self.profiles().get(name)

    def save(self, name: str, profile: Profile) -> None:
        data = read_json(self.path)
        data.setdefault("profiles", {})[check_profile_name(name)] = profile.model_dump(exclude_none=True)
        write_private(self.path, data)


def updated_profile(base: Profile, changes: dict[str, object]) -> Profile:
    """`base` with the given (non-None) fields replaced; an empty string clears a field."""
    given = {k: (None if v == "" else v) for k, v in changes.items() if v is not None}
    try:
        return Profile.model_validate({**base.model_dump(), **given})
    except ValidationError as exc:
        err = exc.errors()[0]
        raise UsageError(f"{'.'.join(map(str, err['loc']))}: {err['msg']}") from exc
