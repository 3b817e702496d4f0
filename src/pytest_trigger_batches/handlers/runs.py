"""Runs: retrieve (`GET /api/v3/runs/{runId}`), list (`GET /api/v1/runs`), cancel, replay.

The status a run shows depends on `x-trigger-api-version` and its flags on that shown
status, as the platform's presenters do (docs/platform.md §7).
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pytest_trigger_batches import durations
from pytest_trigger_batches.errors import PlatformError, json_bytes
from pytest_trigger_batches.handlers import triggers
from pytest_trigger_batches.payloads import list_item, run_body, tags_of
from pytest_trigger_batches.pipeline import Reply
from pytest_trigger_batches.statuses import FILTER_STATUSES
from pytest_trigger_batches.timefmt import DATE_LIMIT_MS, to_ms
from pytest_trigger_batches.triggered import Item, Run, TriggeredBatch

if TYPE_CHECKING:
    from pytest_trigger_batches.pipeline import Context
    from pytest_trigger_batches.store import Store


def _find(context: Context, store: Store) -> Run:
    run = store.runs.get(context.params["runId"])
    if run is None or run.environment not in (None, context.environment):
        raise context.not_found()
    return run


def _scopes_of(run: Run) -> list[tuple[str, str | None]]:
    wanted: list[tuple[str, str | None]] = [("runs", run.id), ("tasks", run.task)]
    wanted += [("tags", tag) for tag in tags_of(run)]
    if run.batch_id:
        wanted.append(("batch", run.batch_id))
    return wanted


def retrieve_run(context: Context, store: Store) -> Reply:
    """A run as its presenter shows it; a GET moves it (and its batch) one step."""
    run = _find(context, store)
    context.authorize("read", _scopes_of(run))
    run.refresh(context.now_ms)
    body = json_bytes(run_body(run, context.api_version))
    # A registered run shows the state it was given: it moves with nothing.
    if context.method == "GET" and store.progression == "per_poll" and not run.listed_always:
        batch = store.batches.get(run.batch_id) if run.batch_id else None
        if isinstance(batch, TriggeredBatch):
            batch.complete_if_done(context.now_ms)
            triggers.step(store, batch, context.now_ms)
        else:
            run.step(context.now_ms)
    return Reply(200, body)


def cancel_run(context: Context, store: Store) -> Reply:
    """Cancel a run that has not finished; `200 {id}` either way."""
    run = store.runs.get(context.params["runId"])
    if run is None or run.environment not in (None, context.environment):
        raise PlatformError.message(404, "Resource not found")
    context.authorize_any(("write",), [("runs", run.id), ("tasks", run.task)])
    run.cancel(context.now_ms)
    store.cancelled.append(run.id)
    return Reply(200, json_bytes({"id": run.id}))


# What a replay takes from the run (`ReplayTaskRunService`): not its delay, ttl,
# maxAttempts, maxDuration, priority, version lock or idempotency key.
_REPLAYED_OPTIONS = frozenset(
    {"payloadType", "queue", "test", "tags", "metadata", "concurrencyKey", "machine", "region"}
)


def replay_run(context: Context, store: Store) -> Reply:
    """A new run of the same task and payload, not part of any batch."""
    run = store.runs.get(context.params["runId"])
    if run is None or run.environment not in (None, context.environment):
        raise PlatformError.message(404, "Resource not found")
    options = {k: v for k, v in run.options.items() if k in _REPLAYED_OPTIONS}
    if machine_of(run):  # the preset it ran on, small-1x when it named none
        options["machine"] = machine_of(run)
    item = Item(0, run.task, run.payload, options)
    made = store.create_run(environment=context.environment, item=item, now_ms=context.now_ms)
    assert isinstance(made, Run)
    made.replayed_from = run.id
    store.replayed.append((run.id, made.id))
    return Reply(200, json_bytes({"id": made.id}))


# -- GET /api/v1/runs ----------------------------------------------------------------

WINDOW_MS = 7 * 86_400_000
MACHINES = ("micro", "small-1x", "small-2x", "medium-1x", "medium-2x", "large-1x", "large-2x")
"""The machine presets (`MachinePresetName`); a run that names none starts on small-1x."""
_JS_DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_JS_RADIX = re.compile(r"0([xXoObB])([0-9a-fA-F]+)")
_RADIX = {"x": 16, "o": 8, "b": 2}
_QUEUE_JUNK = re.compile(r"[^a-zA-Z0-9_\-/]")  # sanitizeQueueName drops the rest


def _custom(parameter: str, message: str) -> dict[str, object]:
    """A zod issue added by a transform (`ctx.addIssue`)."""
    return {"code": "custom", "message": message, "path": [parameter]}


def _query_errors(issues: list[dict[str, object]]) -> PlatformError:
    """`400 Query Error` with zod's issues, in the order the schema declares its keys."""
    return PlatformError(400, {"error": "Query Error", "details": issues})


def _query_error(parameter: str, message: str) -> PlatformError:
    return _query_errors([_custom(parameter, message)])


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


def _page_size(text: str | None, issues: list[dict[str, object]]) -> int:
    """`z.coerce.number().int().positive().min(1).max(100)`, zod's issues word for word."""
    if text is None:
        return 25
    path = ["page[size]"]
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
        return 25
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
    for bound, inclusive, ok, message in (
        (0, False, number > 0, "Number must be greater than 0"),
        (1, True, number >= 1, "Number must be greater than or equal to 1"),
    ):
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
    if not number <= 100:
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
    return 25 if found else int(number)


def _moment_ms(context: Context, name: str, issues: list[dict[str, object]]) -> int | None:
    """`CoercedDate`: a number is epoch milliseconds, else a date string; 0 is no filter."""
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


def internal_run_id(run_id: str) -> str:
    """A run's internal id, as the list's cursors carry it: its friendly id less `run_`."""
    return run_id[4:] if run_id.startswith("run_") else run_id


def queue_of(run: Run) -> str:
    """The queue a run is on: `options.queue.name`, else `task/<taskId>` (sanitized)."""
    queue = run.options.get("queue")
    name = queue.get("name") if isinstance(queue, Mapping) else None
    sanitized = _QUEUE_JUNK.sub("", name)[:128] if isinstance(name, str) else ""
    return sanitized or _QUEUE_JUNK.sub("", f"task/{run.task}")[:128]


def machine_of(run: Run) -> str:
    """The machine preset a run asked for; one that started without asking got small-1x."""
    machine = run.options.get("machine")
    if isinstance(machine, str) and machine:
        return machine
    return "small-1x" if run.started_ms is not None else ""


def encode_cursor(run: Run) -> str:
    """A page cursor: base64url of `{"c": createdAtMs, "r": internal run id}`."""
    raw = json.dumps({"c": run.created_ms, "r": internal_run_id(run.id)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()


def _decode_cursor(cursor: str) -> tuple[int, str] | None:
    """A composite cursor's place, or None for a legacy one (a bare internal run id)."""
    text = re.sub(r"[^A-Za-z0-9_\-+/]", "", cursor.split("=", 1)[0])
    text = text[: len(text) - 1] if len(text) % 4 == 1 else text
    try:
        raw = base64.urlsafe_b64decode(
            text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4)
        )
        found = json.loads(raw.decode(errors="replace"))
    except ValueError:
        return None
    if not isinstance(found, dict):
        return None
    created, run_id = found.get("c"), found.get("r")
    if isinstance(created, bool) or not isinstance(created, int | float):
        return None
    if not (math.isfinite(created) and float(created).is_integer()):
        return None
    if not isinstance(run_id, str) or not run_id:
        return None
    return int(created), run_id


def _page(
    runs: list[Run], size: int, cursor: str | None, forward: bool
) -> tuple[list[Run], dict[str, str]]:
    """The keyset page of `runs` (newest first) and its cursors, as the runs repository
    cuts them: composite cursors on `(created_at, run_id)`, legacy ones on `run_id`."""
    if cursor is None:
        rows = runs[: size + 1]
    else:
        place = _decode_cursor(cursor)
        if place is None:
            legacy = cursor
            if forward:
                rows = [r for r in runs if internal_run_id(r.id) < legacy]
            else:
                rows = [r for r in reversed(runs) if internal_run_id(r.id) > legacy]
        elif forward:
            rows = [r for r in runs if (r.created_ms, internal_run_id(r.id)) < place]
        else:
            rows = [r for r in reversed(runs) if (r.created_ms, internal_run_id(r.id)) > place]
        rows = rows[: size + 1]
    more = len(rows) > size
    pagination: dict[str, str] = {}
    if forward:
        if more:
            pagination["next"] = encode_cursor(rows[size - 1])
        if cursor is not None and rows:
            pagination["previous"] = encode_cursor(rows[0])
    elif rows:  # oldest first, as the backward query reads them
        pagination["next"] = encode_cursor(rows[0])
        if more:
            pagination["previous"] = encode_cursor(rows[size - 1])
    return rows[:size], pagination


def list_runs(context: Context, store: Store) -> Reply:
    """Runs of the key's environment, newest first, a page at a time."""
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
    if context.token is not None:
        broad: list[tuple[str, str | None]] = [("runs", None), ("tasks", None)]
        try:
            context.authorize_any(("read",), broad)
        except PlatformError:
            if not tasks:
                raise
            # Scoped to tasks: every task of the filter must be granted.
            context.authorize_any(("read",), [("tasks", task) for task in tasks], every=True)
    tags = set(_split(context, "filter[tag]"))
    batch_id = _one(context, "filter[batch]") or None
    versions = set(_split(context, "filter[version]"))
    queues = set(_split(context, "filter[queue]"))
    regions = set(_split(context, "filter[region]"))
    schedule = _one(context, "filter[schedule]")
    bulk = _one(context, "filter[bulkAction]")
    bulk_id = _internal_id(bulk, "bulk") if bulk else None
    error_id = _one(context, "filter[error]")
    if error_id:
        _internal_id(error_id, "error")
    wanted_stored = set().union(*(FILTER_STATUSES[s] for s in statuses)) if statuses else None
    now = context.now_ms
    period = _one(context, "filter[createdAt][period]") or None  # empty: none
    if period is not None:
        # A period replaces from and to; one parse-duration cannot read filters nothing.
        try:
            start, end = durations.period_start_ms(period, now), None
        except durations.InvalidDate:  # the platform's query fails on it
            raise PlatformError.message(500, "Internal Server Error") from None
    default_window = start is None and end is None and period is None
    if default_window:
        start = now - WINDOW_MS  # the platform's default window, on the mock's clock
    runs = []
    for run in store.runs.values():
        if run.environment not in (None, context.environment):
            continue
        run.refresh(now)
        if batch_id is not None and run.batch_id != batch_id:
            continue
        if tasks and run.task not in tasks:
            continue
        if tags and not tags & set(tags_of(run)):
            continue
        if wanted_stored is not None and run.stored_status not in wanted_stored:
            continue
        if is_test is not None and (run.options.get("test") is True) != is_test:
            continue
        if versions and (run.version or "") not in versions:
            continue
        if queues and queue_of(run) not in queues:
            continue
        if regions and (run.region or "") not in regions:
            continue
        if machines and machine_of(run) not in machines:
            continue
        if schedule or error_id:
            continue  # the mock's runs have no schedule and no error fingerprint
        if bulk_id is not None and run.options.get("bulkActionId") != bulk_id:
            continue
        if (
            start is not None
            and run.created_ms < start
            and not (default_window and run.listed_always)
        ):
            continue
        if end is not None and run.created_ms > end:
            continue
        runs.append(run)
    runs.sort(key=lambda r: (r.created_ms, internal_run_id(r.id)), reverse=True)
    after, before = _one(context, "page[after]") or None, _one(context, "page[before]") or None
    page, pagination = _page(runs, size, before or after, forward=before is None)
    env_id = store.keys.environment_id(context.environment)
    data = [list_item(run, context.api_version, context.environment, env_id) for run in page]
    return Reply(200, json_bytes({"data": data, "pagination": pagination}))
