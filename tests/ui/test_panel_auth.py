"""Signing in to the panel: one-time links, the session cookie, CSRF and the security headers."""

from __future__ import annotations

from services.gateway.ui.security import COOKIE
from tests.gateway.conftest import build_gateway
from tests.ui.conftest import browser, csrf_of, login_url


async def test_a_login_link_sets_a_strict_httponly_cookie_and_leaves_the_url(gw):
    url = await login_url(gw, "alice")
    assert url.startswith("http://gateway.test/ui/login?code=")
    async with browser(gw) as b:
        resp = await b.get(url)
        assert resp.status_code == 200
        cookie = resp.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert "Path=/ui" in cookie and "Secure" not in cookie  # plain http: a Secure cookie would never return
        assert 'http-equiv="refresh" content="0;url=/ui/"' in resp.text
        page = await b.get("/ui/")
        assert page.status_code == 200 and "Your tasks" in page.text and "alice" in page.text
        # The session id lives in the cookie only, never in a page.
        assert b.cookies[COOKIE] not in page.text


async def test_behind_tls_the_cookie_is_secure(issuer):
    gw = build_gateway(issuer, public_url="https://agents.example.com")
    async with browser(gw) as b:
        resp = await b.get((await login_url(gw, "alice")).replace("https://agents.example.com", ""))
    assert "Secure" in resp.headers["set-cookie"]


async def test_a_link_works_once(gw):
    url = await login_url(gw, "alice")
    async with browser(gw) as first:
        assert (await first.get(url)).status_code == 200
    async with browser(gw) as second:
        again = await second.get(url)
        assert again.status_code == 401 and "expired or was used already" in again.text
        assert COOKIE not in again.headers.get("set-cookie", "")
        assert (await second.get("/ui/")).status_code == 401


async def test_only_a_signed_in_caller_gets_a_link(gw):
    async with gw.client() as anonymous:
        assert (await anonymous.post("/v1/ui/login-links")).status_code == 401


async def test_pages_and_fragments_need_a_session(gw):
    async with browser(gw) as b:
        for path in ("/ui/", "/ui/tasks/rows", "/ui/submit", "/ui/webhooks", "/ui/repos", "/ui/approvals"):
            resp = await b.get(path)
            assert resp.status_code == 401 and "bgagent ui --open" in resp.text, path
        b.cookies.set(COOKIE, "made-up-session-id", domain="gateway.test", path="/ui")
        assert (await b.get("/ui/")).status_code == 401


async def test_every_panel_response_carries_a_csp_without_inline_script(gw):
    async with browser(gw, "alice") as b:
        for path in ("/ui/", "/ui/static/htmx.min.js", "/ui/nothing-here"):
            resp = await b.get(path)
            csp = resp.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
            assert resp.headers["x-frame-options"] == "DENY" and resp.headers["referrer-policy"] == "no-referrer"
        missing = await b.get("/ui/nothing-here")
        assert missing.status_code == 404 and "no such page" in missing.text
        page = await b.get("/ui/")
        assert "<script>" not in page.text and " style=" not in page.text and "onclick" not in page.text
        assert page.headers["cache-control"] == "no-store"


async def test_a_form_without_the_sessions_csrf_token_changes_nothing(gw):
    async with browser(gw, "alice") as b:
        form = {"repo": "acme/app", "task_description": "Sneaky"}
        missing = await b.post("/ui/submit", data=form)
        wrong = await b.post("/ui/submit", data={**form, "csrf_token": "not-the-token"})
        assert missing.status_code == wrong.status_code == 403
    listed, _ = await gw.tasks.list_for_user("alice")
    assert listed == []


async def test_signing_out_ends_the_session(gw):
    async with browser(gw, "alice") as b:
        page = await b.get("/ui/")
        session_id = b.cookies[COOKIE]
        out = await b.post("/ui/logout", data={"csrf_token": csrf_of(page.text)})
        assert out.status_code == 303
        b.cookies.set(COOKIE, session_id, domain="gateway.test", path="/ui")  # a copy kept elsewhere
        assert (await b.get("/ui/")).status_code == 401


async def test_the_login_code_never_reaches_the_logs(gw, caplog):
    url = await login_url(gw, "alice")
    with caplog.at_level("DEBUG"):
        async with browser(gw) as b:
            await b.get(url)
    code = url.split("code=")[1]
    ours = [r for r in caplog.records if r.name.startswith(("services.", "shared."))]  # not the test's own client
    assert ours and not any(code in r.getMessage() or code in str(r.__dict__) for r in ours)
