"""The web control panel: `bgagent ui` prints (or opens) a one-time login link for the current profile."""

from __future__ import annotations

import argparse
import webbrowser

from cli.commands.arguments import json_flag
from cli.context import Context
from cli.errors import EXIT_OK
from cli.render import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ui", help="open the web control panel (a one-time login link)",
                       description="Prints a link that signs a browser in to the web panel as the current "
                                   "profile's user. It works once, within two minutes; the browser then holds "
                                   "its own session cookie.")
    p.add_argument("--open", action="store_true", help="open the link in the default browser")
    json_flag(p)
    p.set_defaults(func=open_panel)


def open_panel(ctx: Context, args: argparse.Namespace) -> int:
    link = ctx.api().create_login_link()
    if args.json:
        print_json(ctx.stdout, link)
        return EXIT_OK
    # Plain text, unwrapped: the link must survive copy and paste whole.
    print(link["login_url"], file=ctx.stdout)
    if args.open and not webbrowser.open(link["login_url"]):
        ctx.err.print("no browser could be started here: open the link above yourself")
    else:
        ctx.err.print(f"[dim]the link works once, until {link['expires_at']}[/]")
    return EXIT_OK
