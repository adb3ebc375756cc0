"""Duplicate delivery with IAM enforced: redelivered work stays within each role's permissions too."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.doubles.scenarios import FAKE_EDIT
from tests.faults.conftest import size
from tests.faults.helpers import assert_clean_end, submit_many, wait_all
from tests.support.aws import moto_server
from tests.support.platform import running_platform

pytestmark = pytest.mark.e2e
TASKS = size(50, 8)


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    with moto_server() as endpoint, running_platform(
            endpoint, tmp_path_factory.mktemp("dup-iam"), iam="enforce",
            BGAGENT_CONSUMER_DUPLICATE_DELIVERY="true", BGAGENT_DEFAULT_MAX_CONCURRENCY="4") as p:
        yield p


def test_duplicate_delivery_under_enforced_iam_changes_nothing(platform):
    platform.add_repo("acme/dup-iam")
    tasks = submit_many(platform, ["dupi-a", "dupi-b"], "acme/dup-iam", TASKS, FAKE_EDIT)
    finals = wait_all(platform, tasks, timeout=60 + TASKS * 8)
    assert assert_clean_end(platform, tasks, finals) == Counter({"COMPLETED": TASKS})
    heads = Counter(pr["head"]["ref"] for pr in platform.github.pulls("acme/dup-iam"))
    assert len(heads) == TASKS and set(heads.values()) == {1}
    denied = [line for log in (platform.stack.logs_dir).glob("*.log") for line in log.read_text().splitlines()
              if "is not authorized to perform" in line]
    assert denied == []
