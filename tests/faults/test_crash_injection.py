"""SIGKILL random services at random moments during a run; restarted, they lose nothing."""

from __future__ import annotations

import random
import threading
import time

import pytest

from tests.doubles.scenarios import FAKE_EDIT
from tests.faults.conftest import size
from tests.faults.helpers import assert_clean_end, submit_many, wait_all
from tests.support.platform import running_platform

pytestmark = pytest.mark.e2e
TASKS = size(100, 24)
VICTIMS = ("hydrator", "dispatcher", "finalizer", "reconciler")
KILLS = 6  # what 15 s of chaos gave on an idle machine


@pytest.fixture(scope="module")
def platform(aws_endpoint, tmp_path_factory):
    with running_platform(aws_endpoint, tmp_path_factory.mktemp("crash"),
                          BGAGENT_CONSUMER_VISIBILITY_SECONDS="6", BGAGENT_DEFAULT_MAX_CONCURRENCY="4",
                          BGAGENT_SUBMITTED_STALE_SECONDS="8", BGAGENT_FINALIZING_STALE_SECONDS="10",
                          BGAGENT_HEARTBEAT_STALE_SECONDS="20") as p:
        yield p


def _ticker(platform, stop: threading.Event) -> None:
    """The embedded stack's schedule, faster: ReconcileTick every 2 s."""
    events = platform.boto("events")
    while not stop.wait(2.0):
        events.put_events(Entries=[{"Source": "bgagent", "DetailType": "ReconcileTick", "Detail": "{}",
                                    "EventBusName": platform.names.event_bus}])


def _chaos(platform, stop: threading.Event, kills: list[str], rng: random.Random) -> None:
    while not stop.wait(rng.uniform(1.0, 3.0)):
        victim = rng.choice(VICTIMS)
        platform.stack.kill_service(victim)
        kills.append(victim)
        time.sleep(rng.uniform(0.2, 1.0))
        platform.stack.restart(victim)


def test_killed_services_lose_no_task(platform):
    rng = random.Random(11)
    platform.add_repo("acme/crash")
    stop, kills = threading.Event(), []
    threads = [threading.Thread(target=_ticker, args=(platform, stop), daemon=True),
               threading.Thread(target=_chaos, args=(platform, stop, kills, rng), daemon=True)]
    for t in threads:
        t.start()
    try:
        tasks = submit_many(platform, ["crash-a", "crash-b"], "acme/crash", TASKS, FAKE_EDIT)
        deadline = time.monotonic() + 120
        while len(kills) < KILLS and time.monotonic() < deadline:  # chaos runs for kills, not for seconds
            time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
        for victim in VICTIMS:
            platform.stack.restart(victim)
    ticks = threading.Event()
    ticker = threading.Thread(target=_ticker, args=(platform, ticks), daemon=True)
    ticker.start()
    try:
        finals = wait_all(platform, tasks, timeout=600 + TASKS * 6)  # a ceiling for a loaded machine
    finally:
        ticks.set()
    states = assert_clean_end(platform, tasks, finals)
    print(f"\ncrash injection: {len(kills)} kills ({', '.join(kills)}); {TASKS} tasks -> {dict(states)}")
    assert kills
    assert states.get("COMPLETED", 0) >= TASKS * 0.8  # a kill may fail a task, never lose one
