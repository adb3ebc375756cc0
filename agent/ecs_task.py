"""The ECS task this agent runs in, as its container sees it: its ARN and its scale-in protection."""

from __future__ import annotations

import httpx


class EcsTaskEndpoints:
    """The task metadata endpoint (v4) and the ECS agent's task-protection endpoint that ECS injects."""

    def __init__(self, metadata_uri: str, agent_uri: str, *, timeout: float = 5.0):
        self._metadata_uri = metadata_uri.rstrip("/")
        self._agent_uri = agent_uri.rstrip("/")
        self._timeout = timeout

    async def arn(self) -> str:
        """This task's ARN: what the claim records, so stop, describe and the finalizer find this task."""
        async with httpx.AsyncClient(timeout=self._timeout) as http:
            resp = await http.get(f"{self._metadata_uri}/task")
            resp.raise_for_status()
            return str(resp.json()["TaskARN"])

    async def protect(self, minutes: int) -> None:
        """Keep service scale-in and deployments from stopping this task while it runs a session."""
        await self._set({"ProtectionEnabled": True, "ExpiresInMinutes": minutes})

    async def release(self) -> None:
        """Idle again: scale-in may choose this task."""
        await self._set({"ProtectionEnabled": False})

    async def _set(self, state: dict) -> None:
        async with httpx.AsyncClient(timeout=self._timeout) as http:
            resp = await http.put(f"{self._agent_uri}/task-protection/v1/state", json=state)
            resp.raise_for_status()
