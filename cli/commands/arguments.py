"""Argument types and shared options for the command parsers."""

from __future__ import annotations

import argparse
from typing import Any, Callable

from shared.engines import TASK_ENGINES
from shared.repos.models import valid_repo_name
from shared.tasks.fields import MaxBudgetUsd, MaxTurns, bounds


def _in_range(convert: Callable[[str], Any], noun: str, low: float, high: float) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {noun}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value
    return parse


def int_range(low: int, high: int) -> Callable[[str], int]:
    return _in_range(int, "a whole number", low, high)


def float_range(low: float, high: float) -> Callable[[str], float]:
    return _in_range(float, "a number", low, high)


# Issue and pull request numbers have no declared ceiling; a range check needs one.
_CEILING = 10**9


def field_type(field: Any) -> Callable[[str], Any]:
    """argparse type of a task field of shared/tasks/fields.py, with its limits."""
    low, high = bounds(field)
    if field.__origin__ is float:
        return float_range(low, high)
    return int_range(low, _CEILING if high is None else high)


def limit_options(parser: argparse.ArgumentParser) -> None:
    """--max-turns and --max-budget: what a task, a schedule's tasks or a repository's tasks may spend."""
    parser.add_argument("--max-turns", type=field_type(MaxTurns), metavar="N",
                        help="model turns at most ({}-{})".format(*bounds(MaxTurns)))
    parser.add_argument("--max-budget", type=field_type(MaxBudgetUsd), metavar="USD",
                        help="spend at most ({}-{})".format(*bounds(MaxBudgetUsd)))


def engine_option(parser: argparse.ArgumentParser, whose: str) -> None:
    """--engine: the agent that does the work of a task, a schedule's tasks or a repository's tasks."""
    parser.add_argument("--engine", choices=TASK_ENGINES,
                        help=f"the agent engine {whose}: native (bgagent's own loop) or claude-code (Claude Code, "
                             "contained the same way; needs the claude-code extra)")


def repo_name(text: str) -> str:
    if not valid_repo_name(text):
        raise argparse.ArgumentTypeError(f"{text!r} does not look like OWNER/NAME")
    return text


def json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for scripts instead of a table")
