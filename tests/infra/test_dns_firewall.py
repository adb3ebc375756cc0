"""The DNS Firewall: the VPC resolves the platform's endpoints and the repos' allowlists, and nothing else."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bgagent_infra.config import StackConfig
from bgagent_infra.dns_firewall import allowed_domains
from tests.infra.conftest import STACK_NAME

S = STACK_NAME
LIST = "aws:route53/resolverFirewallDomainList:ResolverFirewallDomainList"
RULE = "aws:route53/resolverFirewallRule:ResolverFirewallRule"


def test_the_allowed_list_is_the_blueprints_allowlists_plus_the_platforms_endpoints(deployed):
    domains = deployed.named(LIST, "dns-firewall-allowed").inputs["domains"]
    assert {"pypi.org", "files.pythonhosted.org"} <= set(domains)
    assert {"*.amazonaws.com", "github.com", "api.github.com", "*.anthropic.com"} <= set(domains)
    assert "*" not in domains


def test_every_other_name_is_blocked_after_the_allow_rule(deployed):
    rules = {r.name: r.inputs for r in deployed.of_type(RULE)}
    allow, otherwise = rules["dns-firewall-allow"], rules["dns-firewall-otherwise"]
    assert allow["action"] == "ALLOW" and otherwise["action"] == "BLOCK"
    assert otherwise["blockResponse"] == "NXDOMAIN" and allow["priority"] < otherwise["priority"]
    everything = deployed.named(LIST, "dns-firewall-everything")
    assert everything.inputs["domains"] == ["*"] and otherwise["firewallDomainListId"] == f"{S}-everything-id"
    assert allow["firewallDomainListId"] == f"{S}-allowed-id"


def test_the_rule_group_is_associated_with_the_vpc_of_the_agents(deployed):
    [association] = deployed.of_type(
        "aws:route53/resolverFirewallRuleGroupAssociation:ResolverFirewallRuleGroupAssociation")
    assert association.inputs["vpcId"] == "network-vpc-id"
    assert association.inputs["firewallRuleGroupId"] == f"{S}-egress-id"
    assert association.inputs["mutationProtection"] == "ENABLED"
    agent_service_subnets = {s.inputs["vpcId"] for s in deployed.of_type("aws:ec2/subnet:Subnet")}
    assert agent_service_subnets == {"network-vpc-id"}


def test_the_mode_is_configurable() -> None:
    config = StackConfig.model_validate({"stackName": S, "dnsFirewall": "alert",
                                         "dnsFirewallExtraDomains": ["registry.npmjs.org"],
                                         "blueprints": [{"repo": "a/b", "egressAllowlist": ["PyPI.org."]}]})
    assert config.dns_firewall == "alert"
    assert {"pypi.org", "registry.npmjs.org"} <= set(allowed_domains(config))


def test_an_allowlist_entry_with_a_port_lists_its_name_and_a_malformed_one_is_refused() -> None:
    config = StackConfig.model_validate({"stackName": S, "blueprints": [
        {"repo": "a/b", "egressAllowlist": ["registry.local:8443", "*.example.com:8080"]}]})
    domains = allowed_domains(config)
    assert {"registry.local", "*.example.com"} <= set(domains) and not any(":" in d for d in domains)
    with pytest.raises(ValidationError, match="registry.local:8443"):
        StackConfig.model_validate({"stackName": S, "blueprints": [
            {"repo": "a/b", "egressAllowlist": ["https://pypi.org/simple"]}]})
