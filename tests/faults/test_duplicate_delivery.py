"""Every SQS message handled twice at once: nothing happens twice."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.doubles.scenarios import FAKE_EDIT
from tests.faults.conftest import size
from tests.faults.helpers import assert_clean_end, submit_many, wait_all
from tests.support.platform import running_platform

pytestmark = pytest.mark.e2e
TASKS = size(200, int(__import__("os").environ.get("DUP_TASKS", "24")))


@pytest.fixture(scope="module")
def platform(aws_endpoint, tmp_path_factory):
    with running_platform(aws_endpoint, tmp_path_factory.mktemp("dup"),
                          BGAGENT_CONSUMER_DUPLICATE_DELIVERY="true", BGAGENT_DEFAULT_MAX_CONCURRENCY="4") as p:
        yield p


def test_duplicate_delivery_changes_nothing(platform):
    platform.add_repo("acme/dup")
    tasks = submit_many(platform, ["dup-a", "dup-b"], "acme/dup", TASKS, FAKE_EDIT)
    finals = wait_all(platform, tasks, timeout=60 + TASKS * 8)
    states = assert_clean_end(platform, tasks, finals)
    print(f"\nduplicate delivery: {TASKS} tasks -> {dict(states)}")
    assert states == Counter({"COMPLETED": TASKS})
    heads = Counter(pr["head"]["ref"] for pr in platform.github.pulls("acme/dup"))
    assert len(heads) == TASKS and set(heads.values()) == {1}, "a branch got a second pull request"
    sessions = list((platform.stack.config.state_dir / "runtime" / "sessions").glob("*.json"))
    assert len(sessions) == TASKS  # one agent session per task, never two
