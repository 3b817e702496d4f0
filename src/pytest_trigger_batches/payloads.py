"""The wire shape of a run, as the platform's presenters write it (docs/platform.md §7).

The status a run shows depends on `x-trigger-api-version`, and its flags on that shown
status.
"""

from __future__ import annotations

import json
import operator
import unicodedata
from typing import Any

from pytest_trigger_batches.errors import json_bytes
from pytest_trigger_batches.rules import DEVELOPMENT
from pytest_trigger_batches.statuses import (
    FLAG_SETS,
    STORED_FAILED,
    STORED_FINAL,
    RunStatus,
    flags,
    shown_status,
)
from pytest_trigger_batches.stored_run import Run, stored_tags
from pytest_trigger_batches.timefmt import iso_ms

__all__ = ["list_entry", "list_item", "run_body", "tags_of"]

PRESIGNED_ABOVE = 512 * 1024
COST_PER_MS = 0.0000169  # cents a millisecond on a small machine
BASE_COST = 0.0025


def tags_of(run: Run) -> list[str]:
    """The run's tags as the platform shows them: blank ones dropped, in `localeCompare` order.

    The trigger service drops tags that are empty once trimmed; the presenters sort the
    rest with `a.localeCompare(b)` (`["alpha", "Alpha", "beta"]`).
    """
    return sorted(stored_tags(run), key=_collation_key)


# ICU's root collation (what `localeCompare` uses in en-US) for ASCII: spaces, then
# punctuation and symbols in this order, then digits, then letters, case ignored at
# first; other control characters are ignored. Strings compare by these primary weights
# over the whole string first, then by accents, then by case (lower before upper).
# The approximation: a letter with accents is its base letter plus accent marks (NFD),
# accents weigh in ICU's order for the common ones, the ligatures `ß`, `æ`, `œ` are their
# letters, and other characters sort after `z`, by code point.
_ASCII_ORDER = "\t\n\v\f\r _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789abcdefghijklmnopqrstuvwxyz"
_PRIMARY = {char: weight for weight, char in enumerate(_ASCII_ORDER, start=1)}
_EXPANDED = {"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE"}
_ACCENTS = {
    mark: weight
    for weight, mark in enumerate(
        "\u0301\u0300\u0306\u0302\u030c\u030a\u0308\u030b\u0303\u0307\u0327\u0328\u0304", start=1
    )
}


def _collation_key(text: str) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    primary: list[int] = []
    accents: list[int] = []
    case: list[int] = []
    for char in unicodedata.normalize("NFD", text):
        if unicodedata.combining(char):
            accents.append(_ACCENTS.get(char, ord(char)))
            continue
        for part in _EXPANDED.get(char, char):
            lower = part.lower() if len(part.lower()) == 1 else part
            weight = _PRIMARY.get(lower)
            if weight is None:
                if ord(part) < 0x80:  # the other ASCII controls weigh nothing
                    continue
                weight = len(_ASCII_ORDER) + ord(lower)
            primary.append(weight)
            accents.append(0)
            case.append(2 if char in _EXPANDED else 0 if part == lower else 1)
    return tuple(primary), tuple(accents), tuple(case)


def _duration(run: Run) -> int:
    if run.started_ms is None or run.finished_ms is None:
        return 0
    return run.finished_ms - run.started_ms


def _common(run: Run, api_version: str | None) -> dict[str, Any]:
    shown = shown_status(run.stored_status, api_version)
    body: dict[str, Any] = {"id": run.id, "taskIdentifier": run.task}
    if run.idempotency_key:
        body["idempotencyKey"] = run.idempotency_key
    if run.version is not None:
        body["version"] = run.version
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
    if run.stored_status == RunStatus.COMPLETED_SUCCESSFULLY and run.output is not None:
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
    if status == RunStatus.CANCELED:
        return {"message": "Canceled by user"}
    if status == RunStatus.EXPIRED:
        # A dev run expires through the per-run job, which names the TTL; deployed
        # environments' runs through the batch path, which does not.
        if run.environment == DEVELOPMENT and run.ttl is not None:
            return {"message": f"Run expired because the TTL ({run.ttl}) was reached"}
        return {"message": "Run expired because the TTL was reached"}
    if not run.final or status == RunStatus.COMPLETED_SUCCESSFULLY:
        return None
    if run.error is not None:
        return dict(run.error)
    if status in STORED_FAILED:
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
    *FLAG_SETS,
)


# What a run's list entry is made from, besides what never changes (id, task, options,
# creation): the state `_common` and `list_item` read.
_LISTED_STATE = operator.attrgetter(
    "stage",
    "canceled",
    "prefailed",
    "outcome",
    "expired_ms",
    "started_ms",
    "updated_ms",
    "finished_ms",
    "delayed_until_ms",
    "version",
    "idempotency_key",
    "ttl",
    "region",
)


def list_entry(run: Run, api_version: str | None, environment: str, env_id: str) -> bytes:
    """`json_bytes(list_item(...))`, rendered again only when the run changed: a walk
    through the list renders each run once per state, not once per page."""
    state = (_LISTED_STATE(run), api_version, environment, env_id)
    shown = run.shown_in_list
    if shown is not None and shown[0] == state:
        return shown[1]
    entry = json_bytes(list_item(run, api_version, environment, env_id))
    run.shown_in_list = (state, entry)
    return entry


def list_item(run: Run, api_version: str | None, environment: str, env_id: str) -> dict[str, Any]:
    """One entry of `GET /api/v1/runs`, in the server's key order: no payload, output or
    batchId; the stored idempotency key; `finishedAt` on every final run."""
    values = _common(run, api_version)
    if run.idempotency_key:  # as stored (what the client sent: the SDK's hash), not the user's
        sent = run.options.get("idempotencyKey")
        values["idempotencyKey"] = sent if isinstance(sent, str) and sent else run.idempotency_key
    if run.stored_status in STORED_FINAL:  # completedAt, else updatedAt
        finished = run.finished_ms if run.finished_ms is not None else run.updated_ms
        values["finishedAt"] = iso_ms(finished)
    values["env"] = {"id": env_id, "name": environment}
    metadata = run.options.get("metadata")
    if metadata is not None:
        values["metadata"] = metadata
    values["taskKind"] = "STANDARD"
    if run.region is not None:
        values["region"] = run.region
    return {key: values[key] for key in _LIST_KEYS if key in values}
