"""Small pieces of the gateway on their own: the token bucket, signatures and trigger rules."""

from __future__ import annotations

import hmac

from services.gateway.github_triggers import matching_rule
from services.gateway.github_triggers import read_event as read_issue_event
from services.gateway.ratelimit import RateLimiter, retry_after_header
from services.gateway.signatures import github_signature, matches, timestamp_fresh, webhook_signature
from shared.repos.models import DEFAULT_GITHUB_TRIGGERS, GitHubTrigger
from tests.gateway.signing import issue_labeled


def test_the_bucket_allows_a_burst_then_the_rate():
    now = [0.0]
    limiter = RateLimiter(rate=2, burst=3, clock=lambda: now[0])
    assert [limiter.take("u") for _ in range(3)] == [None, None, None]
    wait = limiter.take("u")
    assert wait is not None and 0.4 < wait <= 0.5 and retry_after_header(wait) == {"Retry-After": "1"}
    assert limiter.take("other") is None
    now[0] = 0.5
    assert limiter.take("u") is None and limiter.take("u") is not None
    now[0] = 100
    assert [limiter.take("u") for _ in range(4)][-1] is not None  # refilled to the burst, no further


def test_the_bucket_forgets_idle_users_when_full():
    now = [0.0]
    limiter = RateLimiter(rate=1, burst=1, clock=lambda: now[0], max_keys=2)
    limiter.take("a"), limiter.take("b")
    now[0] = 10
    assert limiter.take("c") is None and set(limiter._buckets) == {"c"}


def test_signatures():
    sig = webhook_signature("k", "1700000000", b'{"a":1}')
    assert sig == "sha256=" + hmac.new(b"k", b'1700000000.{"a":1}', "sha256").hexdigest()
    assert matches(sig, sig.upper().replace("SHA256=", "sha256=")) and not matches(sig, None)
    assert not matches(sig, sig[:-1] + "0" if sig[-1] != "0" else sig[:-1] + "1")
    assert not matches(github_signature("k", b"x"), "sha256=ü")
    assert timestamp_fresh("100", 400, 300) and not timestamp_fresh("99", 400, 300)
    assert not timestamp_fresh("-5", 0, 300) and not timestamp_fresh(None, 0, 300) and not timestamp_fresh("1e3", 0, 1)


def test_trigger_rules():
    ev = read_issue_event("issues", issue_labeled())
    assert matching_rule(DEFAULT_GITHUB_TRIGGERS, ev) is not None
    opened = read_issue_event("issues", {**issue_labeled(), "action": "opened"})
    assert matching_rule(DEFAULT_GITHUB_TRIGGERS, opened) is None
    rule = GitHubTrigger(events=["issues", "issue_comment"], actions=["opened", "created"], labels=["bgagent"])
    assert matching_rule((rule,), opened) is rule
    comment = read_issue_event("issue_comment", {**issue_labeled(), "action": "created"})
    assert matching_rule((rule,), comment) is rule
    assert read_issue_event("issues", []) == "payload is not an object"
    shouted = read_issue_event("issues", issue_labeled(label="BGAgent"))
    assert matching_rule(DEFAULT_GITHUB_TRIGGERS, shouted) is not None  # label names ignore case
