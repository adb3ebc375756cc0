"""Pull requests the platform recorded for local repositories: `bgagent pr show TASK_ID | local://OWNER/NAME/pull/N`."""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess

from rich.markup import escape

from cli.commands import pr_threads
from cli.commands.arguments import field_type, int_range, json_flag, repo_name
from cli.context import Context
from cli.errors import EXIT_OK, CliError, UsageError
from cli.operator import OperatorTarget, dynamodb
from cli.render import print_json, styled, tests_failed
from shared.aws.dynamo import from_item, values
from shared.repos.store import DynamoRepoStore
from shared.tasks.fields import PrNumber

_LOCAL_URL = re.compile(r"^local://(?P<repo>[^/]+/[^/]+)/pull/(?P<number>\d+)$")


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("pr", help="pull requests recorded for local repositories").add_subparsers(
        dest="pr_command", required=True, metavar="COMMAND")
    p = group.add_parser("show", help="a recorded pull request: title, body, branch, diff stat and test report; "
                                      "with OWNER/NAME NUMBER its files, comments and reviews",
                         description="TARGET: a task id, or a local pull request URL (local://OWNER/NAME/pull/N); "
                                     "or OWNER/NAME followed by the pull request's NUMBER for its conversation.")
    p.add_argument("target", metavar="TARGET")
    p.add_argument("number", nargs="?", type=field_type(PrNumber), metavar="NUMBER")
    json_flag(p)
    p.set_defaults(func=show)

    p = group.add_parser("comment", help="comment on a recorded pull request (with --path/--line: on a line)",
                         description="Add a conversation comment, or with --path and --line a review comment on "
                                     "one line, to a pull request of a locally hosted repository. "
                                     "`bgagent submit --pr N` then iterates on it.")
    p.add_argument("repo", type=repo_name, metavar="OWNER/NAME")
    p.add_argument("number", type=field_type(PrNumber), metavar="NUMBER")
    p.add_argument("text", metavar="TEXT")
    p.add_argument("--path", metavar="FILE", help="the file the comment is about")
    p.add_argument("--line", type=int_range(1, 10**7), metavar="N", help="the line of FILE")
    json_flag(p)
    p.set_defaults(func=pr_threads.comment)


async def _find_pull(target: OperatorTarget, repo: str, *, number: int | None = None,
                     head: str | None = None) -> tuple[dict | None, str | None]:
    """The recorded pull request of `repo` with this number or head branch, and the repo's local path."""
    async with dynamodb(target) as ddb:
        config = await DynamoRepoStore(ddb, target.names.repos_table).get(repo)
        resp = await ddb.query(TableName=target.names.pulls_table, KeyConditionExpression="repo = :r",
                               ExpressionAttributeValues=values({":r": repo}))
    pulls = [from_item(i) for i in resp.get("Items", [])]
    found = [p for p in pulls if "number" in p and (p["number"] == number or p["head"] == head)]
    return (found[0] if found else None), (config.local_path if config else None)


def _diff_stat(path: str | None, base: str, head: str) -> str | None:
    if not path:
        return None
    result = subprocess.run(["git", "-C", path, "diff", "--stat", f"refs/heads/{base}...refs/heads/{head}"],
                            capture_output=True, text=True, timeout=30)
    return result.stdout.rstrip() if result.returncode == 0 else None


def show(ctx: Context, args: argparse.Namespace) -> int:
    if args.number is not None:
        args.repo = repo_name(args.target)
        return pr_threads.show_thread(ctx, args)
    task = None
    match = _LOCAL_URL.match(args.target)
    if match:
        repo, number, head = match["repo"], int(match["number"]), None
    else:
        task = ctx.api().get_task(args.target)
        if not task.get("pr_url"):
            raise CliError(f"task {args.target} has no pull request ({task['status']})",
                           hint=f"bgagent status {args.target}")
        if not task["pr_url"].startswith("local://"):
            ctx.out.print(f"{task['pr_url']} is on the git host: open it there")
            return EXIT_OK
        repo, number, head = task["repo"], None, task["branch_name"]
    pull, path = asyncio.run(_find_pull(ctx.operator_target(), repo, number=number, head=head))
    if pull is None:
        raise UsageError(f"no recorded pull request {args.target}", hint="bgagent list shows tasks and their PRs")
    shown = {**{k: pull.get(k) for k in ("url", "number", "title", "head", "base", "body", "created_at")},
             "repo": repo, "diff_stat": _diff_stat(path, pull["base"], pull["head"])}
    if task is not None:
        shown.update(task_id=task["task_id"], status=task["status"],
                     **{k: task.get(k) for k in ("tests", "test_exit_code", "test_output_tail")})
    if args.json:
        print_json(ctx.stdout, shown)
    else:
        _print(ctx, shown)
    return EXIT_OK


def _print(ctx: Context, pull: dict) -> None:
    out = ctx.out
    out.print(f"[bold]{escape(pull['title'] or '')}[/]  {pull['url']}")
    out.print(f"branch  {escape(pull['head'])} → {escape(pull['base'])}")
    if pull.get("task_id"):
        out.print(f"task    {pull['task_id']} {styled(pull['status'])}")
    if pull.get("tests") == "failed":
        out.print(f"tests   {tests_failed(pull)}")
    elif pull.get("tests"):
        out.print(f"tests   {pull['tests'].replace('_', ' ')}")
    if pull.get("diff_stat"):
        out.print("diff\n" + escape(pull["diff_stat"]))
    out.print("\n" + escape(pull.get("body") or ""))
