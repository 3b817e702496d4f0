"""Runs: retrieve (`GET /api/v3/runs/{runId}`), list (`GET /api/v1/runs`), cancel, replay.

The status a run shows depends on `x-trigger-api-version` and its flags on that shown
status, as the platform's presenters do (docs/platform.md §7).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pytest_trigger_batches.errors import PlatformError, json_bytes
from pytest_trigger_batches.handlers import triggers
from pytest_trigger_batches.pipeline import Reply
from pytest_trigger_batches.triggered import Item, Run, TriggeredBatch

if TYPE_CHECKING:
    from pytest_trigger_batches.pipeline import Context
    from pytest_trigger_batches.store import Store

CURRENT_API = "2025-07-16"
PRESIGNED_ABOVE = 512 * 1024
_OLD_NAMES = {
    "PENDING": "QUEUED",
    "DEQUEUED": "EXECUTING",
    "RETRYING_AFTER_FAILURE": "REATTEMPTING",
    "PAUSED": "FROZEN",
    "WAITING_TO_RESUME": "FROZEN",
    "COMPLETED_SUCCESSFULLY": "COMPLETED",
    "COMPLETED_WITH_ERRORS": "FAILED",
}
_NEW_NAMES = {
    **_OLD_NAMES,
    "DEQUEUED": "DEQUEUED",
    "WAITING_FOR_DEPLOY": "PENDING_VERSION",
    "RETRYING_AFTER_FAILURE": "EXECUTING",
    "PAUSED": "WAITING",
    "WAITING_TO_RESUME": "WAITING",
    "INTERRUPTED": "FAILED",
}
_FLAGS = (
    "isQueued",
    "isExecuting",
    "isCompleted",
    "isFailed",
    "isSuccess",
    "isCancelled",
    "isWaiting",
)
_SET = {
    "isQueued": {"QUEUED", "DELAYED", "PENDING_VERSION", "WAITING_FOR_DEPLOY"},
    "isExecuting": {"EXECUTING", "DEQUEUED", "REATTEMPTING", "FROZEN"},
    "isWaiting": {"WAITING"},
    "isCompleted": {"COMPLETED", "FAILED", "CRASHED", "INTERRUPTED", "SYSTEM_FAILURE", "CANCELED"},
    "isSuccess": {"COMPLETED"},
    "isFailed": {"FAILED", "CRASHED", "INTERRUPTED", "SYSTEM_FAILURE", "CANCELED"},
    "isCancelled": {"CANCELED"},
}
STATUS_NAMES = frozenset(
    {
        *_OLD_NAMES.values(),
        *_NEW_NAMES.values(),
        "DELAYED",
        "PENDING_VERSION",
        "WAITING_FOR_DEPLOY",
        "EXECUTING",
        "INTERRUPTED",
        "CANCELED",
        "CRASHED",
        "SYSTEM_FAILURE",
        "EXPIRED",
        "TIMED_OUT",
    }
)
"""Every name `filter[status]` takes, in either vocabulary."""
COST_PER_MS = 0.0000169  # cents a millisecond on a small machine
BASE_COST = 0.0025


def shown_status(stored: str, api_version: str | None) -> str:
    """The status a client sees: the current names only for `x-trigger-api-version: 2025-07-16`."""
    names = _NEW_NAMES if api_version == CURRENT_API else _OLD_NAMES
    return names.get(stored, stored)


def flags(shown: str) -> dict[str, bool]:
    """The seven booleans, from the shown status (EXPIRED and TIMED_OUT set none)."""
    return {name: shown in _SET[name] for name in _FLAGS}


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _tags(run: Run) -> list[str]:
    tags = run.options.get("tags")
    listed = [tags] if isinstance(tags, str) else tags if isinstance(tags, list) else []
    return sorted(str(tag) for tag in listed)


def _duration(run: Run) -> int:
    if run.started_ms is None or run.finished_ms is None:
        return 0
    return run.finished_ms - run.started_ms


def _common(run: Run, api_version: str | None) -> dict[str, Any]:
    shown = shown_status(run.stored_status, api_version)
    body: dict[str, Any] = {"id": run.id, "taskIdentifier": run.task}
    if run.idempotency_key:
        body["idempotencyKey"] = run.idempotency_key
    body["status"] = shown
    body["createdAt"] = _iso(run.created_ms)
    if run.started_ms is not None:
        body["startedAt"] = _iso(run.started_ms)
    body["updatedAt"] = _iso(run.updated_ms)
    if run.finished_ms is not None:
        body["finishedAt"] = _iso(run.finished_ms)
    if run.expired_ms is not None:
        body["expiredAt"] = _iso(run.expired_ms)
    if run.delayed_until_ms is not None:
        body["delayedUntil"] = _iso(run.delayed_until_ms)
    ttl = run.options.get("ttl")
    if ttl is not None:
        body["ttl"] = ttl if isinstance(ttl, str) else f"{ttl}s"
    duration = _duration(run)
    body["costInCents"] = round(duration * COST_PER_MS, 6)
    body["baseCostInCents"] = BASE_COST if run.started_ms is not None else 0
    body["durationMs"] = duration
    body["isTest"] = False
    body["depth"] = 0
    body["tags"] = _tags(run)
    body.update(flags(shown))
    return body


def run_body(run: Run, api_version: str | None) -> dict[str, Any]:
    """`RetrieveRunResponse`, in the server's key order."""
    body = _common(run, api_version)
    body["triggerFunction"] = "batchTrigger" if run.batch_id else "trigger"
    if run.batch_id:
        body["batchId"] = run.batch_id
    metadata = run.options.get("metadata")
    if metadata is not None:
        body["metadata"] = metadata
    if run.payload is not None:
        if len(json.dumps(run.payload, default=str)) > PRESIGNED_ABOVE:
            body["payloadPresignedUrl"] = f"https://payloads.trigger.dev/{run.id}/payload.json"
        else:
            body["payload"] = run.payload
    if run.stored_status == "COMPLETED_SUCCESSFULLY" and run.output is not None:
        body["output"] = run.output
    if run.final and run.error is not None and run.stored_status != "COMPLETED_SUCCESSFULLY":
        body["error"] = dict(run.error)
    elif run.final and run.stored_status in ("COMPLETED_WITH_ERRORS", "CRASHED", "TIMED_OUT"):
        body["error"] = _default_error(run)
    body["attemptCount"] = run.attempt_count
    body["attempts"] = []
    body["relatedRuns"] = {"children": []}
    return body


def _default_error(run: Run) -> dict[str, Any]:
    if run.stored_status == "TIMED_OUT":
        return {"message": "Run exceeded maximum compute time (maxDuration)", "name": "Error"}
    if run.stored_status == "CRASHED":
        return {"message": "Worker crashed", "name": "Error"}
    return {
        "message": f"{run.task} failed",
        "name": "Error",
        "stackTrace": f"Error: {run.task} failed",
    }


def list_item(run: Run, api_version: str | None, environment: str, env_id: str) -> dict[str, Any]:
    """One entry of `GET /api/v1/runs`: no payload, output or batchId."""
    body = _common(run, api_version)
    body["env"] = {"id": env_id, "name": environment}
    metadata = run.options.get("metadata")
    body["metadata"] = metadata if metadata is not None else {}
    body["taskKind"] = "STANDARD"
    return body


def _find(context: Context, store: Store) -> Run:
    run = store.runs.get(context.params["runId"])
    if run is None or run.environment not in (None, context.environment):
        raise context.not_found()
    return run


def _scopes_of(run: Run) -> list[tuple[str, str | None]]:
    wanted: list[tuple[str, str | None]] = [("runs", run.id), ("tasks", run.task)]
    wanted += [("tags", tag) for tag in _tags(run)]
    if run.batch_id:
        wanted.append(("batch", run.batch_id))
    return wanted


def retrieve_run(context: Context, store: Store) -> Reply:
    """A run as its presenter shows it; a GET moves it (and its batch) one step."""
    run = _find(context, store)
    context.authorize("read", _scopes_of(run))
    run.refresh(context.now_ms)
    body = json_bytes(run_body(run, context.api_version))
    if context.method == "GET" and store.progression == "per_poll":
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


def replay_run(context: Context, store: Store) -> Reply:
    """A new run of the same task and payload, not part of any batch."""
    run = store.runs.get(context.params["runId"])
    if run is None or run.environment not in (None, context.environment):
        raise PlatformError.message(404, "Resource not found")
    options = {k: v for k, v in run.options.items() if k != "idempotencyKey"}
    item = Item(0, run.task, run.payload, options)
    made = store.create_run(environment=context.environment, item=item, now_ms=context.now_ms)
    assert isinstance(made, Run)
    made.replayed_from = run.id
    store.replayed.append((run.id, made.id))
    return Reply(200, json_bytes({"id": made.id}))


# -- GET /api/v1/runs ----------------------------------------------------------------

WINDOW_MS = 7 * 86_400_000
_FILTER_STORED = {
    "QUEUED": {"PENDING"},
    "COMPLETED": {"COMPLETED_SUCCESSFULLY"},
    "FAILED": {"COMPLETED_WITH_ERRORS"},
    "REATTEMPTING": {"RETRYING_AFTER_FAILURE"},
    "FROZEN": {"PAUSED", "WAITING_TO_RESUME"},
    "WAITING": {"WAITING_TO_RESUME"},
}


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
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
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
    unknown = [s for s in statuses if s not in STATUS_NAMES]
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
    wanted_stored = (
        set().union(*(_FILTER_STORED.get(s, {s}) for s in statuses)) if statuses else None
    )
    now = context.now_ms
    start = _moment_ms(context, "filter[createdAt][from]")
    end = _moment_ms(context, "filter[createdAt][to]")
    period = _one(context, "filter[createdAt][period]")
    if period is not None:
        from pytest_trigger_batches.store import duration_ms

        span = duration_ms(period, default=-1)
        if span < 0:
            raise _query_error("filter[createdAt][period]", "Invalid period")
        start = now - span
    if start is None and end is None and period is None:
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
        if tags and not tags & set(_tags(run)):
            continue
        if wanted_stored is not None and run.stored_status not in wanted_stored:
            continue
        if start is not None and run.created_ms < start:
            continue
        if end is not None and run.created_ms > end:
            continue
        runs.append(run)
    runs.sort(key=lambda r: (r.created_ms, r.id), reverse=True)
    after, before = _one(context, "page[after]"), _one(context, "page[before]")
    ids = [run.id for run in runs]
    if after is not None and after in ids:
        first = ids.index(after) + 1
        page = runs[first : first + size]
    elif before is not None and before in ids:
        last = ids.index(before)
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
