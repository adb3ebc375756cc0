"""Operator commands on users: user set-concurrency."""

from __future__ import annotations

import argparse
import asyncio

from cli.commands.arguments import int_range, json_flag
from cli.context import Context
from cli.errors import EXIT_OK
from cli.operator import set_user_concurrency
from cli.render import print_json


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("user", help="operator: per-user settings").add_subparsers(
        dest="user_command", required=True, metavar="COMMAND")
    p = group.add_parser("set-concurrency", help="how many tasks a user may run at once before new ones queue")
    p.add_argument("user", metavar="USER", help="the user id (the token's sub)")
    p.add_argument("max_concurrency", type=int_range(1, 1000), metavar="N")
    json_flag(p)
    p.set_defaults(func=set_concurrency)


def set_concurrency(ctx: Context, args: argparse.Namespace) -> int:
    row = asyncio.run(set_user_concurrency(ctx.operator_target(), args.user, args.max_concurrency))
    if args.json:
        print_json(ctx.stdout, row)
    else:
        ctx.out.print(f"{row['user_id']} may run {row['max_concurrency']} task(s) at once "
                      f"({row['active_count']} running now)")
    return EXIT_OK

