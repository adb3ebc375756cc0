"""The data and messaging layers on AWS are the shared topology: same names, keys, indexes, queues, rules."""

from __future__ import annotations

import json

import pytest

from shared.events.models import ReconcileTick
from shared.topology.definition import SUBSCRIPTIONS, build_topology
from shared.topology.names import ResourceNames
from tests.infra.conftest import STACK_NAME, role_policy

TOPOLOGY = build_topology(ResourceNames(STACK_NAME))
TABLE, QUEUE = "aws:dynamodb/table:Table", "aws:sqs/queue:Queue"
RULE, TARGET = "aws:cloudwatch/eventRule:EventRule", "aws:cloudwatch/eventTarget:EventTarget"


def _by_name(deployed, typ: str) -> dict[str, object]:
    return {r.inputs["name"]: r for r in deployed.of_type(typ)}


def _keys(schema: list[dict]) -> list[tuple[str, str]]:
    return [(k["attributeName"], k["keyType"]) for k in schema]


def test_the_tables_are_the_topology_tables(deployed):
    tables = _by_name(deployed, TABLE)
    assert set(tables) == {t.name for t in TOPOLOGY.tables}
    for t in TOPOLOGY.tables:
        got = tables[t.name].inputs
        assert got["hashKey"] == t.hash_key.name
        assert got.get("rangeKey") == (t.range_key.name if t.range_key else None)
        assert {(a["name"], a["type"]) for a in got["attributes"]} == {(a.name, a.type) for a in t.attributes()}
        assert got["billingMode"] == "PAY_PER_REQUEST"
        indexes = {i["name"]: i for i in got.get("globalSecondaryIndexes", [])}
        assert set(indexes) == {i.name for i in t.indexes}, t.name
        for i in t.indexes:
            expected = [(i.hash_key.name, "HASH")] + ([(i.range_key.name, "RANGE")] if i.range_key else [])
            assert _keys(indexes[i.name]["keySchemas"]) == expected
            assert indexes[i.name]["projectionType"] == "ALL"
        ttl = got.get("ttl")
        assert (ttl["attributeName"] if ttl and ttl["enabled"] else None) == t.ttl_attribute, t.name


def test_every_queue_has_a_dlq_with_a_bounded_redrive(deployed):
    queues = _by_name(deployed, QUEUE)
    assert set(queues) == {q.name for q in TOPOLOGY.queues} | {q.dlq_name for q in TOPOLOGY.queues}
    for q in TOPOLOGY.queues:
        main, dlq = queues[q.name], queues[q.dlq_name]
        redrive = json.loads(main.inputs["redrivePolicy"])
        assert redrive["deadLetterTargetArn"] == dlq.outputs["arn"]
        assert 3 <= redrive["maxReceiveCount"] <= 5
        assert redrive["maxReceiveCount"] == q.max_receive_count
        assert main.inputs["visibilityTimeoutSeconds"] == q.visibility_timeout
        assert "redrivePolicy" not in dlq.inputs


def test_every_rule_is_the_topology_rule_on_the_right_bus(deployed):
    rules = _by_name(deployed, RULE)
    assert set(rules) == {r.name for r in TOPOLOGY.rules}
    for r in TOPOLOGY.rules:
        got = rules[r.name].inputs
        assert json.loads(got["eventPattern"]) == r.pattern
        assert got["eventBusName"] == ("default" if r.on_default_bus else TOPOLOGY.bus_name)
    ecs = [r for r in TOPOLOGY.rules if r.on_default_bus]
    assert [r.pattern["source"] for r in ecs] == [["aws.ecs"]]  # AWS service events only arrive on the default bus


def test_every_rule_targets_an_existing_queue_whose_service_subscribes_to_exactly_its_types(deployed):
    queue_arns = {r.outputs["arn"]: r.inputs["name"] for r in deployed.of_type(QUEUE)}
    service_of_queue = {q.name: q.service for q in TOPOLOGY.queues}
    rules = _by_name(deployed, RULE)
    routed: dict[str, dict[str, set[str]]] = {}
    for target in deployed.of_type(TARGET):
        assert target.inputs["arn"] in queue_arns, f"{target.name} targets no queue of the stack"
        rule = rules[target.inputs["rule"]].inputs
        assert target.inputs["eventBusName"] == rule["eventBusName"]
        service = service_of_queue[queue_arns[target.inputs["arn"]]]
        pattern = json.loads(rule["eventPattern"])
        (source,) = pattern["source"]
        routed.setdefault(service, {}).setdefault(source, set()).update(pattern["detail-type"])
    expected = {svc: {src: set(types) for src, types in sources.items()} for svc, sources in SUBSCRIPTIONS.items()}
    assert routed == expected


def test_queue_policies_let_only_their_rules_send(deployed):
    queues = {r.outputs["url"]: r for r in deployed.of_type(QUEUE)}
    rule_arn = {r.inputs["name"]: r.outputs["arn"] for r in deployed.of_type(RULE)}
    policies = deployed.of_type("aws:sqs/queuePolicy:QueuePolicy")
    assert len(policies) == len(TOPOLOGY.queues)
    for policy in policies:
        queue = queues[policy.inputs["queueUrl"]]
        service = next(q.service for q in TOPOLOGY.queues if q.name == queue.inputs["name"])
        (statement,) = json.loads(policy.inputs["policy"])["Statement"]
        assert statement["Principal"] == {"Service": "events.amazonaws.com"}
        assert statement["Action"] == "sqs:SendMessage"
        assert statement["Resource"] == queue.outputs["arn"]
        sources = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
        assert sorted(sources) == sorted(rule_arn[r.name] for r in TOPOLOGY.rules if r.queue_service == service)


def test_the_reconcile_schedule_puts_a_valid_tick_on_the_platform_bus(deployed):
    (schedule,) = deployed.of_type("aws:scheduler/schedule:Schedule")
    (bus,) = deployed.of_type("aws:cloudwatch/eventBus:EventBus")
    target = schedule.inputs["target"]
    assert schedule.inputs["scheduleExpression"] == "rate(1 minute)"
    assert bus.inputs["name"] == TOPOLOGY.bus_name
    assert target["arn"] == bus.outputs["arn"]
    assert json.loads(target["input"]) == {"version": 1}
    assert ReconcileTick.model_validate_json(target["input"]).version == 1
    params = target["eventbridgeParameters"]
    assert (params["source"], params["detailType"]) == ("bgagent", "ReconcileTick")
    assert params["detailType"] in SUBSCRIPTIONS["reconciler"][params["source"]]
    role_name = target["roleArn"].rsplit("/", 1)[1]
    (statement,) = role_policy(deployed, role_name)["Statement"]
    assert (statement["Action"], statement["Resource"]) == (["events:PutEvents"], [bus.outputs["arn"]])


@pytest.mark.parametrize("kind", ["bucket", "bus"])
def test_bucket_and_bus_carry_the_deterministic_names(deployed, kind):
    if kind == "bucket":
        (bucket,) = deployed.of_type("aws:s3/bucket:Bucket")
        assert bucket.inputs["bucket"] == TOPOLOGY.bucket_name
        (block,) = deployed.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
        assert all(block.inputs[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                               "restrictPublicBuckets"))
    else:
        (bus,) = deployed.of_type("aws:cloudwatch/eventBus:EventBus")
        assert bus.inputs["name"] == ResourceNames(STACK_NAME).event_bus
