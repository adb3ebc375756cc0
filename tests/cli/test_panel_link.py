"""`bgagent ui`: a one-time login link to the web panel for the current profile."""

from __future__ import annotations

import httpx


def test_ui_prints_a_link_that_signs_a_browser_in_once(cli):
    result = cli("ui")
    assert result.code == 0, result.err
    link = result.out.strip()
    assert "/ui/login?code=" in link and "\n" not in link and "works once" in result.err
    with httpx.Client() as browser:
        first = browser.get(link)
        assert first.status_code == 200 and "bgagent_session" in first.headers["set-cookie"]
        assert browser.get(link.split("/ui/")[0] + "/ui/").status_code == 200
    with httpx.Client() as replay:
        assert replay.get(link).status_code == 401


def test_ui_json_gives_the_link_and_its_expiry(cli):
    data = cli("ui", "--json").json()
    assert set(data) == {"login_url", "expires_at"}
