"""Schedule commands: create, list, show, pause, resume, delete."""

from __future__ import annotations

import argparse

from rich.markup import escape

from cli.api import collect
from cli.commands.arguments import engine_option, field_type, json_flag, limit_options, repo_name
from cli.context import Context
from cli.errors import EXIT_OK
from cli.render import short_time, table
from shared.tasks.fields import IssueNumber


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("schedule", help="tasks created on a cron or rate schedule").add_subparsers(
        dest="schedule_command", required=True, metavar="COMMAND")

    p = group.add_parser("create", help="create a schedule: one task per due time, owned by you",
                         description="Each due time creates one task from the template given here. Cron has five "
                                     "fields (minute hour day-of-month month weekday) read in --timezone.")
    p.add_argument("--name", required=True, help="a label for your own use")
    when = p.add_mutually_exclusive_group(required=True)
    when.add_argument("--cron", metavar="EXPR", help='e.g. "0 3 * * 1-5" (03:00 on weekdays)')
    when.add_argument("--rate", metavar="EXPR", help='e.g. "rate(6 hours)"')
    p.add_argument("--timezone", metavar="IANA", help="the zone the cron is read in (default UTC)")
    p.add_argument("--overlap", choices=("skip", "allow"), help="skip (default): no run while the last is active")
    p.add_argument("--repo", required=True, type=repo_name, metavar="OWNER/NAME")
    p.add_argument("--description", metavar="TEXT", help="what each run does")
    p.add_argument("--issue", type=field_type(IssueNumber), metavar="N", help="the issue each run works on")
    limit_options(p)
    p.add_argument("--model", metavar="MODEL_ID")
    engine_option(p, "of each run instead of the repo's")
    json_flag(p)
    p.set_defaults(func=create)

    p = group.add_parser("list", help="list your schedules")
    json_flag(p)
    p.set_defaults(func=list_schedules)

    for name, func, text in (("show", show, "one schedule, with its last and next run"),
                             ("pause", pause, "stop creating tasks until resumed"),
                             ("resume", resume, "create tasks again, from the next due time on"),
                             ("delete", delete, "delete a schedule (its tasks are kept)")):
        p = group.add_parser(name, help=text)
        p.add_argument("schedule_id", metavar="SCHEDULE_ID")
        json_flag(p)
        p.set_defaults(func=func)


def _body(args: argparse.Namespace) -> dict:
    fields = {"name": args.name, "cron": args.cron, "rate": args.rate, "timezone": args.timezone,
              "overlap": args.overlap, "repo": args.repo, "task_description": args.description,
              "issue_number": args.issue, "max_turns": args.max_turns, "max_budget_usd": args.max_budget,
              "model_id": args.model, "engine": args.engine}
    return {k: v for k, v in fields.items() if v is not None}


def _when(s: dict) -> str:
    return s.get("cron") or s.get("rate") or ""


def _detail(s: dict) -> str:
    state = "paused" + (f" ({escape(s['paused_reason'])})" if s.get("paused_reason") else "") if s["paused"] else (
        "active")
    lines = [f"[bold]{s['schedule_id']}[/] {escape(s['name'])} · {state}",
             f"when      {escape(_when(s))} ({s['timezone']}), overlap {s['overlap']}",
             f"task      {s['repo']}" + (f" #{s['issue_number']}" if s.get("issue_number") else "")
             + (f" · {escape(s['task_description'][:80])}" if s.get("task_description") else ""),
             *([f"engine    {s['engine']}"] if s.get("engine") else []),
             f"next run  {short_time(s.get('next_run_at')) or '-'}",
             f"last run  {short_time(s.get('last_run_at')) or '-'}"
             + (f" → {s['last_task_id']}" if s.get("last_task_id") else ""),
             f"runs      {s['runs']} made, {s['skipped_runs']} skipped (previous run still active)"]
    return "\n".join(lines)


def create(ctx: Context, args: argparse.Namespace) -> int:
    s = ctx.api().create_schedule(_body(args))
    ctx.show(args.json, s, lambda: _detail(s))
    return EXIT_OK


def list_schedules(ctx: Context, args: argparse.Namespace) -> int:
    rows, _ = collect(ctx.api().list_schedules)
    if args.json:
        ctx.show(True, rows, lambda: "")
    elif not rows:
        ctx.out.print("no schedules")
    else:
        ctx.out.print(table(["SCHEDULE ID", "NAME", "WHEN", "REPO", "STATE", "NEXT RUN", "RUNS"],
                            [[s["schedule_id"], escape(s["name"]), escape(_when(s)), s["repo"],
                              "paused" if s["paused"] else "active", short_time(s.get("next_run_at")),
                              str(s["runs"])] for s in rows]))
    return EXIT_OK


def show(ctx: Context, args: argparse.Namespace) -> int:
    s = ctx.api().get_schedule(args.schedule_id)
    ctx.show(args.json, s, lambda: _detail(s))
    return EXIT_OK


def pause(ctx: Context, args: argparse.Namespace) -> int:
    s = ctx.api().update_schedule(args.schedule_id, {"paused": True})
    ctx.show(args.json, s, lambda: _detail(s))
    return EXIT_OK


def resume(ctx: Context, args: argparse.Namespace) -> int:
    s = ctx.api().update_schedule(args.schedule_id, {"paused": False})
    ctx.show(args.json, s, lambda: _detail(s))
    return EXIT_OK


def delete(ctx: Context, args: argparse.Namespace) -> int:
    s = ctx.api().delete_schedule(args.schedule_id)
    ctx.show(args.json, s, lambda: f"deleted schedule {s['schedule_id']} ({s['name']})")
    return EXIT_OK
