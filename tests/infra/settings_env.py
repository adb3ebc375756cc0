"""Which environment variables a process's pydantic settings read, for checking deployment files against."""

from __future__ import annotations

import importlib

from pydantic import AliasChoices
from pydantic_settings import BaseSettings

SETTINGS = {
    "gateway": "services.gateway.settings:GatewaySettings",
    "hydrator": "services.hydrator.settings:HydratorSettings",
    "dispatcher": "services.dispatcher.settings:DispatcherSettings",
    "finalizer": "services.finalizer.settings:FinalizerSettings",
    "reconciler": "services.reconciler.settings:ReconcilerSettings",
    "agent": "agent.settings:AgentSettings",
    "topology": "shared.topology.__main__:TopologySettings",
}
# Read by libraries, not by our settings: boto3 (credentials, endpoint) and Python itself.
LIBRARY_VARIABLES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION",
                     "AWS_ENDPOINT_URL", "PYTHONUNBUFFERED"}


def settings_class(component: str) -> type[BaseSettings]:
    module, _, name = SETTINGS[component].partition(":")
    return getattr(importlib.import_module(module), name)


def accepted_variables(component: str) -> set[str]:
    """Every environment variable name the component's settings read (upper case)."""
    cls = settings_class(component)
    prefix = cls.model_config.get("env_prefix", "")
    names: set[str] = set()
    for field_name, field in cls.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names |= {c for c in alias.choices if isinstance(c, str)}
        elif isinstance(alias, str):
            names.add(alias)
        else:
            names.add(f"{prefix}{field_name}")
    return {n.upper() for n in names}
