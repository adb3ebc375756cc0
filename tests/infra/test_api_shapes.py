"""What the Pulumi program hands AWS as free-form JSON is checked against botocore's service models and, where
moto accepts it, created in an in-process emulator from the program's own recorded inputs.

So a misspelt field in a container definition, a target or a redrive policy fails here, not in a deploy.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.session import get_session
from botocore.validate import ParamValidator
from moto import mock_aws

from shared.events.models import AgentFinished, ComputeSessionStopped, ReconcileTick, SlotReleased, TaskSubmitted
from tests.infra.conftest import ACCOUNT, REGION

MODELS = get_session()
SAMPLE_EVENT_TYPES = {m.detail_type for m in (AgentFinished, ComputeSessionStopped, ReconcileTick, SlotReleased,
                                              TaskSubmitted)}


def _problems(service: str, operation: str, params: dict) -> str:
    """botocore's own parameter validation of one call; empty when the call is well formed."""
    shape = MODELS.get_service_model(service).operation_model(operation).input_shape
    report = ParamValidator().validate(params, shape)
    return report.generate_report() if report.has_errors() else ""


def _register_task_definition(task) -> dict:
    i = task.inputs
    params = {"family": i["family"], "containerDefinitions": json.loads(i["containerDefinitions"]),
              "cpu": i["cpu"], "memory": i["memory"], "networkMode": i["networkMode"],
              "requiresCompatibilities": i["requiresCompatibilities"], "executionRoleArn": task.outputs.get(
                  "executionRoleArn") or i["executionRoleArn"], "taskRoleArn": i["taskRoleArn"],
              "runtimePlatform": i["runtimePlatform"]}
    if "ephemeralStorage" in i:
        # Pulumi's mocks carry numbers as floats; the provider sends this integer as an integer.
        params["ephemeralStorage"] = {"sizeInGiB": int(i["ephemeralStorage"]["sizeInGib"])}
    return params


def _targets(deployed, rule) -> list[dict]:
    out = []
    for t in deployed.of_type("aws:cloudwatch/eventTarget:EventTarget"):
        if t.inputs["rule"] != rule.inputs["name"]:
            continue
        target = {"Id": t.inputs["targetId"], "Arn": t.inputs["arn"]}
        if "inputTransformer" in t.inputs:
            target["InputTransformer"] = {"InputPathsMap": t.inputs["inputTransformer"].get("inputPaths", {}),
                                          "InputTemplate": t.inputs["inputTransformer"]["inputTemplate"]}
        out.append(target)
    return out


def test_every_task_definition_is_a_valid_register_call(deployed):
    tasks = deployed.of_type("aws:ecs/taskDefinition:TaskDefinition")
    assert len(tasks) == 6
    for task in tasks:
        assert _problems("ecs", "RegisterTaskDefinition", _register_task_definition(task)) == "", task.name


def test_a_misspelt_container_field_is_caught():
    params = {"family": "f", "containerDefinitions": [{"name": "app", "image": "i", "memoryReservaton": 1}]}
    assert "memoryReservaton" in _problems("ecs", "RegisterTaskDefinition", params)


def test_every_rule_and_target_is_a_valid_call(deployed):
    rules = deployed.of_type("aws:cloudwatch/eventRule:EventRule")
    assert rules
    for rule in rules:
        i = rule.inputs
        assert _problems("events", "PutRule", {"Name": i["name"], "EventPattern": i["eventPattern"],
                                               "EventBusName": i["eventBusName"]}) == ""
        targets = _targets(deployed, rule)
        assert targets and _problems("events", "PutTargets", {"Rule": i["name"], "EventBusName": i["eventBusName"],
                                                              "Targets": targets}) == ""


def test_every_redrive_policy_and_queue_is_a_valid_create_call(deployed):
    for queue in deployed.of_type("aws:sqs/queue:Queue"):
        i = queue.inputs
        attributes = {"MessageRetentionPeriod": str(i["messageRetentionSeconds"])}
        if "redrivePolicy" in i:
            assert set(json.loads(i["redrivePolicy"])) == {"deadLetterTargetArn", "maxReceiveCount"}
            attributes.update(RedrivePolicy=i["redrivePolicy"], VisibilityTimeout=str(i["visibilityTimeoutSeconds"]))
        assert _problems("sqs", "CreateQueue", {"QueueName": i["name"], "Attributes": attributes}) == ""


def test_the_dashboard_body_is_a_valid_put_call(deployed):
    (dashboard,) = deployed.of_type("aws:cloudwatch/dashboard:Dashboard")
    body = json.loads(dashboard.inputs["dashboardBody"])
    assert body["widgets"] and all({"type", "properties"} <= set(w) for w in body["widgets"])
    assert _problems("cloudwatch", "PutDashboard", {"DashboardName": dashboard.inputs["dashboardName"],
                                                    "DashboardBody": dashboard.inputs["dashboardBody"]}) == ""


@pytest.fixture
def emulator():
    with mock_aws():
        yield lambda service: boto3.client(service, region_name=REGION, aws_access_key_id="testing",
                                           aws_secret_access_key="testing")


def test_the_emulator_accepts_the_programs_queues_rules_dashboard_and_task_definitions(deployed, emulator):
    sqs, events, cloudwatch, ecs = emulator("sqs"), emulator("events"), emulator("cloudwatch"), emulator("ecs")
    assert ACCOUNT == "123456789012"  # moto's default account: the recorded ARNs resolve in it
    queues = sorted(deployed.of_type("aws:sqs/queue:Queue"), key=lambda q: "redrivePolicy" in q.inputs)
    for queue in queues:  # dead-letter queues first: a redrive policy must name an existing queue
        attributes = {"RedrivePolicy": queue.inputs["redrivePolicy"]} if "redrivePolicy" in queue.inputs else {}
        sqs.create_queue(QueueName=queue.inputs["name"], Attributes=attributes)
    for bus in deployed.of_type("aws:cloudwatch/eventBus:EventBus"):
        events.create_event_bus(Name=bus.inputs["name"])
    for rule in deployed.of_type("aws:cloudwatch/eventRule:EventRule"):
        i = rule.inputs
        events.put_rule(Name=i["name"], EventPattern=i["eventPattern"], EventBusName=i["eventBusName"])
        events.put_targets(Rule=i["name"], EventBusName=i["eventBusName"], Targets=_targets(deployed, rule))
    (dashboard,) = deployed.of_type("aws:cloudwatch/dashboard:Dashboard")
    cloudwatch.put_dashboard(DashboardName=dashboard.inputs["dashboardName"],
                             DashboardBody=dashboard.inputs["dashboardBody"])
    for task in deployed.of_type("aws:ecs/taskDefinition:TaskDefinition"):
        ecs.register_task_definition(**_register_task_definition(task))
    assert len(ecs.list_task_definitions()["taskDefinitionArns"]) == 6


def test_each_rule_pattern_matches_the_events_its_consumer_handles(deployed):
    from moto.events.models import EventPattern  # moto's TestEventPattern answers without a Result

    for rule in deployed.of_type("aws:cloudwatch/eventRule:EventRule"):
        pattern = json.loads(rule.inputs["eventPattern"])
        for detail_type in pattern["detail-type"]:
            detail = {"lastStatus": "STOPPED", "group": pattern["detail"]["group"][0]} if "detail" in pattern else {}
            event = {"id": "1", "source": pattern["source"][0], "detail-type": detail_type, "account": ACCOUNT,
                     "time": "2026-01-01T00:00:00Z", "region": REGION, "resources": [], "detail": detail}
            matcher = EventPattern.load(rule.inputs["eventPattern"])
            assert matcher.matches_event(event), (rule.name, detail_type)
            assert not matcher.matches_event({**event, "detail-type": "SomethingElse"})
            if pattern["source"] == ["bgagent"]:
                # The task ends: the reconciler counts evaluation attempts from them.
                assert detail_type in SAMPLE_EVENT_TYPES | {"TaskHydrated", "TaskCancelled", "TaskCompleted",
                                                            "TaskFailed", "TaskTimedOut"}
