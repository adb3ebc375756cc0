"""Who may call the API (Cognito) and the credentials the platform holds (Secrets Manager)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from bgagent_infra.account import Account
from bgagent_infra.config import StackConfig


def github_webhook_secret_name(stack: str) -> str:
    return f"bgagent/{stack}/webhooks/github"


class Identity(pulumi.ComponentResource):
    """Cognito user pool and CLI app client; the GitHub token, GitHub webhook and Anthropic API key secrets."""

    def __init__(self, name: str, config: StackConfig, account: pulumi.Output[Account],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("bgagent:infra:Identity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stack = config.stack_name
        self.user_pool = aws.cognito.UserPool(
            f"{name}-users", name=f"{stack}-users",
            admin_create_user_config={"allow_admin_create_user_only": True},
            password_policy={"minimum_length": 12, "require_lowercase": True, "require_uppercase": True,
                             "require_numbers": True, "require_symbols": False,
                             "temporary_password_validity_days": 7},
            deletion_protection="ACTIVE" if config.deletion_protection else "INACTIVE",
            opts=child)
        # The CLI signs in with a username and password and sends the ID token, whose `aud` is this client.
        self.client = aws.cognito.UserPoolClient(
            f"{name}-cli", name=f"{stack}-cli", user_pool_id=self.user_pool.id, generate_secret=False,
            explicit_auth_flows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            prevent_user_existence_errors="ENABLED", id_token_validity=60, access_token_validity=60,
            refresh_token_validity=30,
            token_validity_units={"id_token": "minutes", "access_token": "minutes", "refresh_token": "days"},
            opts=child)
        # Members may register and remove model endpoints (the gateway reads the ID token's cognito:groups).
        self.operators = aws.cognito.UserGroup(
            f"{name}-operators", name="bgagent-admins", user_pool_id=self.user_pool.id,
            description="bgagent operators: model endpoints", opts=child)
        self.issuer = pulumi.Output.all(account, self.user_pool.id).apply(
            lambda a: f"https://cognito-idp.{a[0].region}.amazonaws.com/{a[1]}")
        self.jwks_url = self.issuer.apply(lambda issuer: f"{issuer}/.well-known/jwks.json")

        # Values are put by the operator (docs/deploy.md), never kept in the Pulumi state.
        self.secrets: dict[str, aws.secretsmanager.Secret] = {
            "github": aws.secretsmanager.Secret(f"{name}-github-token", name=f"bgagent/{stack}/github-token",
                                                description="GitHub token the platform acts with", opts=child),
        }
        # The GitHub App / repository webhook secret; under the prefix the gateway keeps webhook secrets in.
        self.github_webhook_secret = aws.secretsmanager.Secret(
            f"{name}-github-webhook", name=github_webhook_secret_name(stack),
            description="Shared secret GitHub signs webhook deliveries with", opts=child)
        if config.model_provider == "anthropic":
            self.secrets["anthropic"] = aws.secretsmanager.Secret(
                f"{name}-anthropic-api-key", name=f"bgagent/{stack}/anthropic-api-key",
                description="Anthropic API key the agents call the model with", opts=child)
        self.register_outputs({"user_pool_id": self.user_pool.id, "client_id": self.client.id,
                               "issuer": self.issuer})
