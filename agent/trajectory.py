"""The optional full trajectory of a run (messages and tool calls, redacted), kept in S3."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, Protocol, cast

from agent.model_loop import LoopResult
from shared.hydration.context import HydratedContext
from shared.observability.redaction import redact_value


class TrajectoryStore(Protocol):
    async def put(self, task_id: str, document: dict[str, Any]) -> str:
        """Store the document; return its key."""


class S3TrajectoryStore:
    """Trajectories in the artifacts bucket under trajectories/ (the agent's role may write only there)."""

    def __init__(self, s3: Any, bucket: str):
        self._s3 = s3
        self._bucket = bucket

    async def put(self, task_id: str, document: dict[str, Any]) -> str:
        key = f"trajectories/{task_id}.json"
        await self._s3.put_object(Bucket=self._bucket, Key=key, Body=json.dumps(document, default=str).encode(),
                                  ContentType="application/json")
        return key


def trajectory_document(context: HydratedContext, loop: LoopResult) -> dict[str, Any]:
    """Everything the model saw and did, with every secret masked."""
    return cast(dict[str, Any], redact_value({
        "task_id": context.task_id, "repo": context.repo, "model_id": context.model_id,
        "prompt_version": context.prompt_version, "system": context.system_prompt,
        "system_blocks": loop.system,  # what the engine actually sent (Claude Code adds its own)
        "messages": loop.transcript, "stop": loop.stop, "error": loop.error, "cost_usd": loop.cost_usd,
        "usage": asdict(loop.usage) if hasattr(loop.usage, "__dataclass_fields__") else vars(loop.usage),
        "turns": [asdict(r) for r in loop.records],  # every metered call (is_turn: the main model's)
    }))
