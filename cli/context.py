"""What every command gets from the entry layer: files, the active profile, consoles and clients."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Mapping, TextIO

from rich.console import Console

from cli.api import ApiClient
from cli.auth import DEFAULT_LOCAL_USER, CognitoTokens, Credentials, LocalTokens, TokenProvider
from cli.config import DEFAULT_API_URL, ConfigFile, Profile
from cli.errors import CliError, UsageError
from cli.operator import OperatorTarget
from cli.render import print_json
from cli.state import local_dir, running_stack

EMULATOR_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@dataclass
class Context:
    """Built once by cli.main from the process environment; commands never read os.environ."""

    home: Path
    profile_name: str
    profile_explicit: bool
    environ: Mapping[str, str]
    stdout: TextIO
    stderr: TextIO
    stdin: TextIO
    out_tty: bool = False
    err_tty: bool = False
    _api: ApiClient | None = field(default=None, repr=False)

    @cached_property
    def out(self) -> Console:
        return _console(self.stdout, self.out_tty)

    @cached_property
    def err(self) -> Console:
        return _console(self.stderr, self.err_tty)

    @property
    def config(self) -> ConfigFile:
        return ConfigFile(self.home)

    @property
    def credentials(self) -> Credentials:
        return Credentials(self.home)

    @property
    def local_dir(self) -> Path:
        return local_dir(self.home)

    def stack_state(self) -> dict | None:
        """stack.json of the embedded stack running from this home, if any."""
        return running_stack(self.local_dir)

    @cached_property
    def profile(self) -> Profile:
        found = self.config.get(self.profile_name)
        if found is not None:
            return found
        if self.profile_explicit:
            raise UsageError(f"no profile named {self.profile_name!r}",
                             hint=f"bgagent --profile {self.profile_name} configure --api-url URL")
        # Unconfigured: the embedded stack on this machine.
        state = self.stack_state()
        return Profile(api_url=state["api_url"] if state else DEFAULT_API_URL, auth="local")

    def local_issuer_dir(self) -> Path:
        given = self.profile.local_issuer_dir
        return Path(given).expanduser() if given else self.local_dir / "issuer"

    def local_user(self) -> str:
        return self.credentials.get(self.profile_name).get("user") or DEFAULT_LOCAL_USER

    def cognito_client(self):
        import boto3
        from botocore import UNSIGNED
        from botocore.config import Config

        # initiate_auth is an unauthenticated call: no AWS credentials needed.
        return boto3.client("cognito-idp", region_name=self.profile.region, endpoint_url=self.profile.aws_endpoint_url,
                            config=Config(signature_version=UNSIGNED, retries={"max_attempts": 2}))

    def tokens(self) -> TokenProvider:
        p = self.profile
        if p.auth == "local":
            return LocalTokens(self.local_issuer_dir(), p.api_url, self.local_user())
        if not p.client_id:
            raise UsageError(f"profile {self.profile_name!r} has no Cognito client id",
                             hint="bgagent configure --auth cognito --client-id ID --region REGION")
        return CognitoTokens(self.credentials, self.profile_name, p.client_id, self.cognito_client)

    def api(self) -> ApiClient:
        if self._api is None:
            self._api = ApiClient(self.profile.api_url, self.tokens())
        return self._api

    def show(self, as_json: bool, data: Any, human: Callable[[], Any]) -> None:
        """One JSON document on stdout for scripts, or the human rendering of the same data."""
        if as_json:
            print_json(self.stdout, data)
        else:
            self.out.print(human())

    def close(self) -> None:
        if self._api is not None:
            self._api.close()

    def operator_target(self) -> OperatorTarget:
        """Which stack's tables operator commands write: the profile, the environment, the local stack."""
        p, env = self.profile, self.environ
        state = self.stack_state() if p.auth == "local" else None
        stack = state or {}
        if p.auth == "local" and state is None and not (p.aws_endpoint_url or env.get("AWS_ENDPOINT_URL")):
            raise CliError("no embedded stack is running", hint="bgagent local up (or --profile for a deployed stack)")
        endpoint = _first(p.aws_endpoint_url, env.get("AWS_ENDPOINT_URL"), stack.get("aws_endpoint_url"))
        from_emulator = state is not None and endpoint == state.get("aws_endpoint_url") \
            and not env.get("AWS_ACCESS_KEY_ID")
        return OperatorTarget(
            stack_name=_first(p.stack_name, env.get("BGAGENT_STACK_NAME"), stack.get("stack_name")) or "bgagent",
            region=_first(p.region, env.get("AWS_REGION"), env.get("AWS_DEFAULT_REGION"), stack.get("region"))
            or "us-east-1",
            endpoint_url=endpoint or None,
            credentials=emulator_credentials(state) if from_emulator and state is not None else None,
        )


def _first(*values: str | None) -> str | None:
    """The first value that is set, exactly as `a or b or c` picks it."""
    for value in values[:-1]:
        if value:
            return value
    return values[-1]


def emulator_credentials(state: dict) -> dict[str, str]:
    """The operator's keys when the embedded stack enforces IAM, else the emulator's placeholder keys."""
    if state.get("credentials_file"):
        from cli.local.iam import StackCredentials  # only an enforcing stack pays for the import

        return StackCredentials(Path(state["credentials_file"]).parent).keys("operator")
    return EMULATOR_CREDENTIALS


def _console(file: TextIO, tty: bool) -> Console:
    # Not a terminal: no colours, and wide enough that ids and URLs are never wrapped.
    return Console(file=file, force_terminal=tty, no_color=not tty, highlight=False,
                   width=None if tty else 200, soft_wrap=not tty)
