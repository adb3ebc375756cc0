"""An evaluation attempt through every service: hydrated from its case, graded by the agent, completed without a
pull request, a push or a memory entry."""

from __future__ import annotations

import pytest

from evals.starter.build import build_suite
from shared.aws.dynamo import to_item
from shared.evals.cases import case_key
from shared.events.bus import bus_entry
from shared.events.models import TaskSubmitted
from shared.repos.models import RepoConfig
from shared.tasks.models import Task
from tests.doubles.scenarios import FAKE_NOOP
from tests.support.git import git

pytestmark = pytest.mark.e2e


def test_an_attempt_is_graded_and_completes_with_its_diff_and_nothing_pushed(platform, tmp_path):
    case = next(c for c in build_suite(tmp_path / "starter", owner="e2e") if c.id == "slugify-separators")
    repo_dir = tmp_path / "starter" / "textkit"
    row = RepoConfig(repo=case.repo, git_host="local", local_path=str(repo_dir)).model_dump(mode="json")
    platform.boto("dynamodb").put_item(TableName=platform.names.repos_table, Item=to_item(row))
    # What the eval API does for each attempt: the case kept in the bucket, an attempt task, its submission.
    eval_id = "e2e-eval-1"
    platform.boto("s3").put_object(Bucket=platform.names.artifacts_bucket, Key=case_key(eval_id, case.id),
                                   Body=case.model_dump_json().encode())
    task = Task.new(user_id="evan", repo=case.repo, task_description=case.task, model_id=FAKE_NOOP,
                    channel_source="eval", eval_id=eval_id, case_id=case.id, attempt=1)
    platform.boto("dynamodb").put_item(TableName=platform.names.tasks_table, Item=to_item(task.to_record()))
    platform.boto("events").put_events(Entries=[bus_entry(TaskSubmitted(task_id=task.task_id, user_id="evan"),
                                                          platform.names.event_bus)])

    done = platform.wait_for("evan", task.task_id, timeout=120)
    assert done["status"] == "COMPLETED", done
    assert (done["reward"], done["grade"], done["tests_failed"]) == (0, "failed", 2)  # fake-noop changes nothing
    assert done["diff_key"] == f"diffs/{task.task_id}.patch" and done["pr_url"] is None
    assert git("branch", "--list", "--format=%(refname:short)", cwd=repo_dir).split() == ["main"]
    with platform.client("evan") as c:
        events = c.get(f"/v1/tasks/{task.task_id}/events", params={"limit": 100}).json()["data"]
        diff = c.get(f"/v1/tasks/{task.task_id}/diff")
    assert diff.status_code == 200 and diff.content == b"", "the model changed nothing: an empty diff"
    assert [e["metadata"]["grade"] for e in events if e["event_type"] == "agent.graded"] == ["failed"]
    memory = platform.boto("dynamodb").scan(TableName=platform.names.memory_table)["Items"]
    assert not [m for m in memory if m.get("repo", {}).get("S") == case.repo], "attempts leave no memory"
