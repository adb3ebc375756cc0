#!/usr/bin/env python3
"""Pick the GitHub webhook examples bgagent's trigger tests replay, from npm @octokit/webhooks-examples.

    npm pack @octokit/webhooks-examples && tar -xzf octokit-webhooks-examples-*.tgz
    scripts/github_webhook_examples.py package/api.github.com/index.json > tests/support/github_examples.json
"""

from __future__ import annotations

import json
import sys

WANTED = {("issue_comment", "created"), ("pull_request_review", "submitted"), ("pull_request", "labeled"),
          ("issues", "labeled")}

if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        index = json.load(f)
    picked = {}
    for entry in index:
        for example in entry["examples"]:
            key = (entry["name"], example.get("action"))
            if key in WANTED and f"{key[0]}.{key[1]}" not in picked:
                picked[f"{key[0]}.{key[1]}"] = example
    json.dump(picked, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
