"""Allowlist entries: a listed host is reachable on 80 and 443 only, unless the entry names a port; entries
are checked where a repository is onboarded."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from agent.sandbox.egress_policy import EgressPolicy
from shared.repos.models import RepoConfig


async def _public(host: str, port: int) -> list[str]:
    return ["151.101.0.223"]


async def test_a_listed_host_is_reachable_on_80_and_443_or_the_port_its_entry_names() -> None:
    policy = EgressPolicy(["pypi.org", "registry.local:8443", "*.example.com:8080"], resolver=_public)
    cases = {("pypi.org", 443): True, ("pypi.org", 80): True, ("pypi.org", 22): False, ("pypi.org", 8443): False,
             ("registry.local", 8443): True, ("registry.local", 443): False,
             ("a.example.com", 8080): True, ("a.example.com", 443): False, ("example.com", 8080): False}
    verdicts = {case: await policy.vet(*case) for case in cases}
    assert {case: verdict.allowed for case, verdict in verdicts.items()} == cases
    assert verdicts["pypi.org", 8443].reason == \
        "port 8443 is not allowed: only 80 and 443 unless the allowlist names the port (pypi.org:8443)"


def test_entries_are_normalised_where_the_repository_is_onboarded() -> None:
    config = RepoConfig(repo="acme/web", egress_allowlist=["PyPI.org.", "*.Example.com:8080", "registry.local:8443"])
    assert config.egress_allowlist == ["pypi.org", "*.example.com:8080", "registry.local:8443"]


@pytest.mark.parametrize("entry", ["https://pypi.org", "pypi.org/simple", "pypi.org:0", "pypi.org:70000",
                                   "pypi.org:", "*.", "*", "a.*.com", "-bad.example", "user@pypi.org", ""])
def test_a_malformed_entry_is_refused_with_what_a_valid_one_looks_like(entry: str) -> None:
    with pytest.raises(ValidationError, match="e.g. pypi.org, \\*.pythonhosted.org, registry.local:8443"):
        RepoConfig(repo="acme/web", egress_allowlist=[entry])
