"""`python -m evals.starter --onboard`: the dataset written and its repositories onboarded on the stack the CLI
points at, as local repositories."""

from __future__ import annotations

import json
import uuid

from evals.starter.__main__ import main as starter
from shared.aws.dynamo import from_item


def test_the_starter_suite_is_written_and_its_repositories_onboarded(cli, platform, tmp_path, capsys):
    owner = f"st{uuid.uuid4().hex[:6]}"
    out = tmp_path / "starter.jsonl"
    assert starter(["--out", str(out), "--dir", str(tmp_path / "repos"), "--owner", owner, "--onboard"]) == 0
    cases = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(cases) == 10 and {c["repo"] for c in cases} == {f"{owner}/textkit", f"{owner}/mathkit"}
    assert all(c["gold_patch"] and c["test_patch"] and len(c["base"]) == 40 for c in cases)
    for name in ("textkit", "mathkit"):
        item = platform.boto("dynamodb").get_item(TableName=platform.names.repos_table,
                                                  Key={"repo": {"S": f"{owner}/{name}"}}, ConsistentRead=True)
        row = from_item(item["Item"])
        where = str(tmp_path / "repos" / name)
        assert (row["status"], row["git_host"], row["local_path"]) == ("active", "local", where)
    assert "wrote 10 cases" in capsys.readouterr().out
