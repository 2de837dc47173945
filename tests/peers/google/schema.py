"""The discovery documents shipped inside googleapiclient, and the checks a request body or
query string must pass: a request Google would refuse is refused by the peer too."""

from __future__ import annotations

import base64
import datetime as dt
import json
from functools import lru_cache
from importlib import resources
from typing import Any

# Values the Calendar API documents in prose (the discovery schema types them only as strings).
DOCUMENTED_VALUES: dict[str, set[str]] = {
    "eventType": {"default", "focusTime", "outOfOffice", "workingLocation", "birthday", "fromGmail"},
    "transparency": {"opaque", "transparent"},
    "status": {"confirmed", "tentative", "cancelled"},
    "visibility": {"default", "public", "private", "confidential"},
    "focusTimeProperties.autoDeclineMode": {
        "declineNone",
        "declineAllConflictingInvitations",
        "declineOnlyNewConflictingInvitations",
    },
    "outOfOfficeProperties.autoDeclineMode": {
        "declineNone",
        "declineAllConflictingInvitations",
        "declineOnlyNewConflictingInvitations",
    },
    "focusTimeProperties.chatStatus": {"available", "doNotDisturb"},
}


@lru_cache
def discovery(api: str) -> dict[str, Any]:
    """The discovery document googleapiclient ships, e.g. `discovery("calendar.v3")`."""
    text = (
        resources.files("googleapiclient")
        .joinpath("discovery_cache", "documents", f"{api}.json")
        .read_text(encoding="utf-8")
    )
    return json.loads(text)


def validate_body(value: Any, schema_id: str, api: str) -> list[str]:
    """Errors in `value` against the discovery schema `schema_id`: unknown properties, wrong types."""
    schemas = discovery(api)["schemas"]
    return _validate(value, schemas[schema_id], schemas, schema_id)


def _validate(value: Any, schema: dict[str, Any], schemas: dict[str, Any], path: str) -> list[str]:
    if value is None:  # JSON null clears a field; Google accepts it everywhere
        return []
    if "$ref" in schema:
        schema = schemas[schema["$ref"]]
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {type(value).__name__}"]
        errors: list[str] = []
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in properties:
                errors += _validate(item, properties[key], schemas, f"{path}.{key}")
            elif extra is not None:
                errors += _validate(item, extra, schemas, f"{path}.{key}")
            else:
                errors.append(f"{path}.{key}: unknown property")
        return errors
    if kind == "array":
        if not isinstance(value, list):
            return [f"{path}: expected an array, got {type(value).__name__}"]
        return [e for i, item in enumerate(value) for e in _validate(item, schema["items"], schemas, f"{path}[{i}]")]
    if kind == "string":
        if not isinstance(value, str):
            return [f"{path}: expected a string, got {type(value).__name__}"]
        return _check_format(value, schema.get("format"), path)
    if kind == "boolean" and not isinstance(value, bool):
        return [f"{path}: expected a boolean, got {type(value).__name__}"]
    if kind == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
        return [f"{path}: expected an integer, got {type(value).__name__}"]
    if kind == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
        return [f"{path}: expected a number, got {type(value).__name__}"]
    return []


def _check_format(value: str, fmt: str | None, path: str) -> list[str]:
    try:
        if fmt == "date-time":
            dt.datetime.fromisoformat(value)
        elif fmt == "date":
            dt.date.fromisoformat(value)
        elif fmt in {"int64", "uint64"}:
            int(value)
        elif fmt == "byte":
            base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError:
        return [f"{path}: {value!r} is not a valid {fmt}"]
    return []


def validate_query(query: dict[str, list[str]], method: dict[str, Any], api: str) -> list[str]:
    """Errors in the query string against the method's (and the API's global) parameters."""
    known = {**discovery(api)["parameters"], **method.get("parameters", {})}
    errors = []
    for name, values in query.items():
        spec = known.get(name)
        if spec is None or spec.get("location") == "path":
            errors.append(f"query parameter {name!r} is not a parameter of {method['id']}")
            continue
        if len(values) > 1 and not spec.get("repeated"):
            errors.append(f"query parameter {name!r} is not repeatable")
        for value in values:
            if spec.get("type") == "boolean" and value not in {"true", "false"}:
                errors.append(f"query parameter {name}={value!r} is not a boolean")
            if spec.get("type") == "integer" and not value.lstrip("-").isdigit():
                errors.append(f"query parameter {name}={value!r} is not an integer")
            if "enum" in spec and value not in spec["enum"]:
                errors.append(f"query parameter {name}={value!r} is not one of {spec['enum']}")
            if spec.get("format") == "date-time" and not _has_offset(value):
                errors.append(f"query parameter {name}={value!r} needs an RFC 3339 time with an offset")
    return errors


def _has_offset(value: str) -> bool:
    try:
        return dt.datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def documented_value_errors(event: dict[str, Any]) -> list[str]:
    errors = []
    for dotted, allowed in DOCUMENTED_VALUES.items():
        value: Any = event
        for part in dotted.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None and value not in allowed:
            errors.append(f"Event.{dotted}: {value!r} is not one of {sorted(allowed)}")
    return errors
