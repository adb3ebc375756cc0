"""parliament lints every policy document the Pulumi program emits, and those the emulator renders from it."""

from __future__ import annotations

import json

import pytest
from parliament import analyze_policy_string, enhance_finding

from cli.local.iam import role_policies
from shared.topology.account import Account
from shared.topology.definition import build_topology
from shared.topology.names import ResourceNames
from tests.infra.conftest import ACCOUNT, REGION, STACK_NAME

# Policy-bearing resource types and the input that holds the document.
DOCUMENTS = {"aws:iam/rolePolicy:RolePolicy": "policy", "aws:iam/role:Role": "assumeRolePolicy",
             "aws:sqs/queuePolicy:QueuePolicy": "policy", "aws:s3/bucketPolicy:BucketPolicy": "policy"}


def _justification(document_name: str, finding) -> str | None:
    """Why a finding is accepted, or None when it is an error."""
    detail = str(finding.detail)
    if finding.issue == "MALFORMED" and document_name.endswith(".assumeRolePolicy") and "Resource" in detail:
        return ("a trust policy names a principal, never a Resource; "
                "parliament reads every document as an identity policy")
    if finding.issue == "RESOURCE_MISMATCH" and "bedrock:InvokeModel" in detail and \
            "foundation-model" not in detail:
        return ("the model ARNs match the foundation-model resource type; parliament lists every other resource "
                "type of InvokeModel (inference profiles, provisioned models …) as a mismatch")
    if finding.issue == "RESOURCE_STAR" and detail == "['ecs:ListTasks']":
        return ("ecs:ListTasks authorizes on container instances, which Fargate tasks do not have; the grant is "
                "confined by the ecs:cluster condition instead")
    return None


def _findings(document: dict) -> list:
    policy = analyze_policy_string(json.dumps(document), include_community_auditors=False)
    return [enhance_finding(f) for f in policy.findings]


def _emitted(deployed) -> list[tuple[str, dict]]:
    out = []
    for typ, field in DOCUMENTS.items():
        for resource in deployed.of_type(typ):
            out.append((f"{resource.name}.{field}", json.loads(resource.inputs[field])))
    return out


def _errors(findings: list, document_name: str = "") -> list[str]:
    """Every finding, whatever parliament's severity (an unknown action is LOW there), unless justified."""
    return [f"{f.issue} {f.detail}" for f in findings if _justification(document_name, f) is None]


def test_the_program_emits_every_kind_of_policy_document(deployed):
    kinds = {name.rsplit(".", 1)[1] for name, _ in _emitted(deployed)}
    assert kinds == {"policy", "assumeRolePolicy"} and len(_emitted(deployed)) > 20


def test_every_emitted_policy_passes_parliament(deployed):
    failures = {name: errors for name, doc in _emitted(deployed) if (errors := _errors(_findings(doc), name))}
    assert failures == {}


@pytest.mark.parametrize("role", ["gateway", "hydrator", "dispatcher", "finalizer", "reconciler", "agent",
                                  "supervisor", "scheduler"])
def test_the_emulators_rendering_of_each_role_passes_parliament(role):
    topology = build_topology(ResourceNames(STACK_NAME))
    document = role_policies(topology, Account("aws", REGION, ACCOUNT))[role]
    assert _errors(_findings(document)) == []


def test_parliament_does_catch_a_typo():
    bad = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["dynamodb:GetItems"],
                                                   "Resource": ["arn:aws:dynamodb:us-east-1:1:table/x"]}]}
    assert any("UNKNOWN_ACTION" in e for e in _errors(_findings(bad)))

