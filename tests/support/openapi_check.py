"""Checking answers against the OpenAPI description (web/openapi.py): which
operation a request is, whether its status is documented, and a small JSON
Schema validator for the keywords the description uses."""

from __future__ import annotations

import re
from typing import Any

from web.openapi import DESCRIPTION

PREFIX = "/api/v1"


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with a local ``$ref`` followed (components only)."""
    while "$ref" in schema:
        node: Any = DESCRIPTION
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def _matches(template: str, path: str) -> bool:
    pattern = "^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template)) + "$"
    return re.match(pattern, path) is not None


def operation(method: str, path: str) -> dict[str, Any]:
    """The operation of ``method`` on ``path`` (a path below ``/api/v1``,
    without its query); fixed paths win over templated ones."""
    path = path.removeprefix(PREFIX).split("?")[0]
    found = [t for t in DESCRIPTION["paths"] if _matches(t, path)]
    found.sort(key=lambda t: t.count("{"))
    for template in found:
        item = DESCRIPTION["paths"][template]
        if method.lower() in item:
            return item[method.lower()]
    raise AssertionError(f"{method} {path} is not in the OpenAPI description")


def response_schema(method: str, path: str, status: int,
                    content_type: str = "application/json") -> dict[str, Any] | None:
    """The documented schema of this answer (``None`` if it has no content of
    that type); fails if the status is not documented for the operation."""
    responses = operation(method, path)["responses"]
    assert str(status) in responses, (
        f"{method} {path} answered {status}, not among {sorted(responses)}")
    response = resolve(responses[str(status)])
    media = response.get("content", {}).get(content_type)
    return None if media is None else media["schema"]


_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "null": lambda v: v is None,
}


def problems(value: Any, schema: dict[str, Any], where: str = "$") -> list[str]:
    """Where ``value`` breaks ``schema`` (empty: it conforms)."""
    schema = resolve(schema)
    found: list[str] = []
    for part in schema.get("allOf", []):
        found += problems(value, part, where)
    if "anyOf" in schema and all(problems(value, s, where) for s in schema["anyOf"]):
        found.append(f"{where}: {value!r:.80} matches none of anyOf")
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(_TYPES[k](value) for k in kinds):
            return found + [f"{where}: {value!r:.80} is not {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: {value!r:.80} not in {schema['enum']}")
    if _TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            found.append(f"{where}: {value} < {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            found.append(f"{where}: {value} > {schema['maximum']}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            found.append(f"{where}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            found.append(f"{where}: longer than {schema['maxLength']}")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                found.append(f"{where}: {key} is missing")
        for key, item in value.items():
            if key in properties:
                found += problems(item, properties[key], f"{where}.{key}")
            elif schema.get("additionalProperties") is False:
                found.append(f"{where}: {key} is not allowed")
            elif isinstance(schema.get("additionalProperties"), dict):
                found += problems(item, schema["additionalProperties"], f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for k, item in enumerate(value):
            found += problems(item, schema["items"], f"{where}[{k}]")
    return found


def check_response(method: str, path: str, response) -> None:
    """Fail unless ``response`` (a Flask test response) is documented: its
    status for this operation, and a JSON body that fits its schema."""
    content_type = response.mimetype
    schema = response_schema(method, path, response.status_code, content_type)
    if content_type == "application/json":
        assert schema is not None, f"{method} {path} {response.status_code}: JSON undocumented"
        body = response.get_json()
        found = problems(body, schema)
        assert not found, f"{method} {path} {response.status_code}: {found[:5]}"
