"""The embedded stack: an AWS emulator, the topology, and the five services as local processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import boto3
import httpx

from cli.local import iam
from cli.local.demo_model import DEMO_API_KEY, DEMO_MODEL_ID, DEMO_PRICE
from shared.compute.pids import start_time
from shared.compute.process import ProcessCompute
from shared.topology.bootstrap import create_topology
from shared.topology.definition import build_topology
from shared.topology.names import ResourceNames
from shared.topology.ticker import tick_until

SERVICES = ("gateway", "hydrator", "dispatcher", "finalizer", "reconciler")
EMULATOR_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SESSION_TOKEN": "testing"}


def port_is_free(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:port now."""
    with socket.socket() as s:
        # As the servers do: connections of a stopped stack lingering in TIME_WAIT do not hold the port.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with code {proc.returncode}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f}s")


@dataclass
class StackConfig:
    """Where the embedded stack runs and what it points at."""

    state_dir: Path
    api_port: int = 8080
    aws_port: int = 4599
    stack_name: str = "bgagent"
    region: str = "us-east-1"
    aws_endpoint_url: str | None = None  # an existing emulator (LocalStack, moto) instead of starting one
    reconcile_interval: float = 60.0
    extra_env: Mapping[str, str] = field(default_factory=dict)
    iam: str = "off"  # "enforce": each process holds only its role's Pulumi-granted permissions (moto only)
    data_dir: Path | None = None  # where the emulator keeps tables, objects and secrets; state_dir/data if unset
    snapshot_interval: float = 1.0
    demo: bool = False  # run the built-in scripted model and point the agents at it

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def emulator_data_dir(self) -> Path:
        return self.data_dir or self.state_dir / "data"


class EmbeddedStack:
    """Starts and stops every process of the embedded stack."""

    def __init__(self, config: StackConfig, *, progress: Callable[[str], None] = lambda _msg: None):
        self.config = config
        self._progress = progress
        self._procs: dict[str, subprocess.Popen] = {}
        self._ticker_stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self.aws_endpoint = config.aws_endpoint_url
        self.credentials: iam.StackCredentials | None = None
        self.demo_model_url: str | None = None

    @property
    def logs_dir(self) -> Path:
        return self.config.state_dir / "logs"

    def env(self) -> dict[str, str]:
        """The environment every service process (and every agent it starts) gets."""
        c = self.config
        env = {**os.environ, **c.extra_env}
        if not c.aws_endpoint_url:
            env.update(EMULATOR_CREDENTIALS)
        env.update({
            "AWS_ENDPOINT_URL": self.aws_endpoint or "",
            "AWS_REGION": c.region,
            "AWS_DEFAULT_REGION": c.region,
            "BGAGENT_STACK_NAME": c.stack_name,
            "BGAGENT_PORT": str(c.api_port),
            "BGAGENT_HOST": "127.0.0.1",
            "BGAGENT_LOCAL_ISSUER_DIR": str(c.state_dir / "issuer"),
            "BGAGENT_RUNTIME_DIR": str(c.state_dir / "runtime"),
            "PYTHONUNBUFFERED": "1",
        })
        # The agents' repository mirrors outlive each task (set it empty to clone every task from scratch).
        env.setdefault("BGAGENT_REPO_CACHE_DIR", str(c.state_dir / "repo-cache"))
        # Whoever can mint tokens with the local issuer operates this stack (model endpoints, for one).
        env.setdefault("BGAGENT_ADMIN_USERS", "*")
        if self.demo_model_url:
            prices = {**json.loads(env.get("BGAGENT_MODEL_PRICES") or "{}"), DEMO_MODEL_ID: DEMO_PRICE}
            env.update({"ANTHROPIC_BASE_URL": self.demo_model_url, "ANTHROPIC_API_KEY": DEMO_API_KEY,
                        "BGAGENT_MODEL_PROVIDER": "anthropic", "BGAGENT_DEFAULT_MODEL_ID": DEMO_MODEL_ID,
                        "BGAGENT_MODEL_PRICES": json.dumps(prices)})
        return env

    def role_env(self, role: str) -> dict[str, str]:
        """The environment of one service: in enforcing mode, its role's credentials and no others."""
        env = self.env()
        if self.credentials is None:
            return env
        env = {**iam.without_keys(env), **self.credentials.env(role)}
        if role == "dispatcher":  # it starts the agents, each under a supervisor
            env.update(BGAGENT_AGENT_AWS_PROFILE="agent", BGAGENT_SUPERVISOR_AWS_PROFILE="supervisor",
                       BGAGENT_AGENT_AWS_CREDENTIALS_FILE=str(self.credentials.path("agent")))
        return env

    def _enforce_iam(self, session: boto3.Session) -> boto3.Session:
        """Give every role its user and switch enforcement on; the session the stack itself goes on with."""
        self._progress("creating one IAM user per role with its Pulumi policy; enforcing IAM from now on")
        assert self.aws_endpoint is not None  # the emulator is up before IAM is enforced on it
        self.credentials = iam.provision(session, self.aws_endpoint, build_topology(ResourceNames(
            self.config.stack_name)), self.config.state_dir / "iam")
        iam.enforce(self.aws_endpoint)
        return self.credentials.session("scheduler", self.config.region)

    def start(self, timeout: float = 60.0) -> None:
        c = self.config
        c.state_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        try:
            if not self.aws_endpoint:
                self._start_emulator(timeout)
            if c.demo:
                self._start_demo_model(timeout)
            self._progress("creating the topology (tables, bus, queues, rules, bucket)")
            env = self.env()
            session = boto3.Session(aws_access_key_id=env.get("AWS_ACCESS_KEY_ID"),
                                    aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
                                    aws_session_token=env.get("AWS_SESSION_TOKEN"), region_name=c.region)
            create_topology(build_topology(ResourceNames(c.stack_name)), session=session,
                            endpoint_url=self.aws_endpoint)
            if c.iam == "enforce":
                session = self._enforce_iam(session)
            for service in SERVICES:
                self._progress(f"starting {service}")
                self._start_service(service)
            wait_until_up(f"{c.api_url}/healthz", timeout, self._procs["gateway"])
            self._start_ticker(session)
            self._write_state()
        except BaseException:
            self.stop()
            raise

    def _start_emulator(self, timeout: float) -> None:
        port = self.config.aws_port
        if not port_is_free(port):
            raise RuntimeError(f"port {port} is taken: set BGAGENT_LOCAL_AWS_PORT or AWS_ENDPOINT_URL")
        self._progress(f"starting the AWS emulator (moto) on 127.0.0.1:{port}")
        self.aws_endpoint = f"http://127.0.0.1:{port}"
        data = self.config.emulator_data_dir
        self._progress(f"restoring and saving its state in {data}")
        self._spawn("moto", [sys.executable, "-m", "cli.local.emulator", "-H", "127.0.0.1", "-p", str(port),
                             "--data-dir", str(data), "--snapshot-interval", str(self.config.snapshot_interval)],
                    {**os.environ, **EMULATOR_CREDENTIALS})
        wait_until_up(f"{self.aws_endpoint}/moto-api/", timeout, self._procs["moto"])

    def _start_demo_model(self, timeout: float) -> None:
        port = free_port()
        self.demo_model_url = f"http://127.0.0.1:{port}"
        self._progress(f"starting the demo model (scripted, no API key, no cost) on {self.demo_model_url}")
        self._spawn("demo-model", [sys.executable, "-m", "cli.local.demo_model", "--port", str(port)], os.environ)
        wait_until_up(f"{self.demo_model_url}/healthz", timeout, self._procs["demo-model"])

    def _start_service(self, service: str) -> None:
        self._spawn(service, [sys.executable, "-m", f"services.{service}"], self.role_env(service))

    def _spawn(self, name: str, cmd: list[str], env: Mapping[str, str]) -> None:
        log = open(self.logs_dir / f"{name}.log", "ab")
        self._procs[name] = subprocess.Popen(cmd, env=dict(env), stdout=log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()

    def _start_ticker(self, session: boto3.Session) -> None:
        """EventBridge schedules do not fire on emulators: publish ReconcileTick ourselves."""
        events = session.client("events", endpoint_url=self.aws_endpoint)
        bus = ResourceNames(self.config.stack_name).event_bus
        self._ticker = threading.Thread(target=tick_until, name="reconcile-ticker", daemon=True,
                                        args=(events, bus, self.config.reconcile_interval, self._ticker_stop))
        self._ticker.start()

    def _write_state(self) -> None:
        # Start times let `bgagent local` tell these processes from later ones that reuse their ids.
        state = {"api_url": self.config.api_url, "aws_endpoint_url": self.aws_endpoint,
                 "stack_name": self.config.stack_name, "region": self.config.region, "iam": self.config.iam,
                 "credentials_file": str(self.credentials.path("operator")) if self.credentials else None,
                 "pids": {n: p.pid for n, p in self._procs.items()},
                 "starts": {n: start_time(p.pid) for n, p in self._procs.items()},
                 "launcher_pid": os.getpid(), "launcher_start": start_time(os.getpid()),
                 "logs_dir": str(self.logs_dir), "runtime_dir": str(self.config.state_dir / "runtime"),
                 "demo_model_url": self.demo_model_url, "data_dir": str(self.config.emulator_data_dir)}
        (self.config.state_dir / "stack.json").write_text(json.dumps(state, indent=2))

    def service_pids(self) -> dict[str, int]:
        return {n: p.pid for n, p in self._procs.items()}

    def alive(self) -> dict[str, bool]:
        return {n: p.poll() is None for n, p in self._procs.items()}

    def stop(self, grace: float = 15.0) -> None:
        """Stop the services, then the agents they started, then the emulator."""
        self._ticker_stop.set()
        services = [n for n in SERVICES if n in self._procs]
        self._terminate(services, grace)
        ProcessCompute(self.config.state_dir / "runtime", {}).stop_all()
        self._terminate([n for n in self._procs if n not in SERVICES], grace)
        self._procs.clear()
        (self.config.state_dir / "stack.json").unlink(missing_ok=True)

    def _terminate(self, names: list[str], grace: float) -> None:
        for name in names:
            if self._procs[name].poll() is None:
                self._procs[name].send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for name in names:
            proc = self._procs[name]
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
