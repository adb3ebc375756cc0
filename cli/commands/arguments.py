"""Argument types and shared options for the command parsers."""

from __future__ import annotations

import argparse
from typing import Any, Callable

from shared.repos.models import valid_repo_name


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


def repo_name(text: str) -> str:
    if not valid_repo_name(text):
        raise argparse.ArgumentTypeError(f"{text!r} does not look like OWNER/NAME")
    return text


def json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for scripts instead of a table")
