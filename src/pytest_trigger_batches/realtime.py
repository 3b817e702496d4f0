"""Realtime subscriptions: the shape-stream protocol `runs.subscribeToRun` and its kin read.

A subscription is a series of GETs. The first (`offset=-1`) answers a snapshot: every
row of the shape as an `insert`, then an `up-to-date` control message, with the shape's
`electric-handle`, the `electric-offset` reached and the `electric-schema` of the
columns. Each next request echoes `handle` and `offset` (with `live=true` once up to
date) and gets the rows that changed since that offset (full rows, `update`, or `insert`
for a row new to the shape), or a bare `up-to-date` when nothing did.

`RealtimeStore` remembers, per shape handle, the rows each offset it gave out stood
for; `row_value` writes a run as a `TaskRun` row (every value a string or null, decoded
by the client from the schema header). Over HTTP, a live request with nothing new is held
briefly (`Hold`), as a long poll is, and answered as soon as something changes.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pytest_trigger_batches.ids import digest_cuid
from pytest_trigger_batches.payloads import BASE_COST, COST_PER_MS
from pytest_trigger_batches.statuses import RunStatus
from pytest_trigger_batches.stored_run import stored_tags
from pytest_trigger_batches.timefmt import iso_ms

if TYPE_CHECKING:
    from pytest_trigger_batches.stored_run import Run

__all__ = [
    "COLUMNS",
    "LIVE_HOLD_S",
    "Change",
    "Hold",
    "RealtimeStore",
    "Shape",
    "kept_columns",
    "legacy_headers",
    "row_value",
    "schema_header",
]

LIVE_HOLD_S = 1.0
"""How long, over HTTP, a live request with nothing new waits before its `up-to-date`
(the platform holds one for about 20 s); any change answers it at once."""

_HELD_LOGS = 64
"""Offsets remembered per shape: a client echoes the last one it was given."""

# (column, type, dims): the TaskRun columns the realtime routes select, in their order.
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("id", "text", 0),
    ("taskIdentifier", "text", 0),
    ("createdAt", "timestamp", 0),
    ("updatedAt", "timestamp", 0),
    ("startedAt", "timestamp", 0),
    ("delayUntil", "timestamp", 0),
    ("queuedAt", "timestamp", 0),
    ("expiredAt", "timestamp", 0),
    ("completedAt", "timestamp", 0),
    ("friendlyId", "text", 0),
    ("number", "int4", 0),
    ("isTest", "bool", 0),
    ("status", "text", 0),
    ("usageDurationMs", "int4", 0),
    ("costInCents", "float8", 0),
    ("baseCostInCents", "float8", 0),
    ("ttl", "text", 0),
    ("payload", "text", 0),
    ("payloadType", "text", 0),
    ("metadata", "text", 0),
    ("metadataType", "text", 0),
    ("output", "text", 0),
    ("outputType", "text", 0),
    ("runTags", "text", 1),
    ("error", "jsonb", 0),
    ("realtimeStreams", "text", 1),
)
RESERVED_COLUMNS = frozenset(("id", "taskIdentifier", "friendlyId", "status", "createdAt"))
"""Columns `skipColumns` cannot drop."""


def kept_columns(skip: Iterable[str]) -> tuple[str, ...]:
    """The columns a subscription gets: all but those `skip` names (reserved ones stay)."""
    dropped = {name.strip() for name in skip} - RESERVED_COLUMNS
    return tuple(name for name, _, _ in COLUMNS if name not in dropped)


def schema_header(columns: Sequence[str]) -> str:
    """The `electric-schema` header: each column's type (and `dims` for arrays)."""
    wanted = set(columns)
    schema: dict[str, dict[str, object]] = {}
    for name, kind, dims in COLUMNS:
        if name in wanted:
            schema[name] = {"type": kind, "dims": dims} if dims else {"type": kind}
    return _compact(schema)


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _moment(ms: int | None) -> str | None:
    # Postgres `timestamp` without a zone: the SDK appends the `Z` itself.
    return None if ms is None else iso_ms(ms).removesuffix("Z")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _array(values: Sequence[str]) -> str:
    quoted = ('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values)
    return "{" + ",".join(quoted) + "}"


def internal_id(run_id: str) -> str:
    """The run's database id (a cuid), fixed by its friendly id."""
    return digest_cuid(hashlib.sha256(run_id.encode()).digest())


def _error(run: Run, status: str) -> dict[str, object] | None:
    """The stored `TaskRunError`: a string error for a cancel or an expiry, the task's
    error as a built-in error when a run fails."""
    if status == RunStatus.CANCELED:
        return {"type": "STRING_ERROR", "raw": "Canceled by user"}
    if status == RunStatus.EXPIRED:
        return {"type": "STRING_ERROR", "raw": "Run expired because the TTL was reached"}
    if not run.final or status == RunStatus.COMPLETED_SUCCESSFULLY:
        return None
    given = dict(run.error) if run.error is not None else {}
    message = str(given.get("message", f"{run.task} failed"))
    if status == RunStatus.SYSTEM_FAILURE and run.error is None:
        return {"type": "INTERNAL_ERROR", "code": "TASK_RUN_CRASHED", "message": message}
    return {
        "type": "BUILT_IN_ERROR",
        "name": str(given.get("name", "Error")),
        "message": message,
        "stackTrace": str(given.get("stackTrace", "")),
    }


def row_value(run: Run, columns: Sequence[str]) -> dict[str, str | None]:
    """`run` as a `TaskRun` row on the wire: the kept `columns`, each a string or null."""
    status = run.stored_status
    duration = (
        run.finished_ms - run.started_ms
        if run.started_ms is not None and run.finished_ms is not None
        else 0
    )
    metadata = run.options.get("metadata")
    output = (
        _compact(run.output)
        if status == RunStatus.COMPLETED_SUCCESSFULLY and run.output is not None
        else None
    )
    error = _error(run, status)
    tags = stored_tags(run)
    queued = run.enqueued_ms if run.enqueued_ms is not None else run.created_ms
    full: dict[str, str | None] = {
        "id": internal_id(run.id),
        "taskIdentifier": run.task,
        "createdAt": _moment(run.created_ms),
        "updatedAt": _moment(run.updated_ms),
        "startedAt": _moment(run.started_ms),
        "delayUntil": _moment(run.delayed_until_ms),
        "queuedAt": None if run.delayed else _moment(queued),
        "expiredAt": _moment(run.expired_ms),
        "completedAt": _moment(run.finished_ms),
        "friendlyId": run.id,
        "number": str((run.index or 0) + 1),
        "isTest": "t" if run.options.get("test") is True else "f",
        "status": status,
        "usageDurationMs": str(duration),
        "costInCents": _number(round(duration * COST_PER_MS, 6)),
        "baseCostInCents": _number(BASE_COST if run.started_ms is not None else 0),
        "ttl": run.ttl,
        "payload": None if run.payload is None else _compact(run.payload),
        "payloadType": "application/json",
        "metadata": None if metadata is None else _compact(metadata),
        "metadataType": "application/json",
        "output": output,
        "outputType": "application/json",
        "runTags": _array(tags) if tags else None,
        "error": None if error is None else _compact(error),
        "realtimeStreams": "{}",
    }
    return {name: full[name] for name in columns}


def row_key(run: Run) -> str:
    """The change message's key: the table and the row's database id."""
    return f'"public"."TaskRun"/"{internal_id(run.id)}"'


def _rows(runs: Iterable[Run], columns: Sequence[str]) -> dict[str, str]:
    """{row key: the row's value as JSON text}, as a shape's log keeps them."""
    return {row_key(run): _compact(row_value(run, columns)) for run in runs}


@dataclass(slots=True)
class Shape:
    """One shape (a run, a batch's runs, runs with tags) and the offsets given out."""

    handle: str
    columns: tuple[str, ...]
    logs: dict[str, dict[str, str]] = field(default_factory=dict)
    """offset -> {row key: the row's value as JSON text} as of that offset."""


@dataclass(frozen=True, slots=True)
class Change:
    """What a request of a subscription answers: its messages and the offset reached."""

    body: bytes
    offset: str
    changed: bool


class RealtimeStore:
    """The shapes subscriptions read, by the filter that defines them."""

    def __init__(self) -> None:
        self._shapes: dict[tuple[object, ...], Shape] = {}
        self._offsets = itertools.count(1)

    def shape(self, key: tuple[object, ...], columns: tuple[str, ...], now_ms: int) -> Shape:
        """The shape of `key` and `columns`, made on its first subscription."""
        full = (*key, columns)
        found = self._shapes.get(full)
        if found is None:
            digest = zlib.crc32(repr(full).encode())
            handle = f"{digest}-{now_ms * 1000 + len(self._shapes)}"
            found = self._shapes[full] = Shape(handle, columns)
        return found

    def answer(self, shape: Shape, runs: Sequence[Run], *, since: str | None) -> Change:
        """The messages for a request at offset `since` (None: a snapshot)."""
        now = _rows(runs, shape.columns)
        seen = None if since is None else shape.logs.get(since)
        messages: list[str] = []
        for key, value in now.items():
            if seen is not None and seen.get(key) == value:
                continue
            operation = "update" if seen is not None and key in seen else "insert"
            messages.append(
                f'{{"key":{_compact(key)},"value":{value},"headers":{{"operation":"{operation}"}}}}'
            )
        messages.append('{"headers":{"control":"up-to-date"}}')
        changed = since is None or len(messages) > 1
        offset = since if not changed and since is not None else f"{next(self._offsets)}_0"
        if changed:
            shape.logs[offset] = now
            while len(shape.logs) > _HELD_LOGS:
                del shape.logs[next(iter(shape.logs))]
        return Change(("[" + ",".join(messages) + "]").encode(), offset, changed)

    def unchanged(self, shape: Shape, offset: str, runs: Callable[[], Sequence[Run]]) -> bool:
        """Whether the rows of `shape` are still those of `offset`."""
        seen = shape.logs.get(offset)
        return seen is not None and _rows(runs(), shape.columns) == seen


@dataclass(frozen=True, slots=True)
class Hold:
    """A live answer the HTTP server holds back until something changes, or `seconds`."""

    seconds: float
    changed: Callable[[], bool] = field(repr=False)

    def wait(self, lock: threading.RLock, *, step: float = 0.05) -> None:
        """Sleep (outside `lock`) until `changed()` (read under `lock`) or time is up."""
        deadline = time.monotonic() + self.seconds
        while time.monotonic() < deadline:
            with lock:
                if self.changed():
                    return
            time.sleep(step)


def legacy_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The header names a client without `x-trigger-electric-version` reads."""
    renamed = {
        "electric-handle": "electric-shape-id",
        "electric-offset": "electric-chunk-last-offset",
    }
    return {renamed.get(name, name): value for name, value in headers.items()}
