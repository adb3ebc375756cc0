"""Which GitHub events become tasks: an issue or pull request event, on an onboarded repo, matching a rule."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from shared.repos.models import GitHubTrigger

# Associations that do not tell whether the sender can push: the collaborator API decides for those.
SURE_WRITERS = frozenset({"OWNER"})
UNSURE = frozenset({"MEMBER", "COLLABORATOR", "CONTRIBUTOR", ""})
WRITE_PERMISSIONS = frozenset({"admin", "maintain", "write"})
_SAID = frozenset({"issue_comment", "pull_request_review", "pull_request_review_comment"})


@dataclass(frozen=True)
class GitHubEvent:
    """The part of a GitHub issue, comment, review or pull request event that decides and describes a task."""

    event: str
    action: str
    repo: str
    number: int  # the issue's or the pull request's
    is_pull: bool
    title: str
    labels: frozenset[str]  # the issue's or PR's labels
    added_label: str | None  # the label a `labeled` action added
    sender: str | None
    sender_is_bot: bool = False
    text: str = ""  # the comment's or review's body
    author_association: str = ""  # of the comment's or review's author
    review_state: str = ""
    head: str = ""  # the PR's head branch, when the payload names it


def _obj(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _subject(event: str, payload: dict) -> tuple[dict, bool] | str:
    """The issue or pull request the event is about, and whether it is a pull request."""
    if isinstance(payload.get("pull_request"), dict) and event in ("pull_request", "pull_request_review"):
        return payload["pull_request"], True
    issue = payload.get("issue")
    if not isinstance(issue, dict):
        return f"{event or 'unknown'} events carry no issue"
    if issue.get("pull_request") and event == "issues":
        return "the issue is a pull request"
    return issue, bool(issue.get("pull_request"))


def read_event(event: str, payload: Any) -> GitHubEvent | str:
    """The event in a payload, or the reason there is none."""
    if not isinstance(payload, dict):
        return "payload is not an object"
    repo = _obj(payload.get("repository")).get("full_name")
    if not isinstance(repo, str):
        return "event names no repository"
    found = _subject(event, payload)
    if isinstance(found, str):
        return found
    subject, is_pull = found
    if not isinstance(subject.get("number"), int):
        return f"{event or 'unknown'} events carry no issue"
    said = _obj(payload.get("comment")) or _obj(payload.get("review"))
    sender, label = _obj(payload.get("sender")), _obj(payload.get("label"))
    return GitHubEvent(
        event=event, action=str(payload.get("action") or ""), repo=repo, number=subject["number"], is_pull=is_pull,
        title=str(subject.get("title") or "").strip(),
        labels=frozenset(str(lb.get("name")) for lb in _list(subject.get("labels")) if isinstance(lb, dict)),
        added_label=str(label["name"]) if label.get("name") else None,
        sender=str(sender["login"]) if sender.get("login") else None, sender_is_bot=sender.get("type") == "Bot",
        text=str(said.get("body") or "")[:10_000], author_association=str(said.get("author_association") or ""),
        review_state=str(said.get("state") or "").lower(), head=str(_obj(subject.get("head")).get("ref") or ""),
    )


def _labels_match(rule: GitHubTrigger, ev: GitHubEvent) -> bool:
    if not rule.labels:
        return True
    wanted = {label.lower() for label in rule.labels}  # GitHub label names ignore case
    # `labeled` fires once per label added: only the label just added counts, so adding an unrelated
    # label to an already-labeled issue does not start a second task.
    if ev.action == "labeled":
        return (ev.added_label or "").lower() in wanted
    return bool({label.lower() for label in ev.labels} & wanted)


def mentions(text: str, handle: str) -> bool:
    """`handle` as words of its own in `text`, any case (`@bgagent` is not in `@bgagents` or `x@bgagent`)."""
    return re.search(rf"(?<![\w@/-]){re.escape(handle)}(?![\w-])", text, re.IGNORECASE) is not None


def _fits(rule: GitHubTrigger, ev: GitHubEvent) -> bool:
    if rule.task_type != "new_task" and not ev.is_pull:
        return False
    if rule.mention and not mentions(ev.text, rule.mention):
        return False
    if rule.review_states and ev.review_state not in {s.lower() for s in rule.review_states}:
        return False
    return not rule.only_bgagent_prs or ev.head.startswith("bgagent/")


def matching_rule(rules: tuple[GitHubTrigger, ...], ev: GitHubEvent) -> GitHubTrigger | None:
    """The first rule that turns this event into a task."""
    for rule in rules:
        if (ev.event in rule.events and (not rule.actions or ev.action in rule.actions) and _labels_match(rule, ev)
                and _fits(rule, ev)):
            return rule
    return None


def needs_writer(rule: GitHubTrigger, ev: GitHubEvent) -> bool:
    """Whether the sender must have write access: for what anyone can say (comments, reviews); labels are
    only set by triagers and above, and issue rules are the repo owner's own choice."""
    allowed = {login.lower() for login in rule.allowlist}
    return ev.event in _SAID and ev.action != "labeled" and (ev.sender or "").lower() not in allowed


def instruction(rule: GitHubTrigger, ev: GitHubEvent) -> str | None:
    """The task's description: the comment or review that asked, else the issue or PR title."""
    if ev.text.strip():
        return ev.text.strip()
    if ev.event == "pull_request_review":
        return f"Address the changes {ev.sender or 'a reviewer'} requested in their review."
    return ev.title or None
