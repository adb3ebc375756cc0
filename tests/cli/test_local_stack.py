"""`bgagent local up --detach / status / logs / token / down` end to end in a temporary BGAGENT_HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from cli.local.stack import free_port

pytestmark = pytest.mark.e2e


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_up_detached_status_logs_token_and_down(bgagent, home, monkeypatch):
    monkeypatch.setenv("BGAGENT_LOCAL_PORT", str(free_port()))
    monkeypatch.setenv("BGAGENT_LOCAL_AWS_PORT", str(free_port()))
    monkeypatch.setenv("BGAGENT_STACK_NAME", f"cli{os.getpid()}")
    # A deprecated default model: `local up` and the gateway's start-up log say so.
    monkeypatch.setenv("BGAGENT_DEFAULT_MODEL_ID", "claude-opus-4-5")
    # What a crashed launcher leaves behind must not block a new start.
    state_dir = home / "local"
    state_dir.mkdir(parents=True)
    dead = _dead_pid()
    (state_dir / "launcher.json").write_text(json.dumps({"pid": dead, "api_url": "http://127.0.0.1:1"}))
    (state_dir / "stack.json").write_text(json.dumps({"launcher_pid": dead, "api_url": "http://127.0.0.1:1",
                                                      "pids": {"gateway": dead}}))
    assert bgagent("local", "status").code == 1

    started = bgagent("local", "up", "--detach")
    pids: list[int] = []
    try:
        assert started.code == 0, started.out + started.err
        assert "starting gateway" in started.out and "bgagent is up" in started.out and "next steps" in started.out
        assert "warning:" in started.err and "the default model: model 'claude-opus-4-5'" in started.err

        status = bgagent("local", "status", "--json")
        assert status.code == 0, status.err
        st = status.json()
        pids = [st["launcher"]["pid"], *(s["pid"] for s in st["services"].values())]
        assert set(st["services"]) == {"moto", "gateway", "hydrator", "dispatcher", "finalizer", "reconciler"}
        assert all(s["alive"] for s in st["services"].values()) and st["healthy"]
        assert st["api_url"] in started.out
        human = bgagent("local", "status")
        assert "gateway" in human.out and str(st["services"]["gateway"]["pid"]) in human.out

        again = bgagent("local", "up", "--detach")
        assert again.code == 1 and "already running" in again.err

        # An unconfigured CLI talks to the stack on this machine with the local issuer.
        assert bgagent("list", "--json").json() == []
        token = bgagent("local", "token", "--user", "me").out.strip()
        resp = httpx.get(f"{st['api_url']}/v1/tasks", headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 200

        logs = bgagent("local", "logs", "gateway", "--pretty", "-n", "5")
        assert logs.code == 0 and logs.out.strip() and "gateway" in logs.out and '{"ts"' not in logs.out
        assert bgagent("local", "logs", "nosuch").code == 2
        gateway_log = bgagent("local", "logs", "gateway", "--raw", "-n", "200").out
        assert "claude-opus-4-5" in gateway_log and "move to 'claude-opus-5-5'" in gateway_log
    finally:
        stopped = bgagent("local", "down")
    assert stopped.code == 0 and "stopped" in stopped.out
    assert pids and not [p for p in pids if _running(p)]
    assert not (state_dir / "stack.json").exists()
    assert bgagent("local", "status").code == 1
    assert "no embedded stack" in bgagent("local", "down").out


def test_up_with_iam_enforced_runs_operator_commands_as_the_administrator(bgagent, home, monkeypatch):
    monkeypatch.setenv("BGAGENT_LOCAL_PORT", str(free_port()))
    monkeypatch.setenv("BGAGENT_LOCAL_AWS_PORT", str(free_port()))
    monkeypatch.setenv("BGAGENT_STACK_NAME", f"iam{os.getpid()}")
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)  # keys of one's own would win over the stack's operator keys
    started = bgagent("local", "up", "--detach", "--iam", "enforce")
    try:
        assert started.code == 0, started.out + started.err
        assert "enforcing IAM" in started.out
        state = json.loads((home / "local" / "stack.json").read_text())
        assert state["iam"] == "enforce" and oct(Path(state["credentials_file"]).stat().st_mode)[-3:] == "600"
        assert bgagent("repo", "onboard", "acme/iam", "--test-command", "true").code == 0
        assert [r["repo"] for r in bgagent("repo", "list", "--json").json()] == ["acme/iam"]
        assert bgagent("list", "--json").json() == []  # the gateway, as itself, reads the tasks index
    finally:
        bgagent("local", "down")
