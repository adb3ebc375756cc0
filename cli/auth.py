"""Bearer tokens for the API: Cognito login and refresh, or the embedded stack's local issuer."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Protocol

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoRegionError

from cli.errors import ApiError, CliError, NetworkError, UsageError
from cli.files import read_json, write_private
from shared.auth.local_issuer import KEY_FILE, LocalIssuer

REFRESH_MARGIN_SECONDS = 60
LOCAL_TOKEN_TTL = 3600
DEFAULT_LOCAL_USER = "me"


class TokenProvider(Protocol):
    def token(self) -> str:
        """A bearer token that is valid now."""

    def refresh(self) -> bool:
        """Get a new token after the API refused the current one; False if that cannot help."""


class Credentials:
    """credentials.json (mode 0600): per profile, Cognito tokens or the local user name."""

    def __init__(self, home: Path):
        self.path = home / "credentials.json"

    def get(self, profile: str) -> dict:
        return dict((read_json(self.path).get("profiles") or {}).get(profile) or {})

    def put(self, profile: str, entry: dict) -> None:
        data = read_json(self.path)
        data.setdefault("profiles", {})[profile] = entry
        write_private(self.path, data)

    def delete(self, profile: str) -> bool:
        data = read_json(self.path)
        found = (data.get("profiles") or {}).pop(profile, None) is not None
        if found:
            write_private(self.path, data)
        return found


class LocalTokens:
    """Mints a short-lived token for `user` with the embedded stack's issuer key."""

    def __init__(self, issuer_dir: Path, issuer_url: str, user: str):
        self.issuer_dir = issuer_dir
        self.issuer_url = issuer_url
        self.user = user

    def issuer(self) -> LocalIssuer:
        # LocalIssuer creates a key when there is none, which no gateway would trust.
        if not (self.issuer_dir / KEY_FILE).exists():
            raise CliError(f"no local issuer key in {self.issuer_dir}",
                           hint="start the embedded stack (`bgagent local up`) or set the profile's "
                                "local_issuer_dir (`bgagent configure --local-issuer-dir DIR`)")
        return LocalIssuer(self.issuer_dir, self.issuer_url)

    def token(self) -> str:
        return self.issuer().mint(self.user, ttl_seconds=LOCAL_TOKEN_TTL)

    def refresh(self) -> bool:
        return False


def cognito_call(call: Callable[..., dict], **kwargs: Any) -> dict:
    """One cognito-idp call, its failures turned into CLI errors."""
    try:
        return call(**kwargs)
    except NoRegionError as exc:
        raise UsageError("no AWS region for Cognito", hint="bgagent configure --region REGION") from exc
    except EndpointConnectionError as exc:
        raise NetworkError(str(exc.kwargs.get("endpoint_url", "cognito-idp")), "connection failed") from exc
    except ClientError as exc:
        err = exc.response.get("Error", {})
        code = err.get("Code", "CognitoError")
        if code in ("NotAuthorizedException", "UserNotFoundException"):
            raise ApiError("UNAUTHORIZED", err.get("Message") or "not authorized",
                           hint="check the user name and password, then run `bgagent login` again") from exc
        raise ApiError(code, err.get("Message") or code) from exc
    except BotoCoreError as exc:
        raise CliError(f"Cognito: {exc}") from exc


def _session_entry(result: dict, previous: dict, now: float) -> dict:
    auth = result.get("AuthenticationResult")
    if not auth:
        challenge = result.get("ChallengeName", "an unsupported challenge")
        raise CliError(f"Cognito asks for {challenge} before it issues tokens",
                       hint="complete it once in the hosted UI (or an admin sets a permanent password)")
    return {**previous, "id_token": auth["IdToken"], "access_token": auth.get("AccessToken"),
            "refresh_token": auth.get("RefreshToken") or previous.get("refresh_token"),
            "expires_at": int(now + int(auth.get("ExpiresIn", 3600)))}


def cognito_login(idp: Any, client_id: str, username: str, password: str, *,
                  clock: Callable[[], float] = time.time) -> dict:
    """USER_PASSWORD_AUTH: the credentials entry to store (tokens, expiry, user name)."""
    result = cognito_call(idp.initiate_auth, AuthFlow="USER_PASSWORD_AUTH", ClientId=client_id,
                          AuthParameters={"USERNAME": username, "PASSWORD": password})
    return _session_entry(result, {"username": username}, clock())


class CognitoTokens:
    """The stored ID token of a profile, refreshed with REFRESH_TOKEN_AUTH shortly before it expires."""

    def __init__(self, credentials: Credentials, profile: str, client_id: str, idp: Callable[[], Any], *,
                 clock: Callable[[], float] = time.time):
        self._credentials = credentials
        self._profile = profile
        self._client_id = client_id
        self._idp = idp
        self._clock = clock

    def _entry(self) -> dict:
        entry = self._credentials.get(self._profile)
        if not entry.get("id_token"):
            raise ApiError("UNAUTHORIZED", f"not logged in (profile {self._profile})")
        return entry

    def token(self) -> str:
        entry = self._entry()
        if entry.get("expires_at", 0) - REFRESH_MARGIN_SECONDS <= self._clock():
            self.refresh()
            entry = self._entry()
        return entry["id_token"]

    def refresh(self) -> bool:
        entry = self._entry()
        if not entry.get("refresh_token"):
            raise ApiError("UNAUTHORIZED", "the session expired and there is no refresh token")
        try:
            result = cognito_call(self._idp().initiate_auth, AuthFlow="REFRESH_TOKEN_AUTH", ClientId=self._client_id,
                                  AuthParameters={"REFRESH_TOKEN": entry["refresh_token"]})
        except ApiError as exc:
            raise ApiError("UNAUTHORIZED", f"the session could not be refreshed: {exc.message}") from exc
        self._credentials.put(self._profile, _session_entry(result, entry, self._clock()))
        return True
