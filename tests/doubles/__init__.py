"""HTTP test doubles (GitHub, Anthropic) served on loopback for the bgagent test suite."""

from tests.doubles.fake_anthropic import FakeAnthropic, Turn
from tests.doubles.fake_github import FakeGitHub
from tests.doubles.server import serve_app

__all__ = ["FakeAnthropic", "FakeGitHub", "Turn", "serve_app"]
