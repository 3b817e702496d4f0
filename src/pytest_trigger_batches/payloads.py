"""The wire shape of a run, as the platform's presenters write it (docs/platform.md §7).

The status a run shows depends on `x-trigger-api-version`, and its flags on that shown
status.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from typing import Any

from pytest_trigger_batches.triggered import Run

__all__ = ["STATUS_NAMES", "flags", "list_item", "run_body", "shown_status", "tags_of"]

CURRENT_API = "2025-07-16"
PRESIGNED_ABOVE = 512 * 1024
_OLD_NAMES = {
    "PENDING": "QUEUED",
    "DEQUEUED": "EXECUTING",
    "RETRYING_AFTER_FAILURE": "REATTEMPTING",
    "PAUSED": "FROZEN",
    "WAITING_TO_RESUME": "FROZEN",
    "COMPLETED_SUCCESSFULLY": "COMPLETED",
    "COMPLETED_WITH_ERRORS": "FAILED",
}
_NEW_NAMES = {
    **_OLD_NAMES,
    "DEQUEUED": "DEQUEUED",
    "WAITING_FOR_DEPLOY": "PENDING_VERSION",
    "RETRYING_AFTER_FAILURE": "EXECUTING",
    "PAUSED": "WAITING",
    "WAITING_TO_RESUME": "WAITING",
    "INTERRUPTED": "FAILED",
}
_FLAGS = (
    "isQueued",
    "isExecuting",
    "isCompleted",
    "isFailed",
    "isSuccess",
    "isCancelled",
    "isWaiting",
)
_SET = {
    "isQueued": {"QUEUED", "DELAYED", "PENDING_VERSION", "WAITING_FOR_DEPLOY"},
    "isExecuting": {"EXECUTING", "DEQUEUED", "REATTEMPTING", "FROZEN"},
    "isWaiting": {"WAITING"},
    "isCompleted": {"COMPLETED", "FAILED", "CRASHED", "INTERRUPTED", "SYSTEM_FAILURE", "CANCELED"},
    "isSuccess": {"COMPLETED"},
    "isFailed": {"FAILED", "CRASHED", "INTERRUPTED", "SYSTEM_FAILURE", "CANCELED"},
    "isCancelled": {"CANCELED"},
}
STATUS_NAMES = frozenset(
    {
        *_OLD_NAMES.values(),
        *_NEW_NAMES.values(),
        "DELAYED",
        "PENDING_VERSION",
        "WAITING_FOR_DEPLOY",
        "EXECUTING",
        "INTERRUPTED",
        "CANCELED",
        "CRASHED",
        "SYSTEM_FAILURE",
        "EXPIRED",
        "TIMED_OUT",
    }
)
"""Every name `filter[status]` takes, in either vocabulary."""
COST_PER_MS = 0.0000169  # cents a millisecond on a small machine
BASE_COST = 0.0025


def shown_status(stored: str, api_version: str | None) -> str:
    """The status a client sees: the current names only for `x-trigger-api-version: 2025-07-16`."""
    names = _NEW_NAMES if api_version == CURRENT_API else _OLD_NAMES
    return names.get(stored, stored)


def flags(shown: str) -> dict[str, bool]:
    """The seven booleans, from the shown status (EXPIRED and TIMED_OUT set none)."""
    return {name: shown in _SET[name] for name in _FLAGS}


@functools.lru_cache(maxsize=4096)  # runs of one batch share their moments
def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def tags_of(run: Run) -> list[str]:
    tags = run.options.get("tags")
    listed = [tags] if isinstance(tags, str) else tags if isinstance(tags, list) else []
    return sorted(str(tag) for tag in listed)


def _duration(run: Run) -> int:
    if run.started_ms is None or run.finished_ms is None:
        return 0
    return run.finished_ms - run.started_ms


def _ttl(run: Run) -> str | None:
    ttl = run.options.get("ttl")
    if ttl is None:
        return None
    return ttl if isinstance(ttl, str) else f"{ttl}s"


def _common(run: Run, api_version: str | None) -> dict[str, Any]:
    shown = shown_status(run.stored_status, api_version)
    body: dict[str, Any] = {"id": run.id, "taskIdentifier": run.task}
    if run.idempotency_key:
        body["idempotencyKey"] = run.idempotency_key
    if run.version is not None:
        body["version"] = run.version
    body["status"] = shown
    body["createdAt"] = _iso(run.created_ms)
    if run.started_ms is not None:
        body["startedAt"] = _iso(run.started_ms)
    body["updatedAt"] = _iso(run.updated_ms)
    if run.finished_ms is not None:
        body["finishedAt"] = _iso(run.finished_ms)
    if run.expired_ms is not None:
        body["expiredAt"] = _iso(run.expired_ms)
    if run.delayed_until_ms is not None:
        body["delayedUntil"] = _iso(run.delayed_until_ms)
    ttl = _ttl(run)
    if ttl is not None:
        body["ttl"] = ttl
    duration = _duration(run)
    body["costInCents"] = round(duration * COST_PER_MS, 6)
    body["baseCostInCents"] = BASE_COST if run.started_ms is not None else 0
    body["durationMs"] = duration
    body["isTest"] = run.options.get("test") is True
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
    if run.region is not None:
        body["region"] = run.region
    if run.payload is not None:
        if len(json.dumps(run.payload, default=str)) > PRESIGNED_ABOVE:
            body["payloadPresignedUrl"] = f"https://payloads.trigger.dev/{run.id}/payload.json"
        else:
            body["payload"] = run.payload
    if run.stored_status == "COMPLETED_SUCCESSFULLY" and run.output is not None:
        body["output"] = run.output
    error = _error(run)
    if error is not None:
        body["error"] = error
    body["attemptCount"] = run.attempt_count
    body["attempts"] = []
    body["relatedRuns"] = {"children": []}
    return body


def _error(run: Run) -> dict[str, Any] | None:
    """The run's `error`: the engine writes one when it cancels or expires a run, and when
    a run ends in failure (docs/platform.md §7.3)."""
    status = run.stored_status
    if status == "CANCELED":
        return {"message": "Canceled by user"}
    if status == "EXPIRED":
        ttl = _ttl(run)
        # A dev run expires through the per-run job, which names the TTL; deployed
        # environments' runs through the batch path, which does not.
        if run.environment == "dev" and ttl is not None:
            return {"message": f"Run expired because the TTL ({ttl}) was reached"}
        return {"message": "Run expired because the TTL was reached"}
    if not run.final or status == "COMPLETED_SUCCESSFULLY":
        return None
    if run.error is not None:
        return dict(run.error)
    if status in ("COMPLETED_WITH_ERRORS", "CRASHED", "TIMED_OUT", "SYSTEM_FAILURE"):
        return _default_error(run)
    return None


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


_FINAL_STORED = frozenset(
    {
        "CANCELED",
        "INTERRUPTED",
        "COMPLETED_SUCCESSFULLY",
        "COMPLETED_WITH_ERRORS",
        "SYSTEM_FAILURE",
        "CRASHED",
        "EXPIRED",
        "TIMED_OUT",
    }
)
_LIST_KEYS = (
    "id",
    "status",
    "taskIdentifier",
    "idempotencyKey",
    "version",
    "createdAt",
    "updatedAt",
    "startedAt",
    "finishedAt",
    "delayedUntil",
    "isTest",
    "ttl",
    "expiredAt",
    "env",
    "tags",
    "costInCents",
    "baseCostInCents",
    "durationMs",
    "depth",
    "metadata",
    "taskKind",
    "region",
    *_FLAGS,
)


def list_item(run: Run, api_version: str | None, environment: str, env_id: str) -> dict[str, Any]:
    """One entry of `GET /api/v1/runs`, in the server's key order: no payload, output or
    batchId; the stored idempotency key; `finishedAt` on every final run."""
    values = _common(run, api_version)
    if run.idempotency_key:  # as stored (what the client sent: the SDK's hash), not the user's
        sent = run.options.get("idempotencyKey")
        values["idempotencyKey"] = sent if isinstance(sent, str) and sent else run.idempotency_key
    if run.stored_status in _FINAL_STORED:  # completedAt, else updatedAt
        finished = run.finished_ms if run.finished_ms is not None else run.updated_ms
        values["finishedAt"] = _iso(finished)
    values["env"] = {"id": env_id, "name": environment}
    metadata = run.options.get("metadata")
    if metadata is not None:
        values["metadata"] = metadata
    values["taskKind"] = "STANDARD"
    if run.region is not None:
        values["region"] = run.region
    return {key: values[key] for key in _LIST_KEYS if key in values}
