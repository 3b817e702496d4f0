"""Batches: `GET /api/v1/batches/{batchId}` and `GET /api/v2/batches/{batchId}`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_trigger_batches.pipeline import Reply

if TYPE_CHECKING:
    from pytest_trigger_batches.backend import TriggerBackend
    from pytest_trigger_batches.pipeline import Context


def retrieve_batch(context: Context, backend: TriggerBackend) -> Reply:
    """The batch's current state; a successful GET moves it one step (progress.py).

    Looked up in the key's environment first (another environment's batch is the same
    404 as an unknown one), then a public token's scopes are checked.
    """
    batch = backend.batch(context.params["batchId"], context.environment)
    if batch is None:
        raise context.not_found()
    context.authorize("read", [("batch", batch.id), ("runs", None)])
    version = 1 if context.route.template.startswith("/api/v1/") else 2
    get = context.method == "GET"
    return Reply(200, backend.poll_batch(batch, context.now_ms, version=version, get=get))
