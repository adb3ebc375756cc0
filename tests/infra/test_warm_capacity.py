"""ecsMode warm: the sessions queue and table, the warm agents' service, its scaling, environments and IAM."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from agent.warm import WarmSettings
from shared.compute.settings import ComputeSettings
from shared.topology.names import ResourceNames
from tests.infra.conftest import ACCOUNT, REGION, STACK_NAME, container_definitions, role_policy
from tests.infra.test_api_shapes import _problems
from tests.infra.test_policy_lint import _emitted, _errors, _findings

S, N = STACK_NAME, ResourceNames(STACK_NAME)
ARN = f"arn:aws:{{}}:{REGION}:{ACCOUNT}:{{}}"
QUEUE_ARN, QUEUE_URL = ARN.format("sqs", N.sessions_queue), f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{N.sessions_queue}"


def _env(deployed, component: str) -> dict[str, str]:
    (app,) = [c for c in container_definitions(deployed, f"{S}-{component}") if c["name"] == component]
    return {e["name"]: e["value"] for e in app["environment"]}


def _sids(deployed, role: str) -> dict[str, dict]:
    return {s["Sid"]: s for s in role_policy(deployed, f"{S}-{role}-task")["Statement"]}


def _queues(deployed) -> dict[str, dict]:
    return {q.inputs["name"]: q.inputs for q in deployed.of_type("aws:sqs/queue:Queue")}


def test_run_task_mode_has_no_warm_resources(deployed):
    assert N.sessions_queue not in _queues(deployed)
    assert all(s.inputs["name"] != N.warm_agents_service for s in deployed.of_type("aws:ecs/service:Service"))
    assert "command" not in container_definitions(deployed, f"{S}-agent")[0]
    assert "HandOutSessions" not in _sids(deployed, "dispatcher") and "RunAgent" in _sids(deployed, "dispatcher")


def test_sessions_wait_in_a_fifo_queue_that_dead_letters(deployed_warm):
    queues = _queues(deployed_warm)
    queue, dlq = queues[N.sessions_queue], queues[N.sessions_dlq]
    assert queue["fifoQueue"] is True and dlq["fifoQueue"] is True
    assert json.loads(queue["redrivePolicy"]) == {"deadLetterTargetArn": ARN.format("sqs", N.sessions_dlq),
                                                  "maxReceiveCount": 5}
    policies = [p.inputs["queueUrl"] for p in deployed_warm.of_type("aws:sqs/queuePolicy:QueuePolicy")]
    assert QUEUE_URL not in policies  # no EventBridge rule feeds it: the dispatcher sends with its role
    alarms = {a.inputs.get("dimensions", {}).get("QueueName") for a in deployed_warm.of_type(
        "aws:cloudwatch/metricAlarm:MetricAlarm")}
    assert N.sessions_dlq in alarms


def test_claims_table_is_found_by_the_claiming_tasks_arn(deployed_warm):
    (table,) = [t.inputs for t in deployed_warm.of_type("aws:dynamodb/table:Table")
                if t.inputs["name"] == N.sessions_table]
    assert table["hashKey"] == "task_id" and table["ttl"] == {"attributeName": "expires_at", "enabled": True}
    assert [i["name"] for i in table["globalSecondaryIndexes"]] == ["ArnIndex"]


def test_a_service_of_agents_runs_the_agent_task_definition_with_the_warm_command(deployed_warm):
    (service,) = [s.inputs for s in deployed_warm.of_type("aws:ecs/service:Service")
                  if s.inputs["name"] == N.warm_agents_service]
    assert service["taskDefinition"] == deployed_warm.outputs["agent_task_definition"]
    assert service["desiredCount"] == 3 and service["launchType"] == "FARGATE"
    (agent,) = container_definitions(deployed_warm, f"{S}-agent")
    assert agent["command"] == ["--warm"]


def test_scaling_keeps_min_idle_agents_from_queue_depth_and_empty_receives(deployed_warm):
    (target,) = [t.inputs for t in deployed_warm.of_type("aws:appautoscaling/target:Target")
                 if t.inputs["resourceId"].endswith(f"/{N.warm_agents_service}")]
    assert (target["minCapacity"], target["maxCapacity"]) == (3, 12)
    alarms = {a.name: a.inputs for a in deployed_warm.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
              if a.name.startswith("warm-agents-")}
    assert set(alarms) == {"warm-agents-idle-short", "warm-agents-idle-surplus"}
    for alarm in alarms.values():
        queries = {q["id"]: q for q in alarm["metricQueries"]}
        assert {queries[m]["metric"]["dimensions"]["QueueName"] for m in ("empty", "visible")} == {N.sessions_queue}
        assert queries["empty"]["metric"]["metricName"] == "NumberOfEmptyReceives"
    short = {q["id"]: q for q in alarms["warm-agents-idle-short"]["metricQueries"]}
    assert short["result"]["expression"] == "3 + backlog - idle"
    policies = {p.name: p.inputs for p in deployed_warm.of_type("aws:appautoscaling/policy:Policy")
                if p.name.startswith("warm-agents-")}
    assert alarms["warm-agents-idle-short"]["alarmActions"] == [
        f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:scalingPolicy:warm-agents-scale-out"]
    steps = policies["warm-agents-scale-out"]["stepScalingPolicyConfiguration"]["stepAdjustments"]
    assert [s["scalingAdjustment"] for s in steps] == [1, 2, 4, 8]


def test_the_agent_and_the_services_settings_load_the_warm_environment(deployed_warm, monkeypatch):
    for component in ("dispatcher", "reconciler"):
        settings = ComputeSettings(**{k.removeprefix("BGAGENT_").lower(): v for k, v in _env(
            deployed_warm, component).items() if k.startswith("BGAGENT_ECS") or k == "BGAGENT_COMPUTE_TYPE"})
        assert (settings.ecs_mode, settings.ecs_sessions_queue_url, settings.ecs_sessions_table) == (
            "warm", QUEUE_URL, N.sessions_table)
    for name, value in _env(deployed_warm, "agent").items():
        monkeypatch.setenv(name, value)
    # ECS injects these two into every container.
    monkeypatch.setenv("ECS_CONTAINER_METADATA_URI_V4", "http://169.254.170.2/v4/x")
    monkeypatch.setenv("ECS_AGENT_URI", "http://169.254.170.2/api/x")
    warm = WarmSettings()  # type: ignore[call-arg]
    assert (warm.ecs_sessions_queue_url, warm.ecs_sessions_table, warm.stack_name) == (QUEUE_URL, N.sessions_table, S)


def test_dispatcher_hands_out_sessions_and_no_longer_runs_or_passes_roles(deployed_warm):
    sids = _sids(deployed_warm, "dispatcher")
    assert sids["HandOutSessions"]["Resource"] == [QUEUE_ARN]
    assert "sqs:ReceiveMessage" not in sids["HandOutSessions"]["Action"]
    assert not {"RunAgent", "PassAgentRoles", "TagAgentOnRun", "FindAgentSessions"} & set(sids)
    assert "AgentSessions" in sids  # stopping a claimed session, and sessions RunTask started before


def test_agents_take_sessions_and_protect_only_tasks_of_the_cluster(deployed_warm):
    sids = _sids(deployed_warm, "agent")
    assert sids["TakeSessions"]["Resource"] == [QUEUE_ARN] and "sqs:SendMessage" not in sids["TakeSessions"]["Action"]
    assert sids["ProtectOwnTask"]["Action"] == ["ecs:UpdateTaskProtection"]
    assert sids["ProtectOwnTask"]["Condition"] == {"ArnEquals": {"ecs:cluster": ARN.format("ecs", f"cluster/{S}")}}
    assert sids["TableSessions"]["Resource"] == [ARN.format("dynamodb", f"table/{N.sessions_table}")]


@pytest.mark.parametrize("role,actions", [
    ("agent", {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"}),
    ("dispatcher", {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"}),
    ("reconciler", {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"}),
    ("finalizer", {"dynamodb:GetItem", "dynamodb:Query"}), ("gateway", None), ("hydrator", None),
])
def test_only_the_roles_that_use_claims_reach_the_sessions_table(deployed_warm, role, actions):
    table = ARN.format("dynamodb", f"table/{N.sessions_table}")
    found = [s for s in _sids(deployed_warm, role).values() if table in s["Resource"]]
    assert (set(found[0]["Action"]) if found else None) == actions
    if role == "finalizer":
        assert _sids(deployed_warm, role)["TableSessionsIndexes"]["Resource"] == [f"{table}/index/ArnIndex"]


def test_ecs_stopped_events_of_the_warm_agents_reach_the_finalizer(deployed_warm):
    (rule,) = [r.inputs for r in deployed_warm.of_type("aws:cloudwatch/eventRule:EventRule")
               if r.inputs["name"] == f"{S}-finalizer-aws-ecs"]
    groups = json.loads(rule["eventPattern"])["detail"]["group"]
    assert groups == [f"family:{N.agent_task_family}", f"service:{N.warm_agents_service}"]


def test_every_warm_policy_passes_parliament(deployed_warm):
    failures = {name: errors for name, doc in _emitted(deployed_warm) if (errors := _errors(_findings(doc), name))}
    assert failures == {}


def _metric_query(q: dict) -> dict:
    """A Pulumi metric query as PutMetricAlarm's `Metrics` entry."""
    out = {"Id": q["id"], "ReturnData": q["returnData"], **({"Label": q["label"]} if "label" in q else {})}
    if "expression" in q:
        return {**out, "Expression": q["expression"]}
    m = q["metric"]
    return {**out, "MetricStat": {"Metric": {"Namespace": m["namespace"], "MetricName": m["metricName"], "Dimensions": [
        {"Name": k, "Value": v} for k, v in m["dimensions"].items()]}, "Period": int(m["period"]), "Stat": m["stat"]}}


def test_the_scaling_alarms_and_the_fifo_queues_are_valid_calls(deployed_warm):
    with mock_aws():
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        for alarm in deployed_warm.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
            if not alarm.name.startswith("warm-agents-"):
                continue
            i = alarm.inputs
            params = {"AlarmName": alarm.name, "ComparisonOperator": i["comparisonOperator"],
                      "EvaluationPeriods": int(i["evaluationPeriods"]), "Threshold": float(i["threshold"]),
                      "TreatMissingData": i["treatMissingData"], "AlarmActions": i["alarmActions"],
                      "Metrics": [_metric_query(q) for q in i["metricQueries"]]}
            assert _problems("cloudwatch", "PutMetricAlarm", params) == ""
            cloudwatch.put_metric_alarm(**params)
        sqs = boto3.client("sqs", region_name=REGION)
        for name in (N.sessions_dlq, N.sessions_queue):  # the dead-letter queue first
            i = _queues(deployed_warm)[name]
            redrive = {"RedrivePolicy": i["redrivePolicy"]} if "redrivePolicy" in i else {}
            attributes = {"FifoQueue": "true", **redrive}
            assert _problems("sqs", "CreateQueue", {"QueueName": name, "Attributes": attributes}) == ""
            sqs.create_queue(QueueName=name, Attributes=attributes)


def test_the_finalizers_rule_matches_a_warm_agent_stopping_and_no_other_service(deployed_warm):
    from moto.events.models import EventPattern

    (rule,) = [r.inputs for r in deployed_warm.of_type("aws:cloudwatch/eventRule:EventRule")
               if r.inputs["name"] == f"{S}-finalizer-aws-ecs"]
    matcher = EventPattern.load(rule["eventPattern"])
    event = {"id": "1", "source": "aws.ecs", "detail-type": "ECS Task State Change", "account": ACCOUNT,
             "time": "2026-01-01T00:00:00Z", "region": REGION, "resources": [],
             "detail": {"lastStatus": "STOPPED", "group": f"service:{N.warm_agents_service}",
                        "startedBy": "ecs-svc/1234567890"}}
    assert matcher.matches_event(event)
    assert not matcher.matches_event({**event, "detail": {**event["detail"], "group": "service:dispatcher"}})
    assert not matcher.matches_event({**event, "detail": {**event["detail"], "lastStatus": "RUNNING"}})
