"""Request bodies and headers checked as the platform's route schemas check them.

The platform parses every trigger route's headers and JSON body with a zod 3 schema and
words a failure with zod-validation-error 1.x (docs/platform.md §1.5). This module
implements the part of zod those schemas use, so that the mock finds the same issues,
in the same order and with the same keys, and words them the same way:

- a body: `400 {"error": "Validation error: <issue> at \\"<path>\\"; ..."}` (99 issues at
  most; a union that fails in every branch reads `<branch 1>, or <branch 2>`);
- headers: `400 {"error": "Headers Error", "details": [<zod issues>]}`;
- a streamed item: `422 Invalid item at index N: <the issues as indented JSON>`.

Strings are measured in UTF-16 code units and numbers are JavaScript numbers, as zod
sees them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from pytest_trigger_batches.errors import PlatformError, js_double, js_number_text
from pytest_trigger_batches.rules import (
    BULK_ONE_FILTER,
    BULK_ONE_OF,
    MAX_IDEMPOTENCY_KEY_LENGTH,
    QUEUE_OVERRIDE_MAXIMUM,
    QUEUE_OVERRIDE_ONE_OF,
    safe_metadata_key,
)
from pytest_trigger_batches.statuses import API_RUN_STATUSES

__all__ = [
    "JS_SPACES",
    "JS_WHITESPACE",
    "add_tags_issues",
    "bulk_action_body",
    "check_headers",
    "complete_token_body",
    "create_batch_body",
    "create_token_body",
    "date_text_ms",
    "json_body",
    "one_shot_body",
    "override_queue_body",
    "pause_queue_body",
    "public_token_body",
    "reschedule_body_ok",
    "reset_key_body",
    "reset_queue_body",
    "streamed_item",
    "strict_loads",
    "trigger_body",
    "update_metadata_body",
]

Issue = dict[str, Any]
Path = tuple[str | int, ...]

VALID, DIRTY, ABORTED = 0, 1, 2
"""zod's parse statuses: a value passed; failed a check (parsing goes on); failed its type."""
_MISSING: Final = object()  # a key the object does not have (zod's `undefined`)

JS_WHITESPACE = frozenset(
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
"""What JavaScript's `String.prototype.trim()` removes."""
JS_SPACES = "".join(sorted(JS_WHITESPACE))
"""The same, as `str.strip`'s argument: `text.strip(JS_SPACES)` is JavaScript's trim."""
MAX_ISSUES_IN_MESSAGE = 99


# -- parsing the body as the route builder does ---------------------------------------


def _refuse_constant(name: str) -> Any:
    raise ValueError("Expecting value")  # JSON.parse knows no NaN or Infinity


def _big_int(digits: str) -> int | float:
    # Python refuses to convert more than 4300 digits; JavaScript reads them as a number.
    return int(digits) if len(digits) <= 4000 else float(digits)


def strict_loads(text: str | bytes) -> Any:
    """`JSON.parse`: no NaN or Infinity; raises ValueError (or RecursionError) otherwise."""
    return json.loads(text, parse_constant=_refuse_constant, parse_int=_big_int)


def json_body(body: bytes) -> Any:
    """The parsed body, or the route builder's 400 (`Request body is empty`, `Invalid JSON`).

    As the platform: the body is read as UTF-8 (a leading BOM dropped), and anything that
    parses to a falsy value (`null`, `false`, `0`, `""`) is `Invalid JSON` too.
    """
    text = body.decode("utf-8", errors="replace").removeprefix("\ufeff")
    if not text:
        raise PlatformError.message(400, "Request body is empty")
    try:
        value = strict_loads(text)
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, dict | list) and not value:
        raise PlatformError.message(400, "Invalid JSON")
    return value


# -- JavaScript's view of values --------------------------------------------------------


def _js_length(text: str) -> int:
    """`text.length`: UTF-16 code units."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le", "surrogatepass")) // 2


def _js_trim(text: str) -> str:
    return text.strip(JS_SPACES)


def _received(value: object) -> str:
    """zod's name for the type of `value`."""
    if value is _MISSING:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "nan" if isinstance(value, float) and math.isnan(value) else "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _type_issue(expected: str, value: object, path: Path) -> Issue:
    received = _received(value)
    message = "Required" if received == "undefined" else f"Expected {expected}, received {received}"
    return {
        "code": "invalid_type",
        "expected": expected,
        "received": received,
        "path": list(path),
        "message": message,
    }


def _size_issue(
    code: str, bound: int, kind: str, inclusive: bool, message: str, path: Path
) -> Issue:
    return {
        "code": code,
        "minimum" if code == "too_small" else "maximum": bound,
        "type": kind,
        "inclusive": inclusive,
        "exact": False,
        "message": message,
        "path": list(path),
    }


# -- the schema parts the platform's schemas are made of ---------------------------------


class _Schema:
    optional = False
    """Whether an absent value passes (then the object skips it at once)."""
    kind: type | tuple[type, ...] = object
    """The Python types the value must have to pass (a union tries those branches first)."""

    def check(self, value: object, path: Path, issues: list[Issue]) -> int:
        """Add `value`'s issues at `path`; return VALID, DIRTY or ABORTED."""
        raise NotImplementedError


class _Any(_Schema):
    optional = True

    def check(self, value: object, path: Path, issues: list[Issue]) -> int:
        return VALID


class _Optional(_Schema):
    """`.optional()` (absent is fine) or `.nullish()` (absent or null)."""

    optional = True

    def __init__(self, inner: _Schema, *, nullish: bool = False) -> None:
        self.inner, self.nullish = inner, nullish
        self.kind = inner.kind

    def check(self, value: object, path: Path, issues: list[Issue]) -> int:
        if value is _MISSING or (self.nullish and value is None):
            return VALID
        return self.inner.check(value, path, issues)


class _String(_Schema):
    """`z.string()` with `.min(n)` / `.max(n, message)`; `extra` is one more check."""

    kind = str

    def __init__(
        self,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
        message: str | None = None,
        extra: Callable[[str, Path], Issue | None] | None = None,
    ) -> None:
        self.minimum, self.maximum, self.message, self.extra = minimum, maximum, message, extra

    def check(self, value: object, path: Path, issues: list[Issue]) -> int:
        if not isinstance(value, str):
            issues.append(_type_issue("string", value, path))
            return ABORTED
        if self.minimum is None and self.maximum is None and self.extra is None:
            return VALID
        status = VALID
        length = _js_length(value)
        if self.minimum is not None and length < self.minimum:
            text = self.message or f"String must contain at least {self.minimum} character(s)"
            issues.append(_size_issue("too_small", self.minimum, "string", True, text, path))
            status = DIRTY
        if self.maximum is not None and length > self.maximum:
            text = self.message or f"String must contain at most {self.maximum} character(s)"
            issues.append(_size_issue("too_big", self.maximum, "string", True, text, path))
            status = DIRTY
        found = self.extra(value, path) if self.extra is not None else None
        if found is not None:
            issues.append(found)
            status = DIRTY
        return status


class _Number(_Schema):
    """`z.number()` and its checks, in the order the schema declares them.

    `checks`: "int", "nonnegative" (>= 0) or "positive" (> 0).
    """

    kind = (int, float)

    def __init__(self, *checks: str) -> None:
        self.checks = checks

    def check(self, value: object, path: Path, issues: list[Issue]) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            issues.append(_type_issue("number", value, path))
            return ABORTED
        number = js_double(value)
        status = VALID
        for name in self.checks:
            if name == "int" and not (math.isfinite(number) and number.is_integer()):
                issues.append(
                    {
                        "code": "invalid_type",
                        "expected": "integer",
                        "received": "float",
                        "message": "Expected integer, received float",
                        "path": list(path),
                    }
                )
                status = DIRTY
            elif name == "nonnegative" and number < 0:
                text = "Number must be greater than or equal to 0"
                issues.append(_size_issue("too_small", 0, "number", True, text, path))
                status = DIRTY
            elif name == "positive" and number <= 0:
                text = "Number must be greater than 0"
                issues.append(_size_issue("too_small", 0, "number", False, text, path))
                status = DIRTY
        return status


class _Boolean(_Schema):
    kind = bool

    def check(self, value: object, path: Path, issues: list[Issue]) -> int:
        if isinstance(value, bool):
            return VALID
        issues.append(_type_issue("boolean", value, path))
        return ABORTED


class _Enum(_Schema):
    kind = str

    def __init__(self, *options: str) -> None:
        self.options = options
        self.joined = " | ".join(f"'{option}'" for option in options)

    def check(self, value: object, path: Path, issues: list[Issue]) -> int:
        if not isinstance(value, str):
            received = _received(value)
            issues.append(
                {
                    "expected": self.joined,
                    "received": received,
                    "code": "invalid_type",
                    "path": list(path),
                    "message": "Required"
                    if received == "undefined"
                    else f"Expected {self.joined}, received {received}",
                }
            )
            return ABORTED
        if value in self.options:
            return VALID
        issues.append(
            {
                "received": value,
                "code": "invalid_enum_value",
                "options": list(self.options),
                "path": list(path),
                "message": f"Invalid enum value. Expected {self.joined}, received '{value}'",
            }
        )
        return ABORTED


class _Date(_Schema):
    """`z.coerce.date()`: whatever `new Date(value)` makes a valid date of.

    An approximation for arrays, which JavaScript turns into text first: they are
    refused here, where the platform accepts a few (`[5]`).
    """

    def check(self, value: object, path: Path, issues: list[Issue]) -> int:
        if value is None or isinstance(value, bool):
            return VALID  # 0 or 1 ms after the epoch
        if isinstance(value, int | float) and abs(js_double(value)) <= 8.64e15:
            return VALID
        issues.append({"code": "invalid_date", "path": list(path), "message": "Invalid date"})
        return ABORTED


class _Trimmed(_Schema):
    """`z.preprocess(trim, inner)`: a string trimmed first, a blank one treated as absent."""

    def __init__(self, inner: _Schema) -> None:
        self.inner = inner
        self.optional = inner.optional

    def check(self, value: object, path: Path, issues: list[Issue]) -> int:
        if isinstance(value, str):
            value = _js_trim(value) or _MISSING
        return self.inner.check(value, path, issues)


class _Array(_Schema):
    kind = list

    def __init__(self, item: _Schema, *, minimum: int | None = None) -> None:
        self.item, self.minimum = item, minimum

    def check(self, value: object, path: Path, issues: list[Issue]) -> int:
        if not isinstance(value, list):
            issues.append(_type_issue("array", value, path))
            return ABORTED
        status = VALID
        if self.minimum is not None and len(value) < self.minimum:
            text = f"Array must contain at least {self.minimum} element(s)"
            issues.append(_size_issue("too_small", self.minimum, "array", True, text, path))
            status = DIRTY
        for index, item in enumerate(value):
            found = self.item.check(item, (*path, index), issues)
            if found > status:
                status = found
        return status


class _Union(_Schema):
    """The first branch that passes; else the first that failed only a check; else every
    branch's issues in one `invalid_union` issue."""

    def __init__(self, *options: _Schema) -> None:
        self.options = options

    def check(self, value: object, path: Path, issues: list[Issue]) -> int:
        for option in self.options:  # the common case first: a branch of the value's type passes
            if isinstance(value, option.kind) and option.check(value, path, []) == VALID:
                return VALID
        dirty: list[Issue] | None = None
        failed: list[list[Issue]] = []
        for option in self.options:
            found: list[Issue] = []
            status = option.check(value, path, found)
            if status == VALID:
                return VALID
            if status == DIRTY and dirty is None:
                dirty = found
            if found:
                failed.append(found)
        if dirty is not None:
            issues.extend(dirty)
            return DIRTY
        issues.append(
            {
                "code": "invalid_union",
                "unionErrors": [{"issues": found, "name": "ZodError"} for found in failed],
                "path": list(path),
                "message": "Invalid input",
            }
        )
        return ABORTED


class _Object(_Schema):
    """`z.object(shape)`: unknown keys dropped; `refine` runs unless a field's type failed."""

    kind = dict

    def __init__(
        self,
        shape: Mapping[str, _Schema],
        refine: Callable[[Mapping[str, Any], Path], Issue | None] | None = None,
    ) -> None:
        self.shape, self.refine = shape, refine

    def check(self, value: object, path: Path, issues: list[Issue]) -> int:
        if not isinstance(value, dict):
            issues.append(_type_issue("object", value, path))
            return ABORTED
        status = VALID
        for key, schema in self.shape.items():
            field = value.get(key, _MISSING)
            if field is _MISSING and schema.optional:
                continue
            checked = schema.check(field, (*path, key), issues)
            if checked > status:
                status = checked
        if status != ABORTED and self.refine is not None:
            refused = self.refine(value, path)
            if refused is not None:
                issues.append(refused)
                status = DIRTY
        return status


def _opt(schema: _Schema) -> _Optional:
    return _Optional(schema)


# -- the platform's schemas (packages/core/src/v3/schemas/api.ts) ------------------------

_STRING = _opt(_String())
_BOOLEAN = _opt(_Boolean())
_TAG = _String(maximum=128, message="Tags must be less than 128 characters")
_CONCURRENCY_KEY = _opt(_Union(_String(), _Number()))
_DELAY = _opt(_Union(_String(), _Date()))
_KEY = _opt(
    _String(
        maximum=MAX_IDEMPOTENCY_KEY_LENGTH,
        message=f"idempotencyKey must be {MAX_IDEMPOTENCY_KEY_LENGTH} characters or less",
    )
)
# Any string: one the platform cannot read means the 30-day default (durations.py).
_KEY_TTL = _STRING
_KEY_OPTIONS = _opt(_Object({"key": _String(), "scope": _Enum("run", "attempt", "global")}))
_DEPLOYMENT = _Trimmed(
    _opt(_String(maximum=128, message="externalId must be at most 128 characters"))
)
_MACHINE = _opt(
    _Enum("micro", "small-1x", "small-2x", "medium-1x", "medium-2x", "large-1x", "large-2x")
)
_INTEGER = _opt(_Number("int"))
_NUMBER = _opt(_Number())
_PAYLOAD_SIZE = _opt(_Number("int", "nonnegative"))
_TAGS = _opt(_Union(_TAG, _Array(_TAG)))
_TTL = _opt(_Union(_String(), _Number("nonnegative", "int")))
_DEBOUNCE = _opt(
    _Object(
        {
            "key": _String(maximum=512),
            "delay": _String(),
            "mode": _opt(_Enum("leading", "trailing")),
            "maxDelay": _STRING,
        }
    )
)
_ITEM_OPTIONS = _opt(  # BatchTriggerTaskItem's options (one-shot and streamed items)
    _Object(
        {
            "concurrencyKey": _CONCURRENCY_KEY,
            "delay": _DELAY,
            "idempotencyKey": _KEY,
            "idempotencyKeyTTL": _KEY_TTL,
            "idempotencyKeyOptions": _KEY_OPTIONS,
            "lockToVersion": _STRING,
            "externalDeploymentId": _DEPLOYMENT,
            "machine": _MACHINE,
            "maxAttempts": _INTEGER,
            "maxDuration": _NUMBER,
            "metadata": _Any(),
            "metadataType": _STRING,
            "parentAttempt": _STRING,
            "payloadType": _STRING,
            "payloadSize": _PAYLOAD_SIZE,
            "queue": _opt(_Object({"name": _String()})),
            "tags": _TAGS,
            "test": _BOOLEAN,
            "ttl": _TTL,
            "priority": _NUMBER,
            "region": _STRING,
            "debounce": _DEBOUNCE,
        }
    )
)
_TRIGGER_OPTIONS = _opt(  # TriggerTaskRequestBody's options (a single trigger)
    _Object(
        {
            "dependentAttempt": _STRING,
            "parentAttempt": _STRING,
            "dependentBatch": _STRING,
            "parentBatch": _STRING,
            "parentRunId": _STRING,
            "resumeParentOnCompletion": _BOOLEAN,
            "lockToVersion": _STRING,
            "externalDeploymentId": _DEPLOYMENT,
            "queue": _opt(_Object({"name": _String(), "concurrencyLimit": _INTEGER})),
            "concurrencyKey": _CONCURRENCY_KEY,
            "delay": _DELAY,
            "idempotencyKey": _KEY,
            "idempotencyKeyTTL": _KEY_TTL,
            "idempotencyKeyOptions": _KEY_OPTIONS,
            "machine": _MACHINE,
            "maxAttempts": _INTEGER,
            "maxDuration": _NUMBER,
            "metadata": _Any(),
            "metadataType": _STRING,
            "payloadType": _STRING,
            "payloadSize": _PAYLOAD_SIZE,
            "tags": _TAGS,
            "test": _BOOLEAN,
            "ttl": _TTL,
            "priority": _NUMBER,
            "bulkActionId": _STRING,
            "region": _STRING,
            "debounce": _DEBOUNCE,
        }
    )
)


def _stored_payload(value: Mapping[str, Any], path: Path) -> Issue | None:
    options = value.get("options")
    if not isinstance(options, dict) or options.get("payloadType") != "application/store":
        return None
    payload = value.get("payload")
    if isinstance(payload, str) and payload:
        return None
    return {
        "code": "custom",
        "message": "payload must be a non-empty string when options.payloadType is "
        "application/store",
        "path": [*path, "payload"],
    }


_TRIGGER_TASK = _Object(
    {"payload": _Any(), "context": _Any(), "options": _TRIGGER_OPTIONS}, refine=_stored_payload
)
_BATCH_ITEM = _Object(
    {"task": _String(), "payload": _Any(), "context": _Any(), "options": _ITEM_OPTIONS}
)
_PARENT: dict[str, _Schema] = {
    "parentRunId": _STRING,
    "resumeParentOnCompletion": _BOOLEAN,
}
_ONE_SHOT = {
    # POST /api/v2/tasks/batch
    "POST /api/v2/tasks/batch": _Object({"items": _Array(_BATCH_ITEM), **_PARENT}),
    # POST /api/v1/tasks/batch
    "POST /api/v1/tasks/batch": _Object(
        {"items": _Array(_BATCH_ITEM), "dependentAttempt": _STRING, **_PARENT}
    ),
    # POST /api/v1/tasks/{taskId}/batch: each item is a whole single-trigger body
    "POST /api/v1/tasks/{taskId}/batch": _Object(
        {"items": _Array(_TRIGGER_TASK), "dependentAttempt": _STRING}
    ),
}
_CREATE_BATCH = _Object(
    {
        "runCount": _Number("int", "positive"),
        "taskIdentifiers": _opt(_Array(_String(minimum=1), minimum=1)),
        **_PARENT,
        "idempotencyKey": _KEY,
        "idempotencyKeyOptions": _KEY_OPTIONS,
    }
)
_STREAMED_ITEM = _Object(
    {
        "index": _Number("int", "nonnegative"),
        "task": _String(),
        "payload": _Any(),
        "options": _ITEM_OPTIONS,
    }
)


# -- the texts ---------------------------------------------------------------------------


def _join_path(path: list[str | int]) -> str:
    if len(path) == 1:
        return str(path[0])
    joined = ""
    for part in path:
        if isinstance(part, int):
            joined += f"[{part}]"
        elif '"' in part:
            joined += '["' + part.replace('"', '\\"') + '"]'
        elif not any(char in "$_" or char.isidentifier() for char in part):
            joined += f'["{part}"]'
        else:
            joined += ("." if joined else "") + part
    return joined


def _issue_text(issue: Issue) -> str:
    if issue["code"] == "invalid_union":
        branches: list[str] = []
        for error in issue["unionErrors"]:
            text = "; ".join(_issue_text(inner) for inner in error["issues"])
            if text not in branches:
                branches.append(text)
        return ", or ".join(branches)
    path, message = issue["path"], issue["message"]
    if not path:
        return str(message)
    if len(path) == 1 and isinstance(path[0], int):
        return f"{message} at index {path[0]}"
    return f'{message} at "{_join_path(path)}"'


def _issues(schema: _Schema, value: object) -> list[Issue]:
    found: list[Issue] = []
    schema.check(value, (), found)
    return found


def _body(schema: _Schema, value: object) -> dict[str, Any]:
    found = _issues(schema, value)
    if found:
        texts = (_issue_text(issue) for issue in found[:MAX_ISSUES_IN_MESSAGE])
        raise PlatformError.message(400, "Validation error: " + "; ".join(texts))
    assert isinstance(value, dict)
    return value


def trigger_body(body: object) -> dict[str, Any]:
    """`POST /api/v1/tasks/{taskId}/trigger`'s body (`TriggerTaskRequestBody`), or its 400."""
    return _body(_TRIGGER_TASK, body)


def one_shot_body(route: str, body: object) -> dict[str, Any]:
    """The body of the one-shot batch route named `route` (`POST /api/v2/tasks/batch` ...)."""
    return _body(_ONE_SHOT[route], body)


def create_batch_body(body: object) -> dict[str, Any]:
    """`POST /api/v3/batches`'s body (`CreateBatchRequestBody`), or its 400."""
    return _body(_CREATE_BATCH, body)


def streamed_item(raw: object) -> dict[str, Any]:
    """One NDJSON item (`BatchItemNDJSON`), or the 422 the items route answers for it.

    The text names the item's own `index` when that is a number, and holds zod's issues
    as JSON (`ZodError.message`).
    """
    found = _issues(_STREAMED_ITEM, raw)
    if not found:
        assert isinstance(raw, dict)
        return raw
    index = raw.get("index") if isinstance(raw, dict) else None
    where = "unknown index"
    if isinstance(index, int | float) and not isinstance(index, bool):
        where = f"index {js_number_text(index)}"
    issues = json.dumps(found, indent=2, ensure_ascii=False)
    issues = issues.encode(errors="backslashreplace").decode()  # lone surrogates: `\ud800`
    raise PlatformError.message(422, f"Invalid item at {where}: {issues}")


# -- headers -----------------------------------------------------------------------------

_JS_NUMBER_RE = re.compile(
    r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"|0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+"
)


class _CoercedNumber(_Schema):
    """`z.coerce.number()` on a header: only text `Number()` cannot read fails."""

    def check(self, value: object, path: Path, issues: list[Issue]) -> int:
        text = _js_trim(str(value))
        if not text or _JS_NUMBER_RE.fullmatch(text):
            return VALID
        issues.append(_type_issue("number", math.nan, path))
        return ABORTED


def _nullish(schema: _Schema) -> _Optional:
    return _Optional(schema, nullish=True)


_HEADERS: dict[str, _Schema] = {
    "idempotency-key": _nullish(
        _String(
            maximum=MAX_IDEMPOTENCY_KEY_LENGTH,
            message=f"idempotency-key must be {MAX_IDEMPOTENCY_KEY_LENGTH} characters or less",
        )
    ),
    "idempotency-key-ttl": _nullish(_String()),
    "trigger-version": _nullish(_String()),
    "x-trigger-span-parent-as-link": _nullish(_CoercedNumber()),
    "x-trigger-worker": _nullish(_String()),
    "x-trigger-client": _nullish(_String()),
    "x-trigger-engine-version": _nullish(_Enum("V1", "V2")),
    "x-trigger-request-idempotency-key": _nullish(_String()),
    "x-trigger-realtime-streams-version": _nullish(_String()),
    "x-trigger-source": _nullish(_String()),
    "traceparent": _opt(_String()),
    "tracestate": _opt(_String()),
}
_BATCH_HEADERS = _Object(
    {**_HEADERS, "batch-processing-strategy": _nullish(_Enum("sequential", "parallel"))}
)
_TRIGGER_HEADERS = _Object(_HEADERS)
_HEADER_SCHEMAS = {
    "POST /api/v1/tasks/batch": _BATCH_HEADERS,
    "POST /api/v2/tasks/batch": _BATCH_HEADERS,
}


def check_headers(route: str, headers: Mapping[str, str]) -> None:
    """The trigger routes' header schema: `400 Headers Error` with zod's issues as details.

    Checked before the body, as the route builder does.
    """
    found = _issues(_HEADER_SCHEMAS.get(route, _TRIGGER_HEADERS), dict(headers))
    if found:
        raise PlatformError(400, {"error": "Headers Error", "details": found})


# -- what the trigger service refuses after the schema -----------------------------------


# --- bulkqueues: queue and bulk-action bodies ----------------------------------------------


class _Capped(_Number):
    """`z.number()` with its checks, then `.max(maximum)`."""

    def __init__(self, *checks: str, maximum: int) -> None:
        super().__init__(*checks)
        self.maximum = maximum

    def check(self, value: object, path: Path, issues: list[Issue]) -> int:
        status = super().check(value, path, issues)
        if status == ABORTED or not js_double(value) > self.maximum:  # type: ignore[arg-type]
            return status
        text = f"Number must be less than or equal to {self.maximum}"
        issues.append(_size_issue("too_big", self.maximum, "number", True, text, path))
        return DIRTY


class _Never(_Schema):
    """`z.never().optional()`: any value present fails."""

    optional = True

    def check(self, value: object, path: Path, issues: list[Issue]) -> int:
        issues.append(_type_issue("never", value, path))
        return ABORTED


class _DateOrNumber(_Schema):
    """`z.union([z.coerce.date(), z.number()])`. A string is read as an ISO 8601 date
    (JavaScript's `Date` reads a few more forms)."""

    def check(self, value: object, path: Path, issues: list[Issue]) -> int:
        if isinstance(value, str) and date_text_ms(value) is not None:
            return VALID
        if not isinstance(value, str):
            return _Union(_Date(), _Number()).check(value, path, issues)
        issues.append(
            {
                "code": "invalid_union",
                "unionErrors": [
                    {"issues": [_date_issue(path)], "name": "ZodError"},
                    {"issues": [_type_issue("number", value, path)], "name": "ZodError"},
                ],
                "path": list(path),
                "message": "Invalid input",
            }
        )
        return ABORTED


def _date_issue(path: Path) -> Issue:
    return {"code": "invalid_date", "path": list(path), "message": "Invalid date"}


def date_text_ms(text: str) -> int | None:
    """The moment an ISO 8601 date string names (UTC when it names no zone), or None."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)


_QUEUE_TYPE = _opt(_Enum("task", "custom", "id"))
_PAUSE_QUEUE = _Object({"type": _QUEUE_TYPE, "action": _Enum("pause", "resume")})
_RESET_QUEUE = _Object({"type": _QUEUE_TYPE})


def _one_limit(value: Mapping[str, Any], path: Path) -> Issue | None:
    if ("concurrencyLimit" in value) != ("percent" in value):
        return None
    return {"code": "custom", "message": QUEUE_OVERRIDE_ONE_OF, "path": list(path)}


_OVERRIDE_QUEUE = _Object(
    {
        "type": _QUEUE_TYPE,
        "concurrencyLimit": _opt(_Capped("int", "nonnegative", maximum=QUEUE_OVERRIDE_MAXIMUM)),
        "percent": _opt(_Capped("positive", maximum=100)),
    },
    refine=_one_limit,
)


def _texts(schema: _Schema) -> _Schema:
    return _opt(_Union(schema, _Array(schema)))


def _some_filter(value: Mapping[str, Any], path: Path) -> Issue | None:
    def filled(item: object) -> bool:
        if isinstance(item, list):
            return any(filled(each) for each in item)
        return _js_trim(item) != "" if isinstance(item, str) else True

    if any(filled(item) for item in value.values()):
        return None
    return {"code": "custom", "message": BULK_ONE_FILTER, "path": list(path)}


_BULK_FILTER = _Object(
    {
        "status": _texts(_Enum(*API_RUN_STATUSES)),
        "taskIdentifier": _texts(_String()),
        "version": _texts(_String()),
        "from": _opt(_DateOrNumber()),
        "to": _opt(_DateOrNumber()),
        "period": _STRING,
        "bulkAction": _STRING,
        "tag": _texts(_String()),
        "schedule": _STRING,
        "isTest": _BOOLEAN,
        "batch": _STRING,
        "queue": _texts(_Object({"type": _Enum("task", "custom"), "name": _String()})),
        "machine": _texts(_MACHINE.inner),
        "region": _texts(_String()),
    },
    refine=_some_filter,
)
_BULK_SELECTION: dict[str, _Schema] = {
    "filter": _opt(_BULK_FILTER),
    "runIds": _opt(_Array(_String(), minimum=1)),
    "name": _opt(_String(maximum=255, message="Name must be less than 255 characters")),
}
_BULK_ACTIONS = {
    "cancel": _Object({"targetRegion": _Never(), **_BULK_SELECTION}),
    "replay": _Object({"targetRegion": _STRING, **_BULK_SELECTION}),
}


def pause_queue_body(body: object) -> dict[str, Any]:
    """`POST /api/v1/queues/{queueParam}/pause`'s body, or its 400."""
    return _body(_PAUSE_QUEUE, body)


def reset_queue_body(body: object) -> dict[str, Any]:
    """`POST /api/v1/queues/{queueParam}/concurrency/reset`'s body, or its 400."""
    return _body(_RESET_QUEUE, body)


def override_queue_body(body: object) -> dict[str, Any]:
    """`POST /api/v1/queues/{queueParam}/concurrency/override`'s body, or its 400."""
    return _body(_OVERRIDE_QUEUE, body)


def bulk_action_body(body: object) -> dict[str, Any]:
    """`POST /api/v1/bulk-actions`'s body (`CreateBulkActionRequestBody`: a union on
    `action`, then exactly one of `filter` and `runIds`), or its 400."""
    if not isinstance(body, dict):
        return _body(_Object({}), body)
    schema = _BULK_ACTIONS.get(body.get("action"))  # type: ignore[arg-type]
    if schema is None:
        issue = {
            "code": "invalid_union_discriminator",
            "options": list(_BULK_ACTIONS),
            "path": ["action"],
            "message": "Invalid discriminator value. Expected 'cancel' | 'replay'",
        }
        raise PlatformError.message(400, "Validation error: " + _issue_text(issue))
    found: list[Issue] = []
    # The body's refinement runs unless a field failed on its type (zod's "aborted").
    if schema.check(body, (), found) != ABORTED and ("filter" in body) + ("runIds" in body) != 1:
        found.append({"code": "custom", "message": BULK_ONE_OF, "path": []})
    if found:
        texts = (_issue_text(issue) for issue in found[:MAX_ISSUES_IN_MESSAGE])
        raise PlatformError.message(400, "Validation error: " + "; ".join(texts))
    return body


# -- runops: the bodies of the routes that change a run ----------------------------------


class _Null(_Schema):
    kind = type(None)

    def check(self, value: object, path: Path, issues: list[Issue]) -> int:
        if value is None:
            return VALID
        issues.append(_type_issue("null", value, path))
        return ABORTED


class _Record(_Schema):
    """`z.record(...)` of values any parsed JSON meets: the value must be an object."""

    kind = dict

    def check(self, value: object, path: Path, issues: list[Issue]) -> int:
        if isinstance(value, dict):
            return VALID
        issues.append(_type_issue("object", value, path))
        return ABORTED


class _Discriminated(_Schema):
    """`z.discriminatedUnion(key, options)`: the option the value's `key` names."""

    kind = dict

    def __init__(self, key: str, options: Mapping[str, _Object]) -> None:
        self.key, self.options = key, options
        self.joined = " | ".join(f"'{name}'" for name in options)

    def check(self, value: object, path: Path, issues: list[Issue]) -> int:
        if not isinstance(value, dict):
            issues.append(_type_issue("object", value, path))
            return ABORTED
        named = value.get(self.key)
        option = self.options.get(named) if isinstance(named, str) else None
        if option is None:
            issues.append(
                {
                    "code": "invalid_union_discriminator",
                    "options": list(self.options),
                    "path": [*path, self.key],
                    "message": f"Invalid discriminator value. Expected {self.joined}",
                }
            )
            return ABORTED
        return option.check(value, path, issues)


def _safe_metadata_key(key: str, path: Path) -> Issue | None:
    if safe_metadata_key(key):
        return None
    message = "Metadata key may not reference __proto__, constructor, or prototype"
    return {"code": "custom", "message": message, "path": list(path)}


_JSON = _Union(_Union(_String(), _Number(), _Boolean(), _Null()), _Array(_Any()), _Record())
_METADATA_KEY = _String(extra=_safe_metadata_key)
_OPERATION = _Discriminated(
    "type",
    {
        "update": _Object({"type": _Any(), "value": _Record()}),
        "set": _Object({"type": _Any(), "key": _METADATA_KEY, "value": _JSON}),
        "delete": _Object({"type": _Any(), "key": _METADATA_KEY}),
        "append": _Object({"type": _Any(), "key": _METADATA_KEY, "value": _JSON}),
        "remove": _Object({"type": _Any(), "key": _METADATA_KEY, "value": _JSON}),
        "increment": _Object({"type": _Any(), "key": _METADATA_KEY, "value": _Number()}),
    },
)
_OPERATIONS = _opt(_Array(_OPERATION))
_UPDATE_METADATA = _Object(
    {
        "metadata": _opt(_Record()),
        "operations": _OPERATIONS,
        "parentOperations": _OPERATIONS,
        "rootOperations": _OPERATIONS,
    }
)
_RESET_KEY = _Object({"taskIdentifier": _String(minimum=1, message="Task identifier is required")})
_RESCHEDULE = _Object({"delay": _Union(_String(), _Date())})
_ADD_TAGS = _Object({"tags": _Union(_TAG, _Array(_TAG))})


def reset_key_body(body: object) -> dict[str, Any]:
    """`POST /api/v1/idempotencyKeys/{key}/reset`'s body (`{taskIdentifier}`), or its 400."""
    return _body(_RESET_KEY, body)


def update_metadata_body(body: object) -> dict[str, Any]:
    """`PUT /api/v1/runs/{runId}/metadata`'s body (`UpdateMetadataRequestBody`), or its 400."""
    return _body(_UPDATE_METADATA, body)


def reschedule_body_ok(body: object) -> bool:
    """Whether `RescheduleRunRequestBody` (`{delay: string | coerced date}`) accepts `body`."""
    return not _issues(_RESCHEDULE, body)


def add_tags_issues(body: object) -> list[Issue]:
    """zod's issues with an `AddTagsRequestBody` (`{tags: tag | tag[]}`, tags ≤ 128 chars)."""
    return _issues(_ADD_TAGS, body)


# --- tokens: the body of POST /api/v1/auth/public-tokens (publicTokens.server.ts) ---

_PUBLIC_TOKEN = _Object(
    {
        "scopes": _Array(_String(), minimum=1),
        "expirationTime": _opt(_Union(_String(), _Number())),
        "oneTimeUse": _BOOLEAN,
        "realtime": _opt(_Object({"skipColumns": _opt(_Array(_String()))})),
    }
)


def public_token_body(body: bytes) -> dict[str, Any]:
    """The body as zod keeps it (unknown keys dropped), or the route's 400.

    Text that is not JSON: `{"error": "Invalid request body"}`; JSON the schema refuses:
    the same with zod's `issues`.
    """
    text = body.decode("utf-8", errors="replace").removeprefix("\ufeff")
    try:
        value = strict_loads(text)
    except (ValueError, RecursionError):
        raise PlatformError(400, {"error": "Invalid request body"}) from None
    found = _issues(_PUBLIC_TOKEN, value)
    if found:
        raise PlatformError(400, {"error": "Invalid request body", "issues": found})
    kept = {key: value[key] for key in _PUBLIC_TOKEN.shape if key in value}
    realtime = kept.get("realtime")
    if isinstance(realtime, dict):
        kept["realtime"] = {k: realtime[k] for k in ("skipColumns",) if k in realtime}
    return kept


# --- waitpoints: the waitpoint token routes' bodies --------------------------------------

_CREATE_TOKEN = _Object(
    {"idempotencyKey": _KEY, "idempotencyKeyTTL": _KEY_TTL, "timeout": _DELAY, "tags": _TAGS}
)
_COMPLETE_TOKEN = _Object({"data": _Any()})


def create_token_body(body: object) -> dict[str, Any]:
    """`POST /api/v1/waitpoints/tokens`' body (`CreateWaitpointTokenRequestBody`), or its 400."""
    return _body(_CREATE_TOKEN, body)


def complete_token_body(body: object) -> dict[str, Any]:
    """`POST /api/v1/waitpoints/tokens/{id}/complete`'s body (`{data?}`), or its 400."""
    return _body(_COMPLETE_TOKEN, body)
