"""Runs: retrieve (`GET /api/v3/runs/{runId}`), list (`GET /api/v1/runs`), cancel, replay.

The status a run shows depends on `x-trigger-api-version` and its flags on that shown
status, as the platform's presenters do (docs/platform.md §7).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pytest_trigger_batches import durations
from pytest_trigger_batches.errors import PlatformError, json_bytes
from pytest_trigger_batches.handlers import triggers
from pytest_trigger_batches.payloads import list_item, run_body, tags_of
from pytest_trigger_batches.pipeline import Reply
from pytest_trigger_batches.statuses import FILTER_STATUSES
from pytest_trigger_batches.timefmt import to_ms
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


_NOT_REPLAYED = frozenset({"idempotencyKey", "idempotencyKeyTTL", "delay", "ttl"})


def replay_run(context: Context, store: Store) -> Reply:
    """A new run of the same task and payload, not part of any batch."""
    run = store.runs.get(context.params["runId"])
    if run is None or run.environment not in (None, context.environment):
        raise PlatformError.message(404, "Resource not found")
    # The platform's replay carries neither the key nor the delay or ttl (replayTaskRun.server.ts).
    options = {k: v for k, v in run.options.items() if k not in _NOT_REPLAYED}
    item = Item(0, run.task, run.payload, options)
    made = store.create_run(environment=context.environment, item=item, now_ms=context.now_ms)
    assert isinstance(made, Run)
    made.replayed_from = run.id
    store.replayed.append((run.id, made.id))
    return Reply(200, json_bytes({"id": made.id}))


# -- GET /api/v1/runs ----------------------------------------------------------------

WINDOW_MS = 7 * 86_400_000


def _query_error(parameter: str, message: str) -> PlatformError:
    details = [{"code": "custom", "message": message, "path": [parameter]}]
    return PlatformError(400, {"error": "Query Error", "details": details})


def _one(context: Context, name: str) -> str | None:
    values = context.query.get(name)
    return values[-1] if values else None


def _listed(context: Context, name: str) -> list[str]:
    value = _one(context, name)
    return [part.strip() for part in value.split(",") if part.strip()] if value else []


def _moment_ms(context: Context, name: str) -> int | None:
    value = _one(context, name)
    if value is None:
        return None
    if value.isdigit():
        return int(value)
    try:
        return to_ms(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        raise _query_error(name, "Invalid date") from None


def list_runs(context: Context, store: Store) -> Reply:
    """Runs of the key's environment, newest first, a page at a time."""
    size_text = _one(context, "page[size]")
    size = 25
    if size_text is not None:
        if not size_text.isdigit() or not 1 <= int(size_text) <= 100:
            raise _query_error("page[size]", "Number must be between 1 and 100")
        size = int(size_text)
    statuses = [s.upper() for s in _listed(context, "filter[status]")]
    unknown = [s for s in statuses if s not in FILTER_STATUSES]
    if unknown:
        raise _query_error("filter[status]", f"Invalid status values: {', '.join(unknown)}")
    tasks = _listed(context, "filter[taskIdentifier]")
    if context.token is not None:
        broad: list[tuple[str, str | None]] = [("runs", None), ("tasks", None)]
        try:
            context.authorize_any(("read",), broad)
        except PlatformError:
            if not tasks:
                raise
            # Scoped to tasks: every task of the filter must be granted.
            context.authorize_any(("read",), [("tasks", task) for task in tasks], every=True)
    tags = set(_listed(context, "filter[tag]"))
    batch_id = _one(context, "filter[batch]")
    wanted_stored = set().union(*(FILTER_STATUSES[s] for s in statuses)) if statuses else None
    now = context.now_ms
    start = _moment_ms(context, "filter[createdAt][from]")
    end = _moment_ms(context, "filter[createdAt][to]")
    period = _one(context, "filter[createdAt][period]") or None
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
        if (
            start is not None
            and run.created_ms < start
            and not (default_window and run.listed_always)
        ):
            continue
        if end is not None and run.created_ms > end:
            continue
        runs.append(run)
    runs.sort(key=lambda r: (r.created_ms, r.id), reverse=True)
    after, before = _one(context, "page[after]"), _one(context, "page[before]")

    def position(cursor: str) -> tuple[int, str]:
        # A cursor is a place in the order, whether or not that run is still listed.
        known = store.runs.get(cursor)
        return (known.created_ms if known is not None else 2**62, cursor)

    keys = [(run.created_ms, run.id) for run in runs]
    if after is not None:
        mark = position(after)
        first = next((i for i, key in enumerate(keys) if key < mark), len(runs))
        page = runs[first : first + size]
    elif before is not None:
        mark = position(before)
        last = next((i for i, key in enumerate(keys) if key <= mark), len(runs))
        first = max(0, last - size)
        page = runs[first:last]
    else:
        first = 0
        page = runs[:size]
    pagination: dict[str, str] = {}
    if page and first + len(page) < len(runs):
        pagination["next"] = page[-1].id
    if page and first > 0:
        pagination["previous"] = page[0].id
    env_id = store.keys.environment_id(context.environment)
    data = [list_item(run, context.api_version, context.environment, env_id) for run in page]
    return Reply(200, json_bytes({"data": data, "pagination": pagination}))
