"""`--iam enforce`: every process of the embedded stack holds exactly the permissions Pulumi grants its role.

For each role an emulator IAM user gets the role's policy, rendered by the same code the Pulumi program
uses for this account's ARNs; each process is pointed at its user's keys through a credentials file and
AWS_PROFILE; then the emulator is told to authenticate and authorize every request from now on.
"""

from __future__ import annotations

import configparser
import json
import os
from dataclasses import dataclass
from pathlib import Path

import boto3
import httpx
from botocore.exceptions import ClientError

from shared.topology.account import Account
from shared.topology.arns import topology_refs
from shared.topology.definition import Topology
from shared.topology.grants import ROLES
from shared.topology.policies import put_events_policy, task_role_policy

# Stand-ins for what AWS does itself: the supervisor reports a stopped session (ECS's state-change event),
# the scheduler puts ReconcileTick (EventBridge Scheduler, with the schedule role's policy); the operator is
# whoever runs `pulumi up` and the CLI's operator commands (administrator).
STAND_INS = ("supervisor", "scheduler", "operator")
ADMINISTRATOR = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
KEY_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")
# Whose keys a role's credentials file also holds: the dispatcher starts agents, each agent runs under a supervisor.
PASSED_ON = {"dispatcher": ("agent", "supervisor"), "agent": ("supervisor",)}


def role_policies(topology: Topology, account: Account) -> dict[str, dict]:
    """The policy of every role and stand-in, for this account's ARNs."""
    refs = topology_refs(topology, account)
    policies = {role: task_role_policy(role, refs, xray=False) for role in ROLES}
    policies["supervisor"] = put_events_policy(refs.bus_arn, ("Compute Session Stopped",))
    policies["scheduler"] = put_events_policy(refs.bus_arn)
    policies["operator"] = ADMINISTRATOR
    return policies


@dataclass(frozen=True)
class StackCredentials:
    """The credentials files of an enforcing stack: one per role, holding its keys (and those it passes on)."""

    directory: Path

    def path(self, role: str) -> Path:
        return self.directory / role

    def env(self, role: str) -> dict[str, str]:
        """Variables that make a process (and botocore in it) act as `role`."""
        return {"AWS_SHARED_CREDENTIALS_FILE": str(self.path(role)), "AWS_PROFILE": role}

    def keys(self, role: str) -> dict[str, str]:
        """boto3 client/session keyword arguments for `role`."""
        parser = configparser.ConfigParser()
        parser.read(self.path(role))
        return {"aws_access_key_id": parser[role]["aws_access_key_id"],
                "aws_secret_access_key": parser[role]["aws_secret_access_key"]}

    def session(self, role: str, region: str) -> boto3.Session:
        return boto3.Session(region_name=region, **self.keys(role))


def without_keys(env: dict[str, str]) -> dict[str, str]:
    """An environment with no AWS credentials of its own (they would win over the profile)."""
    return {k: v for k, v in env.items() if k not in KEY_VARIABLES}


def _fresh_key(iam, user: str) -> dict:
    for key in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]:  # a restarted stack: at most 2 per user
        iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
    return iam.create_access_key(UserName=user)["AccessKey"]


def _write(path: Path, profiles: dict[str, dict[str, str]]) -> None:
    parser = configparser.ConfigParser()
    parser.read_dict(profiles)
    fd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w") as f:
        parser.write(f)


def provision(session: boto3.Session, endpoint: str, topology: Topology, directory: Path) -> StackCredentials:
    """Create one user per role holding exactly its policy; write each role's keys to its own 0600 file."""
    iam = session.client("iam", endpoint_url=endpoint)
    identity = session.client("sts", endpoint_url=endpoint).get_caller_identity()
    account = Account(partition="aws", region=session.region_name, account_id=identity["Account"])
    keys: dict[str, dict[str, str]] = {}
    for role, policy in role_policies(topology, account).items():
        user = f"{topology.names.stack}-{role}"
        try:
            iam.create_user(UserName=user)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "EntityAlreadyExists":
                raise
        iam.put_user_policy(UserName=user, PolicyName="least-privilege", PolicyDocument=json.dumps(policy))
        key = _fresh_key(iam, user)
        keys[role] = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    credentials = StackCredentials(directory)
    for role in keys:
        _write(credentials.path(role), {r: keys[r] for r in (role, *PASSED_ON.get(role, ()))})
    return credentials


def enforce(endpoint: str) -> None:
    """From the next request on, the emulator (moto) authenticates and authorizes every call."""
    try:
        httpx.post(f"{endpoint}/moto-api/reset-auth", content=b"0", timeout=10).raise_for_status()
    except httpx.HTTPError as exc:
        raise RuntimeError(f"cannot enforce IAM on {endpoint}: it is not a moto emulator ({exc})") from exc
