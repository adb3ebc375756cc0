"""Checking the GitHub double and the GitHub client against GitHub's OpenAPI description (a trimmed copy
of npm @octokit/openapi, made by scripts/trim_github_openapi.py)."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30Validator

SPEC_PATH = Path(__file__).with_name("github_openapi.json")


@functools.cache
def spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text())


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(quote(p.replace("~", "~0").replace("/", "~1"), safe="~") for p in parts)


def operation(method: str, path: str) -> tuple[str, dict] | None:
    """The documented (template, operation) a request's method and path are an instance of."""
    for template, ops in spec()["paths"].items():
        # `{basehead}` is `base...head`, and branch names hold slashes; every other parameter is one segment.
        escaped = re.escape(template).replace(re.escape("{basehead}"), ".+")
        pattern = "^" + re.sub(r"\\{[^}]+\\}", "[^/]+", escaped) + "$"
        if method.lower() in ops and re.match(pattern, path):
            return template, ops[method.lower()]
    return None


def _errors(pointer: str, instance: Any, *, subset: bool = False) -> list[str]:
    """Schema violations; with `subset`, a missing required field is allowed (the double returns the fields
    bgagent reads, not all of GitHub's), but every field present must be documented and well typed."""
    validator = OAS30Validator({**spec(), "$ref": pointer})
    found = [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"[:300]
             for e in validator.iter_errors(instance) if not (subset and e.validator == "required")]
    if subset:
        found += _undocumented(_resolve({"$ref": pointer}), instance, "")
    return found


def _properties(schema: dict) -> tuple[dict, bool]:
    """The properties a schema documents, through refs and compositions; True when any key is allowed."""
    schema = _resolve(schema)
    props, open_ = dict(schema.get("properties", {})), bool(schema.get("additionalProperties"))
    for key in ("allOf", "anyOf", "oneOf"):
        for member in schema.get(key, []):
            more, more_open = _properties(member)
            props.update(more)
            open_ = open_ or more_open
    if not props and schema.get("type") in (None, "object") and "items" not in schema:
        open_ = True  # a free-form object
    return props, open_


def _undocumented(schema: dict, instance: Any, where: str) -> list[str]:
    schema = _resolve(schema)
    if isinstance(instance, list):
        items = schema.get("items") or next((m.get("items") for m in schema.get("anyOf", []) + schema.get(
            "oneOf", []) if isinstance(m, dict) and "items" in _resolve(m)), None)
        return [e for i, item in enumerate(instance) for e in
                (_undocumented(items, item, f"{where}/{i}") if items else [])]
    if not isinstance(instance, dict):
        return []
    props, open_ = _properties(schema)
    errors = [] if open_ else [f"{where or '(root)'}/{k}: GitHub documents no such field"
                               for k in instance if k not in props]
    return errors + [e for k, v in instance.items() if k in props for e in _undocumented(props[k], v, f"{where}/{k}")]


def request_errors(method: str, path: str, body: Any) -> list[str]:
    """Why a request is not what GitHub documents (empty when it is)."""
    found = operation(method, path)
    if found is None:
        return [f"{method} {path} is not a documented operation"]
    template, op = found
    if body is None or "requestBody" not in op:
        return []
    return _errors(_pointer("paths", template, method.lower(), "requestBody", "content", "application/json",
                            "schema"), body)


def response_errors(method: str, path: str, status: int, body: Any) -> list[str]:
    """Why a response is not what GitHub documents for its status (empty when it is): every field well typed
    and documented; fields GitHub always sends but bgagent never reads may be absent."""
    found = operation(method, path)
    if found is None:
        return [f"{method} {path} is not a documented operation"]
    template, op = found
    documented = op["responses"].get(str(status))
    if documented is None:
        return [f"{method} {template} documents no {status} response"]
    documented = _resolve(documented)
    if "application/json" not in documented.get("content", {}):
        return []
    return _errors(_pointer("paths", template, method.lower(), "responses", str(status), "content",
                            "application/json", "schema") if "$ref" not in op["responses"][str(status)]
                   else op["responses"][str(status)]["$ref"] + "/content/application~1json/schema", body,
                   subset=True)


def _resolve(node: Any) -> Any:
    while isinstance(node, dict) and node.get("$ref"):
        target: Any = spec()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[unquote(part).replace("~1", "/").replace("~0", "~")]
        node = target
    return node


__all__ = ["ValidationError", "request_errors", "response_errors", "spec"]
