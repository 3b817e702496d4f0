"""A run's metadata operations, applied as the platform applies them (docs/platform.md §7.10).

`PUT /api/v1/runs/{runId}/metadata` carries either a whole new `metadata` object or
`operations`: `set`, `delete`, `append`, `remove`, `increment` (the SDK's `decrement` is an
increment by a negative number) and `update` (the whole object). A key that starts with
`$.` is a path into the object (`$.progress.done`); others are top-level keys. A leaf: it
imports the rules alone.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeGuard

from pytest_trigger_batches.rules import safe_metadata_key

__all__ = ["apply_operations", "stored_text"]

_PATH_PART = re.compile(r"(?:[^.\\]|\\.)+")
_MISSING: Any = object()


def stored_text(metadata: object) -> str:
    """The metadata as the platform stores it: `JSON.stringify`'s compact text."""
    return json.dumps(metadata, ensure_ascii=False, separators=(",", ":"))


def _path(key: str) -> list[str]:
    parts = [part.replace("\\.", ".") for part in _PATH_PART.findall(key)]
    return parts[1:] if parts and parts[0] == "$" else parts


def _child(value: object, part: str) -> Any:
    """`value[part]` as JavaScript reads it (missing: `_MISSING`)."""
    if isinstance(value, dict):
        return value.get(part, _MISSING)
    if isinstance(value, list) and part.isdigit() and int(part) < len(value):
        return value[int(part)]
    return _MISSING


def _get(root: dict[str, Any], parts: Sequence[str]) -> Any:
    """The value at a path; `_MISSING` when the path ends at a missing key, None when it
    cannot be followed (a null or a non-container on the way)."""
    value: Any = root
    for index, part in enumerate(parts):
        if not isinstance(value, dict | list):
            return None
        value = _child(value, part)
        if value is None:
            return None
        if value is _MISSING:
            return _MISSING if index == len(parts) - 1 else None
    return value


def _set(root: dict[str, Any], parts: Sequence[str], new: object) -> None:
    """Set the value at a path whose parent exists and whose value is not null; otherwise
    nothing happens (the path library finds no such place)."""
    if not parts:
        return
    parent = _get(root, parts[:-1]) if len(parts) > 1 else root
    last = parts[-1]
    if _child(parent, last) is None:
        return
    if isinstance(parent, dict):
        parent[last] = new
    elif isinstance(parent, list) and last.isdigit():
        index = int(last)
        parent.extend([None] * (index + 1 - len(parent)))  # JavaScript leaves holes: null
        parent[index] = new


def _read(metadata: dict[str, Any], key: str) -> Any:
    if key.startswith("$."):
        return _get(metadata, _path(key))
    return metadata.get(key, _MISSING)


def _write(metadata: dict[str, Any], key: str, value: object) -> None:
    if key.startswith("$."):
        _set(metadata, _path(key), value)
    else:
        metadata[key] = value


def apply_operations(
    current: Mapping[str, Any], operations: Sequence[Mapping[str, Any]]
) -> tuple[dict[str, Any], int]:
    """The metadata after `operations`, and how many of them applied.

    An operation does not apply when its key is unsafe, or when `remove` finds no array.
    """
    metadata: dict[str, Any] = copy.deepcopy(dict(current))
    applied = 0
    for operation in operations:
        kind, value = operation["type"], operation.get("value")
        if kind == "update":  # the whole object
            metadata = copy.deepcopy(dict(value)) if isinstance(value, Mapping) else {}
            applied += 1
            continue
        key = operation.get("key")
        if not (isinstance(key, str) and safe_metadata_key(key)):
            continue
        if kind == "set":
            _write(metadata, key, copy.deepcopy(value))
        elif kind == "delete":
            metadata.pop(key, None)  # a top-level key only, path or not
        elif kind == "append":
            existing = _read(metadata, key)
            if isinstance(existing, list):
                _write(metadata, key, [*existing, copy.deepcopy(value)])
            elif existing is _MISSING:
                _write(metadata, key, [copy.deepcopy(value)])
            else:
                _write(metadata, key, [existing, copy.deepcopy(value)])
        elif kind == "remove":
            existing = _read(metadata, key)
            if not isinstance(existing, list):
                continue
            _write(metadata, key, [item for item in existing if not _equal(item, value)])
        elif kind == "increment":
            existing = _read(metadata, key)
            _write(metadata, key, _number(existing) + _number(value))
        else:
            continue
        applied += 1
    return metadata, applied


def _number(value: object) -> int | float:
    """A number as it is; anything else (a missing key, a string, a boolean) counts as 0."""
    return value if _is_number(value) else 0


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equal(a: object, b: object) -> bool:
    """`dequal`: deep equality, where `true` is not `1`."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if _is_number(a) and _is_number(b):
        return a == b
    return type(a) is type(b) and a == b
