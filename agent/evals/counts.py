"""Passed and failed test counts read from a test command's output, where its runner says them."""

from __future__ import annotations

import re

# pytest's last line: "==== 3 passed, 1 failed, 2 errors in 0.12s ====" (or "-q": "3 passed, 1 failed in 0.1s")
_PYTEST = re.compile(r"^=*\s*((?:\d+ (?:passed|failed|errors?|skipped|xfailed|xpassed|deselected|warnings?)"
                     r"(?:, )?)+) in [\d.]+s", re.MULTILINE)
_PYTEST_PART = re.compile(r"(\d+) (passed|failed|errors?)")
# unittest: "Ran 5 tests in 0.003s" then "OK" or "FAILED (failures=1, errors=2)"
_UNITTEST_RAN = re.compile(r"^Ran (\d+) tests? in ", re.MULTILINE)
_UNITTEST_FAILED = re.compile(r"^FAILED \(([^)]*)\)", re.MULTILINE)


def count_tests(output: str) -> tuple[int | None, int | None]:
    """(passed, failed) from pytest's summary line or unittest's report; (None, None) when neither is there."""
    summaries = _PYTEST.findall(output)
    if summaries:
        counts = {"passed": 0, "failed": 0}
        for number, word in _PYTEST_PART.findall(summaries[-1]):
            counts["passed" if word == "passed" else "failed"] += int(number)
        return counts["passed"], counts["failed"]
    ran = _UNITTEST_RAN.findall(output)
    if ran:
        failed_parts = _UNITTEST_FAILED.findall(output)
        failed = 0
        if failed_parts:
            failed = sum(int(n) for key, n in re.findall(r"(\w+)=(\d+)", failed_parts[-1])
                         if key in ("failures", "errors", "unexpectedSuccesses"))
        total = int(ran[-1])
        skipped = re.findall(r"skipped=(\d+)", failed_parts[-1] if failed_parts else output.splitlines()[-1])
        return max(0, total - failed - sum(map(int, skipped))), failed
    return None, None
