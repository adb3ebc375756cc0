"""Model endpoint commands (operators): register an Anthropic-compatible endpoint, list them, remove one."""

from __future__ import annotations

import argparse

from cli.commands.arguments import json_flag
from cli.context import Context
from cli.errors import EXIT_OK, UsageError
from cli.render import print_json, short_time, table

_PRICE_KEYS = {"input", "output", "cache_write_factor", "cache_read_factor"}


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("model-endpoint", help="Anthropic-compatible model endpoints tasks and evals may name"
                           ).add_subparsers(dest="model_endpoint_command", required=True, metavar="COMMAND")

    p = group.add_parser("add", help="register an endpoint (operators only)",
                         description="The key stays in the stack's secrets store: give the name of the secret "
                                     "holding it (bgagent/<stack>/endpoints/<name>), never the key itself.")
    p.add_argument("name", metavar="NAME", help="lowercase letters, digits and dashes")
    p.add_argument("--base-url", required=True, metavar="URL", help="https (http only for loopback)")
    p.add_argument("--key-secret", required=True, metavar="SECRET", help="the name of the secret holding the key")
    p.add_argument("--price", metavar="input=N,output=N", help="USD per million tokens (optional; without one the "
                                                              "catalog's price, else nothing)")
    json_flag(p)
    p.set_defaults(func=add)

    p = group.add_parser("list", help="list the registered endpoints")
    json_flag(p)
    p.set_defaults(func=list_endpoints)

    p = group.add_parser("remove", help="remove an endpoint (operators only)")
    p.add_argument("name", metavar="NAME")
    json_flag(p)
    p.set_defaults(func=remove)


def parse_price(text: str) -> dict[str, float]:
    """`input=3,output=15` as a price; UsageError naming what is wrong."""
    price: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        key, _, value = part.partition("=")
        if key not in _PRICE_KEYS:
            raise UsageError(f"--price: unknown part {key!r} (use {', '.join(sorted(_PRICE_KEYS))})")
        try:
            price[key] = float(value)
        except ValueError as exc:
            raise UsageError(f"--price: {key} must be a number") from exc
    if not {"input", "output"} <= set(price):
        raise UsageError("--price needs at least input=N,output=N")
    return price


def _price_text(price: dict | None) -> str:
    return f"in {price['input']:g} / out {price['output']:g}" if price else "—"


def add(ctx: Context, args: argparse.Namespace) -> int:
    body: dict = {"name": args.name, "base_url": args.base_url, "key_secret": args.key_secret}
    if args.price:
        body["price"] = parse_price(args.price)
    endpoint = ctx.api().create_model_endpoint(body)
    ctx.show(args.json, endpoint, lambda: f"registered model endpoint [bold]{endpoint['name']}[/] → "
                                          f"{endpoint['base_url']} (key in {endpoint['key_secret']})")
    return EXIT_OK


def list_endpoints(ctx: Context, args: argparse.Namespace) -> int:
    endpoints = ctx.api().list_model_endpoints()
    if args.json:
        print_json(ctx.stdout, endpoints)
    elif not endpoints:
        ctx.out.print("no model endpoints")
    else:
        ctx.out.print(table(["NAME", "BASE URL", "KEY SECRET", "PRICE (USD/MTok)", "CREATED"],
                            [[e["name"], e["base_url"], e["key_secret"], _price_text(e.get("price")),
                              short_time(e.get("created_at"))] for e in endpoints]))
    return EXIT_OK


def remove(ctx: Context, args: argparse.Namespace) -> int:
    endpoint = ctx.api().delete_model_endpoint(args.name)
    ctx.show(args.json, endpoint, lambda: f"removed model endpoint {endpoint['name']}")
    return EXIT_OK
