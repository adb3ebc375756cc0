"""model-endpoint add / list / remove against the embedded stack (whose local users operate it)."""

from __future__ import annotations

import uuid


def test_add_list_and_remove_an_endpoint(cli, platform):
    name = f"rl-{uuid.uuid4().hex[:6]}"
    secret = f"bgagent/{platform.names.stack}/endpoints/{name}"
    added = cli("model-endpoint", "add", name, "--base-url", "https://rl.example.com", "--key-secret", secret,
                "--price", "input=1.5,output=6", "--json")
    assert added.code == 0, added.err
    assert added.json()["price"]["input"] == 1.5 and added.json()["key_secret"] == secret
    listed = cli("model-endpoint", "list")
    assert listed.code == 0 and name in listed.out and "in 1.5 / out 6" in listed.out
    assert cli("model-endpoint", "remove", name).code == 0
    assert name not in cli("model-endpoint", "list", "--json").out
    gone = cli("model-endpoint", "remove", name)
    assert gone.code != 0 and "not found" in gone.err


def test_a_bad_price_is_a_usage_error(cli):
    bad = cli("model-endpoint", "add", "x", "--base-url", "https://x.example", "--key-secret", "s", "--price", "in=1")
    assert bad.code != 0 and "--price" in bad.err
