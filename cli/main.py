"""The `bgagent` command."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

from rich.console import Console

from cli.state import local_dir, running_stack

console = Console(stderr=True)


def _aws_env_from_stack() -> None:
    """Point boto at the running embedded stack unless the environment already names an endpoint."""
    state = running_stack()
    if state and not os.environ.get("AWS_ENDPOINT_URL"):
        os.environ["AWS_ENDPOINT_URL"] = state["aws_endpoint_url"]
        os.environ.setdefault("BGAGENT_STACK_NAME", state["stack_name"])
        os.environ.setdefault("AWS_REGION", state["region"])
        for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
            os.environ.setdefault(key, value)


def cmd_local_up(args: argparse.Namespace) -> int:
    from cli.local.stack import EmbeddedStack, StackConfig

    if running_stack():
        console.print(f"[yellow]an embedded stack is already running at {running_stack()['api_url']}[/]")
        return 1
    config = StackConfig(
        state_dir=local_dir(), api_port=args.port, aws_port=args.aws_port,
        aws_endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
        stack_name=os.environ.get("BGAGENT_STACK_NAME", "bgagent"),
        reconcile_interval=float(os.environ.get("BGAGENT_RECONCILE_INTERVAL", "60")),
    )
    stack = EmbeddedStack(config, progress=lambda m: console.print(f"[cyan]•[/] {m}"))
    stack.start()
    console.print(f"[green]bgagent is up[/]: API {config.api_url}  (logs in {stack.logs_dir})")
    console.print("next: bgagent repo onboard OWNER/NAME, then TOKEN=$(bgagent local token --user me)")
    try:
        while all(stack.alive().values()):
            time.sleep(1)
        dead = [n for n, ok in stack.alive().items() if not ok]
        console.print(f"[red]stopped: {', '.join(dead)} exited; see {stack.logs_dir}[/]")
        return 1
    except KeyboardInterrupt:
        console.print("stopping…")
        return 0
    finally:
        stack.stop()


def cmd_local_token(args: argparse.Namespace) -> int:
    from shared.auth.local_issuer import LocalIssuer

    state = running_stack()
    api_url = state["api_url"] if state else f"http://127.0.0.1:{args.port}"
    print(LocalIssuer(local_dir() / "issuer", api_url).mint(args.user, ttl_seconds=args.ttl))
    return 0


def cmd_repo_onboard(args: argparse.Namespace) -> int:
    _aws_env_from_stack()
    from cli.operator import onboard_repo

    config = asyncio.run(onboard_repo(args.repo, model_id=args.model, max_turns=args.max_turns,
                                      max_budget_usd=args.max_budget, setup_command=args.setup_command,
                                      test_command=args.test_command))
    console.print(f"[green]onboarded[/] {config.repo}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bgagent", description="Background coding agents on AWS")
    sub = parser.add_subparsers(dest="command", required=True)

    local = sub.add_parser("local", help="the embedded stack").add_subparsers(dest="local_command", required=True)
    up = local.add_parser("up", help="start the emulator, the topology and the five services")
    up.add_argument("--port", type=int, default=int(os.environ.get("BGAGENT_LOCAL_PORT", "8080")))
    up.add_argument("--aws-port", type=int, default=int(os.environ.get("BGAGENT_LOCAL_AWS_PORT", "4599")))
    up.set_defaults(func=cmd_local_up)
    token = local.add_parser("token", help="print a JWT from the local issuer")
    token.add_argument("--user", required=True)
    token.add_argument("--ttl", type=int, default=12 * 3600)
    token.add_argument("--port", type=int, default=8080)
    token.set_defaults(func=cmd_local_token)

    repo = sub.add_parser("repo", help="operator commands on the Repos table").add_subparsers(
        dest="repo_command", required=True)
    onboard = repo.add_parser("onboard", help="register a repository")
    onboard.add_argument("repo")
    onboard.add_argument("--model")
    onboard.add_argument("--max-turns", type=int)
    onboard.add_argument("--max-budget", type=float)
    onboard.add_argument("--setup-command")
    onboard.add_argument("--test-command")
    onboard.set_defaults(func=cmd_repo_onboard)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a CLI user gets one readable line, never a traceback
        console.print(f"[red]error:[/] {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
