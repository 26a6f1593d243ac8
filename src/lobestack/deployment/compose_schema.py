"""The Compose specification's JSON schema, applied as `docker compose` applies it (gojsonschema, draft 7).

`compose-spec.json` is the schema compose-go v2.4.8 embeds (the Compose 2.26 of Debian 13 that CI installs);
compose-go and its schema are Apache-2.0 licensed (github.com/compose-spec/compose-go). The schema uses only
type, properties, patternProperties, additionalProperties, items, oneOf, $ref, enum, required, uniqueItems,
minimum and maximum: that subset is validated here, in a few milliseconds, without a JSON-schema dependency."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).with_name("compose-spec.json")


@cache
def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


class SchemaError(Exception):
    """The first place the document breaks the schema: its key path and what is wrong."""

    def __init__(self, path: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def validate(document: Any) -> None:
    """Raise SchemaError at the most specific place `document` breaks the Compose schema."""
    error = _check(document, _schema(), ())
    if error is not None:
        raise error


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"unsupported $ref {ref}")
        node: Any = _schema()
        for part in ref[2:].split("/"):
            node = node[part]
        schema = node
    return schema


def _type_ok(value: Any, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "null":
        return value is None
    if isinstance(value, bool):
        return False
    if kind == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if kind == "number":
        return isinstance(value, int | float)
    raise ValueError(f"unknown JSON type {kind}")


_NAMES = {"object": "a mapping", "array": "a list", "string": "a string", "boolean": "a boolean", "null": "null"}


def _describe(kinds: list[str]) -> str:
    names = [_NAMES.get(k, f"a {k}") for k in kinds]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _check(value: Any, schema: dict[str, Any], path: tuple[str, ...]) -> SchemaError | None:
    schema = _resolve(schema)
    kinds = schema.get("type")
    if kinds is not None:
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if not any(_type_ok(value, k) for k in kinds):
            return SchemaError(path, f"must be {_describe(kinds)}")
    if "enum" in schema and value not in schema["enum"]:
        return SchemaError(path, f"must be one of {', '.join(map(str, schema['enum']))}")
    if "oneOf" in schema:
        errors = []
        matched = 0
        for option in schema["oneOf"]:
            error = _check(value, option, path)
            if error is None:
                matched += 1
            else:
                errors.append(error)
        if matched != 1:
            if matched > 1:
                return SchemaError(path, "matches more than one allowed form")
            # The most specific complaint: the option whose type fits and that failed deepest.
            return max(errors, key=lambda e: len(e.path))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            return SchemaError(path, f"must be at least {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            return SchemaError(path, f"must be at most {schema['maximum']}")
    if isinstance(value, dict):
        for name in schema.get("required", ()):
            if name not in value:
                return SchemaError(path, f"{name} is required")
        properties = schema.get("properties", {})
        patterns = schema.get("patternProperties", {})
        additional = schema.get("additionalProperties", True)
        for key, item in value.items():
            child = (*path, str(key))
            known = False
            if key in properties:
                known = True
                error = _check(item, properties[key], child)
                if error is not None:
                    return error
            for pattern, sub in patterns.items():
                if _regex(pattern).search(str(key)):
                    known = True
                    error = _check(item, sub, child)
                    if error is not None:
                        return error
            if not known:
                if additional is False:
                    return SchemaError(child, "is not a key Compose knows here")
                if isinstance(additional, dict):
                    error = _check(item, additional, child)
                    if error is not None:
                        return error
    if isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for index, item in enumerate(value):
                error = _check(item, items, (*path, str(index)))
                if error is not None:
                    return error
        if schema.get("uniqueItems"):
            seen: dict[str, int] = {}
            for index, item in enumerate(value):
                key = _canonical(item)
                if key in seen:
                    return SchemaError((*path, str(index)), f"is a duplicate of item {seen[key]}")
                seen[key] = index
    return None
