"""A real headless Chromium (Debian's, driven by Playwright) against the embedded stack with its doubles."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from tests.support.platform import Platform, running_platform

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CLI_USER = "me"  # the CLI's local user when the profile names none


@pytest.fixture(scope="module")
def platform(aws_endpoint, tmp_path_factory) -> Iterator[Platform]:
    with running_platform(aws_endpoint, tmp_path_factory.mktemp("browser-platform")) as p:
        yield p


@pytest.fixture(scope="module")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.skip("no Chromium: `make test` installs it as root, otherwise: sudo apt-get install chromium")
    # Playwright drives the system's browser; it never downloads one of its own.
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    """Where the pages' screenshots go (BGAGENT_SCREENSHOT_DIR, else a pytest temporary directory)."""
    given = os.environ.get("BGAGENT_SCREENSHOT_DIR")
    path = Path(given) if given else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def cli_home(platform: Platform, tmp_path_factory) -> Path:
    """A BGAGENT_HOME whose default profile is the platform, with local auth on its issuer key."""
    home = tmp_path_factory.mktemp("bgagent-home")
    profile = {"api_url": platform.api_url, "auth": "local",
               "local_issuer_dir": str(platform.stack.config.state_dir / "issuer")}
    (home / "config.json").write_text(json.dumps({"profiles": {"default": profile}}))
    return home


def login_link(home: Path) -> str:
    """What `bgagent ui` prints: run as the user would, as a process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BGAGENT_")} | {"BGAGENT_HOME": str(home)}
    done = subprocess.run([sys.executable, "-m", "cli.main", "ui"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()
