"""Profiles and sign-in: configure, login, logout."""

from __future__ import annotations

import argparse
import getpass
from datetime import datetime

from cli.auth import LocalTokens, cognito_login
from cli.commands.arguments import json_flag
from cli.config import Profile, updated_profile
from cli.context import Context
from cli.errors import EXIT_OK, UsageError
from cli.render import print_json, table

_FIELDS = {"api_url": "API URL", "auth": "auth mode", "region": "AWS region",
           "user_pool_id": "Cognito user pool id", "client_id": "Cognito app client id"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("configure", help="create or change a profile (API URL, auth, Cognito ids)",
                       description="Save settings in $BGAGENT_HOME/config.json under the profile chosen with "
                                   "--profile / BGAGENT_PROFILE (default: 'default'). Without options on a "
                                   "terminal it asks for each value.")
    p.add_argument("--api-url", metavar="URL", help="the API's base URL, e.g. https://bgagent.example.com")
    p.add_argument("--auth", choices=["local", "cognito"], help="local: the embedded stack's issuer")
    p.add_argument("--region", help="AWS region of Cognito and of the operator commands' tables")
    p.add_argument("--user-pool-id", metavar="ID")
    p.add_argument("--client-id", metavar="ID", help="Cognito app client id (USER_PASSWORD_AUTH enabled)")
    p.add_argument("--local-issuer-dir", metavar="DIR", help="local auth: the issuer key directory "
                   "(default $BGAGENT_HOME/local/issuer)")
    p.add_argument("--stack-name", metavar="NAME", help="operator commands: the stack's name (default bgagent)")
    p.add_argument("--aws-endpoint-url", metavar="URL", help="operator commands and Cognito: an AWS endpoint "
                   "such as LocalStack")
    p.add_argument("--list", action="store_true", help="show every profile instead of changing one")
    json_flag(p)
    p.set_defaults(func=configure)

    p = sub.add_parser("login", help="sign in (Cognito user and password, or a local user name)")
    p.add_argument("--user", metavar="NAME", help="Cognito user name; local auth: the user id to act as")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.set_defaults(func=login)

    p = sub.add_parser("logout", help="forget the profile's stored tokens")
    p.set_defaults(func=logout)


def configure(ctx: Context, args: argparse.Namespace) -> int:
    if args.list:
        return _list_profiles(ctx, args)
    changes = {"api_url": args.api_url, "auth": args.auth, "region": args.region, "user_pool_id": args.user_pool_id,
               "client_id": args.client_id, "local_issuer_dir": args.local_issuer_dir,
               "stack_name": args.stack_name, "aws_endpoint_url": args.aws_endpoint_url}
    base = ctx.config.get(ctx.profile_name) or Profile()
    if all(v is None for v in changes.values()):
        if not ctx.stdin.isatty():
            raise UsageError("nothing to change", hint="give options such as --api-url URL (see --help)")
        changes = _ask(ctx, base)
    profile = updated_profile(base, changes)
    if profile.auth == "cognito" and not (profile.client_id and profile.region):
        raise UsageError("cognito auth needs --client-id and --region")
    ctx.config.save(ctx.profile_name, profile)
    ctx.out.print(f"saved profile [bold]{ctx.profile_name}[/] in {ctx.config.path}")
    return EXIT_OK


def _ask(ctx: Context, base: Profile) -> dict[str, object]:
    from rich.prompt import Prompt

    answers: dict[str, object] = {}
    for name, label in _FIELDS.items():
        if name in ("user_pool_id", "client_id") and answers.get("auth", base.auth) != "cognito":
            continue
        current = getattr(base, name)
        answers[name] = Prompt.ask(label, console=ctx.err, default=str(current) if current else None,
                                   choices=["local", "cognito"] if name == "auth" else None) or None
    return answers


def _list_profiles(ctx: Context, args: argparse.Namespace) -> int:
    profiles = ctx.config.profiles()
    if args.json:
        print_json(ctx.stdout, {n: p.model_dump(exclude_none=True) for n, p in profiles.items()})
    elif not profiles:
        ctx.out.print("no profiles yet: the default talks to the embedded stack (bgagent local up)")
    else:
        ctx.out.print(table(["", "PROFILE", "API URL", "AUTH", "REGION", "CLIENT ID"],
                            [["*" if n == ctx.profile_name else "", n, p.api_url, p.auth, p.region, p.client_id]
                             for n, p in sorted(profiles.items())]))
    return EXIT_OK


def login(ctx: Context, args: argparse.Namespace) -> int:
    profile = ctx.profile
    if profile.auth == "local":
        user = args.user or ctx.local_user()
        LocalTokens(ctx.local_issuer_dir(), profile.api_url, user).token()  # the key must be there
        ctx.credentials.put(ctx.profile_name, {"auth": "local", "user": user})
        ctx.out.print(f"logged in as [bold]{user}[/] with the local issuer (profile {ctx.profile_name})")
        return EXIT_OK
    if not (profile.client_id and profile.region):
        raise UsageError(f"profile {ctx.profile_name!r} lacks the Cognito client id or region",
                         hint="bgagent configure --auth cognito --client-id ID --region REGION")
    username = args.user or _prompt_username(ctx)
    password = _password(ctx, args)
    entry = cognito_login(ctx.cognito_client(), profile.client_id, username, password)
    ctx.credentials.put(ctx.profile_name, {"auth": "cognito", **entry})
    until = datetime.fromtimestamp(entry["expires_at"]).strftime("%H:%M")
    ctx.out.print(f"logged in as [bold]{username}[/] (profile {ctx.profile_name}); the session refreshes "
                  f"itself (token valid until {until})")
    return EXIT_OK


def _prompt_username(ctx: Context) -> str:
    if not ctx.stdin.isatty():
        raise UsageError("give --user NAME")
    return input("user name: ").strip()


def _password(ctx: Context, args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = ctx.stdin.readline().rstrip("\r\n")
    elif ctx.stdin.isatty():
        password = getpass.getpass("password: ")
    else:
        raise UsageError("stdin is not a terminal: give --password-stdin and pipe the password")
    if not password:
        raise UsageError("empty password")
    return password


def logout(ctx: Context, args: argparse.Namespace) -> int:
    found = ctx.credentials.delete(ctx.profile_name)
    ctx.out.print(f"logged out (profile {ctx.profile_name})" if found else "not logged in")
    return EXIT_OK
