"""Conversations on recorded pull requests of local repositories: `pr comment`, and `pr show REPO NUMBER`."""

from __future__ import annotations

import argparse
import asyncio
from typing import Literal

from rich.markup import escape

from cli.context import Context
from cli.errors import EXIT_OK, CliError
from cli.operator import OperatorTarget, dynamodb
from cli.render import print_json
from shared.githost.errors import GitHostNotFound
from shared.githost.local import LocalGitHost
from shared.githost.models import PostedComment, PullContext
from shared.repos.store import DynamoRepoStore


async def _with_host(target: OperatorTarget, repo: str, number: int, work):  # type: ignore[no-untyped-def]
    async with dynamodb(target) as ddb:
        host = LocalGitHost(DynamoRepoStore(ddb, target.names.repos_table), ddb, target.names.pulls_table)
        try:
            return await work(host)
        except GitHostNotFound as exc:
            raise CliError(f"{repo} has no recorded pull request #{number}",
                           hint="only repositories onboarded with --path record pull requests here") from exc


def comment(ctx: Context, args: argparse.Namespace) -> int:
    if (args.path is None) != (args.line is None):
        raise CliError("give --path and --line together, or neither")
    author = ctx.environ.get("USER") or "you"

    async def add(host: LocalGitHost) -> PostedComment:
        await host.get_pull(args.repo, args.number)
        kind: Literal["review_comment", "comment"] = "review_comment" if args.path else "comment"
        return await host.threads.add(args.repo, args.number, kind, args.text, author=author, path=args.path,
                                      line=args.line)

    posted = asyncio.run(_with_host(ctx.operator_target(), args.repo, args.number, add))
    ctx.show(args.json, posted.model_dump(), lambda: f"commented on {args.repo}#{args.number} ({posted.url})")
    return EXIT_OK


def show_thread(ctx: Context, args: argparse.Namespace) -> int:
    """The pull request with its files, review comments, reviews and comments."""
    async def read(host: LocalGitHost) -> PullContext:
        return await host.pull_context(args.repo, args.number)

    pr = asyncio.run(_with_host(ctx.operator_target(), args.repo, args.number, read))
    if args.json:
        print_json(ctx.stdout, pr.model_dump(mode="json"))
        return EXIT_OK
    p = pr.pull
    ctx.out.print(f"[bold]#{p.number}[/] {escape(p.title)} ({p.state}) {escape(p.head)} → {escape(p.base)}")
    if p.body.strip():
        ctx.out.print(escape(p.body.strip()))
    for f in pr.files:
        ctx.out.print(f"  {escape(f.path)} +{f.additions} -{f.deletions}")
    for c in pr.review_comments:
        ctx.out.print(f"[cyan]{escape(c.author)}[/] on {escape(c.path)}:{c.line}: {escape(c.body)}")
    for r in pr.reviews:
        ctx.out.print(f"[cyan]{escape(r.author)}[/] reviewed ({r.state}): {escape(r.body)}")
    for c in pr.comments:
        ctx.out.print(f"[cyan]{escape(c.author)}[/]: {escape(c.body)}")
    return EXIT_OK
