"""CLI tests call the real entry point, cli.main.main, with BGAGENT_HOME in a temporary directory."""

from __future__ import annotations

import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from cli.main import main
from tests.support.platform import Platform, running_platform


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


Run = Callable[..., Result]


class TerminalInput(io.StringIO):
    """Typed answers, on what claims to be a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "bgagent-home"
    monkeypatch.setenv("BGAGENT_HOME", str(path))
    for var in ("BGAGENT_PROFILE", "BGAGENT_DEBUG", "AWS_ENDPOINT_URL", "BGAGENT_STACK_NAME"):
        monkeypatch.delenv(var, raising=False)
    return path


@pytest.fixture
def bgagent(home: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> Run:
    """run("submit", "--repo", …, stdin="…") → Result(exit code, stdout, stderr)."""
    def run(*argv: str, stdin: str | None = None, terminal: bool = False) -> Result:
        capsys.readouterr()
        monkeypatch.setattr(sys, "stdin", (TerminalInput if terminal else io.StringIO)(stdin or ""))
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return Result(code, out, err)
    return run


@pytest.fixture(scope="package")
def platform(aws_endpoint: str, tmp_path_factory: pytest.TempPathFactory):
    """One running platform (fake GitHub and Anthropic) for every CLI test that needs one."""
    with running_platform(aws_endpoint, tmp_path_factory.mktemp("cli-platform")) as p:
        yield p


@pytest.fixture
def cli(bgagent: Run, platform: Platform) -> Run:
    """bgagent with a default profile pointing at the platform (local auth, its issuer key and tables)."""
    result = bgagent("configure", "--api-url", platform.api_url, "--auth", "local",
                     "--local-issuer-dir", platform.stack.config.state_dir / "issuer",
                     "--stack-name", platform.names.stack, "--aws-endpoint-url", platform.aws_endpoint)
    assert result.code == 0, result.err
    return bgagent
