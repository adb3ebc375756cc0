"""Reading and writing the CLI's own JSON files under its home directory."""

from __future__ import annotations

import json
import os
from pathlib import Path

from cli.errors import CliError


def read_json(path: Path) -> dict:
    """The file's object, {} when it does not exist; a readable error when it is not JSON."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except ValueError as exc:
        raise CliError(f"{path} is not valid JSON: {exc}", hint="fix or delete the file") from exc
    if not isinstance(data, dict):
        raise CliError(f"{path} does not hold a JSON object", hint="fix or delete the file")
    return data


def write_private(path: Path, data: dict) -> None:
    """Replace `path` atomically with a file only its owner can read (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)
