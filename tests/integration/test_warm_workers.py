"""Warm workers: sessions forked from a pre-imported zygote stay as separate as fresh interpreters."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import pytest

from shared.compute.pids import cmdline
from shared.compute.process import ProcessCompute, is_session
from shared.compute.protocol import SessionState
from tests.support.processes import children

PROBE = "tests.support.probe_agent"
IDLE = "tests.contract.idle_agent"


def _wait(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def warm(stack, tmp_path):
    probes = tmp_path / "probes"
    probes.mkdir()
    env = {**stack.env(), "PROBE_DIR": str(probes), "PATH": os.environ.get("PATH", "")}
    compute = ProcessCompute.warm(tmp_path / "runtime", env, agent_module=PROBE, size=1, idle_seconds=60)
    yield compute, probes
    compute.stop_all()


async def _run(compute: ProcessCompute, probes: Path, task_id: str) -> dict:
    handle = await compute.start(task_id)
    assert _wait(lambda: (probes / f"{task_id}.json").exists()), compute.log_file(task_id).read_text()
    assert _wait(lambda: compute._pid(handle) is not None and not _session_alive(compute, handle))
    return json.loads((probes / f"{task_id}.json").read_text()) | {"handle": handle}


def _session_alive(compute: ProcessCompute, handle: str) -> bool:
    return is_session(compute._pid(handle))


async def test_a_task_sees_nothing_an_earlier_task_left_in_its_worker(warm):
    compute, probes = warm
    first = await _run(compute, probes, "01WARMFIRSTAAAAAAAAAAAAAAA")
    second = await _run(compute, probes, "01WARMSECONDAAAAAAAAAAAAAA")
    assert first["task_env"] == "01WARMFIRSTAAAAAAAAAAAAAAA"
    assert second["task_env"] == "01WARMSECONDAAAAAAAAAAAAAA"
    # A fresh process under a fresh supervisor, none of the first task's environment, module state,
    # open files, imports or working directory.
    assert second["pid"] != first["pid"] and second["ppid"] != first["ppid"]
    assert second["handle"] != first["handle"]
    assert second["env"] == {} and second["left_by"] == [] and second["modules"] == []
    assert second["fds"] == first["fds"]
    assert second["cwd"] == first["cwd"]
    # Nor did the session inherit the zygote's pipes or a sibling worker's: only stdio is open.
    assert first["fds"][:3] == [0, 1, 2] and len(first["fds"]) <= 4  # (+ the listing's own directory fd)


async def _until(compute: ProcessCompute, handle: str, state: SessionState, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while await compute.describe(handle) != state:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.fixture
def idle(stack, tmp_path):
    compute = ProcessCompute.warm(tmp_path / "runtime", {**stack.env(), "PATH": os.environ.get("PATH", "")},
                                  agent_module=IDLE, size=1, idle_seconds=60)
    yield compute
    compute.stop_all()


async def test_killing_a_pooled_worker_ends_its_agent_and_the_session_reads_stopped(idle):
    handle = await idle.start("01WARMKILLEDAAAAAAAAAAAAAA")
    supervisor = idle._pid(handle)
    assert _wait(lambda: bool(children(supervisor)))  # the agent forked
    agent = children(supervisor)[0]
    os.kill(supervisor, signal.SIGKILL)
    # Nothing of the task runs on without the supervisor that reports its end and forwards stops.
    assert _wait(lambda: _gone(agent), timeout=10)
    assert await _until(idle, handle, SessionState.STOPPED)


async def test_a_dead_zygote_is_replaced_at_the_next_start(idle):
    zygotes = [p for p in children(os.getpid()) if "shared.compute.zygote" in cmdline(p)]
    assert len(zygotes) == 1
    os.kill(zygotes[0], signal.SIGKILL)
    assert _wait(lambda: _gone(zygotes[0]))
    handle = await idle.start("01WARMAFTERZYGOTEDIEDAAAAA")
    assert await _until(idle, handle, SessionState.RUNNING)
    await idle.stop(handle, reason="done")
    assert await _until(idle, handle, SessionState.STOPPED, timeout=20)


async def test_idle_workers_are_let_go_after_the_idle_limit_and_starts_still_work(stack, tmp_path):
    compute = ProcessCompute.warm(tmp_path / "runtime", {**stack.env(), "PATH": os.environ.get("PATH", "")},
                                  agent_module=IDLE, size=2, idle_seconds=1.5)
    try:
        handle = await compute.start("01WARMIDLELIMITAAAAAAAAAAA")
        zygote = next(p for p in children(os.getpid()) if "shared.compute.zygote" in cmdline(p))
        supervisor = compute._pid(handle)
        assert _wait(lambda: len([w for w in children(zygote) if w != supervisor]) == 2)  # refilled
        assert _wait(lambda: [w for w in children(zygote) if w != supervisor] == [], timeout=10)
        await compute.stop(handle, reason="done")
        later = await compute.start("01WARMAFTERIDLEAAAAAAAAAAA")  # forked on demand
        assert await _until(compute, later, SessionState.RUNNING)
    finally:
        compute.stop_all()


async def test_an_agent_the_zygote_cannot_host_still_starts_cold(stack, tmp_path):
    probes = tmp_path / "probes"
    probes.mkdir()
    env = {**stack.env(), "PROBE_DIR": str(probes), "PATH": os.environ.get("PATH", "")}
    compute = ProcessCompute.warm(tmp_path / "runtime", env, agent_module="tests.support.script_agent", size=1,
                                  idle_seconds=60)
    try:
        await compute.start("01COLDFALLBACKAAAAAAAAAAAA")
        assert _wait(lambda: (probes / "01COLDFALLBACKAAAAAAAAAAAA.ran").exists())
        started = time.monotonic()
        await compute.start("01COLDFALLBACKBBBBBBBBBBBB")  # the failed zygote is not tried again at once
        assert time.monotonic() - started < 5
        assert _wait(lambda: (probes / "01COLDFALLBACKBBBBBBBBBBBB.ran").exists())
        assert "no main()" in (tmp_path / "runtime" / "logs" / "zygote.log").read_text()
    finally:
        compute.stop_all()


async def test_a_start_whose_starter_died_before_asking_is_taken_over_and_a_live_one_is_waited_for(idle):
    from shared.compute.errors import ComputeStartFailed

    sessions = idle._session_file("x").parent
    dead = subprocess_pid_that_exited()
    orphan = sessions / "01STARTERDIEDAAAAAAAAAAAAA.json"
    orphan.write_text(json.dumps({"starting": dead, "task_id": "01STARTERDIEDAAAAAAAAAAAAA"}))
    os.utime(orphan, (time.time() - 60, time.time() - 60))
    handle = await idle.start("01STARTERDIEDAAAAAAAAAAAAA")  # nobody will ever finish that start: take it over
    assert await _until(idle, handle, SessionState.RUNNING)
    busy = sessions / "01STARTERALIVEAAAAAAAAAAAA.json"
    busy.write_text(json.dumps({"starting": os.getpid(), "task_id": "01STARTERALIVEAAAAAAAAAAAA"}))
    os.utime(busy, (time.time() - 60, time.time() - 60))
    with pytest.raises(ComputeStartFailed) as refused:
        await idle.start("01STARTERALIVEAAAAAAAAAAAA")  # its starter may still finish it
    assert refused.value.retryable


def subprocess_pid_that_exited() -> int:
    import subprocess
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid
