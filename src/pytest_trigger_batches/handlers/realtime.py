"""Realtime: `GET /realtime/v1/runs/{runId}`, `/realtime/v1/batches/{batchId}`, `/realtime/v1/runs`.

Each is a shape stream (realtime.py): a snapshot for `offset=-1`, then the rows changed
since the offset the client echoes; a live request with nothing new is held a while over
HTTP. Each request moves what it shows as a retrieval does (per poll).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pytest_trigger_batches.errors import PlatformError, json_bytes
from pytest_trigger_batches.pipeline import Reply
from pytest_trigger_batches.realtime import (
    LIVE_HOLD_S,
    Change,
    Hold,
    Shape,
    kept_columns,
    legacy_headers,
    schema_header,
)
from pytest_trigger_batches.rules import REALTIME_UNSAFE_TAG
from pytest_trigger_batches.stored_run import stored_tags

if TYPE_CHECKING:
    from pytest_trigger_batches.backend import TriggerBackend
    from pytest_trigger_batches.pipeline import Context
    from pytest_trigger_batches.stored_run import Run

_OFFSET = re.compile(r"-1_0|[0-9]+_(?:[0-9]+|inf)")
_CORS = {"access-control-allow-origin": "*", "access-control-expose-headers": "*"}
_TRUE, _FALSE = ("true", "1"), ("false", "0")


@dataclass(frozen=True, slots=True)
class _Params:
    offset: str
    handle: str | None
    live: bool
    modern: bool
    columns: tuple[str, ...]


def subscribe_run(context: Context, backend: TriggerBackend) -> Reply:
    """One run's row; the SDK stops once the run has finished."""
    run = backend.run(context.params["runId"], context.environment)
    if run is None:
        raise context.not_found()
    wanted: list[tuple[str, str | None]] = [("runs", run.id), ("tasks", run.task)]
    wanted += [("tags", tag) for tag in stored_tags(run)]
    if run.batch_id:
        wanted.append(("batch", run.batch_id))
    context.authorize("read", wanted)
    return _serve(
        context,
        backend,
        ("run", context.environment, run.id),
        lambda render: backend.realtime_run(run, context.now_ms, render),
        lambda: [run],
    )


def subscribe_batch(context: Context, backend: TriggerBackend) -> Reply:
    """The rows of a batch's runs (the SDK keeps listening until the caller stops)."""
    batch = backend.batch(context.params["batchId"], context.environment)
    if batch is None:
        raise context.not_found()
    context.authorize("read", [("batch", batch.id), ("runs", None)])
    return _serve(
        context,
        backend,
        ("batch", context.environment, batch.id),
        lambda render: backend.realtime_batch(batch, context.now_ms, render),
        lambda: backend.batch_runs(batch, context.now_ms),
    )


def subscribe_tagged(context: Context, backend: TriggerBackend) -> Reply:
    """Rows of the runs with every tag of `tags`, created in the `createdAt` window."""
    tags = _tags(context)
    wanted: list[tuple[str, str | None]] = [("runs", None), ("tags", None)]
    context.authorize("read", wanted + [("tags", tag) for tag in tags])
    since = backend.tagged_since(context.query.get("createdAt", [""])[-1], context.now_ms)
    environment = context.environment

    def runs() -> list[Run]:
        return backend.tagged_runs(tags, environment, since, context.now_ms)

    return _serve(
        context,
        backend,
        ("tags", environment, tuple(tags), since),
        lambda render: backend.realtime_tagged(runs(), context.now_ms, render),
        runs,
    )


def _tags(context: Context) -> list[str]:
    """The `tags` query split on commas; an empty or unsafe tag is a `400 Query Error`."""
    given = context.query.get("tags", [""])[-1]
    tags = given.split(",") if given else []
    for tag in tags:
        if not tag or REALTIME_UNSAFE_TAG.search(tag):
            message = f"Invalid tag: {_js_string(tag)}"
            issue = {"code": "custom", "message": message, "path": ["tags"]}
            raise PlatformError(400, {"error": "Query Error", "details": [issue]})
    return tags


def _js_string(text: str) -> str:
    """`JSON.stringify` of a string."""
    return json_bytes(text).decode()


def _params(context: Context) -> _Params:
    """The shape-stream query as the stream server checks it, or its `400`."""
    modern = bool(context.headers.get("x-trigger-electric-version"))  # "" is no version
    query = context.query
    errors: dict[str, list[str]] = {}
    live_text = query.get("live", [""])[-1] or "false"  # empty is absent, as Ecto casts
    if live_text not in _TRUE + _FALSE:
        errors["live"] = ["is invalid"]
    if (query.get("log", [""])[-1] or "full") not in ("full", "changes_only"):
        errors["log"] = ["is invalid"]
    offset = query.get("offset", [""])[-1]
    handle_name = "handle" if modern else "shape_id"
    handle = query.get(handle_name, [""])[-1] or None
    live = live_text in _TRUE
    if not offset:
        errors["offset"] = ["can't be blank"]
    elif not errors:
        if offset != "-1" and not _OFFSET.fullmatch(offset):
            errors["offset"] = ["has invalid format"]
        elif offset != "-1" and handle is None:
            errors["handle"] = ["can't be blank when offset != -1"]
        elif offset == "-1" and live:
            errors["live"] = ["can't be true when offset == -1"]
    if errors:
        body = {"message": "Invalid request", "errors": dict(sorted(errors.items()))}
        raise PlatformError(400, body, headers={**_CORS, "cache-control": "no-store"}, cors=False)
    # A public token's `realtime.skipColumns` claim wins over the query's.
    claim = context.token.realtime if context.token is not None else None
    chosen = claim.get("skipColumns") if isinstance(claim, dict) else None
    if isinstance(chosen, list):
        columns = kept_columns(str(name) for name in chosen)
    else:
        skip = query.get("skipColumns", [""])[-1]
        columns = kept_columns(skip.split(",") if skip else [])
    return _Params(offset, handle, live, modern, columns)


def _serve(
    context: Context,
    backend: TriggerBackend,
    key: tuple[object, ...],
    poll: Callable[[Callable[[list[Run]], Change]], Change],
    current: Callable[[], Sequence[Run]],
) -> Reply:
    params = _params(context)
    shape: Shape = backend.realtime_shape(key, params.columns, context.now_ms)
    since = None if params.offset == "-1" else params.offset
    if since is not None and params.handle != shape.handle:
        # A handle this shape never gave (or another shape's): refetch from the start.
        headers = {**_CORS, "electric-handle": shape.handle, "cache-control": "no-store"}
        raise PlatformError(
            409,
            b'[{"headers":{"control":"must-refetch"}}]',
            headers=headers if params.modern else legacy_headers(headers),
            cors=False,
        )

    def render(runs: list[Run]) -> Change:
        return backend.realtime_answer(shape, runs, since=since)

    # A HEAD shows what a GET would and moves nothing.
    change = render(list(current())) if context.method == "HEAD" else poll(render)
    headers = {
        "content-type": "application/json",
        "cache-control": "no-store",
        **_CORS,
        "electric-offset": change.offset,
        "electric-handle": shape.handle,
        "electric-up-to-date": "",
    }
    if params.live:
        headers["electric-cursor"] = change.offset.split("_")[0]
    else:
        headers["electric-schema"] = schema_header(params.columns)
    hold = None
    if params.live and not change.changed:
        offset = change.offset
        hold = Hold(LIVE_HOLD_S, lambda: not backend.realtime_unchanged(shape, offset, current))
    out = headers if params.modern else legacy_headers(headers)
    return Reply(200, change.body, out, hold)
