"""The e2e platform: started once per module, shared by its tests (each uses its own users and repos)."""

from __future__ import annotations

import pytest

from tests.support.platform import running_platform


@pytest.fixture(scope="module")
def platform(aws_endpoint, tmp_path_factory):
    with running_platform(aws_endpoint, tmp_path_factory.mktemp("platform")) as p:
        yield p
