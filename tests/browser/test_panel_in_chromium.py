"""The web panel in a real headless Chromium: sign in with `bgagent ui`'s link, submit, watch, cancel."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import CLI_USER, login_link
from tests.doubles.scenarios import FAKE_EDIT, FAKE_LOOP

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SCRIPT = '<script>document.title="owned"</script><img src=x onerror="document.title=\'owned\'">'


@pytest.fixture(scope="module")
def page(chromium, platform, cli_home):
    """One signed-in tab for the module; it records CSP violations, dialogs and page errors."""
    platform.add_repo("acme/panel")
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.problems = []
    tab.on("console", lambda m: tab.problems.append(m.text) if "Content Security Policy" in m.text else None)
    tab.on("pageerror", lambda e: tab.problems.append(str(e)))
    tab.on("dialog", lambda d: (tab.problems.append(f"dialog: {d.message}"), d.dismiss()))
    tab.set_default_timeout(20_000)
    tab.goto(login_link(cli_home))
    tab.wait_for_url(re.compile(r"/ui/$"))
    yield tab
    assert tab.problems == []
    assert not any(c["name"] == "bgagent_session" and not c["httpOnly"] for c in context.cookies())
    context.close()


def _submit(page, description: str, model: str, **fields: str) -> None:
    page.get_by_role("link", name="New task").click()
    page.get_by_label("Repository").select_option("acme/panel")
    page.get_by_label("Description").fill(description)
    page.get_by_label("Model (optional)").fill(model)
    for label, value in fields.items():
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Submit task").press("Enter")  # keyboard-usable


def test_signed_in_through_the_cli_link_without_a_token_in_reach_of_scripts(page):
    assert page.get_by_role("heading", level=1).inner_text() == "Your tasks"
    assert page.evaluate("document.cookie") == "" and page.evaluate("window.localStorage.length") == 0
    assert "code=" not in page.url


def test_a_task_submitted_from_the_form_is_watched_live_to_completed(page, screenshots):
    _submit(page, "Add a notes file", FAKE_EDIT)
    page.wait_for_url(re.compile(r"/ui/tasks/[0-9A-Z]+$"))
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    status = page.locator("#task-status")
    status.filter(has_text="COMPLETED").wait_for(timeout=120_000)
    assert navigations == []  # the page never reloaded: htmx swapped the live fragment in
    events = page.locator("#events").inner_text()
    assert "agent started" in events and "turn " in events and "RUNNING → FINALIZING" in events
    assert page.locator('a[href*="/pull/"]').count() == 1
    page.locator("svg.chart rect").first.wait_for()
    page.screenshot(path=str(screenshots / "task-page.png"), full_page=True)
    page.get_by_role("link", name="Tasks").click()
    page.get_by_role("cell", name="COMPLETED").first.wait_for()
    page.screenshot(path=str(screenshots / "task-list.png"), full_page=True)


def test_the_form_shows_the_apis_validation_errors(page):
    _submit(page, "Too many turns", FAKE_EDIT, **{"Maximum turns (1–500, optional)": "999"})
    error = page.locator("#error-max_turns")
    assert "less than or equal to 500" in error.inner_text()
    assert page.get_by_label("Description").input_value() == "Too many turns"
    assert page.get_by_label("Maximum turns (1–500, optional)").get_attribute("aria-invalid") == "true"


def test_a_running_task_is_cancelled_from_its_page_and_markup_stays_text(page):
    _submit(page, SCRIPT, FAKE_LOOP, **{"Maximum turns (1–500, optional)": "400"})
    page.wait_for_url(re.compile(r"/ui/tasks/[0-9A-Z]+$"))
    assert page.locator(".description").first.inner_text() == SCRIPT
    assert page.title() != "owned"
    page.locator("#task-status").filter(has_text="RUNNING").wait_for(timeout=60_000)
    page.get_by_role("button", name="Cancel task").click()
    page.locator("#task-status").filter(has_text="CANCELLED").wait_for()
    assert page.get_by_role("button", name="Cancel task").count() == 0


def test_another_users_task_is_not_found(page, platform):
    with platform.client("someone-else") as api:
        theirs = api.post("/v1/tasks", json={"repo": "acme/panel", "task_description": "private work",
                                             "model_id": FAKE_EDIT}).json()["data"]["task_id"]
    page.goto(page.url.split("/ui/")[0] + f"/ui/tasks/{theirs}")
    assert page.get_by_role("heading", level=1).inner_text() == "Not found"
    assert "private work" not in page.content()


def test_every_input_has_a_label_and_every_page_a_heading(page):
    base = page.url.split("/ui/")[0]
    for path in ("/ui/", "/ui/submit", "/ui/webhooks", "/ui/repos", "/ui/approvals"):
        page.goto(base + path)
        assert page.locator("h1").count() == 1, path
        unlabeled = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.name)""")
        assert unlabeled == [], path
    assert CLI_USER in page.locator("header").inner_text()
