"""GitHub webhook payloads with the shapes of GitHub's own examples (@octokit/webhooks-examples), trimmed
to the fields a receiver may read, plus their signed delivery."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid


def _user(login: str, kind: str = "User") -> dict:
    return {"login": login, "id": abs(hash(login)) % 10**8, "type": kind, "site_admin": False,
            "html_url": f"https://github.com/{login}"}


def _repository(repo: str) -> dict:
    owner, name = repo.split("/")
    return {"id": 1296269, "name": name, "full_name": repo, "private": False, "owner": _user(owner, "Organization"),
            "html_url": f"https://github.com/{repo}", "default_branch": "main"}


def _pull_request(repo: str, pr: dict) -> dict:
    return {"url": f"https://api.github.com/repos/{repo}/pulls/{pr['number']}", "id": pr["id"],
            "number": pr["number"], "state": pr["state"], "title": pr["title"], "body": pr.get("body"),
            "user": _user("bgagent[bot]", "Bot"), "labels": [], "draft": False, "merged": False,
            "head": {"label": pr["head"]["label"], "ref": pr["head"]["ref"], "sha": pr["head"]["sha"],
                     "repo": _repository(repo)},
            "base": {"label": pr["base"]["label"], "ref": pr["base"]["ref"], "sha": pr["base"]["sha"],
                     "repo": _repository(repo)}, "html_url": pr["html_url"], "author_association": "NONE"}


def pr_comment(repo: str, pr: dict, body: str, *, sender: str = "maintainer", association: str = "COLLABORATOR",
               kind: str = "User") -> dict:
    """`issue_comment` / `created` on a pull request's conversation."""
    issue = {"url": f"https://api.github.com/repos/{repo}/issues/{pr['number']}", "number": pr["number"],
             "title": pr["title"], "state": "open", "user": _user("bgagent[bot]", "Bot"), "labels": [],
             "comments": 0, "body": pr.get("body"), "author_association": "NONE",
             "pull_request": {"url": f"https://api.github.com/repos/{repo}/pulls/{pr['number']}",
                              "html_url": pr["html_url"], "diff_url": None, "patch_url": None}}
    comment = {"id": 10**9 + abs(hash(body)) % 10**6, "body": body, "user": _user(sender, kind),
               "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z",
               "author_association": association, "html_url": f"{pr['html_url']}#issuecomment-1"}
    return {"action": "created", "issue": issue, "comment": comment, "repository": _repository(repo),
            "sender": _user(sender, kind)}


def review_submitted(repo: str, pr: dict, state: str, body: str, *, sender: str = "maintainer",
                     association: str = "MEMBER") -> dict:
    """`pull_request_review` / `submitted`."""
    review = {"id": 80, "user": _user(sender), "body": body, "state": state, "commit_id": pr["head"]["sha"],
              "submitted_at": "2025-01-01T00:00:00Z", "author_association": association,
              "html_url": f"{pr['html_url']}#pullrequestreview-80"}
    return {"action": "submitted", "review": review, "pull_request": _pull_request(repo, pr),
            "repository": _repository(repo), "sender": _user(sender)}


def pr_labeled(repo: str, pr: dict, label: str, *, sender: str = "maintainer") -> dict:
    """`pull_request` / `labeled`."""
    pull = _pull_request(repo, pr)
    pull["labels"] = [{"id": 1, "name": label, "color": "ededed", "default": False}]
    return {"action": "labeled", "number": pr["number"], "label": {"id": 1, "name": label, "color": "ededed"},
            "pull_request": pull, "repository": _repository(repo), "sender": _user(sender)}


def signed(secret: str, event: str, payload: dict, delivery: str | None = None) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(payload).encode()
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"X-Hub-Signature-256": f"sha256={digest}", "X-GitHub-Event": event,
                 "X-GitHub-Delivery": delivery or str(uuid.uuid4()), "Content-Type": "application/json",
                 "User-Agent": "GitHub-Hookshot/abc"}
