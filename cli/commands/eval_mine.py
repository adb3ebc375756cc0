"""`bgagent eval mine`: cases from a repository's own history, each validated in the sandbox through an oracle run."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import tempfile
from pathlib import Path

from rich.markup import escape

from cli.commands.arguments import float_range, int_range, json_flag, repo_name
from cli.context import Context
from cli.datasets import write_dataset
from cli.errors import EXIT_FAILURE, EXIT_OK, CliError, UsageError
from cli.gitrepo import git_repository
from cli.mining import DEFAULT_TEST_PATTERNS, History, Rejected, mine_history
from cli.operator import get_repo
from cli.render import print_json, table
from shared.evals.cases import EvalCase
from shared.repos.models import RepoConfig

GOLD, BASE = ":gold", ":base"  # the two validation cases of a candidate: with its fix, and with nothing applied


def register(group: argparse._SubParsersAction) -> None:
    p = group.add_parser(
        "mine", help="make cases from a repository's history (commits changing tests and code), validated",
        description="Walk the default branch's first-parent history. A commit (or a merge: its pull request) that "
                    "changes both test files and other files becomes a candidate: base = its parent, test_patch = "
                    "the test part, gold_patch = the rest, task = its message without the test paths. Each "
                    "candidate is then run through the platform with the oracle engine: its hidden tests must pass "
                    "with gold_patch and fail with nothing applied. Only those are written to --out.")
    p.add_argument("repo", type=repo_name, metavar="OWNER/NAME", help="the onboarded repository the cases run on")
    p.add_argument("--out", required=True, metavar="FILE", help="where to write the validated cases (JSONL)")
    p.add_argument("--max", type=int_range(1, 1000), default=20, metavar="N", help="candidates at most (default 20)")
    p.add_argument("--test-pattern", action="append", metavar="GLOB", dest="test_patterns",
                   help="a test file: a name glob, or a path glob when it has a slash (** spans directories); "
                        f"repeatable; default {' '.join(DEFAULT_TEST_PATTERNS)}")
    p.add_argument("--from", dest="source", metavar="PATH", help="a local clone to read the history from "
                   "(default: the repository's local path when it is hosted locally, else a clone of its URL)")
    p.add_argument("--branch", metavar="REF", default="HEAD", help="the branch to walk (default: the clone's HEAD)")
    p.add_argument("--test-command", metavar="CMD", help="the cases' test command (default: the repository's)")
    p.add_argument("--concurrency", type=int_range(1, 64), metavar="N", help="validation attempts at once")
    p.add_argument("--interval", type=float_range(0.05, 60), default=2.0, help=argparse.SUPPRESS)
    json_flag(p)
    p.set_defaults(func=mine)


def _repo_config(ctx: Context, repo: str) -> RepoConfig | None:
    """The repository's settings when this user may read them (an operator); None otherwise."""
    try:
        return asyncio.run(get_repo(ctx.operator_target(), repo))
    except CliError:
        return None


def _clone(repo: str, into: Path) -> Path:
    url = f"https://github.com/{repo}.git"
    done = subprocess.run(["git", "clone", "--bare", "--quiet", url, str(into)], capture_output=True, text=True,
                          timeout=900, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise CliError(f"could not clone {url}: {done.stderr.strip()[-300:]}", hint="give a local clone with --from")
    return into


def _not_graded(attempt: dict | None, side: str) -> str | None:
    """Why an attempt gave no grade to judge by (None: it was graded)."""
    if attempt is None or attempt.get("status") not in ("COMPLETED", "FAILED", "TIMED_OUT"):
        return f"not graded ({side}): the attempt did not finish"
    why = attempt.get("grade_error") or attempt.get("error_message") or attempt.get("classification")
    if attempt.get("grade") == "grader_error" or attempt.get("status") != "COMPLETED":
        return f"patch does not apply ({side})" + (f": {why}" if why else "")
    return None if attempt.get("reward") in (0, 1) else f"not graded ({side})"


def verdict(gold: dict | None, base: dict | None) -> str | None:
    """Why a candidate is rejected from its two oracle attempts (None: it is a valid case)."""
    problem = _not_graded(gold, "with the gold patch") or _not_graded(base, "at base")
    if problem or gold is None or base is None:
        return problem
    if base["reward"] == 1:
        return "tests pass at base"
    if gold["reward"] == 0:
        return "tests fail with the gold patch"
    return None


def _first_attempts(view: dict) -> dict[str, dict]:
    return {str(c["case_id"]): min(c.get("attempts") or [{}], key=lambda a: a.get("attempt") or 0)
            for c in view.get("cases") or []}


def validate(ctx: Context, args: argparse.Namespace, cases: list[EvalCase]) -> tuple[list[EvalCase], list[Rejected]]:
    """One oracle run: each candidate with its gold patch (must pass) and with nothing applied (must fail)."""
    from cli.commands.evals import wait_for_run

    runs = [c.model_copy(update={"id": c.id + GOLD}) for c in cases]
    runs += [c.model_copy(update={"id": c.id + BASE, "gold_patch": ""}) for c in cases]
    body = {"name": f"validate mined cases of {args.repo}", "engine": "oracle",
            "cases": [c.model_dump(exclude_none=True) for c in runs],
            **({"concurrency": args.concurrency} if args.concurrency else {})}
    api = ctx.api()
    created = api.create_eval(body)
    ctx.err.print(f"validating {len(cases)} candidate(s) in the sandbox: oracle run {created['eval_id']}")
    view = wait_for_run(api, created["eval_id"], lambda line: ctx.err.print(f"[dim]{line}[/]"), interval=args.interval)
    attempts = _first_attempts(view)
    valid, rejected = [], []
    for case in cases:
        reason = verdict(attempts.get(case.id + GOLD), attempts.get(case.id + BASE))
        if reason is None:
            valid.append(case)
        else:
            rejected.append(Rejected(case.id, case.task.splitlines()[0][:80], reason))
    return valid, rejected


def mine(ctx: Context, args: argparse.Namespace) -> int:
    config = None if args.source and args.test_command else _repo_config(ctx, args.repo)
    test_command = args.test_command or (config.test_command if config else None)
    if not test_command:
        raise UsageError(f"no test command for {args.repo}",
                         hint="give --test-command CMD (or an operator sets the repository's test command)")
    with tempfile.TemporaryDirectory(prefix="bgagent-mine-") as tmp:
        if args.source:
            where = git_repository(args.source, ctx.environ)
        elif config is not None and config.git_host == "local" and config.local_path:
            where = Path(config.local_path)
        else:
            where = _clone(args.repo, Path(tmp) / "clone.git")
        cases, rejected = mine_history(History(where, ctx.environ), repo=args.repo, ref=args.branch,
                                       test_command=test_command, patterns=tuple(args.test_patterns or
                                                                                 DEFAULT_TEST_PATTERNS),
                                       limit=args.max, setup_command=config.setup_command if config else None)
    if cases:
        valid, refused = validate(ctx, args, cases)
        rejected += refused
    else:
        valid = []
    write_dataset(Path(args.out), valid)
    if args.json:
        print_json(ctx.stdout, {"written": len(valid), "out": args.out, "cases": [c.id for c in valid],
                                "rejected": [r.__dict__ for r in rejected]})
    else:
        ctx.out.print(f"{len(valid)} case(s) written to {escape(args.out)}; {len(rejected)} commit(s) rejected")
        if rejected:
            ctx.out.print(table(["COMMIT", "REASON", "SUBJECT"],
                                [[r.commit[:12], escape(r.reason), escape(r.subject[:70])] for r in rejected]))
    return EXIT_OK if valid else EXIT_FAILURE
