"""The embedded stack: local up, down, status, logs, token."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from botocore.exceptions import BotoCoreError, ClientError
from rich.markup import escape

from cli.auth import LocalTokens
from cli.commands.arguments import int_range, json_flag
from cli.context import Context
from cli.engines import stack_engine_notices
from cli.errors import EXIT_FAILURE, EXIT_OK, CliError
from cli.local import control, logs
from cli.local.launcher import run_stack
from cli.local.stack import StackConfig, port_is_free
from cli.models import stack_model_notices
from cli.operator import list_repos
from cli.render import print_json, table

if TYPE_CHECKING:
    from cli.local.stack import EmbeddedStack


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("local", help="the embedded stack on this machine").add_subparsers(
        dest="local_command", required=True, metavar="COMMAND")

    p = group.add_parser("up", help="start the AWS emulator, the topology and the five services",
                         description="Start the embedded stack. Ports: --port / BGAGENT_LOCAL_PORT (8080) and "
                                     "--aws-port / BGAGENT_LOCAL_AWS_PORT (4599); AWS_ENDPOINT_URL uses an "
                                     "existing emulator instead of starting one. Tables, artifacts, secrets and "
                                     "recorded pull requests are kept in --data-dir / BGAGENT_LOCAL_DATA "
                                     "(~/.bgagent/local/data) and restored on the next start.")
    p.add_argument("--port", type=int_range(1, 65535), help="the API's port")
    p.add_argument("--aws-port", type=int_range(1, 65535), help="the AWS emulator's port")
    p.add_argument("--detach", "-d", action="store_true", help="run in the background; return once the API answers")
    p.add_argument("--iam", choices=("off", "enforce"), default=None,
                   help="enforce: every process holds only its role's Pulumi-granted permissions, and the emulator "
                        "refuses the rest (BGAGENT_LOCAL_IAM; default off)")
    p.add_argument("--data-dir", metavar="DIR", help="where the stack's state is kept (default ~/.bgagent/local/data)")
    p.add_argument("--demo", action="store_true",
                   help="run a built-in scripted model (no API key, no cost) and point the agents at it")
    p.set_defaults(func=up)

    p = group.add_parser("down", help="stop every process `local up` started (the state is kept)")
    p.set_defaults(func=down)

    p = group.add_parser("reset", help="delete the embedded stack's state: tables, tasks, PRs, artifacts, secrets")
    p.add_argument("--data-dir", metavar="DIR", help="the data directory to delete (default ~/.bgagent/local/data)")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=reset)

    p = group.add_parser("status", help="each process of the stack, its pid and liveness, and the API URL")
    json_flag(p)
    p.set_defaults(func=status)

    p = group.add_parser("logs", help="show (and follow) a service's log, or every service's",
                         description="SERVICE: gateway, hydrator, dispatcher, finalizer, reconciler, moto, "
                                     "launcher, or agent-TASK_ID. JSON lines are shown readably on a terminal.")
    p.add_argument("service", nargs="?", metavar="SERVICE")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing new lines")
    p.add_argument("--lines", "-n", type=int_range(0, 100000), default=50, help="lines of history (default 50)")
    shape = p.add_mutually_exclusive_group()
    shape.add_argument("--pretty", action="store_true", help="readable lines even when not on a terminal")
    shape.add_argument("--raw", action="store_true", help="the JSON lines as written, even on a terminal")
    p.set_defaults(func=show_logs)

    p = group.add_parser("token", help="print a JWT from the embedded stack's issuer (for curl)")
    p.add_argument("--user", required=True, metavar="NAME")
    p.add_argument("--ttl", type=int_range(60, 7 * 24 * 3600), default=12 * 3600, metavar="SECONDS")
    p.set_defaults(func=token)


def _data_dir(ctx: Context, args: argparse.Namespace) -> Path:
    given = args.data_dir or ctx.environ.get("BGAGENT_LOCAL_DATA")
    return Path(given).expanduser().absolute() if given else ctx.local_dir / "data"


def _config(ctx: Context, args: argparse.Namespace) -> StackConfig:
    env = ctx.environ
    return StackConfig(state_dir=ctx.local_dir, api_port=args.port or int(env.get("BGAGENT_LOCAL_PORT", "8080")),
                       aws_port=args.aws_port or int(env.get("BGAGENT_LOCAL_AWS_PORT", "4599")),
                       aws_endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
                       stack_name=env.get("BGAGENT_STACK_NAME", "bgagent"),
                       reconcile_interval=float(env.get("BGAGENT_RECONCILE_INTERVAL", "60")),
                       iam=getattr(args, "iam", None) or env.get("BGAGENT_LOCAL_IAM", "off"),
                       data_dir=_data_dir(ctx, args), demo=args.demo)


def _sandbox_notice(ctx: Context) -> None:
    """Say how agents' commands are contained; loudly when they are not (docs/security.md)."""
    mode = ctx.environ.get("BGAGENT_SANDBOX", "bwrap")
    if mode == "off":
        ctx.err.print("[bold red]WARNING: BGAGENT_SANDBOX=off — the agents' commands run UNSANDBOXED, with your "
                      "files and network; every task is marked sandbox=off[/]")
    elif mode == "bwrap" and shutil.which("bwrap") is None:
        ctx.err.print("[bold red]bubblewrap is not installed: every task will fail with SANDBOX_UNAVAILABLE[/] "
                      "(install it: sudo apt-get install -y bubblewrap)")
    else:
        ctx.out.print(f"  agents' commands run sandboxed ({mode})")


def _program(ctx: Context) -> str:
    """How to call bgagent from this shell: its name if on PATH, else its path."""
    if shutil.which("bgagent", path=ctx.environ.get("PATH")):
        return "bgagent"
    beside = Path(sys.executable).parent / "bgagent"
    return str(beside) if beside.exists() else "bgagent"


def has_model_credentials(env: Mapping[str, str]) -> bool:
    """Whether the agents will find an Anthropic key or token, or are told to use Bedrock."""
    return bool(env.get("ANTHROPIC_API_KEY") or env.get("BGAGENT_ANTHROPIC_API_KEY") or env.get("ANTHROPIC_AUTH_TOKEN")
                or env.get("BGAGENT_MODEL_PROVIDER") == "bedrock")


def _warn_without_model(ctx: Context, demo: bool) -> None:
    if demo or has_model_credentials(ctx.environ):
        return
    ctx.err.print("[yellow bold]warning:[/] no model credentials: tasks will fail with MODEL_AUTH.\n"
                  "  set ANTHROPIC_API_KEY (or BGAGENT_MODEL_PROVIDER=bedrock with AWS credentials) before "
                  "`local up`,\n  or try the platform with the built-in scripted model: bgagent local up --demo")


def _ready(ctx: Context, state: Mapping, detached: bool) -> None:
    out, bg = ctx.out, _program(ctx)
    out.print(f"\n[green bold]bgagent is up[/]: API [bold]{state['api_url']}[/]")
    if state.get("demo_model_url"):
        out.print(f"  model  [bold]demo[/]: the built-in scripted model on {state['demo_model_url']} (no key, no cost)")
    if state.get("data_dir"):
        out.print(f"  data   {state['data_dir']}   (kept across restarts; {bg} local reset deletes it)")
    out.print(f"  logs   {state['logs_dir']}   ({bg} local logs gateway --follow)")
    out.print(f"  stop   {bg} local down" + ("" if detached else "  or Ctrl-C here"))
    _sandbox_notice(ctx)
    out.print("next steps:")
    out.print(f"  {bg} repo onboard OWNER/NAME --test-command 'pytest -q'   (--path DIR: a local git repository)")
    out.print(f"  {bg} submit --repo OWNER/NAME --description 'Add a CONTRIBUTING.md' --wait")
    out.print(f"  TOKEN=$({bg} local token --user me)   # for curl")
    _warn_configuration(ctx)


def _warn_configuration(ctx: Context) -> None:
    """Warn when the default or an onboarded repository's model is deprecated or retired, or its engine missing."""
    try:
        repos = [r for r in asyncio.run(list_repos(ctx.operator_target())) if r.active]
    except (ClientError, BotoCoreError, CliError) as exc:  # a check, not a reason to fail the start
        ctx.err.print(f"[dim]could not read the onboarded repositories to check them: {escape(str(exc))}[/]")
        repos = []
    notices = stack_model_notices(ctx.environ, {r.repo: r.model_id for r in repos if r.model_id})
    notices += stack_engine_notices(ctx.environ, {r.repo: r.engine for r in repos if r.engine})
    for notice in notices:
        ctx.err.print(f"[yellow]warning:[/] {escape(notice)}")


def up(ctx: Context, args: argparse.Namespace) -> int:
    config = _config(ctx, args)
    running = control.running_launcher(config.state_dir)
    if running is not None:
        ctx.err.print(f"[yellow]an embedded stack is already running[/] at {running.get('api_url')} "
                      f"(launcher pid {running['pid']}); `bgagent local down` stops it")
        return EXIT_FAILURE
    if not port_is_free(config.api_port):
        raise CliError(f"port {config.api_port} is taken", hint="choose another with --port or BGAGENT_LOCAL_PORT")

    _warn_without_model(ctx, config.demo)

    launcher_log = config.state_dir / "logs" / control.LAUNCHER_LOG

    def progress(message: str) -> None:
        ctx.out.print(f"[cyan]•[/] {message}")
        if not args.detach:  # a detached launcher writes this log itself; `local logs launcher` reads it
            launcher_log.parent.mkdir(parents=True, exist_ok=True)
            with open(launcher_log, "a") as log:
                log.write(f"• {message}\n")

    if args.detach:
        state = control.start_detached(config, ctx.environ, progress)
        _ready(ctx, {"logs_dir": str(config.state_dir / "logs"), **state}, detached=True)
        return EXIT_OK
    return run_stack(config, progress, lambda stack: _ready(ctx, _state_of(stack), False))


def _state_of(stack: "EmbeddedStack") -> dict:
    return json.loads((stack.config.state_dir / "stack.json").read_text())


def down(ctx: Context, args: argparse.Namespace) -> int:
    stopped = control.stop_stack(ctx.local_dir)
    count = len(stopped)
    ctx.out.print(f"stopped the embedded stack ({count} process{'' if count == 1 else 'es'}); its state is kept"
                  if stopped else "no embedded stack is running")
    return EXIT_OK


def reset(ctx: Context, args: argparse.Namespace) -> int:
    if control.running_launcher(ctx.local_dir) is not None:
        raise CliError("the embedded stack is running", hint="bgagent local down, then bgagent local reset")
    data = _data_dir(ctx, args)
    runtime = ctx.local_dir / "runtime"
    if not data.exists() and not runtime.exists():
        ctx.out.print(f"nothing to delete: {data} does not exist")
        return EXIT_OK
    if not args.yes:
        if not ctx.stdin.isatty():
            raise CliError("reset deletes every repository, task, event, webhook and recorded pull request",
                           hint="confirm with --yes")
        ctx.err.print(f"delete {data} (every repository, task, event, webhook, pull request and secret)? [y/N] ",
                      end="")
        if ctx.stdin.readline().strip().lower() not in ("y", "yes"):
            ctx.out.print("nothing deleted")
            return EXIT_FAILURE
    shutil.rmtree(data, ignore_errors=True)
    shutil.rmtree(runtime, ignore_errors=True)  # agent session records of tasks that no longer exist
    ctx.out.print(f"deleted {data}; the next `bgagent local up` starts empty")
    return EXIT_OK


def status(ctx: Context, args: argparse.Namespace) -> int:
    st = control.stack_status(ctx.local_dir)
    if args.json:
        print_json(ctx.stdout, st)
        return EXIT_OK if st["running"] else EXIT_FAILURE
    if not st["running"]:
        ctx.out.print("no embedded stack is running (bgagent local up)")
        if st["left_behind"]:
            ctx.out.print(f"[yellow]processes left behind by a crashed launcher: {st['left_behind']}[/] "
                          "(bgagent local down stops them)")
        return EXIT_FAILURE
    health = "[green]answering[/]" if st["healthy"] else "[yellow]not answering yet[/]"
    ctx.out.print(f"API {st['api_url']} {health}   launcher pid {st['launcher']['pid']}")
    rows = [[name, s["pid"], "[green]alive[/]" if s["alive"] else "[red]exited[/]"]
            for name, s in st["services"].items()]
    ctx.out.print(table(["PROCESS", "PID", "STATE"], rows) if rows else "starting…")
    ctx.out.print(f"logs {st['logs_dir']}")
    return EXIT_OK


def show_logs(ctx: Context, args: argparse.Namespace) -> int:
    paths = logs.log_files(ctx.local_dir, args.service)
    readable = args.pretty or (ctx.out_tty and not args.raw)

    def emit(source: str, line: str) -> None:
        if readable:
            ctx.out.print(logs.pretty(line, source))
        else:
            ctx.stdout.write((f"{source}: " if len(paths) > 1 else "") + line + "\n")
            ctx.stdout.flush()

    for source, line in logs.tail_many(paths, args.lines):
        emit(source, line)
    if args.follow:
        for source, line in logs.follow(paths):
            emit(source, line)
    return EXIT_OK


def token(ctx: Context, args: argparse.Namespace) -> int:
    if ctx.profile.auth == "local":
        api_url, issuer_dir = ctx.profile.api_url, ctx.local_issuer_dir()
    else:
        state = ctx.stack_state()
        if state is None:
            raise CliError("no embedded stack is running", hint="bgagent local up")
        api_url, issuer_dir = state["api_url"], ctx.local_dir / "issuer"
    issuer = LocalTokens(issuer_dir, api_url, args.user).issuer()
    ctx.stdout.write(issuer.mint(args.user, ttl_seconds=args.ttl) + "\n")
    return EXIT_OK
