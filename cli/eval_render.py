"""How evaluation runs and their comparison look in a terminal."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from cli.render import money, short_time, styled, table
from shared.evals.display import MARKS, attempt_kind, outcomes, total
from shared.evals.stats import GATE_RULE, Comparison, Verdict

RUN_STYLE = {"running": "cyan", "completed": "green", "cancelled": "yellow"}


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}s"


def run_status(status: str | None) -> str:
    style = RUN_STYLE.get(status or "")
    return f"[{style}]{escape(status or '')}[/]" if style else escape(status or "")


def finished(run: dict) -> str:
    """Attempts counted of all the run will make: `7/20`."""
    return f"{run.get('counted', 0)}/{(run.get('case_count') or 0) * (run.get('attempts') or 1)}"


def runs_table(runs: list[dict]) -> Table:
    """A listing shows each run's progress and cost; its pass rates are on `eval show`."""
    return table(["EVAL ID", "NAME", "STATUS", "ENGINE", "CASES", "K", "FINISHED", "COST", "CREATED"],
                 [[r["eval_id"], escape(r.get("name") or ""), run_status(r.get("status")),
                   escape(r.get("engine") or ""), r.get("case_count"), r.get("attempts"), finished(r),
                   money(r.get("cost_usd")), short_time(r.get("created_at"))] for r in runs])


_MARK_STYLE = {"passed": "green", "failed": "red", "grader-error": "yellow", "pending": "dim"}


def _attempt_mark(a: dict) -> str:
    kind = attempt_kind(a)
    return f"[{_MARK_STYLE[kind]}]{MARKS[kind]}[/]"


def cases_table(cases: list[dict]) -> Table:
    rows = []
    for c in cases:
        attempts = sorted(c.get("attempts") or [], key=lambda a: a.get("attempt") or 0)
        turns = total(attempts, "turns")
        rows.append([escape(str(c["case_id"])), " ".join(_attempt_mark(a) for a in attempts),
                     money(total(attempts, "cost_usd")), "" if turns is None else int(turns),
                     seconds(total(attempts, "duration_s")), " ".join(styled(s) for s in outcomes(attempts))])
    return table(["CASE", "ATTEMPTS", "COST", "TURNS", "TIME", "OUTCOMES"], rows)


def run_summary(run: dict) -> str:
    """The run's figures as label / value lines."""
    r: dict[str, Any] = run.get("results") or {}
    k = run.get("attempts") or 1
    by_class = r.get("by_classification") or {}
    rows = [("run", f"[bold]{run['eval_id']}[/] {escape(run.get('name') or '')} · {run_status(run.get('status'))}"),
            ("engine", escape(" · ".join(str(run[f]) for f in ("engine", "model_id") if run.get(f)))),
            ("cases", f"{run.get('case_count', len(run.get('cases') or []))} × {k} attempt(s)"),
            ("stopped", escape(str(run.get("stopped_reason") or ""))),
            ("pass@1", percent(r.get("pass_at_1"))),
            (f"pass@{k}", percent(r.get("pass_at_k")) if k > 1 else ""),
            ("solved", f"{r.get('solved', 0)} case(s)"),
            ("cost", f"{money(r.get('cost_usd')) or '$0'} · per solved case "
                     f"{money(r.get('cost_per_solved_usd')) or '–'}"),
            ("duration", f"p50 {seconds(r.get('duration_p50_s'))} · p95 {seconds(r.get('duration_p95_s'))}"),
            ("outcomes", ", ".join(f"{escape(str(name))} {count}" for name, count in sorted(by_class.items())))]
    shown = [(label, value) for label, value in rows if value]
    width = max(len(label) for label, _ in shown)
    return "\n".join(f"[bold]{label:<{width}}[/]  {value}" for label, value in shown)


def _run_label(name: str, eval_id: str) -> str:
    return escape(f"{name} ({eval_id})" if name else eval_id)


def comparison(c: Comparison, verdict: Verdict | None) -> str:
    low, high = c.interval
    lines = [f"[bold]A[/] {_run_label(c.a.name, c.a.eval_id)}", f"[bold]B[/] {_run_label(c.b.name, c.b.eval_id)}",
             f"cases compared  {c.paired}" + (f" ({len(c.unpaired)} graded in one run only, left out)"
                                               if c.unpaired else ""),
             f"pass@1          A {percent(c.pass_at_1_a)} → B {percent(c.pass_at_1_b)}",
             f"Δpass@1         {c.delta * 100:+.1f} points, 95 % interval {low * 100:+.1f} to {high * 100:+.1f}"
             " (paired bootstrap over cases)",
             f"McNemar         p = {c.mcnemar_p:.3g} over {len(c.only_a) + len(c.only_b)} discordant case(s)",
             f"cost per solved A {money(c.a.cost_per_solved_usd) or '–'} → B {money(c.b.cost_per_solved_usd) or '–'}",
             f"solved in A only ({len(c.only_a)}): {escape(', '.join(c.only_a)) or '–'}",
             f"solved in B only ({len(c.only_b)}): {escape(', '.join(c.only_b)) or '–'}"]
    if verdict is not None:
        colour = "green" if verdict.passed else "red bold"
        lines.append(f"[{colour}]gate {escape(verdict.reason)}[/]")
    return "\n".join(lines)


def comparison_json(c: Comparison, verdict: Verdict | None, points: float | None) -> dict:
    return {"a": c.a.eval_id, "b": c.b.eval_id, "cases_compared": c.paired, "left_out": list(c.unpaired),
            "solved_in_a_only": list(c.only_a), "solved_in_b_only": list(c.only_b),
            "pass_at_1_a": c.pass_at_1_a, "pass_at_1_b": c.pass_at_1_b, "delta_pass_at_1": c.delta,
            "interval_95": list(c.interval), "mcnemar_p": c.mcnemar_p,
            "cost_per_solved_usd_a": c.a.cost_per_solved_usd, "cost_per_solved_usd_b": c.b.cost_per_solved_usd,
            **({"gate": {"points": points, "passed": verdict.passed, "reason": verdict.reason, "rule": GATE_RULE}}
               if verdict is not None else {})}
