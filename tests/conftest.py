"""Fixtures every test layer shares: the AWS emulator and isolated stacks on it."""

from __future__ import annotations

import os
from typing import Iterator

import pytest

from tests.support.aws import TestStack, make_stack, moto_server, set_test_credentials

set_test_credentials()


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    """BGAGENT_TEST_AWS_ENDPOINT (e.g. LocalStack) if set, else a moto server started for the session."""
    given = os.environ.get("BGAGENT_TEST_AWS_ENDPOINT")
    if given:
        yield given
        return
    with moto_server() as url:
        yield url


@pytest.fixture
def stack(aws_endpoint: str) -> TestStack:
    """A fresh stack with its own tables, queues and bus."""
    return make_stack(aws_endpoint)
