"""Payload dicts given to `add_batch` with fields the server never writes: ids, nulls, types."""

from __future__ import annotations

import pytest

from contract.cases import (
    CODES,
    ID_FORMATS_RE,
    INVALID,
    NOT_SERVER,
    STATUSES,
    Call,
    Ctx,
    Error,
    case,
    drop,
    error_entry,
    payload,
    refused,
)

FIELDS = [
    case(
        "bad-batch-id",
        payload("failed", lambda p: p.update(id="batch_123")),
        ValueError,
        rf"id must be 'batch_' \+ {ID_FORMATS_RE}; got 'batch_123'",
    ),
    case(
        "batch-id-int",
        payload("failed", lambda p: p.update(id=5)),
        ValueError,
        rf"id must be 'batch_' \+ {ID_FORMATS_RE}; got 5",
    ),
    case(
        "bad-run-id",
        payload("failed", lambda p: p["runs"].__setitem__(0, "run_x")),
        ValueError,
        rf"runs must be run ids \('run_' \+ {ID_FORMATS_RE}\); got 'run_x'",
    ),
    case(
        "unknown-errorCode",
        payload("failed", error_entry(1, errorCode="BOOM")),
        ValueError,
        rf"errorCode must be one of {CODES} or absent; got 'BOOM'",
    ),
    case(
        "errorCode-lower-case",
        payload("failed", error_entry(0, errorCode="trigger_error")),
        ValueError,
        rf"errorCode must be one of {CODES} or absent; got 'trigger_error'",
    ),
    case(
        "null-idempotencyKey",
        payload("failed", lambda p: p.update(idempotencyKey=None)),
        ValueError,
        NOT_SERVER + r"fields with no value are left out, never null: idempotencyKey",
    ),
    case(
        "null-errors",
        payload("pending", lambda p: p.update(errors=None)),
        ValueError,
        NOT_SERVER + r"fields with no value are left out, never null: errors",
    ),
    case(
        "null-counts",
        payload("pending", lambda p: p.update(successfulRunCount=None, failedRunCount=None)),
        ValueError,
        r"never null: successfulRunCount, failedRunCount",
    ),
    case(
        "null-errorCode",
        payload("failed", error_entry(1, errorCode=None)),
        ValueError,
        r"never null: errors\[1\]\.errorCode",
    ),
    case(
        "null-processingCompletedAt-v2",
        payload("v2", lambda p: p.update(processingCompletedAt=None)),
        ValueError,
        r"never null: processingCompletedAt",
    ),
    case(
        "error-as-object-documented-shape",
        payload("failed", error_entry(0, error={"message": "boom"})),
        ValueError,
        NOT_SERVER + r"errors\[0\]\.error is the message string, not an object "
        r"\(TriggerBatch\.from_payload\(body\) reads the spec's documented shape\)",
    ),
    case(
        "unknown-field",
        payload("failed", lambda p: p.update(failedRunCounts=2)),
        ValueError,
        NOT_SERVER + r"unknown field\(s\) 'failedRunCounts' \(it writes createdAt, errors, "
        r"failedRunCount, id, idempotencyKey, runCount, runs, status, successfulRunCount, "
        r"updatedAt\)",
    ),
    case(
        "unknown-error-field",
        payload("failed", error_entry(0, errorcode="ITEM_ERROR")),
        ValueError,
        NOT_SERVER + r"errors\[0\] has unknown field\(s\) 'errorcode'",
    ),
    case(
        "v1-count-in-v2-body",
        payload("v2", lambda p: p.update(failedRunCount=2)),
        ValueError,
        NOT_SERVER + r"unknown field\(s\) 'failedRunCount' \(it writes .*processing",
    ),
    case(
        "v2-unknown-processing-field",
        payload("v2", lambda p: p["processing"].update(error=[])),
        ValueError,
        NOT_SERVER + r"processing has unknown field\(s\) 'error'",
    ),
    case(
        "v2-processing-not-object",
        payload("v2", lambda p: p.update(processing=[])),
        ValueError,
        INVALID + r"processing must be an object \{completedAt\?, errors\}; got \[\]",
    ),
    case(
        "missing-runCount",
        payload("failed", drop("runCount")),
        ValueError,
        INVALID + r"payload is missing the field 'runCount'",
    ),
    case(
        "missing-createdAt",
        payload("failed", drop("createdAt")),
        ValueError,
        INVALID + r"payload is missing the field 'createdAt'",
    ),
    case(
        "status-lower-case",
        payload("failed", lambda p: p.update(status="completed")),
        ValueError,
        INVALID + rf"payload status must be one of {STATUSES}; got 'completed' "
        r"\(statuses are upper case: 'COMPLETED'\)",
    ),
    case(
        "runs-not-an-array",
        payload("failed", lambda p: p.update(runs=None)),
        ValueError,
        INVALID + r"runs must be an array; got None",
    ),
    case(
        "errors-not-an-array",
        payload("failed", lambda p: p.update(errors="boom")),
        ValueError,
        INVALID + r"errors must be an array; got 'boom'",
    ),
    case(
        "error-entry-not-an-object",
        payload("failed", lambda p: p["errors"].__setitem__(0, 3)),
        ValueError,
        INVALID + r"errors\[0\]: an error entry must be an object; got 3",
    ),
    case(
        "error-message-not-a-string",
        payload("failed", error_entry(0, error=500)),
        ValueError,
        INVALID + r"errors\[\]\.error must be the message string .*; got 500",
    ),
    case(
        "taskIdentifier-empty",
        payload("failed", error_entry(0, taskIdentifier="")),
        ValueError,
        r"error \d+: taskIdentifier must be a task id",
    ),
    case(
        "createdAt-not-a-timestamp",
        payload("failed", lambda p: p.update(createdAt="yesterday")),
        ValueError,
        INVALID + r"createdAt must be an ISO-8601 timestamp such as "
        r"'2026-03-01T12:00:00.000Z'; got 'yesterday'",
    ),
    case(
        "createdAt-out-of-range-in-UTC",
        payload("pending", lambda p: p.update(createdAt="0001-01-01T00:00:00.000+05:00")),
        ValueError,
        INVALID + r"createdAt must be a timestamp from year 1 to 9999 in UTC; "
        r"got '0001-01-01T00:00:00\+05:00'",
    ),
    case(
        "idempotencyKey-empty",
        payload("failed", lambda p: p.update(idempotencyKey="")),
        ValueError,
        r"idempotencyKey must be 1 to 2048 characters or absent",
    ),
]


@pytest.mark.parametrize(("call", "error", "match"), FIELDS)
def test_a_payload_with_a_bad_field_is_refused_naming_it(
    ctx: Ctx, call: Call, error: Error, match: str
) -> None:
    refused(ctx, call, error, match)
