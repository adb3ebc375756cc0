"""A repository's MCP servers from `repo onboard` options: --mcp NAME=COMMAND… and --mcp-file FILE."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from cli.errors import UsageError
from shared.repos.mcp import McpServers

_SERVERS = TypeAdapter(McpServers)


def _checked(data: object, source: str) -> dict:
    """The servers as stored, or UsageError naming the server and the field at fault."""
    try:
        servers = _SERVERS.validate_python(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(part) for part in err["loc"])
        raise UsageError(f"{source}: MCP server {where or 'list'}: {err['msg']}") from exc
    return {name: server.model_dump(exclude_defaults=True) for name, server in servers.items()}


def _from_option(spec: str) -> tuple[str, dict]:
    name, sep, command = spec.partition("=")
    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise UsageError(f"--mcp {name}: the command cannot be split like a shell's: {exc}") from exc
    if not sep or not name or not words:
        raise UsageError(f"--mcp takes NAME=COMMAND [ARGS…], not {spec!r}")
    return name, {"command": words[0], "args": words[1:]}


def mcp_servers(specs: list[str] | None, file: str | None) -> dict | None:
    """The servers the options give (replacing the repo's), {} when cleared with --mcp '', None when absent."""
    if specs is None and file is None:
        return None
    found: dict[str, object] = {}
    if file is not None:
        try:
            loaded = json.loads(Path(file).read_text())
        except OSError as exc:
            raise UsageError(f"cannot read {file}: {exc.strerror}") from exc
        except ValueError as exc:
            raise UsageError(f"{file} is not JSON: {exc}") from exc
        if not isinstance(loaded, dict):
            raise UsageError(f"{file} must hold a JSON object: server name → server")
        found.update(_checked(loaded, file))
    for spec in specs or []:
        if not spec:
            continue
        name, server = _from_option(spec)
        if name in found:
            raise UsageError(f"MCP server {name} is given twice")
        found[name] = server
    return _checked(found, "--mcp")
