"""A stand-in agent that reports success at once: benchmarks measure the orchestration, not the model."""

from __future__ import annotations

import argparse
import asyncio
import sys

from shared.aws.clients import AwsClients, preload
from shared.clock import utcnow
from shared.events.bus import EventBridgePublisher
from shared.events.models import AgentFinished
from shared.settings import PlatformSettings
from shared.tasks.dynamo_store import DynamoTaskStore
from shared.tasks.states import TaskStatus


async def run(task_id: str) -> int:
    settings = PlatformSettings()
    async with AwsClients(settings) as clients:
        store = DynamoTaskStore(await clients.client("dynamodb"), settings.names)
        delay, waited = 0.02, 0.0
        while True:  # the dispatcher marks RUNNING right after starting us: look soon, then less often
            task = await store.get(task_id)
            if task and task.status == TaskStatus.RUNNING:
                break
            if waited > 10:
                return 1
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, 0.5)
        await store.update(task_id, {"agent_status": "success", "agent_summary": "instant agent",
                                     "agent_heartbeat_at": utcnow(), "turns": 0, "cost_usd": 0.0},
                           expected_status=TaskStatus.RUNNING)
        await store.append_event(task_id, "agent.finished", {"outcome": "success"})
        await EventBridgePublisher(await clients.client("events"), settings.names.event_bus).publish(
            AgentFinished(task_id=task_id, user_id=task.user_id, outcome="success", summary="instant agent"))
    return 0


def prewarm() -> None:
    """Parsed AWS models for the warm workers' zygote, as the real agent's prewarm does."""
    preload(("dynamodb", "events"), PlatformSettings().aws_region)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task-id", required=True)
    return asyncio.run(run(parser.parse_args().task_id))


if __name__ == "__main__":
    sys.exit(main())
