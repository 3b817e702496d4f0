"""Triggering: streaming batches (v3), one-shot batches (v2, v1, v1 per task), one task.

Each handler reads the request as the platform's route does (body, headers, a public
token's scopes), asks the backend to trigger, and renders what it made: the platform's
rules (limits, idempotency, what happens to each item) are the backend's.
docs/platform.md §5 and §6.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from pytest_trigger_batches.errors import PlatformError, js_number_text, json_bytes
from pytest_trigger_batches.handlers.validate import (
    check_headers,
    create_batch_body,
    json_body,
    one_shot_body,
    streamed_item,
    strict_loads,
    trigger_body,
)
from pytest_trigger_batches.pipeline import Reply
from pytest_trigger_batches.records import Item

if TYPE_CHECKING:
    from pytest_trigger_batches.backend import TriggerBackend
    from pytest_trigger_batches.pipeline import Context
    from pytest_trigger_batches.records import TriggeredBatch

# Only the exact action grants (a `write:tasks` scope stopped granting both on 2026-05-12).
_BATCH_ACTIONS = ("batchTrigger",)
_TRIGGER_ACTIONS = ("trigger",)


# -- POST /api/v3/batches -------------------------------------------------------------


def create_batch(context: Context, backend: TriggerBackend) -> Reply:
    """Phase 1 of a streaming batch: the batch, PENDING, waiting for its items."""
    check_headers(context.route.name, context.headers)
    shaped = create_batch_body(json_body(context.body))
    run_count = int(shaped["runCount"])
    tasks = shaped.get("taskIdentifiers")
    key = shaped.get("idempotencyKey") or None
    broad: list[tuple[str, str | None]] = [("batch", None), ("tasks", None)]
    if isinstance(tasks, list):
        wanted: list[tuple[str, str | None]] = [("tasks", t) for t in tasks]
        context.authorize_any(_BATCH_ACTIONS, wanted, every=True, or_resources=broad)
    else:
        context.authorize_any(_BATCH_ACTIONS, broad)
    made = backend.create_streaming_batch(
        environment=context.environment,
        run_count=run_count,
        tasks=tasks if isinstance(tasks, list) else None,
        key=key,
        route=context.route.name,
        now_ms=context.now_ms,
        one_time_use=context.one_time_use,
    )
    batch = made.batch
    token = context.jwt_headers(_batch_scopes(context, batch.id))
    if made.cached:
        answer = {"id": batch.id, "runCount": batch.run_count, "isCached": True}
        return Reply(200, json_bytes(answer), token)
    created: dict[str, Any] = {"id": batch.id, "runCount": run_count, "isCached": False}
    if key:
        created["idempotencyKey"] = key
    return Reply(202, json_bytes(created), token)


def _batch_scopes(context: Context, batch_id: str) -> list[str]:
    """The create answer's token: a browser client that may trigger any task may also
    stream the items with it (`x-trigger-client: browser`)."""
    scopes = [f"read:batch:{batch_id}"]
    browser = context.headers.get("x-trigger-client") == "browser"
    if browser and context.can("batchTrigger", ("tasks", None)):
        scopes.append(f"write:batch:{batch_id}")
    return scopes


# -- POST /api/v3/batches/{batchId}/items ---------------------------------------------


def stream_items(context: Context, backend: TriggerBackend) -> Reply:
    """Phase 2: NDJSON items, deduplicated by index; sealed once all have arrived.

    Items are taken line by line, as the platform streams them: a bad line stops the
    upload, and the items before it stay accepted (the client resends; they dedupe).
    A credential that may not write the batch (a public token without
    `write:batch:<id>`) needs `batchTrigger` on each item's task, and shows its first
    item before the batch is even looked up: no item, or an unauthorized one, is 403.
    """
    batch_id = context.params["batchId"]
    lines = _ndjson(context.body)
    per_item = not context.can("write", ("batch", batch_id))
    if per_item:
        first = next(lines, None)
        if first is None:
            raise PlatformError.message(403, "Unauthorized")
        _authorize_item(context, first[1])
        lines = itertools.chain([first], lines)
    batch = backend.streaming_batch(batch_id, context.environment)
    items = _items(context, lines, batch, per_item=per_item)
    done = backend.accept_items(batch, items, route=context.route.name, now_ms=context.now_ms)
    answer: dict[str, Any] = {
        "id": batch.id,
        "itemsAccepted": done.accepted,
        "itemsDeduplicated": done.deduplicated,
        "sealed": done.sealed,
    }
    if not done.sealed:
        answer.update(enqueuedCount=len(batch.items), expectedCount=batch.run_count)
    answer["runCount"] = batch.run_count
    return Reply(200, json_bytes(answer))


def _items(
    context: Context,
    lines: Iterator[tuple[int, object]],
    batch: TriggeredBatch,
    *,
    per_item: bool,
) -> Iterator[Item]:
    """The items, read (and authorized, `per_item`) as the backend takes them."""
    for size, raw in lines:
        if per_item:
            _authorize_item(context, raw)
        yield _streamed_item(raw, size, batch.run_count)


def _authorize_item(context: Context, raw: object) -> None:
    task = raw.get("task") if isinstance(raw, dict) else None
    if not isinstance(task, str) or not context.can("batchTrigger", ("tasks", task)):
        raise PlatformError.message(403, "Unauthorized")


def items_get(context: Context, backend: TriggerBackend) -> Reply:
    """GET on the items route: the platform's 405."""
    raise PlatformError.message(405, "Method not allowed. Use POST to stream batch items.")


def _ndjson(body: bytes) -> Iterator[tuple[int, object]]:
    """(size, parsed) a line, lazily: a bad line fails when it is reached."""
    for number, line in enumerate(body.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            yield len(line), strict_loads(line)
        except (ValueError, RecursionError) as problem:
            reason = str(problem).split(":")[0] if isinstance(problem, ValueError) else "too deep"
            raise PlatformError.message(400, f"Invalid JSON at line {number}: {reason}") from None


def _streamed_item(raw: object, size: int, run_count: int) -> Item:
    shaped = streamed_item(raw)
    index, task, options = int(shaped["index"]), shaped["task"], shaped.get("options", {})
    if index >= run_count:
        raise PlatformError.message(
            422, f"Item index {js_number_text(index)} exceeds batch runCount {run_count}"
        )
    payload = _payload(shaped.get("payload"), options, streamed=True)
    return Item(index, task, payload, options, size)


def _payload(payload: object, options: Mapping[str, Any], *, streamed: bool = False) -> object:
    """The payload as a retrieval shows it (`payloads.server.ts`, `ioSerialization.ts`).

    `application/json` (the default) is stored as `JSON.stringify(payload)`, so a string
    comes back as that string, except for a streamed item: the batch queue parses a JSON
    string first (`normalizePayload`, `runEngineHandlers.server.ts`). Superjson text
    (SDK 4.x) comes back as its `json` part; any other type is stored and shown as sent.
    """
    kind = options.get("payloadType", "application/json")
    parses = kind == "application/super+json" or (streamed and kind == "application/json")
    if not parses or not isinstance(payload, str):
        return payload
    try:
        parsed = strict_loads(payload)
    except (ValueError, RecursionError):
        return payload
    if kind == "application/super+json" and isinstance(parsed, dict) and "json" in parsed:
        return parsed["json"]  # dates and other types superjson annotates stay as JSON
    return parsed


# -- the one-shot endpoints -----------------------------------------------------------


def batch_v2(context: Context, backend: TriggerBackend) -> Reply:
    """`POST /api/v2/tasks/batch`: runs at once; the batch has no counts."""
    items = _one_shot_items(context)
    made = backend.trigger_batch_v2(
        environment=context.environment,
        items=items,
        request_key=context.headers.get("x-trigger-request-idempotency-key") or None,
        route=context.route.name,
        now_ms=context.now_ms,
        one_time_use=context.one_time_use,
    )
    batch = made.batch
    token = context.jwt_headers([f"read:batch:{batch.id}"])
    if made.cached:
        return Reply(200, json_bytes({"id": batch.id, "runCount": batch.run_count}), token)
    answer = {"id": batch.id, "isCached": False, "runCount": batch.run_count}
    return Reply(202, json_bytes(answer), token)


def batch_v1(context: Context, backend: TriggerBackend) -> Reply:
    """`POST /api/v1/tasks/batch`: run ids in the answer; `idempotency-key` for the batch."""
    items = _one_shot_items(context)
    key = _header_key(context)
    made = backend.trigger_batch_v1(
        environment=context.environment,
        items=items,
        key=key,
        key_ttl=context.headers.get("idempotency-key-ttl"),
        route=context.route.name,
        now_ms=context.now_ms,
        one_time_use=context.one_time_use,
    )
    answer = _v1_answer(made.batch, key, cached=made.cached, reused=made.reused)
    return Reply(202, json_bytes(answer), context.jwt_headers([f"read:batch:{made.batch.id}"]))


def batch_task_v1(context: Context, backend: TriggerBackend) -> Reply:
    """`POST /api/v1/tasks/{taskId}/batch`: the oldest shape, `{batchId, runs}`."""
    task = context.params["taskId"]
    items = _one_shot_items(context, task=task)
    batch = backend.trigger_task_batch(
        environment=context.environment,
        task=task,
        items=items,
        key=_header_key(context),
        route=context.route.name,
        now_ms=context.now_ms,
    )
    answer = {"batchId": batch.id, "runs": list(batch.runs)}
    return Reply(200, json_bytes(answer), context.jwt_headers([f"read:batch:{batch.id}"]))


def _one_shot_items(context: Context, *, task: str | None = None) -> list[Item]:
    """The body's items, checked; `task`: the per-task route, whose items name none."""
    check_headers(context.route.name, context.headers)
    shaped = one_shot_body(context.route.name, json_body(context.body))
    items: list[Item] = []
    for index, entry in enumerate(shaped["items"]):
        name = entry["task"] if task is None else task
        options = entry.get("options", {})
        size = len(json.dumps(entry.get("payload"), default=str))
        items.append(
            Item(index, name or "", _payload(entry.get("payload"), options), options, size)
        )
    if task is not None:
        context.authorize_any(_BATCH_ACTIONS, [("tasks", task)])
        return items
    # Every task must be granted; no items at all is the route builder's 403 (it never
    # grants on an empty list), before the handler's own "no items" check could answer.
    tasks = sorted({item.task for item in items})
    context.authorize_any(_BATCH_ACTIONS, [("tasks", name) for name in tasks], every=True)
    return items


def _v1_answer(
    batch: TriggeredBatch,
    key: str | None,
    *,
    cached: bool,
    reused: set[str] | frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The v1 answer: each run with the key its item sent (the SDK's hash, not the user's key)."""
    runs = []
    for index, run_id in zip(sorted(batch.items), batch.runs, strict=False):
        item = batch.items[index]
        entry: dict[str, Any] = {
            "id": run_id,
            "taskIdentifier": item.task,
            "isCached": cached or run_id in reused,
        }
        item_key = item.options.get("idempotencyKey")
        if isinstance(item_key, str):
            entry["idempotencyKey"] = item_key
        runs.append(entry)
    answer: dict[str, Any] = {"id": batch.id}
    shown_key = key if key and batch.idempotency_key else None
    if cached and shown_key:  # a repeat lists the key first, as the platform builds it
        answer["idempotencyKey"] = shown_key
    answer["isCached"] = cached
    if not cached and shown_key:
        answer["idempotencyKey"] = shown_key
    answer["runs"] = runs
    return answer


# -- POST /api/v1/tasks/{taskId}/trigger ----------------------------------------------


def trigger_task(context: Context, backend: TriggerBackend) -> Reply:
    """One run of one task."""
    task = context.params["taskId"]
    check_headers(context.route.name, context.headers)
    shaped = trigger_body(json_body(context.body))
    options: Mapping[str, Any] = shaped.get("options", {})
    context.authorize_any(_TRIGGER_ACTIONS, [("tasks", task)])
    run_id, cached = backend.trigger_task(
        environment=context.environment,
        task=task,
        payload=_payload(shaped.get("payload"), options),
        options=options,
        size=len(context.body),
        request_key=context.headers.get("x-trigger-request-idempotency-key") or None,
        key=_header_key(context),
        key_ttl=context.headers.get("idempotency-key-ttl"),
        route=context.route.name,
        now_ms=context.now_ms,
        one_time_use=context.one_time_use,
    )
    return Reply(200, json_bytes({"id": run_id, "isCached": cached}), _run_token(context, run_id))


def _run_token(context: Context, run_id: str) -> dict[str, str]:
    """The token every answer of the route carries, a reused run's too."""
    scopes = [f"read:runs:{run_id}", f"write:inputStreams:{run_id}"]
    return context.jwt_headers(scopes, full_claims=True)


def _header_key(context: Context) -> str | None:
    """The `idempotency-key` header (its length is checked with the others, `check_headers`)."""
    # `idempotency-key-ttl` is any string: one the platform cannot read means 30 days.
    return context.headers.get("idempotency-key") or None
