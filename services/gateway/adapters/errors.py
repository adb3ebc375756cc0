"""Errors of the gateway's own stores."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.gateway.adapters.webhooks import Webhook


class WebhookNotFound(Exception):
    def __init__(self, webhook_id: str):
        super().__init__(f"webhook {webhook_id} not found")
        self.webhook_id = webhook_id


class WebhookAlreadyRevoked(Exception):
    """A revoke found the webhook revoked already; carries it."""

    def __init__(self, current: "Webhook"):
        super().__init__(f"webhook {current.webhook_id} is already revoked")
        self.current = current
