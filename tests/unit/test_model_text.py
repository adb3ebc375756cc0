"""The model's words on a git host's pages are text: no HTML, no images, no foreign links, no foreign closings."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from agent.pricing import Usage
from agent.pull_request import RunFacts, TestReport, commit_message, pr_body
from shared.githost.model_text import render_model_text
from shared.githost.status_comment import status_text
from shared.hydration.context import HydratedContext
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus as S

REPO, CLONE = "acme/app", "https://github.com/acme/app.git"
HOSTILE = ("Done. <img src=x onerror=alert(1)> ![x](https://evil.example/p.png) [a](https://evil.example/login) "
           "Closes #99. Closes #5. See [the readme](https://github.com/acme/app/blob/main/README.md).")


def _render(text: str, issue: int | None = 5) -> str:
    return render_model_text(text, repo=REPO, web_url=CLONE, issue=issue)


def _body(summary: str, tail: str = "ok") -> str:
    task = Task.new(user_id="u", repo=REPO, issue_number=5)
    context = HydratedContext(task_id=task.task_id, repo=REPO, clone_url=CLONE, default_branch="main",
                              branch_name="b", system_prompt="s", user_prompt="u", prompt_version="v", model_id="m",
                              max_turns=3, issue_number=5, issue_title="Crash on start")
    return pr_body(RunFacts(task, context, summary, 1, Usage(), 0.0, test=TestReport("pytest", True, 0, tail)))


def test_a_pr_body_shows_html_images_and_foreign_links_as_text_and_keeps_the_repos_own():
    body = _body(HOSTILE)
    assert "<img" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body
    assert "`![x](https://evil.example/p.png)`" in body and "`[a](https://evil.example/login)`" in body
    assert "Closes `#99`" in body and "Closes #99" not in body
    assert "Closes #5." in body and "Closes #5 (Crash on start)" in body  # the model's and the platform's own
    assert "[the readme](https://github.com/acme/app/blob/main/README.md)" in body
    html = MarkdownIt("commonmark", {"html": True}).render(body)
    assert "<img" not in html and html.count("<a ") == 1
    assert '<a href="https://github.com/acme/app/blob/main/README.md">the readme</a>' in html


@pytest.mark.parametrize("text,kept,shown", [
    ("fixes acme/other#3", "", "fixes `acme/other#3`"),
    ("Fixes GH-99 and fixes gh-5", "fixes gh-5", "Fixes `GH-99`"),
    ("Resolved: https://github.com/acme/other/issues/4", "", "Resolved: `https://github.com/acme/other/issues/4`"),
    ("fixes acme/app#5 and fix https://github.com/acme/app/issues/5", "fixes acme/app#5",
     "fix https://github.com/acme/app/issues/5"),
    ("see https://evil.example/x?a=1&b=2 and www.evil.example", "", "see `https://evil.example/x?a=1&b=2` and "
                                                                    "`www.evil.example`"),
    ("<https://evil.example/x>", "", "&lt;`https://evil.example/x`&gt;"),
    ("[ref]: https://evil.example\n[click][ref]", "", "\\[ref\\]: `https://evil.example`\n\\[click\\]\\[ref\\]"),
    ("run `rm -rf <dir>` first", "", "run `rm -rf <dir>` first"),
])
def test_references_links_and_code(text, kept, shown):
    out = _render(text)
    assert shown in out and kept in out


# Attempts to end a code block early, or to open one that swallows ours, so that HTML after it is live.
FENCE_BREAKS = [
    "~~~\n```\n~~~\n<img src=x onerror=alert(1)>\n```\nafter",
    "```\n~~~\n```\n<img src=x onerror=alert(1)>",
    "`` a ` <img src=x onerror=alert(1)> ``` b",
    "\\`<img src=x onerror=alert(1)>`",
    "x `a\n\n<img src=x onerror=alert(1)>` y",
    "    ```\n<img src=x onerror=alert(1)>\n    ```",
    "```js `\n<img src=x onerror=alert(1)>\n```",
    "<details><summary>x</summary>\n\n<img src=x onerror=alert(1)>\n</details>",
    "[x](javascript:alert(1)) [y](https://github.com.evil.example/) [z](https://user@github.com/)",
]


@pytest.mark.parametrize("text", FENCE_BREAKS)
def test_no_construction_yields_live_html_or_a_foreign_link(text):
    html = MarkdownIt("commonmark", {"html": True}).render(_render(text))
    assert "<img" not in html and "<details" not in html
    assert "<a " not in html  # none of these links is to the repository's own host


def test_a_test_tail_cannot_break_out_of_its_block():
    body = _body("ok", tail="```\n<img src=x onerror=alert(1)>")
    assert "````\n```\n<img src=x onerror=alert(1)>\n````" in body


def test_the_status_comment_renders_the_summary_as_text():
    done = Task.new(user_id="u", repo=REPO, issue_number=5).model_copy(update={
        "status": S.COMPLETED, "agent_summary": HOSTILE, "pr_url": "https://github.com/acme/app/pull/9"})
    text = status_text(done)
    assert "&lt;img" in text and "`![x](https://evil.example/p.png)`" in text and "Closes `#99`" in text
    assert "[the readme](https://github.com/acme/app/blob/main/README.md)" in text


def test_a_commit_message_closes_nothing_the_model_named():
    message = commit_message("Add notes", "Fixes #99, closes: acme/other#3 and resolves https://github.com/a/b/issues/1",
                             task_id="t1", prompt_version="v")
    assert "Fixes issue #99, closes: issue acme/other#3 and resolves issue https://github.com/a/b/issues/1" in message
    assert message.endswith("Task-Id: t1\nPrompt-Version: v\n")


def test_the_pr_body_names_the_engine_and_the_model_of_the_run() -> None:
    task = Task.new(user_id="u", repo=REPO, task_description="x")
    context = HydratedContext(task_id=task.task_id, repo=REPO, clone_url=CLONE, default_branch="main",
                              branch_name="b", system_prompt="s", user_prompt="u", prompt_version="v",
                              model_id="claude-opus-5-5", max_turns=3, engine="claude-code")
    body = pr_body(RunFacts(task, context, "Done.", 1, Usage(), 0.0))
    assert "- Engine: claude-code · model claude-opus-5-5\n" in body.split("## Run", 1)[1]
