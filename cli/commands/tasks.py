"""Task commands: submit, list, status, events, cancel."""

from __future__ import annotations

import argparse
import functools
from pathlib import Path

from rich.markup import escape

from cli.api import collect
from cli.attachments import attachment
from cli.commands.arguments import (
    engine_option,
    field_type,
    float_range,
    int_range,
    json_flag,
    limit_options,
    repo_name,
)
from cli.context import Context
from cli.errors import EXIT_OK, EXIT_TASK_FAILED, UsageError
from cli.events import event_line
from cli.follow import Watcher, follow_task
from cli.render import outcome_line, print_json, styled, task_detail, tasks_table
from shared.attachments.models import MAX_ATTACHMENTS, MAX_INLINE_BYTES
from shared.llm.catalog import DEFAULT_MODEL_ID
from shared.tasks.fields import IssueNumber, PrNumber, TaskDescription, bounds
from shared.tasks.states import TaskStatus

PAGE = 100


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("submit", help="submit a coding task", description="Submit a coding task on an onboarded "
                       "repository: an issue number, a description, or both.")
    p.add_argument("--repo", required=True, type=repo_name, metavar="OWNER/NAME")
    p.add_argument("--issue", type=field_type(IssueNumber), metavar="N", help="the GitHub issue to work on")
    pr = p.add_mutually_exclusive_group()
    pr.add_argument("--pr", type=field_type(PrNumber), metavar="N",
                    help="iterate on pull request N: push to its branch, answering its review comments")
    pr.add_argument("--review-pr", type=field_type(PrNumber), metavar="N",
                    help="review pull request N (read-only): one review with inline comments")
    text = p.add_mutually_exclusive_group()
    text.add_argument("--description", metavar="TEXT",
                      help=f"what to do (up to {bounds(TaskDescription)[1]:,} characters)")
    text.add_argument("--description-file", metavar="FILE", help="read the description from FILE ('-': stdin)")
    limit_options(p)
    p.add_argument("--model", metavar="MODEL_ID",
                   help=f"the model to use instead of the repo's default (platform default: {DEFAULT_MODEL_ID})")
    engine_option(p, "instead of the repo's (default: the platform's, native unless the operator set one)")
    p.add_argument("--attach", action="append", metavar="FILE|URL", default=None,
                   help=f"attach an image, a text/markdown/csv/json file or a PDF (≤ {MAX_INLINE_BYTES // 1024} KB), "
                        f"or an https URL the platform fetches; repeatable, up to {MAX_ATTACHMENTS}")
    p.add_argument("--save-trajectory", action="store_true",
                   help="keep the run's full, redacted trajectory (messages and tool calls) in S3")
    p.add_argument("--idempotency-key", metavar="KEY", help="submitting again with the same key returns the "
                   "first task instead of creating another")
    p.add_argument("--pre-approve", action="append", metavar="RULE", dest="pre_approve",
                   help="let commands matching this approval rule of the repo run without asking (repeatable)")
    p.add_argument("--wait", action="store_true", help="follow the task until it ends; exit 5 unless COMPLETED")
    json_flag(p)
    p.set_defaults(func=submit)

    p = sub.add_parser("list", help="list your tasks, newest first")
    p.add_argument("--status", metavar="S[,S…]", help="only tasks in these states, e.g. RUNNING,QUEUED")
    p.add_argument("--repo", type=repo_name, metavar="OWNER/NAME")
    p.add_argument("--limit", type=int_range(1, 1000), default=20, help="at most this many tasks (default 20)")
    json_flag(p)
    p.set_defaults(func=list_tasks)

    p = sub.add_parser("status", help="show one task")
    p.add_argument("task_id", metavar="TASK_ID")
    json_flag(p)
    p.set_defaults(func=status)

    p = sub.add_parser("events", help="a task's event trail; --follow watches it until the task ends")
    p.add_argument("task_id", metavar="TASK_ID")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing new events until the task ends")
    p.add_argument("--interval", type=float_range(0.1, 60), default=1.0, help=argparse.SUPPRESS)
    json_flag(p)
    p.set_defaults(func=events)

    p = sub.add_parser("cancel", help="cancel a task that has not finished")
    p.add_argument("task_id", metavar="TASK_ID")
    json_flag(p)
    p.set_defaults(func=cancel)


def _description(ctx: Context, args: argparse.Namespace) -> str | None:
    if args.description_file is None:
        return args.description
    if args.description_file == "-":
        return ctx.stdin.read()
    try:
        return Path(args.description_file).read_text()
    except OSError as exc:
        raise UsageError(f"cannot read {args.description_file}: {exc.strerror}") from exc


def _follow(ctx: Context, task_id: str, watcher: Watcher, interval: float = 1.0) -> dict:
    try:
        return follow_task(ctx.api(), task_id, watcher, interval=interval)
    except KeyboardInterrupt:
        ctx.err.print(f"stopped watching; the task keeps running (bgagent cancel {task_id} stops it)")
        raise


def _task_body(ctx: Context, args: argparse.Namespace) -> dict:
    """The POST /v1/tasks body the arguments ask for, without the fields left to the platform."""
    description = _description(ctx, args)
    pr_number = args.pr or args.review_pr
    if pr_number is None and args.issue is None and not (description or "").strip():
        raise UsageError("give --issue N, --description TEXT, --description-file FILE, --pr N or --review-pr N")
    task_type = "pr_review" if args.review_pr else "pr_iteration" if args.pr else None
    body = {"repo": args.repo, "issue_number": args.issue, "task_description": description,
            "task_type": task_type, "pr_number": pr_number,
            "max_turns": args.max_turns, "max_budget_usd": args.max_budget, "model_id": args.model,
            "engine": args.engine, "save_trajectory": True if args.save_trajectory else None,
            "attachments": [attachment(a) for a in args.attach] if args.attach else None,
            "pre_approved_rules": args.pre_approve}
    return {k: v for k, v in body.items() if v is not None}


def submit(ctx: Context, args: argparse.Namespace) -> int:
    task, replayed = ctx.api().create_task(_task_body(ctx, args), args.idempotency_key)
    human = ctx.err if args.json else ctx.out
    verb = "already submitted (same idempotency key):" if replayed else "submitted"
    human.print(f"{verb} [bold]{task['task_id']}[/] {styled(task['status'])} on {task['repo']} "
                f"(branch {task['branch_name']})")
    for warning in task.get("warnings") or []:
        ctx.err.print(f"[yellow]warning:[/] {escape(warning)}")
    if args.wait:
        task = _follow(ctx, task["task_id"], Watcher(human, live=ctx.err_tty if args.json else ctx.out_tty))
        human.print(outcome_line(task))
    elif not args.json:
        human.print(f"follow it: bgagent events {task['task_id']} --follow")
    if args.json:
        print_json(ctx.stdout, task)
    if args.wait and task["status"] != "COMPLETED":
        return EXIT_TASK_FAILED
    return EXIT_OK


def list_tasks(ctx: Context, args: argparse.Namespace) -> int:
    status = args.status.upper().replace(" ", "") if args.status else None
    unknown = [s for s in (status or "").split(",") if s and s not in TaskStatus.__members__]
    if unknown:
        raise UsageError(f"unknown status {', '.join(unknown)}", hint=f"one or more of {', '.join(TaskStatus)}")
    tasks, token = collect(functools.partial(ctx.api().list_tasks, status=status, repo=args.repo),
                           limit=args.limit, page_size=PAGE)
    if args.json:
        print_json(ctx.stdout, tasks)
    elif not tasks:
        ctx.out.print("no tasks")
    else:
        ctx.out.print(tasks_table(tasks))
        if token:
            ctx.err.print(f"[dim]showing the newest {len(tasks)}; --limit N shows more[/]")
    return EXIT_OK


def status(ctx: Context, args: argparse.Namespace) -> int:
    task = ctx.api().get_task(args.task_id)
    ctx.show(args.json, task, lambda: task_detail(task))
    return EXIT_OK


def events(ctx: Context, args: argparse.Namespace) -> int:
    api = ctx.api()
    if args.follow:
        watcher = Watcher(ctx.out, live=ctx.out_tty, json_out=ctx.stdout if args.json else None)
        task = _follow(ctx, args.task_id, watcher, interval=args.interval)
        if not args.json:
            ctx.out.print(outcome_line(task))
        return EXIT_OK
    trail, _ = collect(functools.partial(api.list_events, args.task_id), page_size=PAGE)
    if args.json:
        print_json(ctx.stdout, trail)
    else:
        for event in trail:
            ctx.out.print(event_line(event))
    return EXIT_OK


def cancel(ctx: Context, args: argparse.Namespace) -> int:
    task = ctx.api().cancel_task(args.task_id)
    ctx.show(args.json, task, lambda: f"{task['task_id']} {styled(task['status'])}")
    return EXIT_OK
