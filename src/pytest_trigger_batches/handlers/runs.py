"""Runs: retrieve (`GET /api/v3/runs/{runId}`), list (`GET /api/v1/runs`), cancel, replay.

The status a run shows depends on `x-trigger-api-version` and its flags on that shown
status, as the platform's presenters do (docs/platform.md §7).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_trigger_batches.errors import PlatformError, json_bytes
from pytest_trigger_batches.handlers import query
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
