"""The AWS emulator for tests: a moto server on loopback, or any endpoint given in the environment."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import boto3

from cli.local.stack import free_port, wait_until_up
from shared.settings import PlatformSettings
from shared.topology.bootstrap import create_topology
from shared.topology.definition import Topology, build_topology
from shared.topology.names import ResourceNames

TEST_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextmanager
def moto_server(port: int | None = None) -> Iterator[str]:
    """The embedded stack's emulator (moto, DynamoDB made atomic) on 127.0.0.1; yields its endpoint URL."""
    port = port or free_port()
    proc = subprocess.Popen([sys.executable, "-m", "cli.local.emulator", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/moto-api/", 30.0, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@dataclass
class TestStack:
    """One isolated stack (its own tables, queues, bus) on the shared emulator."""

    endpoint: str
    settings: PlatformSettings
    topology: Topology
    queue_urls: dict[str, str]

    @property
    def names(self) -> ResourceNames:
        return self.settings.names

    def boto(self, service: str):
        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1")

    def env(self) -> dict[str, str]:
        """Environment variables that point a bgagent process at this stack."""
        return {**TEST_CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint, "BGAGENT_STACK_NAME": self.settings.stack_name}


def make_stack(endpoint: str, stack_name: str | None = None) -> TestStack:
    name = stack_name or f"t{uuid.uuid4().hex[:10]}"
    settings = PlatformSettings(stack_name=name, aws_endpoint_url=endpoint, aws_region="us-east-1")
    topology = build_topology(settings.names)
    session = boto3.Session(region_name="us-east-1")
    queue_urls = create_topology(topology, session=session, endpoint_url=endpoint)
    return TestStack(endpoint, settings, topology, queue_urls)


def set_test_credentials() -> None:
    for key, value in TEST_CREDENTIALS.items():
        os.environ.setdefault(key, value)
