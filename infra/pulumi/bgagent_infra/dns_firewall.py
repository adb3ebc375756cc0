"""Route 53 Resolver DNS Firewall: the VPC resolves only the platform's endpoints and the repos' allowlists.

DNS Firewall attaches to a VPC, not a subnet, so the list also holds what the services need (AWS,
GitHub, the model API). It stops name-based exfiltration and installs from unlisted hosts; it does
not stop a connection to a literal IP address (docs/security.md says what covers that).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pulumi
import pulumi_aws as aws

from bgagent_infra.config import StackConfig
from shared.repos.egress import egress_rule

# Lower numbers are evaluated first; AWS reserves 100 and 9900 for its own rule groups.
_ASSOCIATION_PRIORITY = 1000
_ALLOW_PRIORITY, _OTHERWISE_PRIORITY = 100, 200


def platform_domains(config: StackConfig) -> list[str]:
    """What the platform itself resolves: AWS APIs, GitHub (API, clone, raw content) and the model API."""
    github = urlsplit(config.github_api_url).hostname or "api.github.com"
    domains = {"amazonaws.com", "*.amazonaws.com", "github.com", "*.github.com", "*.githubusercontent.com", github}
    if config.model_provider == "anthropic":
        domains |= {"anthropic.com", "*.anthropic.com"}
    return sorted(domains)


def allowed_domains(config: StackConfig) -> list[str]:
    """The union of the onboarded repos' egress allowlists, the platform's endpoints and extra domains."""
    listed = {egress_rule(d).domain for b in config.blueprints for d in b.egress_allowlist}  # names, not ports
    return sorted(listed | set(platform_domains(config)) | set(config.dns_firewall_extra_domains))


class DnsFirewall(pulumi.ComponentResource):
    """An allow rule for the allowed domains, then a rule for every other name (block, or alert only)."""

    def __init__(self, name: str, config: StackConfig, vpc_id: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("bgagent:infra:DnsFirewall", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stack = config.stack_name
        allowed = aws.route53.ResolverFirewallDomainList(
            f"{name}-allowed", name=f"{stack}-allowed", domains=allowed_domains(config), opts=child)
        everything = aws.route53.ResolverFirewallDomainList(
            f"{name}-everything", name=f"{stack}-everything", domains=["*"], opts=child)
        self.rule_group = aws.route53.ResolverFirewallRuleGroup(f"{name}-rules", name=f"{stack}-egress", opts=child)
        aws.route53.ResolverFirewallRule(
            f"{name}-allow", name=f"{stack}-allow", action="ALLOW", priority=_ALLOW_PRIORITY,
            firewall_rule_group_id=self.rule_group.id, firewall_domain_list_id=allowed.id, opts=child)
        block = config.dns_firewall == "block"
        aws.route53.ResolverFirewallRule(
            f"{name}-otherwise", name=f"{stack}-{'block' if block else 'alert'}-others",
            action="BLOCK" if block else "ALERT", block_response="NXDOMAIN" if block else None,
            priority=_OTHERWISE_PRIORITY, firewall_rule_group_id=self.rule_group.id,
            firewall_domain_list_id=everything.id, opts=child)
        self.association = aws.route53.ResolverFirewallRuleGroupAssociation(
            f"{name}-vpc", name=f"{stack}-egress", firewall_rule_group_id=self.rule_group.id, vpc_id=vpc_id,
            priority=_ASSOCIATION_PRIORITY, mutation_protection="ENABLED" if block else "DISABLED", opts=child)
        self.register_outputs({"rule_group_id": self.rule_group.id})
