"""Runs: retrieve (`GET /api/v3/runs/{runId}`), list (`GET /api/v1/runs`), cancel, replay;
and what changes a run: reschedule, tags, metadata, an idempotency key's reset.

The status a run shows depends on `x-trigger-api-version` and its flags on that shown
status, as the platform's presenters do (docs/platform.md §7).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_trigger_batches.errors import PlatformError, json_bytes
from pytest_trigger_batches.handlers import query
from pytest_trigger_batches.handlers.validate import (
    JS_SPACES,
    add_tags_issues,
    json_body,
    reschedule_body_ok,
    reset_key_body,
    strict_loads,
    update_metadata_body,
)
from pytest_trigger_batches.payloads import list_entry, run_body, tags_of
from pytest_trigger_batches.pipeline import Reply

if TYPE_CHECKING:
    from pytest_trigger_batches.backend import TriggerBackend
    from pytest_trigger_batches.pipeline import Context
    from pytest_trigger_batches.stored_run import Run


def retrieve_run(context: Context, backend: TriggerBackend) -> Reply:
    """A run as its presenter shows it; a GET moves it (and its batch) one step."""
    run = backend.run(context.params["runId"], context.environment)
    if run is None:
        raise context.not_found()
    wanted: list[tuple[str, str | None]] = [("runs", run.id), ("tasks", run.task)]
    wanted += [("tags", tag) for tag in tags_of(run)]
    if run.batch_id:
        wanted.append(("batch", run.batch_id))
    context.authorize("read", wanted)
    body = backend.poll_run(
        run,
        context.now_ms,
        get=context.method == "GET",
        render=lambda shown: json_bytes(
            run_body(
                shown,
                context.api_version,
                packet_urls=backend.run_packet_urls(
                    shown, context.environment, base_url=context.base_url, now_ms=context.now_ms
                ),
            )
        ),
    )
    return Reply(200, body)


def cancel_run(context: Context, backend: TriggerBackend) -> Reply:
    """Cancel a run that has not finished; `200 {id}` either way."""
    run = _resource(context, backend)
    context.authorize_any(("write",), [("runs", run.id), ("tasks", run.task)])
    backend.cancel_run(run, context.now_ms)
    return Reply(200, json_bytes({"id": run.id}))


def replay_run(context: Context, backend: TriggerBackend) -> Reply:
    """A new run of the same task and payload, not part of any batch."""
    run = _resource(context, backend)
    made = backend.replay_run(run, context.environment, context.now_ms)
    return Reply(200, json_bytes({"id": made.id}))


def _resource(context: Context, backend: TriggerBackend) -> Run:
    """The run a mutation names: these routes' 404 is their own."""
    run = backend.run(context.params["runId"], context.environment)
    if run is None:
        raise PlatformError.message(404, "Resource not found")
    return run


def list_runs(context: Context, backend: TriggerBackend) -> Reply:
    """Runs of the key's environment, newest first, a page at a time."""
    schema = query.checked(context)
    if context.token is not None:
        broad: list[tuple[str, str | None]] = [("runs", None), ("tasks", None)]
        try:
            context.authorize_any(("read",), broad)
        except PlatformError:
            if not schema.tasks:
                raise
            # Scoped to tasks: every task of the filter must be granted.
            tasks = [("tasks", task) for task in schema.tasks]
            context.authorize_any(("read",), tasks, every=True)
    found = backend.list_runs(
        query.run_filter(context, schema), context.environment, context.now_ms
    )
    environment, environment_id = context.environment, context.environment_id
    entries = [
        list_entry(run, context.api_version, environment, environment_id) for run in found.runs
    ]
    # json_bytes({"data": [...], "pagination": ...}), from each run's rendered entry.
    body = b'{"data":[%s],"pagination":%s}' % (b",".join(entries), json_bytes(found.pagination))
    return Reply(200, body)


# --- runops: reschedule, tags, metadata, an idempotency key's reset ----------------------

_WENT_WRONG = "Something went wrong, please try again."


def reset_idempotency_key(context: Context, backend: TriggerBackend) -> Reply:
    """Take an idempotency key from the run of a task that holds it: `200 {"id": key}`."""
    body = reset_key_body(json_body(context.body))
    context.authorize("write", [("runs", None)])
    key = context.params["key"]
    backend.reset_idempotency_key(context.environment, body["taskIdentifier"], key)
    return Reply(200, json_bytes({"id": key}))


def reschedule_run(context: Context, backend: TriggerBackend) -> Reply:
    """A DELAYED run's new delay; the run as a retrieval shows it."""
    try:
        body = strict_loads(context.body)
    except (ValueError, RecursionError):  # the route reads the body outside its try
        raise PlatformError.message(500, "Internal Server Error") from None
    if not reschedule_body_ok(body):
        raise PlatformError.message(400, "Invalid request body")
    delayed_until = backend.reschedule_delay(body["delay"], context.now_ms)
    run = backend.run(context.params["runId"], context.environment)
    if run is None:
        raise PlatformError.message(404, "Run not found")
    backend.reschedule_run(run, delayed_until, context.now_ms)
    return Reply(200, json_bytes(run_body(run, context.api_version)))


def add_tags(context: Context, backend: TriggerBackend) -> Reply:
    """Tags added to a run (up to 10 in all): `200 {"message": ...}`."""
    try:
        body = strict_loads(context.body)
    except (ValueError, RecursionError):
        raise PlatformError.message(500, _WENT_WRONG) from None
    issues = add_tags_issues(body)
    if issues:
        raise PlatformError(400, {"error": "Invalid request body", "issues": issues})
    given = body["tags"]
    tags = [tag for tag in ([given] if isinstance(given, str) else given) if tag.strip(JS_SPACES)]
    if not tags:
        return Reply(200, json_bytes({"message": "No new tags to add"}))
    run = backend.run(context.params["runId"], context.environment)
    if run is None:
        raise PlatformError.message(404, "Run not found")
    message = backend.add_tags(run, tags, context.now_ms)
    return Reply(200, json_bytes({"message": message}))


def get_metadata(context: Context, backend: TriggerBackend) -> Reply:
    """A run's metadata as stored: `{"metadata": <JSON text or null>, "metadataType"}`."""
    run = backend.run(context.params["runId"], context.environment)
    if run is None:
        raise PlatformError.message(404, "Run not found")
    stored = backend.stored_metadata(run)
    return Reply(200, json_bytes({"metadata": stored, "metadataType": "application/json"}))


def update_metadata(context: Context, backend: TriggerBackend) -> Reply:
    """A run's metadata replaced or changed by operations: `200 {"metadata": {...}}`."""
    body = update_metadata_body(json_body(context.body))
    run = backend.run(context.params["runId"], context.environment)
    if run is None:
        raise PlatformError.message(404, "Task Run not found")
    metadata = backend.update_metadata(run, body, context.now_ms)
    return Reply(200, json_bytes({"metadata": metadata}))
