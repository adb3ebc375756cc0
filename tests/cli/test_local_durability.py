"""The embedded stack as a user keeps it running: --demo, restart at once, state kept across down/up and kill -9."""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

import pytest

from cli.local.processes import wait_gone
from cli.local.stack import free_port, port_is_free
from tests.support.git import make_bare_repo

pytestmark = pytest.mark.e2e
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"}


@pytest.fixture
def local_env(home, monkeypatch):
    """Fresh ports, no model credentials, a quick reconciler: what `bgagent local up` reads."""
    for var in ("ANTHROPIC_API_KEY", "BGAGENT_ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "BGAGENT_MODEL_PROVIDER",
                "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("BGAGENT_LOCAL_PORT", str(free_port()))
    monkeypatch.setenv("BGAGENT_LOCAL_AWS_PORT", str(free_port()))
    monkeypatch.setenv("BGAGENT_STACK_NAME", f"dur{os.getpid()}")
    monkeypatch.setenv("BGAGENT_RECONCILE_INTERVAL", "1")
    monkeypatch.setenv("BGAGENT_HEARTBEAT_SECONDS", "1")
    monkeypatch.setenv("BGAGENT_HEARTBEAT_STALE_SECONDS", "10")  # a loaded machine may starve an agent for seconds
    monkeypatch.setenv("BGAGENT_HEARTBEAT_GRACE_SECONDS", "120")
    monkeypatch.setenv("BGAGENT_CONSUMER_WAIT_SECONDS", "1")
    return home


@pytest.fixture
def stack_down(bgagent, local_env):
    yield
    bgagent("local", "down")


def _wait(bgagent, task_id: str, statuses: set[str] = TERMINAL, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        task = bgagent("status", task_id, "--json").json()
        if task["status"] in statuses or time.monotonic() > deadline:
            return task
        time.sleep(0.5)


def _onboard(bgagent, tmp_path: Path, name: str, test_command: str) -> None:
    repo = make_bare_repo(tmp_path, name)
    result = bgagent("repo", "onboard", f"me/{name}", "--path", repo, "--test-command", test_command)
    assert result.code == 0, result.err


def _submit(bgagent, repo: str) -> str:
    result = bgagent("submit", "--repo", repo, "--description", "Add a CONTRIBUTING.md", "--json")
    assert result.code == 0, result.err
    return result.json()["task_id"]


def _kill_everything(home: Path) -> None:
    """kill -9 of every process the stack started, agents included, as a power cut would."""
    local = home / "local"
    state = json.loads((local / "stack.json").read_text())
    pids = [state["launcher_pid"], *state["pids"].values()]
    for record in (local / "runtime" / "sessions").glob("*.json"):
        pids.append(json.loads(record.read_text())["pid"])
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGKILL)  # each was started in its own session: its children go too
        except ProcessLookupError:
            pass
    for pid in pids:
        assert wait_gone(pid, 10), f"pid {pid} survived SIGKILL"


def test_demo_task_survives_down_and_up_right_after(bgagent, stack_down, tmp_path):
    up = bgagent("local", "up", "--detach", "--demo")
    assert up.code == 0, up.out + up.err
    assert "demo" in up.out and "no key" in up.out and "no model credentials" not in up.err
    _onboard(bgagent, tmp_path, "demo", "true")
    task_id = _submit(bgagent, "me/demo")
    done = _wait(bgagent, task_id)
    assert done["status"] == "COMPLETED" and done["model_id"] == "demo" and done["pr_url"] == "local://me/demo/pull/1"
    webhook = bgagent("webhook", "create", "--name", "ci", "--json").json()["webhook_id"]
    events_before = bgagent("events", task_id, "--json").json()

    assert bgagent("local", "down").code == 0
    again = bgagent("local", "up", "--detach", "--demo")  # at once: no "port is taken"
    assert again.code == 0, again.out + again.err

    assert [t["task_id"] for t in bgagent("list", "--json").json()] == [task_id]
    assert bgagent("status", task_id, "--json").json()["pr_url"] == done["pr_url"]
    assert bgagent("events", task_id, "--json").json() == events_before
    assert webhook in bgagent("webhook", "list").out
    assert "me/demo" in bgagent("repo", "list").out
    second = _submit(bgagent, "me/demo")
    assert _wait(bgagent, second)["pr_url"] == "local://me/demo/pull/2"  # the recorded PRs' counter survived


def test_kill_minus_9_keeps_committed_tasks_and_finalizes_the_running_one(bgagent, stack_down, local_env, tmp_path):
    assert bgagent("local", "up", "--detach", "--demo").code == 0
    _onboard(bgagent, tmp_path, "quick", "true")
    _onboard(bgagent, tmp_path, "slow", "sleep 300")
    committed = _submit(bgagent, "me/quick")
    assert _wait(bgagent, committed)["status"] == "COMPLETED"
    running = _submit(bgagent, "me/slow")
    deadline = time.monotonic() + 90
    while "agent.started" not in {e["event_type"] for e in bgagent("events", running, "--json").json()}:
        assert time.monotonic() < deadline, "the agent never started"
        time.sleep(0.5)
    time.sleep(3)  # a heartbeat (every second here) and a snapshot (every second) after it

    _kill_everything(local_env)
    up = bgagent("local", "up", "--detach", "--demo")
    assert up.code == 0, up.out + up.err

    assert bgagent("status", committed, "--json").json()["status"] == "COMPLETED"
    ended = _wait(bgagent, running)
    assert ended["status"] == "FAILED" and ended["error_code"] == "HEARTBEAT_LOST", ended


def test_without_a_key_up_warns_and_the_task_fails_with_model_auth(bgagent, stack_down, tmp_path):
    up = bgagent("local", "up", "--detach")
    assert up.code == 0, up.out + up.err
    assert "no model credentials" in up.err and "--demo" in up.err
    _onboard(bgagent, tmp_path, "nokey", "true")
    task = _wait(bgagent, _submit(bgagent, "me/nokey"))
    assert task["status"] == "FAILED" and task["error_code"] == "MODEL_AUTH", task
    classification = task["error_classification"]
    assert classification["retryable"] is False and "ANTHROPIC_API_KEY" in classification["remedy"]
    assert "TypeError" not in task["error_message"]


def test_reset_asks_then_deletes_the_state(bgagent, local_env, tmp_path):
    stopped = bgagent("repo", "onboard", "me/x", "--path", make_bare_repo(tmp_path, "x"))
    assert stopped.code != 0 and "no embedded stack is running" in stopped.err and "credentials" not in stopped.err
    data = local_env / "local" / "data"
    data.mkdir(parents=True)
    (data / "emulator-state.json").write_text("{}")
    refused = bgagent("local", "reset")  # not a terminal and no --yes: nothing happens
    assert refused.code != 0 and "--yes" in refused.err and data.exists()
    declined = bgagent("local", "reset", stdin="n\n", terminal=True)
    assert declined.code != 0 and data.exists()
    assert bgagent("local", "reset", stdin="y\n", terminal=True).code == 0
    assert not data.exists()


def test_port_of_a_stopped_server_is_free_at_once_despite_time_wait():
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    conn, _ = server.accept()
    conn.close()  # the server side closes first: its end of the connection waits in TIME_WAIT
    client.close()
    assert not port_is_free(port)  # still listening
    server.close()
    assert port_is_free(port)


def test_pytest_as_test_command_passes_and_a_failing_suite_is_unmissable(bgagent, stack_down, monkeypatch, tmp_path):
    # The stack's PATH reaches the test command (no login shell resets it): here, the pytest of this venv.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    assert bgagent("local", "up", "--detach", "--demo").code == 0
    passing = make_bare_repo(tmp_path, "green", files={"test_ok.py": "def test_ok():\n    assert True\n"})
    failing = make_bare_repo(tmp_path, "red", files={"test_bad.py": "def test_bad():\n    assert 1 == 2\n"})
    for name, repo in (("green", passing), ("red", failing)):
        # The sandbox shows system directories only: the venv and the Python it was made from are exposed.
        assert bgagent("repo", "onboard", f"me/{name}", "--path", repo, "--test-command", "pytest -q",
                       "--readonly-path", sys.prefix, "--readonly-path", sys.base_prefix).code == 0

    green = _wait(bgagent, _submit(bgagent, "me/green"))
    assert green["status"] == "COMPLETED" and green["tests"] == "passed" and green["test_exit_code"] == 0, (
        green.get("test_exit_code"), green.get("test_output_tail"))

    red_id = _submit(bgagent, "me/red")
    red = _wait(bgagent, red_id)
    assert red["tests"] == "failed" and red["test_exit_code"] == 1 and "assert 1 == 2" in red["test_output_tail"]
    shown = bgagent("status", red_id).out
    assert "failed (exit 1)" in shown and "assert 1 == 2" in shown
    assert "tests failed · pytest -q · exit 1" in bgagent("events", red_id).out
    pull = bgagent("pr", "show", red_id)
    assert pull.code == 0, pull.err
    assert red["pr_url"] in pull.out and red["branch_name"] in pull.out and "failed (exit 1)" in pull.out
    assert "DEMO.md | " in pull.out and "1 file changed" in pull.out  # the diff stat
    assert "**Tests failed**: `pytest -q` exited with 1" in pull.out and "assert 1 == 2" in pull.out  # the body
    by_url = bgagent("pr", "show", red["pr_url"], "--json").json()
    assert by_url["number"] == 1 and by_url["head"] == red["branch_name"] and by_url["repo"] == "me/red"
