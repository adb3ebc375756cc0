"""The e2e platform: started once for the package, shared by every module that takes its configuration as is.

Tests stay independent by using their own users and repos; a module needing other settings defines its own.
"""

from __future__ import annotations

import pytest

from tests.support.platform import running_platform


@pytest.fixture(scope="package")
def platform(aws_endpoint, tmp_path_factory):
    with running_platform(aws_endpoint, tmp_path_factory.mktemp("platform")) as p:
        yield p
