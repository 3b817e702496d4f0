"""Reading `GET /api/v1/runs`'s query as the platform's schema does (zod's issues).

`checked()` is the schema: every problem is one `400 Query Error`; `run_filter()` reads
the rest of the filters, once the caller is authorized. Both make a `RunFilter`.
"""

from __future__ import annotations

import dataclasses
import math
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pytest_trigger_batches.durations import parse_duration
from pytest_trigger_batches.errors import PlatformError
from pytest_trigger_batches.listing import RunFilter
from pytest_trigger_batches.statuses import FILTER_STATUSES, WAITPOINT_STATUSES
from pytest_trigger_batches.stored_run import MACHINES
from pytest_trigger_batches.timefmt import DATE_LIMIT_MS, to_ms
from pytest_trigger_batches.waitpoints import TokenFilter

if TYPE_CHECKING:
    from pytest_trigger_batches.pipeline import Context

__all__ = ["checked", "run_filter", "token_filter"]

_JS_DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_JS_RADIX = re.compile(r"0([xXoObB])([0-9a-fA-F]+)")
_RADIX = {"x": 16, "o": 8, "b": 2}


def checked(context: Context) -> RunFilter:
    """The filters the query schema checks (page size, statuses, tasks, isTest, dates,
    machines), or the `400 Query Error` listing every problem."""
    issues: list[dict[str, object]] = []
    size = _page_size(_one(context, "page[size]"), issues)
    statuses = _split(context, "filter[status]")
    unknown = [s for s in statuses if s not in FILTER_STATUSES]
    if unknown:
        issues.append(_custom("filter[status]", f"Invalid status values: {', '.join(unknown)}"))
    tasks = _split(context, "filter[taskIdentifier]")
    is_test = _is_test(context, issues)
    start = _moment_ms(context, "filter[createdAt][from]", issues)
    end = _moment_ms(context, "filter[createdAt][to]", issues)
    machines = _split(context, "filter[machine]")
    bad_machines = [m for m in machines if m not in MACHINES]
    if bad_machines:
        issues.append(
            _custom("filter[machine]", f"Invalid machine values: {', '.join(bad_machines)}")
        )
    if issues:
        raise _query_errors(issues)
    stored = set().union(*(FILTER_STATUSES[s] for s in statuses)) if statuses else None
    return RunFilter(
        size=size,
        statuses=stored,
        tasks=tasks,
        machines=machines,
        is_test=is_test,
        start_ms=start,
        end_ms=end,
    )


def run_filter(context: Context, schema: RunFilter) -> RunFilter:
    """`schema` with the query's other filters and its cursors (a malformed bulk action
    or error id is the platform's 500, as `IdUtil.toId` throws)."""
    bulk = _one(context, "filter[bulkAction]")
    bulk_id = _internal_id(bulk, "bulk") if bulk else None
    error_id = _one(context, "filter[error]")
    if error_id:
        _internal_id(error_id, "error")
    return dataclasses.replace(
        schema,
        tags=frozenset(_split(context, "filter[tag]")),
        batch_id=_one(context, "filter[batch]") or None,
        versions=frozenset(_split(context, "filter[version]")),
        queues=frozenset(_split(context, "filter[queue]")),
        regions=frozenset(_split(context, "filter[region]")),
        schedule_or_error=bool(_one(context, "filter[schedule]")) or bool(error_id),
        bulk_id=bulk_id,
        period=_one(context, "filter[createdAt][period]") or None,  # empty: none
        after=_one(context, "page[after]") or None,
        before=_one(context, "page[before]") or None,
    )


def _custom(parameter: str, message: str) -> dict[str, object]:
    """A zod issue added by a transform (`ctx.addIssue`)."""
    return {"code": "custom", "message": message, "path": [parameter]}


def _query_errors(issues: list[dict[str, object]]) -> PlatformError:
    """`400 Query Error` with zod's issues, in the order the schema declares its keys."""
    return PlatformError(400, {"error": "Query Error", "details": issues})


def _one(context: Context, name: str) -> str | None:
    values = context.query.get(name)
    return values[-1] if values else None  # the last one, as Object.fromEntries keeps


def _split(context: Context, name: str) -> list[str]:
    """A comma list as the platform splits it: no trimming, empty parts kept."""
    value = _one(context, name)
    return value.split(",") if value else []


def _number(text: str) -> float:
    """`Number(text)` as JavaScript reads a string (NaN when it is not a number)."""
    text = text.strip()
    if not text:
        return 0.0
    radix = _JS_RADIX.fullmatch(text)
    if radix is not None:
        try:
            return float(int(radix.group(2), _RADIX[radix.group(1).lower()]))
        except ValueError:
            return math.nan
    return float(text) if _JS_DECIMAL.fullmatch(text) else math.nan


def _coerced_int(
    text: str, path: list[str], issues: list[dict[str, object]], *, page: bool = False
) -> int | None:
    """`z.coerce.number().int().positive()` (`page`: then `.min(1).max(100)`), zod's
    issues word for word; None when refused."""
    number = _number(text)
    if math.isnan(number):
        issues.append(
            {
                "code": "invalid_type",
                "expected": "number",
                "received": "nan",
                "path": path,
                "message": "Expected number, received nan",
            }
        )
        return None
    found: list[dict[str, object]] = []
    if not (math.isfinite(number) and number.is_integer()):
        found.append(
            {
                "code": "invalid_type",
                "expected": "integer",
                "received": "float",
                "message": "Expected integer, received float",
                "path": path,
            }
        )
    minimums = [(0, False, number > 0, "Number must be greater than 0")]
    if page:
        minimums.append((1, True, number >= 1, "Number must be greater than or equal to 1"))
    for bound, inclusive, ok, message in minimums:
        if not ok:
            found.append(
                {
                    "code": "too_small",
                    "minimum": bound,
                    "type": "number",
                    "inclusive": inclusive,
                    "exact": False,
                    "message": message,
                    "path": path,
                }
            )
    if page and not number <= 100:
        found.append(
            {
                "code": "too_big",
                "maximum": 100,
                "type": "number",
                "inclusive": True,
                "exact": False,
                "message": "Number must be less than or equal to 100",
                "path": path,
            }
        )
    issues += found
    return None if found else int(number)


def _page_size(text: str | None, issues: list[dict[str, object]]) -> int:
    """`page[size]`: `z.coerce.number().int().positive().min(1).max(100)`, 25 if absent."""
    size = None if text is None else _coerced_int(text, ["page[size]"], issues, page=True)
    return 25 if size is None else size


def _moment_ms(
    context: Context, name: str, issues: list[dict[str, object]], *, keep_zero: bool = False
) -> int | None:
    """`CoercedDate`: a number is epoch milliseconds, else a date string; 0 is no filter
    (unless `keep_zero`)."""
    value = _one(context, name)
    if value is None:
        return None
    number = _number(value)
    moment: float | None
    if not math.isnan(number):
        moment = math.trunc(number) if abs(number) <= DATE_LIMIT_MS else None
    else:
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            moment = None
        else:
            if parsed.tzinfo is None:  # the server's clock is UTC
                parsed = parsed.replace(tzinfo=UTC)
            moment = to_ms(parsed)
    if moment is None:
        issues.append({"code": "invalid_date", "path": [name], "message": "Invalid date"})
        return None
    if keep_zero:
        return int(moment)
    return int(moment) or None  # new Date(0) is falsy for the presenter: no filter


def _is_test(context: Context, issues: list[dict[str, object]]) -> bool | None:
    value = _one(context, "filter[isTest]")
    if not value:
        return None
    if value in ("true", "false"):
        return value == "true"
    issues.append(_custom("filter[isTest]", f"Invalid value for isTest: {value}"))
    return None


def _internal_id(value: str, prefix: str) -> str:
    """`IdUtil.toId`: a friendly id loses its prefix (a malformed one throws: 500)."""
    if not value.startswith(f"{prefix}_"):
        return value
    parts = value.split("_")
    if len(parts) != 2 or not parts[1]:
        raise PlatformError.message(500, "Internal Server Error")
    return parts[1]


# --- bulkqueues: the queue and bulk-action lists' queries ---------------------------------


def query_errors(issues: list[dict[str, object]]) -> PlatformError:
    """`400 Query Error` with zod's issues (nothing when there are none: check first)."""
    return _query_errors(issues)


def one(context: Context, name: str) -> str | None:
    """A query parameter as `Object.fromEntries` reads it: the last one given."""
    return _one(context, name)


def page_size(context: Context, issues: list[dict[str, object]]) -> int:
    """`page[size]`: `z.coerce.number().int().positive().min(1).max(100)`, 25 if absent."""
    return _page_size(_one(context, "page[size]"), issues)


def positive_int(context: Context, name: str, issues: list[dict[str, object]]) -> int | None:
    """`z.coerce.number().int().positive().optional()`: None when absent or refused."""
    text = _one(context, name)
    return None if text is None else _coerced_int(text, [name], issues)


# --- waitpoints: GET /api/v1/waitpoints/tokens (ApiWaitpointListSearchParams) -----------


def token_filter(context: Context, now_ms: int) -> TokenFilter:
    """The token list's filters and page, or its `400 Query Error` listing every problem.

    `filter[createdAt][period]` counts back from `now_ms` (parse-duration's reading; text
    it cannot read: no filter; 0: from now on); epoch 0 is a `from` or `to` too.
    """
    issues: list[dict[str, object]] = []
    size = _page_size(_one(context, "page[size]"), issues)
    statuses = _split(context, "filter[status]")
    unknown = [s for s in statuses if s not in WAITPOINT_STATUSES]
    if unknown:
        issues.append(_custom("filter[status]", f"Invalid status values: {', '.join(unknown)}"))
    start = _moment_ms(context, "filter[createdAt][from]", issues, keep_zero=True)
    end = _moment_ms(context, "filter[createdAt][to]", issues, keep_zero=True)
    if issues:
        raise _query_errors(issues)
    period = _one(context, "filter[createdAt][period]")
    if period:
        span = parse_duration(period)
        if span is not None:
            since = now_ms - span
            if not math.isfinite(since) or abs(since) > DATE_LIMIT_MS:
                raise PlatformError.message(500, "Internal Server Error")  # an Invalid Date
            since_ms = math.trunc(since)
            start = since_ms if start is None else max(start, since_ms)
    return TokenFilter(
        size=size,
        statuses=tuple(dict.fromkeys(statuses)),
        idempotency_key=_one(context, "filter[idempotencyKey]") or None,
        tags=tuple(_split(context, "filter[tags]")),
        start_ms=start,
        end_ms=end,
        after=_one(context, "page[after]") or None,
        before=_one(context, "page[before]") or None,
    )
