"""Every SQS message handled twice at once: nothing happens twice."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from tests.doubles.scenarios import FAKE_EDIT
from tests.faults.conftest import size
from tests.faults.helpers import assert_clean_end, submit_many, wait_all
from tests.support.platform import running_platform

pytestmark = pytest.mark.e2e
TASKS = size(200, int(os.environ.get("DUP_TASKS", "24")))
WIRING = Path(__file__).parent / "wiring"  # its sitecustomize makes every consumer handle each message twice


@pytest.fixture(scope="module")
def platform(aws_endpoint, tmp_path_factory):
    with running_platform(aws_endpoint, tmp_path_factory.mktemp("dup"),
                          PYTHONPATH=os.pathsep.join(filter(None, [str(WIRING), os.environ.get("PYTHONPATH")])),
                          BGAGENT_DEFAULT_MAX_CONCURRENCY="4") as p:
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
    hydrator_log = (platform.stack.logs_dir / "hydrator.log").read_text()
    assert "transition already applied" in hydrator_log, "the duplicating wiring was not loaded"
