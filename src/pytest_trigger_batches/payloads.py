"""The wire shape of a run, as the platform's presenters write it (docs/platform.md §7).

The status a run shows depends on `x-trigger-api-version`, and its flags on that shown
status.
"""

from __future__ import annotations

import json
from typing import Any

from pytest_trigger_batches.statuses import (
    RUN_FAILED,
    RunStatus,
    flags,
    shown_status,
    stored_outcome,
)
from pytest_trigger_batches.stored_run import Run
from pytest_trigger_batches.timefmt import iso_ms

__all__ = ["list_item", "run_body", "tags_of"]

PRESIGNED_ABOVE = 512 * 1024
COST_PER_MS = 0.0000169  # cents a millisecond on a small machine
BASE_COST = 0.0025
_FAILED = frozenset(map(stored_outcome, RUN_FAILED))


def tags_of(run: Run) -> list[str]:
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
    body["createdAt"] = iso_ms(run.created_ms)
    if run.started_ms is not None:
        body["startedAt"] = iso_ms(run.started_ms)
    body["updatedAt"] = iso_ms(run.updated_ms)
    if run.finished_ms is not None:
        body["finishedAt"] = iso_ms(run.finished_ms)
    if run.expired_ms is not None:
        body["expiredAt"] = iso_ms(run.expired_ms)
    if run.delayed_until_ms is not None:
        body["delayedUntil"] = iso_ms(run.delayed_until_ms)
    if run.ttl is not None:
        body["ttl"] = run.ttl
    duration = _duration(run)
    body["costInCents"] = round(duration * COST_PER_MS, 6)
    body["baseCostInCents"] = BASE_COST if run.started_ms is not None else 0
    body["durationMs"] = duration
    body["isTest"] = False
    body["depth"] = 0
    body["tags"] = tags_of(run)
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
    succeeded = run.stored_status == RunStatus.COMPLETED_SUCCESSFULLY
    if succeeded and run.output is not None:
        body["output"] = run.output
    if run.final and run.error is not None and not succeeded:
        body["error"] = dict(run.error)
    elif run.final and run.stored_status in _FAILED:
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
    if run.stored_status == "SYSTEM_FAILURE":
        return {"message": "trigger.dev internal error (TASK_RUN_CRASHED)"}
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
