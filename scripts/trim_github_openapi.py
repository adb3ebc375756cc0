#!/usr/bin/env python3
"""Trim GitHub's OpenAPI description (npm @octokit/openapi) to the operations bgagent and its GitHub double use.

    npm pack @octokit/openapi && tar -xzf octokit-openapi-*.tgz
    scripts/trim_github_openapi.py package/generated/api.github.com.json > tests/doubles/github_openapi.json

The result keeps those operations and every component they reference, so a validator can check the double's
responses and the client's requests offline.
"""

from __future__ import annotations

import json
import sys
from typing import Any

OPERATIONS = {
    "/repos/{owner}/{repo}": ["get"],
    "/repos/{owner}/{repo}/issues/{issue_number}": ["get"],
    "/repos/{owner}/{repo}/issues/{issue_number}/comments": ["get", "post"],
    "/repos/{owner}/{repo}/issues/comments/{comment_id}": ["patch"],
    "/repos/{owner}/{repo}/pulls": ["get", "post"],
    "/repos/{owner}/{repo}/pulls/{pull_number}": ["get", "patch"],
    "/repos/{owner}/{repo}/pulls/{pull_number}/files": ["get"],
    "/repos/{owner}/{repo}/pulls/{pull_number}/comments": ["get"],
    "/repos/{owner}/{repo}/pulls/{pull_number}/reviews": ["get", "post"],
    "/repos/{owner}/{repo}/compare/{basehead}": ["get"],
    "/repos/{owner}/{repo}/commits/{ref}/check-runs": ["get"],
    "/repos/{owner}/{repo}/collaborators/{username}/permission": ["get"],
}


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            found.add(ref)
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def _lookup(doc: dict, ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def trim(doc: dict) -> dict:
    paths = {path: {m: doc["paths"][path][m] for m in methods} for path, methods in OPERATIONS.items()}
    for ops in paths.values():
        for op in ops.values():
            op.pop("x-github", None)
    seen: set[str] = set()
    todo: set[str] = set()
    _refs(paths, todo)
    components: dict[str, dict] = {}
    while todo:
        ref = todo.pop()
        if ref in seen:
            continue
        seen.add(ref)
        target = _lookup(doc, ref)
        _, _, kind, name = ref.split("/", 3)
        components.setdefault(kind, {})[name] = target
        _refs(target, todo)
    return {"openapi": doc["openapi"], "info": {"title": doc["info"]["title"], "version": doc["info"]["version"],
                                                 "description": "Trimmed by scripts/trim_github_openapi.py"},
            "paths": paths, "components": components}


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        json.dump(trim(json.load(f)), sys.stdout, indent=1, sort_keys=True)
        sys.stdout.write("\n")
