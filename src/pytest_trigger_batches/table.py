"""The endpoints the mock serves: one row each (method, path, handler, route options)."""

from __future__ import annotations

from pytest_trigger_batches.handlers import (
    auth,
    batches,
    bulkqueues,
    realtime,
    results,
    runs,
    triggers,
    waitpoints,
)
from pytest_trigger_batches.routes import Route, RouteTable
from pytest_trigger_batches.rules import (
    BULK_ACTION_MAX_BODY,
    CLAIMS_UNAUTHORIZED,
    CREATE_BATCH_MAX_BODY,
    METADATA_MAX_BODY,
    ONE_SHOT_MAX_BODY,
    PACKET_UNAUTHORIZED,
    RESULT_UNAUTHORIZED,
    TRIGGER_MAX_BODY,
    WAITPOINT_CREATE_MAX_BODY,
)

__all__ = ["TABLE"]

_NDJSON = ("application/x-ndjson", "application/ndjson")
_MISSING_KEY = "Invalid or Missing API Key"  # the 401 of routes that authenticate by themselves

TABLE = RouteTable(
    [
        Route(
            "GET",
            "/api/v1/batches/{batchId}",
            batches.retrieve_batch,
            allow_jwt=True,
            retry_not_found=True,
            kind="retrieve_batch",
        ),
        Route(
            "GET",
            "/api/v2/batches/{batchId}",
            batches.retrieve_batch,
            allow_jwt=True,
            retry_not_found=True,
            kind="retrieve_batch",
        ),
        Route(
            "GET", "/api/v3/runs/{runId}", runs.retrieve_run, allow_jwt=True, retry_not_found=True
        ),
        Route("GET", "/api/v1/runs", runs.list_runs, allow_jwt=True),
        Route("POST", "/api/v2/runs/{runId}/cancel", runs.cancel_run, cors=False, allow_jwt=True),
        Route("POST", "/api/v1/runs/{runId}/replay", runs.replay_run, cors=False),
        Route(
            "POST",
            "/api/v3/batches",
            triggers.create_batch,
            allow_jwt=True,
            max_body=CREATE_BATCH_MAX_BODY,
        ),
        Route(
            "POST",
            "/api/v3/batches/{batchId}/items",
            triggers.stream_items,
            cors=False,
            allow_jwt=True,
            content_types=_NDJSON,
        ),
        Route("GET", "/api/v3/batches/{batchId}/items", triggers.items_get, cors=False),
        Route(
            "POST",
            "/api/v2/tasks/batch",
            triggers.batch_v2,
            allow_jwt=True,
            max_body=ONE_SHOT_MAX_BODY,
        ),
        Route(
            "POST",
            "/api/v1/tasks/batch",
            triggers.batch_v1,
            allow_jwt=True,
            max_body=ONE_SHOT_MAX_BODY,
        ),
        Route(
            "POST",
            "/api/v1/tasks/{taskId}/batch",
            triggers.batch_task_v1,
            cors=False,
            max_body=TRIGGER_MAX_BODY,
        ),
        Route(
            "POST",
            "/api/v1/tasks/{taskId}/trigger",
            triggers.trigger_task,
            allow_jwt=True,
            max_body=TRIGGER_MAX_BODY,
        ),
        # --- realtime: shape-stream subscriptions ---
        Route(
            "GET",
            "/realtime/v1/runs/{runId}",
            realtime.subscribe_run,
            allow_jwt=True,
            limited=False,
        ),
        Route(
            "GET",
            "/realtime/v1/batches/{batchId}",
            realtime.subscribe_batch,
            allow_jwt=True,
            retry_not_found=True,
            limited=False,
        ),
        Route(
            "GET",
            "/realtime/v1/runs",
            realtime.subscribe_tagged,
            allow_jwt=True,
            limited=False,
        ),
        # --- bulkqueues: queues and bulk actions ---
        Route("GET", "/api/v1/queues", bulkqueues.list_queues, cors=False),
        Route(
            "GET",
            "/api/v1/queues/{queueParam}",
            bulkqueues.retrieve_queue,
            cors=False,
            allow_jwt=True,
        ),
        Route("POST", "/api/v1/queues/{queueParam}/pause", bulkqueues.pause_queue, cors=False),
        Route(
            "POST",
            "/api/v1/queues/{queueParam}/concurrency/override",
            bulkqueues.override_queue,
            cors=False,
        ),
        Route(
            "POST",
            "/api/v1/queues/{queueParam}/concurrency/reset",
            bulkqueues.reset_queue,
            cors=False,
        ),
        Route(
            "POST",
            "/api/v1/bulk-actions",
            bulkqueues.create_bulk_action,
            cors=False,
            max_body=BULK_ACTION_MAX_BODY,
        ),
        Route("GET", "/api/v1/bulk-actions", bulkqueues.list_bulk_actions, cors=False),
        Route(
            "GET",
            "/api/v1/bulk-actions/{bulkActionId}",
            bulkqueues.retrieve_bulk_action,
            cors=False,
        ),
        Route(
            "POST",
            "/api/v1/bulk-actions/{bulkActionId}/abort",
            bulkqueues.abort_bulk_action,
            cors=False,
        ),
        # --- runops: reset a key, reschedule, tags, metadata ---
        Route(
            "POST",
            "/api/v1/idempotencyKeys/{key}/reset",
            runs.reset_idempotency_key,
            allow_jwt=True,
        ),
        Route(
            "POST",
            "/api/v1/runs/{runId}/reschedule",
            runs.reschedule_run,
            cors=False,
            unauthorized="Invalid or missing API Key",
        ),
        Route(
            "POST",
            "/api/v1/runs/{runId}/tags",
            runs.add_tags,
            cors=False,
            unauthorized=_MISSING_KEY,
        ),
        Route(
            "GET",
            "/api/v1/runs/{runId}/metadata",
            runs.get_metadata,
            cors=False,
            unauthorized=_MISSING_KEY,
        ),
        Route(
            "PUT",
            "/api/v1/runs/{runId}/metadata",
            runs.update_metadata,
            cors=False,
            max_body=METADATA_MAX_BODY,
        ),
        # --- tokens: public access tokens ---
        Route(
            "POST",
            "/api/v1/auth/jwt/claims",
            auth.jwt_claims,
            cors=False,
            unauthorized=CLAIMS_UNAUTHORIZED,
            limited=False,
        ),
        Route("POST", "/api/v1/auth/public-tokens", auth.create_public_token, cors=False),
        # --- waitpoints: waitpoint tokens ---
        Route(
            "POST",
            "/api/v1/waitpoints/tokens",
            waitpoints.create_token,
            cors=False,
            max_body=WAITPOINT_CREATE_MAX_BODY,
        ),
        Route("GET", "/api/v1/waitpoints/tokens", waitpoints.list_tokens, cors=False),
        Route(
            "GET",
            "/api/v1/waitpoints/tokens/{waitpointFriendlyId}",
            waitpoints.retrieve_token,
            cors=False,
        ),
        Route(
            "POST",
            "/api/v1/waitpoints/tokens/{waitpointFriendlyId}/complete",
            waitpoints.complete_token,
            allow_jwt=True,
            max_body=TRIGGER_MAX_BODY,
        ),
        Route(
            "POST",
            "/api/v1/waitpoints/tokens/{waitpointFriendlyId}/callback/{hash}",
            waitpoints.callback,
            cors=False,
            max_body=TRIGGER_MAX_BODY,
            public=True,
        ),
        # --- results: run and batch results, packets and the object store's URLs
        Route(
            "GET",
            "/api/v1/runs/{runId}/result",
            results.run_result,
            cors=False,
            unauthorized=RESULT_UNAUTHORIZED,
        ),
        Route(
            "GET",
            "/api/v1/batches/{batchId}/results",
            results.batch_results,
            cors=False,
            unauthorized=RESULT_UNAUTHORIZED,
        ),
        Route(
            "PUT",
            "/api/v2/packets/{name*}",
            results.upload_url_v2,
            cors=False,
            unauthorized=PACKET_UNAUTHORIZED,
        ),
        Route(
            "PUT",
            "/api/v1/packets/{name*}",
            results.upload_url_v1,
            cors=False,
            unauthorized=PACKET_UNAUTHORIZED,
        ),
        Route("GET", "/api/v1/packets/{name*}", results.download_url, allow_jwt=True),
        Route(
            "PUT",
            "/packets/{project}/{environment}/{key*}",
            results.put_object,
            cors=False,
            public=True,
        ),
        Route(
            "GET",
            "/packets/{project}/{environment}/{key*}",
            results.get_object,
            cors=False,
            public=True,
        ),
    ]
)
