"""Evaluation commands: run a dataset, follow, show, cancel, export rollouts, compare two runs with a gate."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Callable, TextIO

from rich.console import Group
from rich.markup import escape

from cli.api import ApiClient, collect
from cli.commands import eval_mine
from cli.commands.arguments import field_type, float_range, int_range, json_flag
from cli.context import Context
from cli.datasets import read_dataset
from cli.errors import EXIT_GATE, EXIT_OK, EXIT_TASK_FAILED, UsageError
from cli.eval_render import cases_table, comparison, comparison_json, run_status, run_summary, runs_table
from shared.engines import ENGINES
from shared.evals.stats import GATE_RULE, RunResults, compare, gate
from shared.tasks.fields import MaxBudgetUsd, MaxTurns, bounds


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("eval", help="measure the agent: runs of a dataset graded by hidden tests").add_subparsers(
        dest="eval_command", required=True, metavar="COMMAND")

    p = group.add_parser("run", help="start an evaluation run of a dataset",
                         description="Start a run: each case is attempted --attempts times as an ordinary task of "
                                     "yours (no pull request, no push), then graded by its hidden tests. FILE is "
                                     "JSONL (one case a line) or a JSON list; every case is checked here first.")
    p.add_argument("file", metavar="FILE", help="the dataset")
    p.add_argument("--name", help="a label for the run (default: the file's name)")
    p.add_argument("--engine", choices=ENGINES, help="what drives the agent (oracle: apply each case's gold_patch)")
    p.add_argument("--model", metavar="MODEL_ID", help="the model of every attempt")
    p.add_argument("--model-endpoint", metavar="NAME", help="a registered model endpoint for the model calls")
    p.add_argument("--attempts", type=int_range(1, 10), metavar="K", help="attempts per case, 1-10 (default 1): pass@K")
    p.add_argument("--concurrency", type=int_range(1, 64), metavar="N", help="attempts at once, 1-64 (default 4)")
    p.add_argument("--rate", type=float_range(0.01, 50), metavar="PER_S", help="attempts started per second at most")
    p.add_argument("--max-cost-usd", type=float_range(0.0, 1_000_000), metavar="USD",
                   help="stop starting attempts once the run has spent this much")
    p.add_argument("--max-turns", type=field_type(MaxTurns), metavar="N",
                   help="model turns per attempt ({}-{})".format(*bounds(MaxTurns)))
    p.add_argument("--max-budget-usd", type=field_type(MaxBudgetUsd), metavar="USD",
                   help="spend per attempt ({}-{})".format(*bounds(MaxBudgetUsd)))
    p.add_argument("--wait", action="store_true", help="follow the run to its end and print the results; "
                                                       "exit 5 if it was cancelled")
    p.add_argument("--interval", type=float_range(0.05, 60), default=2.0, help=argparse.SUPPRESS)
    json_flag(p)
    p.set_defaults(func=run)

    p = group.add_parser("list", help="list your evaluation runs")
    json_flag(p)
    p.set_defaults(func=list_runs)

    p = group.add_parser("show", help="a run's results: pass@1, pass@k, cost per solved case, each case")
    p.add_argument("eval_id", metavar="EVAL_ID")
    json_flag(p)
    p.set_defaults(func=show)

    p = group.add_parser("cancel", help="cancel what is still running in a run (finished attempts are kept)")
    p.add_argument("eval_id", metavar="EVAL_ID")
    json_flag(p)
    p.set_defaults(func=cancel)

    p = group.add_parser("rollouts", help="export a run's rollouts for training (NDJSON, one attempt a line)")
    p.add_argument("eval_id", metavar="EVAL_ID")
    p.add_argument("--format", choices=("anthropic", "openai"), default="anthropic",
                   help="message format (default anthropic; openai: chat messages with tool_calls)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(func=rollouts)

    p = group.add_parser("compare", help="compare run B with run A case by case; --gate fails on a regression",
                         description="Flips (cases solved in one run only), Δpass@1 = B - A with a 95 %% paired "
                                     "bootstrap interval over the cases graded in both runs, McNemar's exact p over "
                                     "the flips, and the cost per solved case of each.",
                         epilog=f"--gate POINTS: {GATE_RULE}. The command then exits 6 and says why; no case "
                                "graded in both runs fails the gate too.")
    p.add_argument("a", metavar="A", help="the reference run's id")
    p.add_argument("b", metavar="B", help="the candidate run's id")
    p.add_argument("--gate", type=float_range(0, 100), metavar="POINTS",
                   help="exit 6 when B is significantly worse than A by more than POINTS percentage points")
    json_flag(p)
    p.set_defaults(func=compare_runs)

    eval_mine.register(group)


def run(ctx: Context, args: argparse.Namespace) -> int:
    cases = read_dataset(args.file)
    body = {"name": args.name or Path(args.file).stem[:200], "engine": args.engine, "model_id": args.model,
            "model_endpoint": args.model_endpoint,
            "attempts": args.attempts, "concurrency": args.concurrency, "rate_per_s": args.rate,
            "max_cost_usd": args.max_cost_usd, "max_turns": args.max_turns, "max_budget_usd": args.max_budget_usd}
    body = {k: v for k, v in body.items() if v is not None}
    body["cases"] = [c.model_dump(exclude_none=True) for c in cases]
    created = ctx.api().create_eval(body)
    human = ctx.err if args.json else ctx.out
    human.print(f"started [bold]{created['eval_id']}[/] {run_status(created.get('status'))}: "
                f"{created.get('case_count', len(cases))} case(s) × {created.get('attempts', 1)} attempt(s)")
    if not args.wait:
        if args.json:
            ctx.show(True, created, lambda: "")
        else:
            human.print(f"results: bgagent eval show {created['eval_id']}")
        return EXIT_OK
    try:
        view = wait_for_run(ctx.api(), created["eval_id"], lambda line: human.print(f"[dim]{line}[/]"),
                            interval=args.interval)
    except KeyboardInterrupt:
        ctx.err.print(f"stopped watching; the run keeps going (bgagent eval cancel {created['eval_id']} stops it)")
        raise
    ctx.show(args.json, view, lambda: _detail(view))
    return EXIT_OK if view.get("status") == "completed" else EXIT_TASK_FAILED


def wait_for_run(api: ApiClient, eval_id: str, note: Callable[[str], None], *, interval: float,
                 sleep: Callable[[float], None] = time.sleep) -> dict:
    """Read the run until it is no longer running, saying how many attempts have ended when that changes.

    While it runs, only its counters and results are read (one case); the run is read whole once it has ended.
    """
    said = ""
    while True:
        view = api.get_eval(eval_id, cases=False)
        total = (view.get("case_count") or 0) * (view.get("attempts") or 1)
        solved = (view.get("results") or {}).get("solved", 0)
        progress = f"{view.get('counted', 0)} of {total} attempt(s) finished, {solved} solved"
        if progress != said:
            note(progress)
            said = progress
        if view.get("status") != "running":
            return api.get_eval(eval_id)
        sleep(interval)


def _detail(view: dict) -> Group:
    return Group(run_summary(view), "", cases_table(view.get("cases") or []))


def list_runs(ctx: Context, args: argparse.Namespace) -> int:
    runs, _ = collect(ctx.api().list_evals)
    if args.json:
        ctx.show(True, runs, lambda: "")
    elif not runs:
        ctx.out.print("no evaluation runs")
    else:
        ctx.out.print(runs_table(runs))
    return EXIT_OK


def show(ctx: Context, args: argparse.Namespace) -> int:
    view = ctx.api().get_eval(args.eval_id)
    ctx.show(args.json, view, lambda: _detail(view))
    return EXIT_OK


def cancel(ctx: Context, args: argparse.Namespace) -> int:
    view = ctx.api().cancel_eval(args.eval_id)
    ctx.show(args.json, view, lambda: f"{view['eval_id']} {run_status(view.get('status'))}: finished attempts "
                                      f"and their results are kept")
    return EXIT_OK


def rollouts(ctx: Context, args: argparse.Namespace) -> int:
    fmt = None if args.format == "anthropic" else args.format
    if not args.output:
        count = _copy_rollouts(ctx.api(), args.eval_id, fmt, ctx.stdout)
    else:  # written beside, then renamed: a failed download never leaves a partial file under the name asked for
        target = Path(args.output)
        partial = target.with_name(f".{target.name}.partial")
        try:
            with open(partial, "w") as out:
                count = _copy_rollouts(ctx.api(), args.eval_id, fmt, out)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    where = f" to {escape(args.output)}" if args.output else ""
    ctx.err.print(f"{count} rollout(s){where}")
    return EXIT_OK


def _copy_rollouts(api: ApiClient, eval_id: str, fmt: str | None, out: TextIO) -> int:
    """Each line of the run's NDJSON rollouts as it arrives; how many there were."""
    count = 0
    with api.open_rollouts(eval_id, format=fmt) as resp:
        for line in resp.iter_lines():
            if line.strip():
                out.write(line + "\n")
                count += 1
    out.flush()
    return count


def compare_runs(ctx: Context, args: argparse.Namespace) -> int:
    if args.a == args.b:
        raise UsageError("compare two different runs")
    api = ctx.api()
    views = api.get_eval(args.a), api.get_eval(args.b)
    for label, view in zip("AB", views, strict=True):
        if view.get("status") == "running":
            ctx.err.print(f"[yellow]note:[/] run {label} ({escape(view['eval_id'])}) is still running: the comparison "
                          "covers the attempts finished so far")
    result = compare(RunResults.of_view(views[0]), RunResults.of_view(views[1]))
    verdict = gate(result, args.gate) if args.gate is not None else None
    ctx.show(args.json, comparison_json(result, verdict, args.gate), lambda: comparison(result, verdict))
    if verdict is not None and not verdict.passed:
        if args.json:
            ctx.err.print(f"gate {escape(verdict.reason)}")
        return EXIT_GATE
    return EXIT_OK

