"""Batches: `GET /api/v1/batches/{batchId}` and `GET /api/v2/batches/{batchId}`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_trigger_batches.handlers import triggers
from pytest_trigger_batches.pipeline import Reply
from pytest_trigger_batches.triggered import TriggeredBatch

if TYPE_CHECKING:
    from pytest_trigger_batches.pipeline import Context
    from pytest_trigger_batches.store import Store


def retrieve_batch(context: Context, store: Store) -> Reply:
    """The batch's current state; a successful GET moves it one step (progress.py).

    Looked up in the key's environment first (another environment's batch is the same
    404 as an unknown one), then a public token's scopes are checked.
    """
    handle = store.batch(context.params["batchId"], context.environment)
    if handle is None:
        raise context.not_found()
    context.authorize("read", [("batch", handle.id), ("runs", None)])
    version = 1 if context.route.template.startswith("/api/v1/") else 2
    get = context.method == "GET"
    moves = get and store.progression == "per_poll"
    if not isinstance(handle, TriggeredBatch):
        return Reply(200, handle.body(version, count=get, advance=moves))
    if moves:
        handle.complete_if_done(context.now_ms)
    body = handle.body(version)
    if get:
        handle.served += 1
    if moves:
        triggers.step(store, handle, context.now_ms)
    return Reply(200, body)
