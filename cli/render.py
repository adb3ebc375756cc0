"""How results look: JSON for scripts, tables and readable lines for people."""

from __future__ import annotations

import json
import shlex
from typing import Any, Iterable, TextIO

from rich.markup import escape
from rich.table import Table

from shared.repos.models import RepoConfig
from shared.tasks.event_words import plural

STATUS_STYLE = {"COMPLETED": "green", "FAILED": "red", "TIMED_OUT": "red", "CANCELLED": "yellow",
                "RUNNING": "cyan", "FINALIZING": "cyan", "HYDRATING": "blue", "QUEUED": "magenta",
                "SUBMITTED": "blue", "active": "green", "removed": "yellow", "revoked": "yellow",
                "AWAITING_APPROVAL": "yellow"}


def print_json(out: TextIO, data: Any) -> None:
    """Exactly one JSON document on stdout (scripts parse it)."""
    out.write(json.dumps(data, indent=2, sort_keys=False) + "\n")
    out.flush()


def print_json_line(out: TextIO, data: Any) -> None:
    out.write(json.dumps(data, separators=(",", ":")) + "\n")
    out.flush()


def styled(value: str | None) -> str:
    text = escape(value or "")
    style = STATUS_STYLE.get(value or "")
    return f"[{style}]{text}[/]" if style else text


def money(value: float | None) -> str:
    return "" if value is None else f"${value:.4f}"


def short_time(ts: str | None) -> str:
    """2026-01-02T03:04:05.678Z → 2026-01-02 03:04:05"""
    return (ts or "")[:19].replace("T", " ")


def table(columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> Table:
    t = Table(*columns, box=None, header_style="bold", pad_edge=False)
    for row in rows:
        t.add_row(*["" if v is None else str(v) for v in row])
    return t


def task_title(task: dict, width: int = 50) -> str:
    text = task.get("task_description") or ""
    if task.get("issue_number"):
        text = f"#{task['issue_number']} {text}".strip()
    text = " ".join(text.split())
    return escape(text if len(text) <= width else text[: width - 1] + "…")


def tasks_table(tasks: list[dict]) -> Table:
    return table(["TASK ID", "STATUS", "REPO", "TYPE", "ENGINE", "CREATED", "COST", "TASK"],
                 [[t["task_id"], styled(t["status"]), escape(t["repo"]), task_kind(t), t.get("engine") or "",
                   short_time(t.get("created_at")), money(t.get("cost_usd")), task_title(t)] for t in tasks])


def task_kind(task: dict) -> str:
    """`new`, or the PR task's type and number: `iterate #12`, `review #12`."""
    kind = task.get("task_type") or "new_task"
    if kind == "new_task":
        return "new"
    return f"{'review' if kind == 'pr_review' else 'iterate'} #{task.get('pr_number')}"


def task_detail(task: dict) -> str:
    """A task as label / value lines."""
    tokens = task.get("tokens") or {}
    rows = [
        ("task", task["task_id"]), ("status", styled(task["status"])), ("repo", escape(task["repo"])),
        ("type", task.get("task_type") or "new_task"), ("pr", task.get("pr_number")),
        ("issue", task.get("issue_number")), ("description", escape(task.get("task_description") or "")),
        ("branch", escape(task.get("branch_name") or "")), ("model", escape(task.get("model_id") or "")),
        ("engine", task.get("engine")),
        ("warnings", "\n".join(f"[yellow]{escape(w)}[/]" for w in task.get("warnings") or [])),
        ("created", short_time(task.get("created_at"))), ("started", short_time(task.get("started_at"))),
        ("completed", short_time(task.get("completed_at"))),
        ("duration", f"{task['duration_seconds']:.1f}s" if task.get("duration_seconds") is not None else None),
        ("turns", task.get("turns")), ("cost", money(task.get("cost_usd"))),
        ("tokens", ", ".join(f"{k} {v}" for k, v in tokens.items() if v) or None),
        ("commits", task.get("commit_count")), ("pull request", task.get("pr_url")), *_test_rows(task),
        ("sandbox", "[bold red]off[/] (commands ran unsandboxed)" if task.get("sandbox") == "off" else
         task.get("sandbox")),
        ("review", task.get("review_url") and f"{task['review_url']} ({task.get('review_comment_count') or 0} "
         "inline comments)"),
        ("summary", escape(task.get("agent_summary") or "")),
        *_grade_rows(task),
    ]
    return labelled(rows + _failure_rows(task))


def labelled(rows: list[tuple[str, Any]]) -> str:
    """Label / value lines, leaving out rows without a value."""
    shown = [(label, str(value)) for label, value in rows if value not in (None, "", [], {})]
    width = max(len(label) for label, _ in shown)
    # Plain lines, not a table: a table pads every line to its longest value.
    return "\n".join(f"[bold]{label:<{width}}[/]  " + value.replace("\n", "\n" + " " * (width + 2))
                     for label, value in shown)


def repo_detail(config: RepoConfig) -> str:
    """A repository's settings as label / value lines, its MCP servers one per line."""
    servers = [f"{name}: " + escape(server.url or shlex.join([server.command or "", *server.args]))
               + (f" ({server.type})" if server.type != "stdio" else "") for name, server in config.mcp_servers.items()]
    return labelled([
        ("repo", config.repo), ("status", styled(config.status)),
        ("source", escape(config.local_path or "") if config.git_host == "local" else "github"),
        ("model", config.model_id), ("engine", config.engine or "the platform's"),
        ("mcp servers", "\n".join(servers)), ("turns", config.max_turns), ("budget", money(config.max_budget_usd)),
        ("compute", config.compute_type), ("setup command", escape(config.setup_command or "")),
        ("test command", escape(config.test_command or "")), ("egress", config.egress),
        ("egress allow", ", ".join(config.egress_allowlist)), ("approve push", "yes" if config.approve_push else None),
        ("approval rules", ", ".join(rule.name for rule in config.approval_rules)), ("pr tasks", config.pr_tasks),
    ])


def tests_failed(task: dict) -> str:
    """'failed (exit 1)', loudly; older tasks recorded no exit code."""
    code = task.get("test_exit_code")
    return "[red bold]failed[/]" + (f" (exit {code})" if code is not None else "")


def _test_rows(task: dict) -> list[tuple[str, Any]]:
    tests = task.get("tests")
    if tests == "failed":
        return [("tests", tests_failed(task)),
                ("test output", escape(task.get("test_output_tail") or ""))]
    return [("tests", {"passed": "[green]passed[/]", "not_run": "not run"}.get(tests or "", None))]


def _grade_rows(task: dict) -> list[tuple[str, Any]]:
    """An evaluation attempt's grade by the hidden tests, and where its diff is kept."""
    if not task.get("eval_id") and task.get("reward") is None:
        return []
    grade = task.get("grade")
    shown = {"passed": "[green]passed[/]", "failed": "[red bold]failed[/]",
             "grader_error": "[yellow]grader error[/]"}.get(grade or "", "not graded")
    counts = (f" · {task.get('tests_passed')} passed, {task.get('tests_failed')} failed"
              if task.get("tests_passed") is not None else "")
    return [("attempt", task.get("eval_id") and f"{escape(task['eval_id'])} · case "
             f"{escape(str(task.get('case_id')))} · #{task.get('attempt')}"),
            ("grade", f"{shown} · reward {task.get('reward')}{counts}" if task.get("reward") is not None else None),
            ("grade error", escape(task.get("grade_error") or "")),
            ("grade output", escape(task.get("grade_output_tail") or "") if grade == "failed" else None),
            ("diff", escape(task.get("diff_key") or ""))]


def _failure_rows(task: dict) -> list[tuple[str, Any]]:
    if not task.get("error_message") and not task.get("error_code"):
        return []
    cls = task.get("error_classification") or {}
    return [("error", f"[red]{escape(task.get('error_code') or '')}[/] {escape(task.get('error_message') or '')}"),
            ("why", escape(cls.get("title") or "")), ("remedy", escape(cls.get("remedy") or ""))]


def outcome_line(task: dict) -> str:
    """One line saying how a finished task ended."""
    status = task["status"]
    parts = [styled(status)]
    if task.get("duration_seconds") is not None:
        parts.append(f"in {task['duration_seconds']:.1f}s")
    if task.get("turns") is not None:
        parts.append(plural(task["turns"], "turn"))
    if task.get("cost_usd") is not None:
        parts.append(money(task["cost_usd"]))
    if task.get("pr_url"):
        parts.append(f"PR {task['pr_url']}")
    if task.get("tests") == "failed":
        parts.append(f"tests {tests_failed(task)}")
    elif task.get("tests") == "passed":
        parts.append("tests passed")
    line = " · ".join(parts)
    if status in ("FAILED", "TIMED_OUT"):
        cls = task.get("error_classification") or {}
        line += f"\n  {escape(task.get('error_message') or task.get('error_code') or 'no error message')}"
        if cls.get("remedy"):
            line += f"\n  remedy: {escape(cls['remedy'])}"
    return line

