"""Triggering: streaming batches (v3), one-shot batches (v2, v1, v1 per task), one task.

Each handler validates the body as the platform does, asks the store what the test
said happens to each item (`on_item`), and creates batches and runs in the store, so
that what the app triggers is what it later retrieves. docs/platform.md §5 and §6.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pytest_trigger_batches import durations
from pytest_trigger_batches.errors import PlatformError, json_bytes
from pytest_trigger_batches.handlers.validate import (
    check_headers,
    create_batch_body,
    js_number_text,
    json_body,
    one_shot_body,
    refuse_many_tags,
    streamed_item,
    strict_loads,
    too_many_tags,
    trigger_body,
)
from pytest_trigger_batches.pipeline import Reply
from pytest_trigger_batches.ratelimit import TokenBucket
from pytest_trigger_batches.rules import (
    ONE_SHOT_MAX_ITEMS,
    STREAMING_MAX_ITEMS,
    TASK_BATCH_MAX_ITEMS,
    queue_limit_message,
)
from pytest_trigger_batches.statuses import BatchStatus
from pytest_trigger_batches.store import REQUEST_CACHE_MS
from pytest_trigger_batches.timefmt import iso_ms
from pytest_trigger_batches.triggered import Item, Run, TriggeredBatch

if TYPE_CHECKING:
    from pytest_trigger_batches.pipeline import Context
    from pytest_trigger_batches.progress import ItemOutcome
    from pytest_trigger_batches.store import Store
    from pytest_trigger_batches.triggered import BatchKind

# Only the exact action grants (a `write:tasks` scope stopped granting both on 2026-05-12).
_BATCH_ACTIONS = ("batchTrigger",)
_TRIGGER_ACTIONS = ("trigger",)
_SOMETHING_WENT_WRONG = "Something went wrong"
_INLINE_MAX_ITEMS = 20  # /api/v1/tasks/batch processes up to this many items in the request
_TOO_MANY = "Batch size of {n} is too large. Maximum allowed batch size is {m}."


# -- POST /api/v3/batches -------------------------------------------------------------


def create_batch(context: Context, store: Store) -> Reply:
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
    if run_count > STREAMING_MAX_ITEMS:
        raise PlatformError.message(
            400,
            f"Batch runCount of {js_number_text(run_count)} exceeds maximum allowed of "
            f"{STREAMING_MAX_ITEMS}.",
        )
    scope = (*sorted(set(tasks)),) if isinstance(tasks, list) else ()
    if key:
        # The body's key is the request idempotency key here, scoped by the tasks (24 h) ...
        cached = _replay(store, context, "create-batch", scope, key)
        if isinstance(cached, TriggeredBatch):
            answer = {"id": cached.id, "runCount": cached.run_count, "isCached": True}
            token = context.jwt_headers(_batch_scopes(context, cached))
            return Reply(200, json_bytes(answer), token)
        # ... and unique per environment for good: after the 24 h, a repeat is refused.
        if (context.environment, "streaming", key) in store.batch_keys:
            raise PlatformError.message(
                422,
                "Cannot create batch as it has already been created with the same idempotency key.",
            )
    _take_batch_tokens(store, context, run_count)
    batch = _new_batch(store, context, "streaming", run_count, key)
    if key:
        store.batch_keys[(context.environment, "streaming", key)] = (batch, None)
        _remember(store, context, "create-batch", scope, key, batch.id)
    created: dict[str, Any] = {"id": batch.id, "runCount": run_count, "isCached": False}
    if key:
        created["idempotencyKey"] = key
    return Reply(202, json_bytes(created), context.jwt_headers(_batch_scopes(context, batch)))


def _batch_scopes(context: Context, batch: TriggeredBatch) -> list[str]:
    """The create answer's token: a browser client that may trigger any task may also
    stream the items with it (`x-trigger-client: browser`)."""
    scopes = [f"read:batch:{batch.id}"]
    browser = context.headers.get("x-trigger-client") == "browser"
    if browser and context.can("batchTrigger", ("tasks", None)):
        scopes.append(f"write:batch:{batch.id}")
    return scopes


def _replay(
    store: Store, context: Context, kind: str, scope: tuple[str, ...], key: str
) -> TriggeredBatch | Run | None:
    """What an unexpired request idempotency key made, if anything (docs/platform.md §5.7)."""
    found = store.request_cache.get((kind, context.environment, *scope, key))
    if found is None or context.now_ms >= found[1]:
        return None
    return store.batches.get(found[0]) or store.runs.get(found[0])  # type: ignore[return-value]


def _remember(
    store: Store, context: Context, kind: str, scope: tuple[str, ...], key: str, made: str
) -> None:
    store.request_cache[(kind, context.environment, *scope, key)] = (
        made,
        context.now_ms + REQUEST_CACHE_MS,
    )


def _take_batch_tokens(store: Store, context: Context, cost: int) -> None:
    bucket = store.batch_buckets.get(context.environment)
    if bucket is None:
        bucket = store.batch_buckets[context.environment] = TokenBucket.full(
            store.batch_limits, context.now_ms
        )
    allowed, _ = bucket.take(context.now_ms, cost)  # each batch costs its runCount
    if allowed:
        return
    reset_s = bucket.reset_ms // 1000
    raise PlatformError(
        429,
        {"error": f"Batch rate limit exceeded. Limit resets at {iso_ms(bucket.reset_ms)}"},
        headers={
            "x-ratelimit-limit": str(bucket.limit),
            "x-ratelimit-remaining": str(max(0, bucket.tokens)),
            "x-ratelimit-reset": str(reset_s),  # seconds here, unlike the general limiter
            "retry-after": str(max(1, -(-(bucket.reset_ms - context.now_ms) // 1000))),
        },
    )


# -- POST /api/v3/batches/{batchId}/items ---------------------------------------------


def stream_items(context: Context, store: Store) -> Reply:
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
    handle = store.batch(batch_id, context.environment)
    if not isinstance(handle, TriggeredBatch) or handle.kind != "streaming":
        raise PlatformError.message(422, f"Batch {batch_id} not found")
    if handle.sealed or handle.processed or handle.status.value != "PENDING":
        if handle.status.value == "ABORTED":
            raise PlatformError.message(
                422, f"Batch {batch_id} is not in PENDING status (current: ABORTED)"
            )
        done = {"id": handle.id, "itemsAccepted": 0, "itemsDeduplicated": 0, "sealed": True}
        return Reply(200, json_bytes({**done, "runCount": handle.run_count}))
    accepted = deduplicated = 0
    try:
        for size, raw in lines:
            if per_item:
                _authorize_item(context, raw)
            item = _streamed_item(raw, size, handle.run_count)
            if item.index in handle.items:
                deduplicated += 1
                continue
            handle.items[item.index] = item
            store.triggered_items.append((context.route.name, item, handle.id))
            accepted += 1
    finally:
        handle.touch(context.now_ms)
    now = context.now_ms
    answer: dict[str, Any] = {
        "id": handle.id,
        "itemsAccepted": accepted,
        "itemsDeduplicated": deduplicated,
    }
    if len(handle.items) < handle.run_count:
        answer.update(
            sealed=False,
            enqueuedCount=len(handle.items),
            expectedCount=handle.run_count,
            runCount=handle.run_count,
        )
        return Reply(200, json_bytes(answer))
    handle.seal(now)
    if store.progression == "immediate":
        settle(store, handle, now)
    answer.update(sealed=True, runCount=handle.run_count)
    return Reply(200, json_bytes(answer))


def _authorize_item(context: Context, raw: object) -> None:
    task = raw.get("task") if isinstance(raw, dict) else None
    if not isinstance(task, str) or not context.can("batchTrigger", ("tasks", task)):
        raise PlatformError.message(403, "Unauthorized")


def items_get(context: Context, store: Store) -> Reply:
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
    return Item(index, task, _payload(shaped.get("payload"), options), options, size)


def _payload(payload: object, options: Mapping[str, Any]) -> object:
    # The SDK sends payloads as text: JSON, or superjson (`{"json": ..., "meta": ...}`, 4.x).
    kind = options.get("payloadType")
    if not isinstance(payload, str) or kind not in ("application/json", "application/super+json"):
        return payload
    try:
        parsed = json.loads(payload)
    except (ValueError, RecursionError):
        return payload
    if kind == "application/super+json" and isinstance(parsed, dict) and "json" in parsed:
        return parsed["json"]  # dates and other types superjson annotates stay as JSON
    return parsed


def settle(store: Store, batch: TriggeredBatch, now_ms: int) -> None:
    """Move `batch` on until it is final (progression "immediate", `advance(to=...)`)."""
    for _ in range(8):
        batch.complete_if_done(now_ms)
        if batch.settled:
            return
        step(store, batch, now_ms)


def step(store: Store, batch: TriggeredBatch, now_ms: int) -> None:
    """One poll's worth of progress for a triggered batch."""
    # Run ids minted together, as the platform's are: one pass for the whole batch.
    fresh = (
        iter(store.ids.cuids(now_ms, len(batch.items), prefix="run_"))
        if not batch.processed
        else iter(())
    )
    batch.step(
        now_ms,
        lambda item, outcome: store.create_run(
            environment=batch.environment,
            item=item,
            now_ms=now_ms,
            outcome=outcome,
            batch_id=batch.id,
            taken=batch.runs,
            run_id=next(fresh, None),
        ),
        lambda item: _outcome(store, item),
    )


def _outcome(store: Store, item: Item) -> ItemOutcome:
    """What happens to `item`: more than 10 tags fail its trigger, else what the test said."""
    return (
        "trigger_failure" if too_many_tags(item.options) else store.outcome(item.task, item.index)
    )


# -- the one-shot endpoints -----------------------------------------------------------


def batch_v2(context: Context, store: Store) -> Reply:
    """`POST /api/v2/tasks/batch`: runs at once; the batch has no counts.

    No queue guard up front: an item that cannot trigger (a full queue too) becomes a
    pre-failed run, as in a streaming batch.
    """
    items = _one_shot_items(context)
    _check_size(len(items), ONE_SHOT_MAX_ITEMS, _TOO_MANY)
    request_key = context.headers.get("x-trigger-request-idempotency-key")
    scope = tuple(sorted({item.task for item in items}))
    if request_key:
        cached = _replay(store, context, "batch-trigger", scope, request_key)
        if isinstance(cached, TriggeredBatch):
            answer = {"id": cached.id, "runCount": cached.run_count}
            return Reply(200, json_bytes(answer), context.jwt_headers([f"read:batch:{cached.id}"]))
    _refuse_too_large(store, items)
    batch, _, _ = _one_shot(store, context, "v2", items, key=None)
    if request_key:
        _remember(store, context, "batch-trigger", scope, request_key, batch.id)
    answer = {"id": batch.id, "isCached": False, "runCount": batch.run_count}
    return Reply(202, json_bytes(answer), context.jwt_headers([f"read:batch:{batch.id}"]))


def batch_v1(context: Context, store: Store) -> Reply:
    """`POST /api/v1/tasks/batch`: run ids in the answer; `idempotency-key` for the batch.

    Up to 20 items are processed within the request: an item that cannot trigger
    aborts the batch (the runs before it stay) and the answer is the platform's 500
    with `x-should-retry: false`.
    """
    items = _one_shot_items(context)
    _check_size(len(items), ONE_SHOT_MAX_ITEMS, _TOO_MANY)
    key = _header_key(context)
    now = context.now_ms
    if key:
        earlier = store.batch_keys.get((context.environment, "v1", key))
        if earlier is not None:
            batch, expires = earlier
            if expires is None or now < expires:
                token = context.jwt_headers([f"read:batch:{batch.id}"])
                return Reply(202, json_bytes(_v1_answer(batch, key, cached=True)), token)
            batch.idempotency_key = None  # the platform clears an expired key from the old batch
            batch.touch(now)
    _refuse_too_large(store, items)
    _refuse_full_queue(store, items)
    try:  # the key's expiry is written with the batch, whether there is a key or not
        expires = durations.idempotency_key_expires_ms(
            context.headers.get("idempotency-key-ttl"), now_ms=now
        )
    except durations.InvalidDate:
        raise PlatformError.message(
            500, _SOMETHING_WENT_WRONG, headers={"x-should-retry": "false"}
        ) from None
    inline = len(items) <= _INLINE_MAX_ITEMS
    batch, reused, aborted = _one_shot(
        store, context, "v1", items, key=key, keep_failed_keys=True, stop_on_failure=inline
    )
    if key:
        store.batch_keys[(context.environment, "v1", key)] = (batch, expires)
    if aborted is not None:
        refuse_many_tags([aborted.options], status=422)  # the service's refusal, by the route
        raise PlatformError.message(500, _SOMETHING_WENT_WRONG, headers={"x-should-retry": "false"})
    answer = _v1_answer(batch, key, cached=False, reused=reused)
    return Reply(202, json_bytes(answer), context.jwt_headers([f"read:batch:{batch.id}"]))


def batch_task_v1(context: Context, store: Store) -> Reply:
    """`POST /api/v1/tasks/{taskId}/batch`: the oldest shape, `{batchId, runs}`."""
    task = context.params["taskId"]
    items = _one_shot_items(context, task=task)
    _check_size(
        len(items), TASK_BATCH_MAX_ITEMS, "Too many items. Maximum allowed batch size is {m}."
    )
    outcomes = [store.outcome(task, item.index) for item in items]
    if "too_large" in outcomes or "too_large_error" in outcomes:
        raise PlatformError.message(413, "Request body too large")
    _refuse_full_queue(store, items, status=400)  # this route answers 400 for any failure
    key = _header_key(context)
    batch: TriggeredBatch | None = None
    if key:
        earlier = store.batch_keys.get((context.environment, f"v1-task:{task}", key))
        batch = earlier[0] if earlier is not None else None
    if batch is None:
        refuse_many_tags([item.options for item in items], status=400)
        batch, _, _ = _one_shot(store, context, "v1-task", items, key=key, keep_failed_keys=True)
        if key:
            store.batch_keys[(context.environment, f"v1-task:{task}", key)] = (batch, None)
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
        if not items:
            raise PlatformError.message(400, "No items to trigger")
        return items
    # Every task must be granted; no items at all is the route builder's 403 (it never
    # grants on an empty list), before the handler's own "no items" check could answer.
    tasks = sorted({item.task for item in items})
    context.authorize_any(_BATCH_ACTIONS, [("tasks", name) for name in tasks], every=True)
    return items


def _check_size(count: int, maximum: int, template: str) -> None:
    if count > maximum:
        raise PlatformError.message(400, template.format(n=count, m=maximum))


def _refuse_too_large(store: Store, items: Sequence[Item]) -> None:
    outcomes = {store.outcome(item.task, item.index) for item in items}
    if "too_large" in outcomes or "too_large_error" in outcomes:
        raise PlatformError.message(413, "Request body too large")


def _refuse_full_queue(store: Store, items: Sequence[Item], *, status: int = 422) -> None:
    """The v1 batch routes guard the queue for the whole request."""
    if any(store.outcome(item.task, item.index) == "queue_limit" for item in items):
        raise PlatformError.message(status, queue_limit_message(f"{len(items)} tasks"))


def _one_shot(
    store: Store,
    context: Context,
    kind: BatchKind,
    items: list[Item],
    *,
    key: str | None,
    keep_failed_keys: bool = False,
    stop_on_failure: bool = False,
) -> tuple[TriggeredBatch, set[str], Item | None]:
    """The batch and its runs; the ids of reused runs; the item it was aborted at, if any.

    `stop_on_failure`: an item that cannot trigger aborts the batch there.
    """
    batch = _new_batch(store, context, kind, len(items), key)
    made: list[Run | str] = []
    reused: set[str] = set()
    aborted: Item | None = None
    for item in items:
        batch.items[item.index] = item
        store.triggered_items.append((context.route.name, item, batch.id))
        if aborted is not None:
            continue
        outcome = _outcome(store, item)
        if stop_on_failure and outcome == "trigger_failure":
            aborted = item
            continue
        try:
            run = store.create_run(
                environment=context.environment,
                item=item,
                now_ms=context.now_ms,
                outcome=outcome,
                batch_id=batch.id,
                taken=[m.id if isinstance(m, Run) else m for m in made],
                keep_failed_keys=keep_failed_keys,
                invalid_dates_fail=stop_on_failure,
            )
        except durations.InvalidDate:  # its trigger failed: as trigger_failure
            aborted = item
            continue
        if isinstance(run, str):
            reused.add(run)
        made.append(run)
    batch.add_runs(made)
    if aborted is not None:
        batch.status = BatchStatus.ABORTED
        batch.touch(context.now_ms)
    elif store.progression == "immediate":
        settle(store, batch, context.now_ms)
    return batch, reused, aborted


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


def trigger_task(context: Context, store: Store) -> Reply:
    """One run of one task."""
    task = context.params["taskId"]
    check_headers(context.route.name, context.headers)
    shaped = trigger_body(json_body(context.body))
    options: Mapping[str, Any] = shaped.get("options", {})
    context.authorize_any(_TRIGGER_ACTIONS, [("tasks", task)])
    request_key = context.headers.get("x-trigger-request-idempotency-key")
    if request_key:
        cached = _replay(store, context, "trigger", (task,), request_key)
        if isinstance(cached, Run):  # the platform's replay says isCached: false
            answer = {"id": cached.id, "isCached": False}
            return Reply(200, json_bytes(answer), _run_token(context, cached.id))
    header_key = _header_key(context)
    if header_key and "idempotencyKey" not in options:
        options = {**options, "idempotencyKey": header_key}
        ttl = context.headers.get("idempotency-key-ttl")
        if ttl and "idempotencyKeyTTL" not in options:
            options = {**options, "idempotencyKeyTTL": ttl}
    # An unknown (undeployed) task is no error: its run waits in the queue `task/<id>`.
    outcome = store.outcome(task, None)
    if outcome in ("too_large", "too_large_error"):
        raise PlatformError.message(413, "Request body too large")
    refuse_many_tags([options], status=422)
    if outcome == "queue_limit":
        raise PlatformError.message(422, queue_limit_message(task))
    if outcome == "trigger_failure":  # this route's 500 says nothing of retrying
        raise PlatformError.message(500, _SOMETHING_WENT_WRONG)
    item = Item(0, task, _payload(shaped.get("payload"), options), options, len(context.body))
    store.triggered_items.append((context.route.name, item, None))
    try:
        made = store.create_run(
            environment=context.environment,
            item=item,
            now_ms=context.now_ms,
            outcome=outcome,
            header_key_ttl=context.headers.get("idempotency-key-ttl"),
        )
    except durations.InvalidDate:  # a delay or key TTL past a JavaScript Date's range
        raise PlatformError.message(500, _SOMETHING_WENT_WRONG) from None
    run_id = made if isinstance(made, str) else made.id
    if request_key:
        _remember(store, context, "trigger", (task,), request_key, run_id)
    answer = {"id": run_id, "isCached": isinstance(made, str)}
    return Reply(200, json_bytes(answer), _run_token(context, run_id))


def _run_token(context: Context, run_id: str) -> dict[str, str]:
    """The token every answer of the route carries, a reused run's too."""
    scopes = [f"read:runs:{run_id}", f"write:inputStreams:{run_id}"]
    return context.jwt_headers(scopes, full_claims=True)


def _header_key(context: Context) -> str | None:
    """The `idempotency-key` header (its length is checked with the others, `check_headers`)."""
    key = context.headers.get("idempotency-key") or None
    # `idempotency-key-ttl` is any string: one the platform cannot read means 30 days.
    return key


def _new_batch(
    store: Store, context: Context, kind: BatchKind, run_count: int, key: str | None
) -> TriggeredBatch:
    now = context.now_ms
    batch = TriggeredBatch(
        id="batch_" + store.ids.cuid(now),
        kind=kind,
        environment=context.environment,
        run_count=run_count,
        created_ms=now,
        idempotency_key=key if kind != "v2" else None,
        updated_ms=now,
    )
    store.batches[batch.id] = batch
    return batch
