"""JSON shapes with the contract's camelCase names and ISO 8601 datetimes with offsets."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any


def camel(name: str) -> str:
    """`last_contacted_by_email` -> `lastContactedByEmail`."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def to_json(value: Any) -> Any:
    """Plain JSON data for a domain dataclass, a list of them, or a mapping."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {camel(f.name): to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {camel(str(k)): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
