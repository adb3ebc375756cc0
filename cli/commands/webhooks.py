"""Webhook commands: create, list, revoke, and sign a body for a scripted caller."""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import time
import uuid
from pathlib import Path

from cli.api import collect
from cli.commands.arguments import json_flag
from cli.context import Context
from cli.errors import EXIT_OK, UsageError
from cli.render import print_json, short_time, styled, table


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("webhook", help="signed webhooks that submit tasks").add_subparsers(
        dest="webhook_command", required=True, metavar="COMMAND")

    p = group.add_parser("create", help="create a webhook; prints its secret once")
    p.add_argument("--name", required=True, help="a label for your own use")
    json_flag(p)
    p.set_defaults(func=create)

    p = group.add_parser("list", help="list your webhooks")
    json_flag(p)
    p.set_defaults(func=list_webhooks)

    p = group.add_parser("revoke", help="revoke a webhook: its deliveries are refused from now on")
    p.add_argument("webhook_id", metavar="WEBHOOK_ID")
    json_flag(p)
    p.set_defaults(func=revoke)

    p = group.add_parser("sign", help="print the headers that sign a body for POST /v1/webhooks/tasks",
                         description="Sign a body with a webhook's secret. The secret is read from an "
                                     "environment variable or stdin, never from the command line.")
    secret = p.add_mutually_exclusive_group(required=True)
    secret.add_argument("--secret-env", metavar="VAR", help="the environment variable holding the secret")
    secret.add_argument("--secret-stdin", action="store_true", help="read the secret from the first line of stdin")
    body = p.add_mutually_exclusive_group(required=True)
    body.add_argument("--body-file", metavar="FILE", help="the exact bytes to send ('-': stdin)")
    body.add_argument("--body", metavar="JSON", help="the exact JSON text to send")
    p.add_argument("--webhook-id", metavar="ID", help="adds the X-Webhook-Id header")
    p.add_argument("--timestamp", type=int, metavar="UNIX_SECONDS", help="default: now")
    p.add_argument("--delivery", metavar="ID", help="the delivery id used for dedupe (default: a new UUID)")
    json_flag(p)
    p.set_defaults(func=sign)


def create(ctx: Context, args: argparse.Namespace) -> int:
    hook = ctx.api().create_webhook(args.name)
    if args.json:
        print_json(ctx.stdout, hook)
        return EXIT_OK
    ctx.out.print(f"created webhook [bold]{hook['webhook_id']}[/] ({hook['name']})")
    ctx.out.print(f"secret: {hook['secret']}")
    ctx.err.print("[yellow]store the secret now: it is not shown again[/]")
    return EXIT_OK


def list_webhooks(ctx: Context, args: argparse.Namespace) -> int:
    hooks, _ = collect(ctx.api().list_webhooks)
    if args.json:
        print_json(ctx.stdout, hooks)
    elif not hooks:
        ctx.out.print("no webhooks")
    else:
        ctx.out.print(table(["WEBHOOK ID", "NAME", "STATUS", "CREATED", "REVOKED"],
                            [[h["webhook_id"], h["name"], styled(h["status"]), short_time(h.get("created_at")),
                              short_time(h.get("revoked_at"))] for h in hooks]))
    return EXIT_OK


def revoke(ctx: Context, args: argparse.Namespace) -> int:
    hook = ctx.api().revoke_webhook(args.webhook_id)
    ctx.show(args.json, hook, lambda: f"{hook['webhook_id']} {styled(hook['status'])}")
    return EXIT_OK


def signature_headers(secret: str, body: bytes, *, timestamp: int, delivery: str,
                      webhook_id: str | None = None) -> dict[str, str]:
    """X-Webhook-* headers: HMAC-SHA256 over "{timestamp}.{raw body}" with the webhook's secret."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    headers = {"X-Webhook-Id": webhook_id} if webhook_id else {}
    return {**headers, "X-Webhook-Timestamp": str(timestamp), "X-Webhook-Signature": f"sha256={digest}",
            "X-Webhook-Delivery": delivery}


def _secret(ctx: Context, args: argparse.Namespace) -> str:
    if args.secret_env:
        secret = ctx.environ.get(args.secret_env)
        if not secret:
            raise UsageError(f"the environment variable {args.secret_env} is not set or empty")
        return secret
    secret = ctx.stdin.readline().rstrip("\r\n")
    if not secret:
        raise UsageError("no secret on stdin")
    return secret


def _body(ctx: Context, args: argparse.Namespace) -> bytes:
    if args.body is not None:
        try:
            json.loads(args.body)
        except ValueError as exc:
            raise UsageError(f"--body is not valid JSON: {exc}") from exc
        return args.body.encode()
    if args.body_file == "-":
        if args.secret_stdin:
            raise UsageError("stdin holds the secret: give the body with --body-file FILE or --body")
        return ctx.stdin.buffer.read() if hasattr(ctx.stdin, "buffer") else ctx.stdin.read().encode()
    try:
        return Path(args.body_file).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {args.body_file}: {exc.strerror}") from exc


def sign(ctx: Context, args: argparse.Namespace) -> int:
    secret, body = _secret(ctx, args), _body(ctx, args)
    headers = signature_headers(secret, body, timestamp=args.timestamp or int(time.time()),
                                delivery=args.delivery or str(uuid.uuid4()), webhook_id=args.webhook_id)
    if args.json:
        print_json(ctx.stdout, headers)
    else:
        ctx.stdout.write("".join(f"{name}: {value}\n" for name, value in headers.items()))
    return EXIT_OK
