"""Profiles, credentials, local tokens and Cognito login (against the AWS emulator's cognito-idp)."""

from __future__ import annotations

import json
import stat
import uuid

import boto3
import jwt
import pytest

from cli.auth import CognitoTokens, Credentials
from shared.auth.local_issuer import AUDIENCE, LocalIssuer


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_configure_saves_named_profiles_selected_by_option_or_environment(bgagent, home, monkeypatch):
    assert bgagent("configure", "--api-url", "https://prod.example.com/").code == 0
    assert bgagent("--profile", "staging", "configure", "--api-url", "https://staging.example.com",
                   "--auth", "cognito", "--region", "eu-west-1", "--client-id", "abc", "--user-pool-id",
                   "eu-west-1_X").code == 0
    profiles = bgagent("configure", "--list", "--json").json()
    assert profiles["default"] == {"api_url": "https://prod.example.com", "auth": "local"}
    assert profiles["staging"]["client_id"] == "abc" and profiles["staging"]["region"] == "eu-west-1"
    assert _mode(home / "config.json") == 0o600

    # Changing one field keeps the others.
    assert bgagent("configure", "--profile", "staging", "--region", "eu-central-1").code == 0
    assert bgagent("configure", "--list", "--json").json()["staging"]["client_id"] == "abc"

    monkeypatch.setenv("BGAGENT_PROFILE", "staging")
    listed = bgagent("configure", "--list")
    assert "* " in next(line for line in listed.out.splitlines() if "staging" in line)
    missing = bgagent("--profile", "nope", "list")
    assert missing.code == 2 and "no profile named 'nope'" in missing.err


def test_configure_refuses_bad_values(bgagent):
    assert bgagent("configure", "--api-url", "ftp://x").code == 2
    assert bgagent("configure", "--auth", "cognito").code == 2  # no client id / region
    assert bgagent("configure").code == 2  # nothing to change and no terminal to ask on
    assert bgagent("--profile", "../etc", "configure", "--api-url", "http://x").code == 2


def test_local_login_and_token(bgagent, home, tmp_path):
    issuer_dir = tmp_path / "issuer"
    issuer = LocalIssuer(issuer_dir, "http://127.0.0.1:8765")
    assert bgagent("configure", "--api-url", "http://127.0.0.1:8765", "--local-issuer-dir", issuer_dir).code == 0
    login = bgagent("login", "--user", "carol")
    assert login.code == 0 and "carol" in login.out and "eyJ" not in login.out
    assert _mode(home / "credentials.json") == 0o600

    printed = bgagent("local", "token", "--user", "dave", "--ttl", "120").out.strip()
    key = jwt.PyJWKSet.from_dict(issuer.jwks()).keys[0].key
    claims = jwt.decode(printed, key, algorithms=["RS256"], audience=AUDIENCE, issuer="http://127.0.0.1:8765")
    assert claims["sub"] == "dave" and claims["exp"] - claims["iat"] == 120


def test_without_an_issuer_key_the_cli_says_how_to_get_one(bgagent, tmp_path):
    assert bgagent("configure", "--api-url", "http://127.0.0.1:8765", "--local-issuer-dir", tmp_path / "none").code == 0
    result = bgagent("list")
    assert result.code == 1 and "no local issuer key" in result.err and "bgagent local up" in result.err
    assert not (tmp_path / "none").exists()  # no key was made up


def test_an_unreachable_api_is_a_network_failure_naming_the_url(bgagent, tmp_path):
    from cli.local.stack import free_port

    LocalIssuer(tmp_path / "issuer", "x")
    url = f"http://127.0.0.1:{free_port()}"
    assert bgagent("configure", "--api-url", url, "--local-issuer-dir", tmp_path / "issuer").code == 0
    result = bgagent("status", "01ABC")
    assert result.code == 4 and f"could not reach {url}/v1/tasks/01ABC" in result.err


@pytest.fixture
def user_pool(aws_endpoint):
    idp = boto3.client("cognito-idp", endpoint_url=aws_endpoint, region_name="us-east-1")
    pool = idp.create_user_pool(PoolName=f"p{uuid.uuid4().hex[:6]}")["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="cli", ExplicitAuthFlows=[
        "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username="alice", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username="alice", Password="Corr3ct-Horse!", Permanent=True)
    return {"pool": pool, "client": client, "endpoint": aws_endpoint, "idp": idp}


def test_cognito_login_stores_tokens_privately_and_refreshes_them(bgagent, home, user_pool):
    assert bgagent("configure", "--auth", "cognito", "--api-url", "https://api.example.com", "--region",
                   "us-east-1", "--user-pool-id", user_pool["pool"], "--client-id", user_pool["client"],
                   "--aws-endpoint-url", user_pool["endpoint"]).code == 0
    wrong = bgagent("login", "--user", "alice", "--password-stdin", stdin="nope\n")
    assert wrong.code == 3 and "UNAUTHORIZED" in wrong.err

    login = bgagent("login", "--user", "alice", "--password-stdin", stdin="Corr3ct-Horse!\n")
    assert login.code == 0, login.err
    creds_path = home / "credentials.json"
    assert _mode(creds_path) == 0o600
    entry = json.loads(creds_path.read_text())["profiles"]["default"]
    assert entry["id_token"] and entry["refresh_token"] and entry["username"] == "alice"
    assert entry["id_token"] not in login.out + login.err and "Corr3ct" not in login.out + login.err

    # An ID token about to expire is refreshed with REFRESH_TOKEN_AUTH before it is used.
    credentials = Credentials(home)
    credentials.put("default", {**entry, "expires_at": 0})
    tokens = CognitoTokens(credentials, "default", user_pool["client"], lambda: user_pool["idp"])
    assert tokens.token()
    refreshed = credentials.get("default")
    assert refreshed["expires_at"] > 0 and refreshed["refresh_token"] == entry["refresh_token"]

    assert bgagent("logout").code == 0
    assert "not logged in" in bgagent("list").err



def test_configure_on_a_terminal_asks_for_each_value(bgagent):
    answers = "https://bgagent.example.com\ncognito\neu-west-1\neu-west-1_P\nclient-1\n"
    assert bgagent("configure", stdin=answers, terminal=True).code == 0
    assert bgagent("configure", "--list", "--json").json()["default"] == {
        "api_url": "https://bgagent.example.com", "auth": "cognito", "region": "eu-west-1",
        "user_pool_id": "eu-west-1_P", "client_id": "client-1"}
