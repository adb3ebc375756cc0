"""The `bgagent` command: the parser, the one place that reads the environment, and exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

from rich.markup import escape

from cli.commands import (
    account,
    evals,
    local,
    model_endpoints,
    panel,
    pulls,
    repos,
    schedules,
    steering,
    tasks,
    users,
    webhooks,
)
from cli.config import DEFAULT_PROFILE, check_profile_name
from cli.context import Context
from cli.errors import EXIT_FAILURE, EXIT_USAGE, ApiError, CliError
from cli.state import default_home

EPILOG = """\
exit codes:
  0  success
  1  the command could not do its job (e.g. `local up` while a stack is already running)
  2  usage error: wrong or missing options, unknown profile
  3  the API (or Cognito) answered with an error: its code and message are shown
  4  network failure: the URL could not be reached
  5  --wait: the task ended FAILED, CANCELLED or TIMED_OUT (eval run --wait: the run was cancelled)
  6  eval compare --gate: run B is significantly worse than run A (the reason is printed)
  130  interrupted (Ctrl-C); a task being watched keeps running

environment:
  BGAGENT_HOME     where profiles, credentials and the embedded stack live (default ~/.bgagent)
  BGAGENT_PROFILE  the profile to use when --profile is not given (default 'default')

Read commands take --json for scripts. `bgagent COMMAND --help` describes each command."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bgagent", description="Background coding agents: submit tasks, watch "
                                     "them, and run the platform locally.", epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", metavar="NAME", help="the profile of config.json to use (env BGAGENT_PROFILE)")
    parser.add_argument("--version", action="version", version="bgagent 0.1.0")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (account, tasks, steering, pulls, webhooks, schedules, evals, repos, users, local, panel,
                  model_endpoints):
        group.register(sub)
    _accept_profile_anywhere(sub)
    return parser


def _accept_profile_anywhere(sub: argparse._SubParsersAction) -> None:
    """`bgagent list --profile prod` works as well as `bgagent --profile prod list`."""
    for parser in set(sub.choices.values()):
        nested = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if nested:
            _accept_profile_anywhere(nested[0])
        else:
            parser.add_argument("--profile", metavar="NAME", default=argparse.SUPPRESS,
                                help="the profile to use (env BGAGENT_PROFILE)")


def _context(args: argparse.Namespace, environ: dict[str, str]) -> Context:
    chosen = args.profile or environ.get("BGAGENT_PROFILE")
    return Context(home=default_home(environ, Path.home()), profile_name=check_profile_name(chosen or DEFAULT_PROFILE),
                   profile_explicit=bool(chosen), environ=environ, stdout=sys.stdout, stderr=sys.stderr,
                   stdin=sys.stdin, out_tty=_isatty(sys.stdout), err_tty=_isatty(sys.stderr))


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False


def _report(ctx: Context | None, exc: CliError) -> None:
    from rich.console import Console

    err = ctx.err if ctx else Console(file=sys.stderr, highlight=False)
    label = f"{exc.code}: " if isinstance(exc, ApiError) else ""
    err.print(f"[red bold]error:[/] {escape(label + exc.message)}")
    for detail in getattr(exc, "details", None) or []:
        if isinstance(detail, dict):
            err.print(f"  {escape(str(detail.get('field', '')))}: {escape(str(detail.get('message', '')))}")
    if exc.hint:
        err.print(f"[dim]hint:[/] {escape(exc.hint)}")
    if isinstance(exc, ApiError) and exc.request_id:
        err.print(f"[dim]request id: {escape(exc.request_id)}[/]")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the process exit code (see EPILOG)."""
    environ = dict(os.environ)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, or argparse's usage error (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    ctx = None
    try:
        ctx = _context(args, environ)
        return args.func(ctx, args)
    except CliError as exc:
        _report(ctx, exc)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE
    except Exception as exc:  # a user gets one readable line, never a traceback
        if environ.get("BGAGENT_DEBUG"):
            raise
        _report(ctx, CliError(f"{type(exc).__name__}: {exc}", hint="set BGAGENT_DEBUG=1 for the traceback"))
        return EXIT_FAILURE
    finally:
        if ctx is not None:
            ctx.close()


if __name__ == "__main__":
    sys.exit(main())
