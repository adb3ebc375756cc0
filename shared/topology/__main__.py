"""`python -m shared.topology [create|tick]`: build a stack's topology on an AWS endpoint (LocalStack).

`create` makes every table, queue, rule, bus and bucket of BGAGENT_STACK_NAME at AWS_ENDPOINT_URL.
`tick` stands in for the reconciler's EventBridge schedule, which emulators do not run: it puts a
ReconcileTick on the stack's bus every BGAGENT_RECONCILE_INTERVAL seconds until stopped.
"""

from __future__ import annotations

import argparse
import logging
import sys

import boto3
from pydantic import Field

from shared.observability.logging import configure_logging
from shared.settings import PlatformSettings
from shared.topology.bootstrap import create_topology
from shared.topology.definition import build_topology
from shared.topology.ticker import tick_until

log = logging.getLogger("shared.topology")


class TopologySettings(PlatformSettings):
    reconcile_interval: float = Field(60.0, gt=0)


def _session(settings: PlatformSettings) -> boto3.Session:
    return boto3.Session(region_name=settings.aws_region)


def create(settings: PlatformSettings) -> int:
    """Create the stack's topology; safe to run again."""
    queues = create_topology(build_topology(settings.names), session=_session(settings),
                             endpoint_url=settings.aws_endpoint_url)
    log.info("topology created", extra={"stack": settings.stack_name, "queues": sorted(queues)})
    return 0


def tick_forever(settings: PlatformSettings, interval: float) -> int:
    """Publish ReconcileTick on the stack's bus every `interval` seconds."""
    tick_until(_session(settings).client("events", endpoint_url=settings.aws_endpoint_url),
               settings.names.event_bus, interval)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.topology", description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", choices=("create", "tick"), default="create")
    parser.add_argument("--interval", type=float, help="seconds between ticks (default: BGAGENT_RECONCILE_INTERVAL)")
    args = parser.parse_args(argv)
    settings = TopologySettings()
    configure_logging("topology", settings.log_level)
    if args.command == "tick":
        return tick_forever(settings, args.interval or settings.reconcile_interval)
    return create(settings)


if __name__ == "__main__":
    sys.exit(main())
