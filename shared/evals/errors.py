"""Errors of evaluation runs: store outcomes and bad input."""

from __future__ import annotations


class EvalError(Exception):
    """Base of evaluation errors."""


class EvalNotFound(EvalError):
    def __init__(self, eval_id: str):
        super().__init__(f"evaluation run {eval_id} not found")
        self.eval_id = eval_id


class EvalChanged(EvalError):
    """A conditional write found the run changed since it was read (another driver or a cancel won)."""


class EvalCapReached(EvalError):
    """Every place the platform gives evaluation attempts is taken: the claim waits for one to be counted."""


class AttemptAlreadyCounted(EvalError):
    """The attempt was counted before: a redelivered or repeated end is not counted twice."""


class InvalidCases(EvalError):
    """A dataset with cases at fault: each problem names the field (`cases.3.test_patch`) and the case."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__(f"{len(problems)} problem(s) in the cases, first: {problems[0][0]}: {problems[0][1]}")
        self.problems = problems
