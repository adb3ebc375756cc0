"""The main flows with every process holding only its role's Pulumi-granted permissions (IAM enforced).

The platform here runs on an emulator of its own that authenticates and authorizes every request once the
topology exists: the imported tests run again in that mode, and the tests below add what only it shows.
"""

from __future__ import annotations

import pytest

from tests.doubles.scenarios import FAKE_EDIT
from tests.e2e.test_eval_attempts import (  # noqa: F401  (collected again, here under enforced IAM)
    test_an_attempt_is_graded_and_completes_with_its_diff_and_nothing_pushed,
)
from tests.e2e.test_evals import (  # noqa: F401
    test_a_run_completes_through_the_reconciler_and_redelivered_ends_count_once,
)
from tests.e2e.test_orchestration import (  # noqa: F401  (collected again, here under enforced IAM)
    test_a_killed_agent_is_finalized_failed_by_the_safety_net,
    test_cancel_while_queued_and_while_submitted,
    test_cancel_while_running_stops_the_agent,
    test_injected_drift_is_corrected_by_one_tick,
    test_over_the_cap_tasks_queue_and_run_in_order,
)
from tests.e2e.test_walking_skeleton import (  # noqa: F401
    test_a_model_that_refuses_every_call_fails_the_task_readably,
    test_a_task_reaches_completed_with_a_pull_request,
)
from tests.gateway.signing import signed_webhook
from tests.support.aws import moto_server
from tests.support.platform import running_platform

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    with moto_server() as endpoint, running_platform(endpoint, tmp_path_factory.mktemp("iam"), iam="enforce") as p:
        yield p


def test_the_emulator_refuses_the_services_anything_beyond_their_role(platform):
    from botocore.exceptions import ClientError

    gateway = platform.stack.credentials.session("gateway", "us-east-1")
    with pytest.raises(ClientError) as denied:
        gateway.client("dynamodb", endpoint_url=platform.aws_endpoint).delete_table(
            TableName=platform.names.tasks_table)
    message = denied.value.response["Error"]["Message"]
    assert "dynamodb:DeleteTable" in message and f"table/{platform.names.tasks_table}" in message


def test_a_webhook_delivery_runs_a_task_that_remembers_and_keeps_its_trajectory(platform):
    platform.add_repo("acme/hooked")
    with platform.client("wendy") as c:
        hook = c.post("/v1/webhooks", json={"name": "ci"})
        assert hook.status_code == 201, hook.text
        data = hook.json()["data"]
        raw, headers = signed_webhook(data["webhook_id"], data["secret"], {
            "repo": "acme/hooked", "task_description": "Add notes", "model_id": FAKE_EDIT,
            "save_trajectory": True}, delivery="delivery-1")
        resp = c.post("/v1/webhooks/tasks", content=raw, headers=headers)
    assert resp.status_code == 201, resp.text
    task = platform.wait_for("wendy", resp.json()["data"]["task_id"])
    assert task["status"] == "COMPLETED", task
    episodes = platform.boto("dynamodb").query(
        TableName=platform.names.memory_table, KeyConditionExpression="repo = :r",
        ExpressionAttributeValues={":r": {"S": "acme/hooked"}})["Items"]
    assert any(task["task_id"] in str(item) for item in episodes)
    objects = platform.boto("s3").list_objects_v2(Bucket=platform.names.artifacts_bucket, Prefix="trajectories/")
    assert any(task["task_id"] in o["Key"] for o in objects.get("Contents", []))


def test_a_permission_missing_from_a_role_fails_the_task_naming_action_and_resource(platform):
    """What a forgotten grant looks like: a readable FAILED task within seconds, not a hang."""
    import json

    iam = platform.boto("iam")
    user = f"{platform.names.stack}-agent"
    policy = iam.get_user_policy(UserName=user, PolicyName="least-privilege")["PolicyDocument"]
    policy = json.loads(policy) if isinstance(policy, str) else policy
    without_repos = {**policy, "Statement": [s for s in policy["Statement"] if s["Sid"] != "TableRepos"]}
    assert len(without_repos["Statement"]) == len(policy["Statement"]) - 1
    platform.add_repo("acme/forgotten")
    iam.put_user_policy(UserName=user, PolicyName="least-privilege", PolicyDocument=json.dumps(without_repos))
    try:
        with platform.client("ivan") as c:
            resp = c.post("/v1/tasks", json={"repo": "acme/forgotten", "task_description": "Add notes",
                                             "model_id": FAKE_EDIT})
        task = platform.wait_for("ivan", resp.json()["data"]["task_id"], timeout=60)
    finally:
        iam.put_user_policy(UserName=user, PolicyName="least-privilege", PolicyDocument=json.dumps(policy))
    assert task["status"] == "FAILED", task
    assert "dynamodb:GetItem" in task["error_message"]
    assert f"table/{platform.names.repos_table}" in task["error_message"]


def test_each_process_is_handed_only_its_own_keys_and_those_it_passes_on(platform):
    import configparser

    def profiles(role):
        parser = configparser.ConfigParser()
        parser.read(platform.stack.credentials.path(role))
        return set(parser.sections())

    assert profiles("agent") == {"agent", "supervisor"}
    assert profiles("dispatcher") == {"dispatcher", "agent", "supervisor"}
    for role in ("gateway", "hydrator", "finalizer", "reconciler", "operator"):
        assert profiles(role) == {role}
    env = platform.stack.role_env("gateway")
    assert env["AWS_PROFILE"] == "gateway" and "AWS_ACCESS_KEY_ID" not in env
