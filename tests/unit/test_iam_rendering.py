"""The emulator authorizes each request as the (action, resource) pairs AWS checks, and renders roles' policies."""

from __future__ import annotations

import json
from dataclasses import dataclass

from cli.local.authorization import dynamodb_requests, events_requests
from cli.local.iam import role_policies
from shared.topology.account import Account
from shared.topology.definition import build_topology
from shared.topology.names import ResourceNames

ACCOUNT = Account("aws", "us-east-1", "123456789012")
TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/"


@dataclass
class Request:
    """The parts of a moto handler the mapping reads."""

    body: str
    partition: str = "aws"
    region: str = "us-east-1"
    current_account: str = "123456789012"


def test_a_transaction_is_checked_item_by_item_on_each_table():
    body = {"TransactItems": [{"Put": {"TableName": "s-tasks"}}, {"Update": {"TableName": "s-user-concurrency"}},
                              {"ConditionCheck": {"TableName": "s-tasks"}}, {"Delete": {"TableName": "s-pulls"}}]}
    assert [(a, r) for a, r, _ in dynamodb_requests(Request(json.dumps(body)), "TransactWriteItems")] == [
        ("PutItem", TABLE + "s-tasks"), ("UpdateItem", TABLE + "s-user-concurrency"),
        ("ConditionCheckItem", TABLE + "s-tasks"), ("DeleteItem", TABLE + "s-pulls")]


def test_a_query_on_an_index_is_checked_on_the_index_arn():
    body = {"TableName": "s-tasks", "IndexName": "StatusIndex"}
    assert list(dynamodb_requests(Request(json.dumps(body)), "Query")) == [
        ("Query", TABLE + "s-tasks/index/StatusIndex", {})]


def test_put_events_is_checked_per_entry_with_its_source_and_detail_type():
    body = {"Entries": [{"Source": "bgagent", "DetailType": "AgentFinished", "EventBusName": "s-bus"},
                        {"Source": "x", "DetailType": "y"}]}
    assert list(events_requests(Request(json.dumps(body)), "PutEvents")) == [
        ("PutEvents", "arn:aws:events:us-east-1:123456789012:event-bus/s-bus",
         {"events:source": "bgagent", "events:detail-type": "AgentFinished"}),
        ("PutEvents", "arn:aws:events:us-east-1:123456789012:event-bus/default",
         {"events:source": "x", "events:detail-type": "y"})]


def test_every_role_and_stand_in_gets_a_policy_and_only_the_operator_gets_a_wildcard():
    policies = role_policies(build_topology(ResourceNames("s")), ACCOUNT)
    assert set(policies) == {"gateway", "hydrator", "dispatcher", "finalizer", "reconciler", "agent",
                             "supervisor", "scheduler", "operator"}
    for role, policy in policies.items():
        actions = {a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str)
                                                            else s["Action"])}
        assert ("*" in actions) == (role == "operator"), role


def test_a_new_tables_grants_reach_its_roles_policies():
    topology = build_topology(ResourceNames("s"))
    granted = {role for t in topology.tables if t.logical == "memory" for role in t.grants}
    policies = role_policies(topology, ACCOUNT)
    with_memory = {role for role, p in policies.items()
                   if any(TABLE + "s-memory" in s["Resource"] for s in p["Statement"])}
    assert with_memory == granted == {"hydrator", "finalizer", "agent"}
