"""Test counts read from the output of the common Python test runners."""

from __future__ import annotations

import pytest

from agent.evals.counts import count_tests as counts

PYTEST_VERBOSE = """tests/test_a.py::test_one PASSED
tests/test_a.py::test_two FAILED
=================================== FAILURES ===================================
_________________________________ test_two _____________________________________
E       assert 1 == 2
=========================== short test summary info ============================
FAILED tests/test_a.py::test_two - assert 1 == 2
==================== 1 failed, 4 passed, 1 skipped, 2 warnings in 0.31s ====================
"""
UNITTEST_FAILED = """test_a (tests.test_x.T.test_a) ... ok
test_b (tests.test_x.T.test_b) ... FAIL
----------------------------------------------------------------------
Ran 6 tests in 0.004s

FAILED (failures=1, errors=2, skipped=1)
"""


@pytest.mark.parametrize(("output", "expected"), [
    (PYTEST_VERBOSE, (4, 1)),
    ("....F.E\n3 passed, 1 failed, 1 error in 0.12s\n", (3, 2)),
    ("== 12 passed in 1.50s ==\n", (12, 0)),
    (UNITTEST_FAILED, (2, 3)),
    ("Ran 4 tests in 0.001s\n\nOK\n", (4, 0)),
    ("Ran 4 tests in 0.001s\n\nOK (skipped=1)\n", (3, 0)),
    ("make: *** [check] Error 1\n", (None, None)),
])
def test_counts_come_from_the_runners_summary(output: str, expected: tuple[int | None, int | None]) -> None:
    assert counts(output) == expected


def test_the_last_summary_wins_when_the_command_ran_the_suite_twice() -> None:
    assert counts("2 passed in 0.1s\n...\n1 failed, 1 passed in 0.1s\n") == (1, 1)
