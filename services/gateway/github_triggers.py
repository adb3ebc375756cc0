"""Which GitHub events become tasks: an issue event, on an onboarded repo, matching one of its rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.repos.models import GitHubTrigger


@dataclass(frozen=True)
class IssueEvent:
    """The part of an issue-bearing GitHub event that decides and describes a task."""

    event: str
    action: str
    repo: str
    issue_number: int
    title: str
    labels: frozenset[str]  # the issue's labels
    added_label: str | None  # the label a `labeled` action added
    sender: str | None


def read_issue_event(event: str, payload: Any) -> IssueEvent | str:
    """The issue event in a payload, or the reason there is none."""
    if not isinstance(payload, dict):
        return "payload is not an object"
    repo = (payload.get("repository") or {}).get("full_name") if isinstance(payload.get("repository"), dict) else None
    issue = payload.get("issue")
    if not isinstance(repo, str):
        return "event names no repository"
    if not isinstance(issue, dict) or not isinstance(issue.get("number"), int):
        return f"{event or 'unknown'} events carry no issue"
    if issue.get("pull_request"):
        return "the issue is a pull request"
    label = payload.get("label")
    sender = payload.get("sender")
    return IssueEvent(
        event=event, action=str(payload.get("action") or ""), repo=repo, issue_number=issue["number"],
        title=str(issue.get("title") or "").strip(),
        labels=frozenset(str(lb.get("name")) for lb in issue.get("labels") or [] if isinstance(lb, dict)),
        added_label=str(label.get("name")) if isinstance(label, dict) and label.get("name") else None,
        sender=str(sender.get("login")) if isinstance(sender, dict) and sender.get("login") else None,
    )


def _labels_match(rule: GitHubTrigger, ev: IssueEvent) -> bool:
    if not rule.labels:
        return True
    wanted = {label.lower() for label in rule.labels}  # GitHub label names ignore case
    # `labeled` fires once per label added: only the label just added counts, so adding an unrelated
    # label to an already-labeled issue does not start a second task.
    if ev.action == "labeled":
        return (ev.added_label or "").lower() in wanted
    return bool({label.lower() for label in ev.labels} & wanted)


def matching_rule(rules: tuple[GitHubTrigger, ...], ev: IssueEvent) -> GitHubTrigger | None:
    """The first rule that turns this event into a task."""
    for rule in rules:
        if ev.event in rule.events and (not rule.actions or ev.action in rule.actions) and _labels_match(rule, ev):
            return rule
    return None
