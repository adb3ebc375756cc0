"""`python -m agent --task-id ID`: the agent process's entrypoint (`--warm`: take the task from the sessions queue)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from pydantic import ValidationError

from agent.bootstrap import build_upstream, run_agent
from agent.relay.client import relay_sdk
from agent.settings import AgentSettings
from shared.aws.clients import preload
from shared.githost.github import GitHubHost
from shared.observability.logging import configure_logging


def prewarm() -> None:
    """What a warm worker's zygote pays once for all the sessions it forks: AWS models, lazy imports."""
    settings = AgentSettings(anthropic_api_key="prewarm")
    preload(("dynamodb", "s3", "events"), settings.aws_region)
    for client in (build_upstream(settings), relay_sdk(Path("/nonexistent"), max_retries=0),
                   GitHubHost.build("http://127.0.0.1:9", None)):
        del client  # building one imports its HTTP stack and the shared TLS context; it never connects


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, build settings from the environment, run the task; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m agent", description="Run the bgagent agent for one task.")
    parser.add_argument("--task-id", help="the task to run (default: BGAGENT_TASK_ID)")
    parser.add_argument("--warm", action="store_true",
                        help="an idle agent of the warm service: claim one task from the sessions queue, run it, exit")
    args = parser.parse_args(argv)
    task_id = args.task_id
    if args.warm:
        from agent.warm import wait_for_task  # only warm agents need the queue's settings

        prewarm()  # idle time pays for what the task would otherwise wait for
        task_id = wait_for_task()
        if task_id is None:
            return 0  # stopped while idle (scale-in): nothing was taken
    overrides = {"task_id": task_id} if task_id else {}
    try:
        settings = AgentSettings(**overrides)
    except ValidationError as exc:
        print(f"invalid agent settings: {exc}", file=sys.stderr)
        return 2
    configure_logging("agent", settings.log_level)
    for noisy in ("httpx2", "httpcore2"):  # the SDK's HTTP stack logs every request at INFO
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not settings.task_id:
        parser.error("no task id: pass --task-id or set BGAGENT_TASK_ID")
    return asyncio.run(run_agent(settings)).exit_code


if __name__ == "__main__":
    sys.exit(main())
