"""Operator commands on the Repos table: repo onboard, list, show, offboard."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import get_args

from pydantic import ValidationError

from cli.commands.arguments import engine_option, int_range, json_flag, limit_options, repo_name
from cli.context import Context
from cli.engines import check_repo_engine
from cli.errors import EXIT_OK, CliError, UsageError
from cli.gitrepo import git_repository
from cli.mcp import mcp_servers
from cli.models import check_repo_model, model_price
from cli.operator import get_repo, list_repos, offboard_repo, onboard_repo
from cli.render import money, print_json, repo_detail, styled, table
from shared.llm.catalog import DEFAULT_MODEL_ID
from shared.repos.models import PrTasks
from shared.steering.models import ApprovalRule


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("repo", help="operator: onboard repositories (writes the Repos table)").add_subparsers(
        dest="repo_command", required=True, metavar="COMMAND")

    p = group.add_parser("onboard", help="register a repository, or change its settings",
                         description="Create or update a repository's row. Options not given keep their "
                                     "current value; an empty string (--model '') clears an override.")
    p.add_argument("repo", type=repo_name, metavar="OWNER/NAME")
    p.add_argument("--model", metavar="MODEL_ID",
                   help=f"default model of the repo's tasks (platform default: {DEFAULT_MODEL_ID}); refused "
                        "when past its end of life or priced by nobody")
    p.add_argument("--model-price", type=model_price, metavar="INPUT,OUTPUT",
                   help="price of --model in dollars per million tokens, for a model the catalog lacks")
    limit_options(p)
    engine_option(p, "of the repo's tasks that name none (default: the platform's, native unless the operator "
                     "set one); refused when this deployment does not have it")
    p.add_argument("--mcp", action="append", metavar="NAME=COMMAND", dest="mcp",
                   help="an MCP server for the repo's claude-code tasks, run inside the task's sandbox: the command "
                        "and its arguments, split like a shell's (--mcp 'docs=docs-server --stdio'); no credentials "
                        "reach it; repeatable, replaces the repo's servers; '' clears")
    p.add_argument("--mcp-file", metavar="FILE",
                   help="MCP servers as a JSON object, name → {type: stdio|http|sse, command, args, env, url}; "
                        "replaces the repo's servers (with --mcp: both)")
    p.add_argument("--setup-command", metavar="CMD", help="run in the clone before the agent starts")
    p.add_argument("--test-command", metavar="CMD", help="run after the agent's changes, e.g. 'pytest -q'")
    p.add_argument("--system-prompt-file", metavar="FILE", help="extra system prompt text for this repo")
    p.add_argument("--compute-type", choices=["process", "ecs"], help="where the agent runs")
    p.add_argument("--github-token-secret", metavar="NAME_OR_ARN", help="Secrets Manager secret of the repo's token")
    p.add_argument("--path", metavar="DIR", help="a local git repository (bare or not) instead of GitHub")
    p.add_argument("--readonly-path", action="append", metavar="DIR",
                   help="an absolute path the sandbox shows read-only (a toolchain); repeat; '' clears")
    p.add_argument("--egress", choices=["deny", "ask"],
                   help="a host outside the allowlist: refused (deny, default), or refused and asked about (ask: "
                        "once you approve, the task may reach it)")
    p.add_argument("--egress-allow", action="append", metavar="HOST[:PORT]",
                   help="a host the sandboxed commands may reach on ports 80 and 443 (pypi.org, *.pythonhosted.org), "
                        "or HOST:PORT for another port (registry.local:8443); repeat; '' clears")
    p.add_argument("--approval-rule", action="append", metavar="NAME[@WHERE]=REGEX", dest="approval_rules",
                   help="text matching REGEX (searched anywhere) waits for the task owner's approval; WHERE is a "
                        "comma-separated list of bash (default), editor, setup, test; a check on text, not a "
                        "boundary; repeatable, replaces the repo's rules")
    p.add_argument("--approve-push", action=argparse.BooleanOptionalAction, default=None,
                   help="the agent's push and pull request wait for the task owner's approval")
    p.add_argument("--approval-timeout", type=int_range(1, 7 * 24 * 3600), default=1800, metavar="SECONDS",
                   help="undecided requests of the rules given are denied after this long (default 1800)")
    p.add_argument("--clear-approval-rules", action="store_true", help="remove the repo's approval rules")
    p.add_argument("--pr-tasks", choices=get_args(PrTasks),
                   help="who may iterate on or review the repo's pull requests through the API, CLI, panel, "
                        "schedules and webhooks: owner (default: only the user whose task opened the PR) or any_user")
    json_flag(p)
    p.set_defaults(func=onboard)

    p = group.add_parser("list", help="list repositories and their settings")
    p.add_argument("--active", action="store_true", help="leave out removed repositories")
    json_flag(p)
    p.set_defaults(func=list_)

    p = group.add_parser("show", help="one repository's settings, its engine and MCP servers included")
    p.add_argument("repo", type=repo_name, metavar="OWNER/NAME")
    json_flag(p)
    p.set_defaults(func=show)

    p = group.add_parser("offboard", help="stop accepting tasks for a repository (status removed)")
    p.add_argument("repo", type=repo_name, metavar="OWNER/NAME")
    json_flag(p)
    p.set_defaults(func=offboard)


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc


def _model_overrides(ctx: Context, args: argparse.Namespace) -> dict[str, object]:
    """The checked model and its price, if given; warnings (near end of life) go to stderr."""
    if args.model_price is not None and not args.model:
        raise UsageError("--model-price prices the model given with --model")
    if not args.model:
        return {}
    prices = {args.model: args.model_price} if args.model_price else {}
    for warning in check_repo_model(args.model, prices, ctx.environ):
        ctx.err.print(f"[yellow]warning:[/] {warning}")
    return {"model_prices": {m: p.model_dump() for m, p in prices.items()}} if prices else {}


def _approval_rules(specs: list[str], timeout_s: int) -> list[dict]:
    rules = []
    for spec in specs:
        head, sep, pattern = spec.partition("=")
        name, at, where = head.partition("@")
        if not sep or not name or not pattern or (at and not where):
            raise UsageError(f"--approval-rule takes NAME=REGEX or NAME@bash,editor,setup,test=REGEX, not {spec!r}")
        applies = {"applies_to": where.split(",")} if at else {}
        try:
            rules.append(ApprovalRule(name=name, pattern=pattern, timeout_s=timeout_s, **applies).model_dump())
        except ValidationError as exc:
            raise UsageError(f"approval rule {name!r}: {exc.errors()[0]['msg']}") from exc
    return rules


def onboard(ctx: Context, args: argparse.Namespace) -> int:
    overrides: dict[str, object] = {
        **_model_overrides(ctx, args),
        "model_id": args.model, "max_turns": args.max_turns, "max_budget_usd": args.max_budget,
        "setup_command": args.setup_command, "test_command": args.test_command,
        "compute_type": args.compute_type, "github_token_secret": args.github_token_secret, "pr_tasks": args.pr_tasks,
        "egress": args.egress, "approve_push": args.approve_push, "engine": args.engine,
        "mcp_servers": mcp_servers(args.mcp, args.mcp_file),
        "system_prompt_overrides": _read(args.system_prompt_file) if args.system_prompt_file else None,
    }
    for option, field in ((args.egress_allow, "egress_allowlist"), (args.readonly_path, "sandbox_readonly_paths")):
        if option is not None:
            overrides[field] = [value for value in option if value]
    if args.approval_rules or args.clear_approval_rules:
        overrides["approval_rules"] = _approval_rules(args.approval_rules or [], args.approval_timeout)
    if args.path is not None:
        overrides.update(git_host="local", local_path=str(git_repository(args.path, ctx.environ)))
    if args.engine:
        check_repo_engine(args.engine, ctx.environ)
    target = ctx.operator_target()
    config = asyncio.run(onboard_repo(target, args.repo, **overrides))
    if args.json:
        print_json(ctx.stdout, config.model_dump(mode="json"))
    else:
        where = f" from {config.local_path}" if config.git_host == "local" else ""
        ctx.out.print(f"[green]onboarded[/] {config.repo}{where} ({target.describe()})")
    return EXIT_OK


def list_(ctx: Context, args: argparse.Namespace) -> int:
    rows = asyncio.run(list_repos(ctx.operator_target()))
    rows = [r for r in rows if r.active] if args.active else rows
    if args.json:
        print_json(ctx.stdout, [r.model_dump(mode="json") for r in rows])
    elif not rows:
        ctx.out.print("no repositories")
    else:
        ctx.out.print(table(
            ["REPO", "STATUS", "SOURCE", "MODEL", "ENGINE", "TURNS", "BUDGET", "COMPUTE", "TEST COMMAND"],
            [[r.repo, styled(r.status), r.local_path if r.git_host == "local" else "github", r.model_id, r.engine,
              r.max_turns, money(r.max_budget_usd), r.compute_type, r.test_command] for r in rows]))
    return EXIT_OK


def show(ctx: Context, args: argparse.Namespace) -> int:
    config = asyncio.run(get_repo(ctx.operator_target(), args.repo))
    if config is None:
        raise CliError(f"{args.repo} is not onboarded", hint="`bgagent repo list` shows the repositories")
    ctx.show(args.json, config.model_dump(mode="json"), lambda: repo_detail(config))
    return EXIT_OK


def offboard(ctx: Context, args: argparse.Namespace) -> int:
    config = asyncio.run(offboard_repo(ctx.operator_target(), args.repo))
    if config is None:
        raise CliError(f"{args.repo} is not onboarded", hint="`bgagent repo list` shows the repositories")
    ctx.show(args.json, config.model_dump(mode="json"),
             lambda: f"{config.repo} {styled(config.status)}: new tasks on it are refused")
    return EXIT_OK
