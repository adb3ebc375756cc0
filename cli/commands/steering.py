"""Steering commands: watch a task live, nudge it, and decide the commands it holds back."""

from __future__ import annotations

import argparse

from rich.markup import escape

from cli.commands.arguments import float_range, json_flag
from cli.context import Context
from cli.errors import EXIT_OK, EXIT_TASK_FAILED, CliError, UsageError
from cli.follow import Watcher, follow_task
from cli.render import outcome_line, print_json, short_time, styled
from shared.steering.display import shown_command, shown_request

NUDGE_MAX_CHARS = 2_000


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("watch", help="a live view of a task until it ends (status, turns, tests, PR)",
                       description="Follow a task live: its status line, each turn with its tool and cost, test "
                                   "results and the pull request; ends with the task (exit 5 unless COMPLETED).")
    p.add_argument("task_id", metavar="TASK_ID")
    p.add_argument("--interval", type=float_range(0.1, 60), default=1.0, help=argparse.SUPPRESS)
    p.set_defaults(func=watch)

    p = sub.add_parser("nudge", help="send a message to a running task's agent",
                       description="The agent reads it before its next model call, as a message from you.")
    p.add_argument("task_id", metavar="TASK_ID")
    p.add_argument("message", metavar="MESSAGE", help=f"up to {NUDGE_MAX_CHARS:,} characters")
    json_flag(p)
    p.set_defaults(func=nudge)

    p = sub.add_parser("pending", help="your commands, connections and pushes waiting for approval",
                       description="Each request with all of what it holds back: newlines show as ⏎, tabs as ⇥, "
                                   "runs of spaces as ␠×N, invisible characters as ⟨U+XXXX⟩.")
    json_flag(p)
    p.set_defaults(func=pending)

    for verb, text in (("approve", "let a held-back command run"), ("deny", "refuse a held-back command")):
        p = sub.add_parser(verb, help=text, description=f"{text.capitalize()} (see `bgagent pending`). "
                                                          "Each request is decided once.")
        p.add_argument("task_id", metavar="TASK_ID")
        p.add_argument("approval_id", metavar="APPROVAL_ID", nargs="?",
                       help="default: the task's only open request")
        p.add_argument("--reason", metavar="TEXT", help="why (the model reads it with a denial)")
        json_flag(p)
        p.set_defaults(func=decide, verb=verb)


def watch(ctx: Context, args: argparse.Namespace) -> int:
    api = ctx.api()
    task = api.get_task(args.task_id)
    ctx.out.print(f"[bold]{task['task_id']}[/] {styled(task['status'])} on {escape(task['repo'])} "
                  f"(branch {escape(task['branch_name'])})")
    try:
        task = follow_task(api, args.task_id, Watcher(ctx.out, live=ctx.out_tty), interval=args.interval)
    except KeyboardInterrupt:
        ctx.err.print(f"stopped watching; the task keeps running (bgagent cancel {args.task_id} stops it)")
        raise
    ctx.out.print(outcome_line(task))
    return EXIT_OK if task["status"] == "COMPLETED" else EXIT_TASK_FAILED


def nudge(ctx: Context, args: argparse.Namespace) -> int:
    if not args.message.strip() or len(args.message) > NUDGE_MAX_CHARS:
        raise UsageError(f"the message must be 1-{NUDGE_MAX_CHARS:,} characters")
    sent = ctx.api().nudge(args.task_id, args.message)
    ctx.show(args.json, sent, lambda: f"nudge {sent['nudge_id']} sent: the agent reads it before its next turn")
    return EXIT_OK


def pending(ctx: Context, args: argparse.Namespace) -> int:
    rows = ctx.api().pending()
    if args.json:
        print_json(ctx.stdout, rows)
    elif not rows:
        ctx.out.print("nothing waits for your approval")
    else:
        # A table cell would cut the command; each request gets a heading line and its whole text below it.
        for r in rows:
            ctx.out.print(f"[bold]{r['task_id']}[/] {r['approval_id']}  {r.get('kind', 'command')}  "
                          f"rule {escape(r['rule'])}  expires {short_time(r['expires_at'])}")
            ctx.out.print(f"  {escape(shown_command(r['command']))}", soft_wrap=True)
        ctx.err.print("[dim]bgagent approve|deny TASK_ID APPROVAL_ID [--reason TEXT][/]")
    return EXIT_OK


def decide(ctx: Context, args: argparse.Namespace) -> int:
    api = ctx.api()
    approval_id = args.approval_id or _only_open_request(api.pending(), args.task_id)
    decided = api.decide(args.task_id, args.verb, approval_id, args.reason)
    shown = shown_request(decided.get("kind", "command"), decided["rule"], decided["command"])
    ctx.show(args.json, decided, lambda: f"{decided['approval_id']} {decided['status']}: {escape(shown)}")
    return EXIT_OK


def _only_open_request(rows: list[dict], task_id: str) -> str:
    mine = [r["approval_id"] for r in rows if r["task_id"] == task_id]
    if len(mine) != 1:
        raise CliError(f"task {task_id} has {len(mine) or 'no'} open approval requests",
                       hint="`bgagent pending` lists them; name the APPROVAL_ID")
    return mine[0]
