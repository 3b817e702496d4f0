"""Body validation as the platform's route builder answers it (400s named by field).

Messages follow zod and zod-validation-error: `Validation error: Required at "runCount"`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pytest_trigger_batches.errors import PlatformError
from pytest_trigger_batches.rules import MAX_IDEMPOTENCY_KEY_LENGTH

__all__ = ["Problems", "json_body", "validation_error"]


def json_body(body: bytes) -> Any:
    """The parsed JSON body, or the platform's 400 for an empty or malformed one."""
    if not body.strip():
        raise PlatformError.message(400, "Request body is empty")
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise PlatformError.message(400, "Invalid JSON") from None


def validation_error(problems: list[str]) -> PlatformError:
    """`400 {"error": "Validation error: ..."}`."""
    return PlatformError.message(400, "Validation error: " + "; ".join(problems))


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


class Problems:
    """Collects field problems in zod's words, each `at "<path>"`."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def add(self, message: str, path: str) -> None:
        """Record a problem at `path`."""
        self.found.append(f'{message} at "{path}"' if path else message)

    def object(self, value: object, path: str) -> Mapping[str, Any] | None:
        """`value` as an object, or a problem."""
        if isinstance(value, Mapping):
            return value
        self.add(f"Expected object, received {_kind(value)}", path)
        return None

    def string(
        self,
        holder: Mapping[str, Any],
        name: str,
        path: str,
        *,
        required: bool,
        max_length: int | None = None,
        min_length: int = 0,
    ) -> str | None:
        """`holder[name]` as a string (`required` or absent), or a problem."""
        where = f"{path}.{name}" if path else name
        if name not in holder or (holder[name] is None and not required):
            if required:
                self.add("Required", where)
            return None
        value = holder[name]
        if not isinstance(value, str):
            self.add(f"Expected string, received {_kind(value)}", where)
            return None
        if len(value) < min_length:
            self.add(f"String must contain at least {min_length} character(s)", where)
        if max_length is not None and len(value) > max_length:
            self.add(f"String must contain at most {max_length} character(s)", where)
        return value

    def integer(
        self,
        holder: Mapping[str, Any],
        name: str,
        path: str,
        *,
        required: bool,
        minimum: int | None = None,
        exclusive: bool = False,
    ) -> int | None:
        """`holder[name]` as a whole number, or a problem."""
        where = f"{path}.{name}" if path else name
        if name not in holder:
            if required:
                self.add("Required", where)
            return None
        value = holder[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(f"Expected number, received {_kind(value)}", where)
            return None
        if isinstance(value, float) and not value.is_integer():
            self.add("Expected integer, received float", where)
            return None
        number = int(value)
        if minimum is not None and (number <= minimum if exclusive else number < minimum):
            word = "greater than" if exclusive else "greater than or equal to"
            self.add(f"Number must be {word} {minimum}", where)
            return None
        return number

    def options(self, holder: Mapping[str, Any], path: str) -> Mapping[str, Any]:
        """The item options the mock reads, each checked as the platform's schema does."""
        where = f"{path}.options" if path else "options"
        if "options" not in holder or holder["options"] is None:
            return {}
        options = self.object(holder["options"], where)
        if options is None:
            return {}
        self.string(
            options, "idempotencyKey", where, required=False, max_length=MAX_IDEMPOTENCY_KEY_LENGTH
        )
        # Any string: one the platform cannot read means the 30-day default (durations.py).
        self.string(options, "idempotencyKeyTTL", where, required=False)
        tags = options.get("tags")
        listed = [tags] if isinstance(tags, str) else tags
        if tags is not None:
            if not isinstance(listed, list) or not all(isinstance(t, str) for t in listed):
                self.add("Expected string or array of strings", f"{where}.tags")
            elif any(len(t) > 128 for t in listed):
                self.add("String must contain at most 128 character(s)", f"{where}.tags")
        self.integer(options, "maxAttempts", where, required=False)
        queue = options.get("queue")
        if queue is not None:
            shaped = self.object(queue, f"{where}.queue")
            if shaped is not None:
                self.string(shaped, "name", f"{where}.queue", required=True)
        return options

    def raise_any(self) -> None:
        """The 400 for everything found, if anything was."""
        if self.found:
            raise validation_error(self.found)
