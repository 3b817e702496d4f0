"""Bad input is refused loudly, everywhere: the error type, the parameter, what is allowed.

The plugin is test infrastructure: an invalid call it accepted would make a user's test
pass for the wrong reason. Every case below is one invalid call across the public API;
each asserts the exact exception type and a message naming the parameter and what it
allows. Requests with malformed batch ids or keys are answered as the real API answers
them (404 / 401 bodies), asserted exactly.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest

from pytest_trigger_batches import BatchFactory, assert_batch_errors, assert_run_counts
from pytest_trigger_batches.__main__ import main as cli_main
from pytest_trigger_batches.api import TriggerApi
from pytest_trigger_batches.mock import MockTriggerApi
from pytest_trigger_batches.model import TriggerBatch

STATUSES = r"PENDING, PROCESSING, COMPLETED, PARTIAL_FAILED, ABORTED"
CODES = (
    r"TRIGGER_ERROR, TRIGGER_FAILED, ENVIRONMENT_NOT_FOUND, ITEM_ERROR, QUEUE_SIZE_LIMIT_EXCEEDED, "
    r"UNEXPECTED_ERROR, PAYLOAD_TOO_LARGE"
)
ID_FORMATS = r"a 25-char cuid, 21-char nanoid, 26-char run-ops id or 27-char base62 id"
KEY_RULE = (
    r"tr_dev_, tr_stg_, tr_prod_ or tr_preview_ \+ 24 letters or digits \(20 in keys made "
    r"before 2026-08-06\), or an additional key tr_<env>_sk_ \+ 24"
)
KEY = "tr_dev_" + "Kq7" * 8  # 24 chars after the prefix
WELL_FORMED_ID = "batch_cmx0ugyuv00004a7d2bda9ln4"


@dataclass
class Ctx:
    """What a case works on: a seeded factory, a fresh API and a few valid payloads."""

    factory: BatchFactory
    api: TriggerApi
    batch: TriggerBatch  # COMPLETED, 10 items, 2 failed (TRIGGER_ERROR)
    payloads: dict[str, dict[str, Any]]


@pytest.fixture
def ctx() -> Ctx:
    factory = BatchFactory(seed=20260301)
    batch = factory("COMPLETED", run_count=10, failed_count=2, error_code="TRIGGER_ERROR")
    queue = factory("ABORTED", run_count=5, error_code="QUEUE_SIZE_LIMIT_EXCEEDED")
    api = TriggerApi(secret_key=KEY)
    api.add_batch(batch)
    payloads = {
        "failed": batch.to_payload(),
        "queue": queue.to_payload(),
        "pending": factory("PENDING").to_payload(),
        "processing": factory("PROCESSING").to_payload(),
        "v2": batch.to_payload(version=2),
    }
    return Ctx(factory, api, batch, payloads)


Call = Callable[[Ctx], object]


def case(name: str, call: Call, error: type[BaseException], match: str) -> Any:
    return pytest.param(call, error, match, id=name)


def payload(base: str, change: Callable[[dict[str, Any]], object]) -> Call:
    """add_batch(a copy of a valid payload with `change` applied)."""

    def call(ctx: Ctx) -> object:
        body = copy.deepcopy(ctx.payloads[base])
        change(body)
        return ctx.api.add_batch(body)

    return call


def error_entry(number: int, **fields: object) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        errors = body["processing"]["errors"] if "processing" in body else body["errors"]
        errors[number].update(fields)

    return change


def drop(*names: str) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        for name in names:
            del body[name]

    return change


# -- the factory: every option with a wrong value or type ------------------------------

FACTORY = [
    case(
        "status-lower-case",
        lambda c: c.factory("completed"),
        ValueError,
        rf"status must be one of {STATUSES}; got 'completed' "
        r"\(statuses are upper case: 'COMPLETED'\)",
    ),
    case(
        "status-mixed-case",
        lambda c: c.factory("Partial_Failed"),
        ValueError,
        r"status must be one of .*got 'Partial_Failed' \(statuses are upper case: "
        r"'PARTIAL_FAILED'\)",
    ),
    case(
        "status-unknown",
        lambda c: c.factory("DONE"),
        ValueError,
        rf"status must be one of {STATUSES}; got 'DONE'$",
    ),
    case("status-int", lambda c: c.factory(3), ValueError, rf"status must be one of {STATUSES}"),
    case(
        "run_count-0",
        lambda c: c.factory(run_count=0),
        ValueError,
        r"run_count must be a whole number from 1 to 1000; got 0",
    ),
    case(
        "run_count-1001",
        lambda c: c.factory(run_count=1001),
        ValueError,
        r"run_count must be a whole number from 1 to 1000; got 1001",
    ),
    case(
        "run_count-True",
        lambda c: c.factory(run_count=True),
        TypeError,
        r"run_count must be a whole number from 1 to 1000; got True",
    ),
    case(
        "run_count-str",
        lambda c: c.factory(run_count="10"),
        TypeError,
        r"run_count must be a whole number from 1 to 1000; got '10'",
    ),
    case(
        "run_count-float",
        lambda c: c.factory(run_count=10.0),
        TypeError,
        r"run_count must be a whole number from 1 to 1000; got 10.0",
    ),
    case(
        "run_count-negative",
        lambda c: c.factory(run_count=-1),
        ValueError,
        r"run_count must be a whole number from 1 to 1000; got -1",
    ),
    case(
        "run_count-1-for-PARTIAL_FAILED",
        lambda c: c.factory("PARTIAL_FAILED", run_count=1),
        ValueError,
        r"run_count must be at least 2 for PARTIAL_FAILED",
    ),
    case(
        "failed_count-0-PARTIAL_FAILED",
        lambda c: c.factory("PARTIAL_FAILED", run_count=10, failed_count=0),
        ValueError,
        r"failed_count for a PARTIAL_FAILED batch of 10 items must be 1 to 9; got 0",
    ),
    case(
        "failed_count-all-PARTIAL_FAILED",
        lambda c: c.factory("PARTIAL_FAILED", run_count=10, failed_count=10),
        ValueError,
        r"failed_count for a PARTIAL_FAILED batch of 10 items must be 1 to 9; got 10",
    ),
    case(
        "failed_count-all-COMPLETED",
        lambda c: c.factory("COMPLETED", run_count=10, failed_count=10),
        ValueError,
        r"failed_count for a COMPLETED batch of 10 items must be 0 to 9; got 10",
    ),
    case(
        "failed_count-some-ABORTED",
        lambda c: c.factory("ABORTED", run_count=10, failed_count=5),
        ValueError,
        r"failed_count for a ABORTED batch of 10 items must be 10 \(every item\); got 5",
    ),
    case(
        "failed_count-PENDING-after-creation",
        lambda c: c.factory("PENDING", runs_created=True, failed_count=1),
        ValueError,
        r"failed_count for a PENDING batch of 10 items must be 0 .*; got 1",
    ),
    case(
        "failed_count-above-run_count",
        lambda c: c.factory("COMPLETED", run_count=3, failed_count=4),
        ValueError,
        r"failed_count must be a whole number from 0 to 3; got 4",
    ),
    case(
        "failed_count-negative",
        lambda c: c.factory("COMPLETED", failed_count=-1),
        ValueError,
        r"failed_count must be a whole number from 0 to 10; got -1",
    ),
    case(
        "failed_count-str",
        lambda c: c.factory("COMPLETED", failed_count="1"),
        TypeError,
        r"failed_count must be a whole number from 0 to 10; got '1'",
    ),
    case(
        "failed_count-True",
        lambda c: c.factory("COMPLETED", failed_count=True),
        TypeError,
        r"failed_count must be a whole number from 0 to 10; got True",
    ),
    case(
        "failed_count-before-run-creation",
        lambda c: c.factory("PROCESSING", failed_count=0),
        ValueError,
        r"failed_count and error_code apply once runs are created; a PROCESSING batch",
    ),
    case(
        "error_code-before-run-creation",
        lambda c: c.factory("PENDING", error_code="ITEM_ERROR"),
        ValueError,
        r"failed_count and error_code apply once runs are created; a PENDING batch",
    ),
    case(
        "error_code-lower-case",
        lambda c: c.factory("COMPLETED", failed_count=1, error_code="trigger_error"),
        ValueError,
        rf"error_code must be one of {CODES} or None; got 'trigger_error'",
    ),
    case(
        "error_code-unknown",
        lambda c: c.factory("COMPLETED", failed_count=1, error_code="BOOM"),
        ValueError,
        rf"error_code must be one of {CODES} or None; got 'BOOM'",
    ),
    case(
        "runs_created-int",
        lambda c: c.factory(runs_created=1),
        TypeError,
        r"runs_created must be True, False or None; got 1",
    ),
    case(
        "runs_created-True-PROCESSING",
        lambda c: c.factory("PROCESSING", runs_created=True),
        ValueError,
        r"runs_created=True is not possible with status PROCESSING",
    ),
    case(
        "runs_created-False-COMPLETED",
        lambda c: c.factory("COMPLETED", runs_created=False),
        ValueError,
        r"runs_created=False is not possible with status COMPLETED.*use legacy=True",
    ),
    case(
        "runs_created-False-PARTIAL_FAILED",
        lambda c: c.factory("PARTIAL_FAILED", runs_created=False),
        ValueError,
        r"runs_created=False is not possible with status PARTIAL_FAILED",
    ),
    case(
        "legacy-int",
        lambda c: c.factory(legacy=1),
        TypeError,
        r"legacy must be True or False; got 1",
    ),
    case(
        "legacy-PARTIAL_FAILED",
        lambda c: c.factory("PARTIAL_FAILED", legacy=True),
        ValueError,
        r"status for a legacy batch must be PENDING, COMPLETED or ABORTED; got PARTIAL_FAILED",
    ),
    case(
        "legacy-with-failed_count",
        lambda c: c.factory("COMPLETED", legacy=True, failed_count=0),
        ValueError,
        r"legacy=True batches have no counts and no errors: leave out runs_created, "
        r"failed_count and error_code",
    ),
    case(
        "legacy-with-error_code",
        lambda c: c.factory("ABORTED", legacy=True, error_code=None),
        ValueError,
        r"legacy=True batches have no counts and no errors",
    ),
    case(
        "idempotency_key-empty",
        lambda c: c.factory(idempotency_key=""),
        ValueError,
        r"idempotency_key must be None, True \(generate one\) or a string of 1 to 2048 "
        r"characters; got ''",
    ),
    case(
        "idempotency_key-too-long",
        lambda c: c.factory(idempotency_key="k" * 2049),
        ValueError,
        r"idempotency_key must be None, True \(generate one\) or a string of 1 to 2048",
    ),
    case(
        "idempotency_key-int",
        lambda c: c.factory(idempotency_key=5),
        ValueError,
        r"idempotency_key must be None, True .*; got 5",
    ),
    case(
        "task_identifier-empty",
        lambda c: c.factory(task_identifier=""),
        ValueError,
        r"task_identifier must be a task id such as 'send-welcome-email', or a non-empty "
        r"list of them; got ''",
    ),
    case(
        "task_identifier-blank",
        lambda c: c.factory(task_identifier="   "),
        ValueError,
        r"task_identifier must be a task id .*; got '   '",
    ),
    case(
        "task_identifier-empty-list",
        lambda c: c.factory(task_identifier=[]),
        ValueError,
        r"task_identifier must be a task id .*; got \[\]",
    ),
    case(
        "task_identifier-list-of-int",
        lambda c: c.factory(task_identifier=["send-email", 1]),
        ValueError,
        r"task_identifier must be a task id .*; got \['send-email', 1\]",
    ),
    case(
        "task_identifier-int",
        lambda c: c.factory(task_identifier=5),
        ValueError,
        r"task_identifier must be a task id .*; got 5",
    ),
    case(
        "task_identifier-dict",
        lambda c: c.factory(task_identifier={"send-email": 1}),
        ValueError,
        r"task_identifier must be a task id .*; got \{'send-email': 1\}",
    ),
    case(
        "created_at-text",
        lambda c: c.factory(created_at="yesterday"),
        ValueError,
        r"created_at must be an ISO-8601 timestamp such as '2026-03-01T12:00:00.000Z'; "
        r"got 'yesterday'",
    ),
    case(
        "created_at-int",
        lambda c: c.factory(created_at=1767225600),
        TypeError,
        r"created_at must be a datetime or an ISO-8601 string; got 1767225600",
    ),
    case(
        "created_at-before-1970",
        lambda c: c.factory(created_at="1969-12-31T23:59:59.000Z"),
        ValueError,
        r"created_at must be from 1970-01-01 to 9999-12-30 \(UTC\); got '1969-12-31T23:59:59.000Z'",
    ),
    case(
        "created_at-end-of-time",
        lambda c: c.factory("COMPLETED", created_at=datetime.max),
        ValueError,
        r"created_at must be from 1970-01-01 to 9999-12-30 \(UTC\); got datetime.datetime\(9999",
    ),
    case(
        "batch_id-malformed",
        lambda c: c.factory(batch_id="batch_123"),
        ValueError,
        rf"batch_id must be 'batch_' \+ {ID_FORMATS}; got 'batch_123'",
    ),
    case(
        "batch_id-empty",
        lambda c: c.factory(batch_id=""),
        ValueError,
        rf"batch_id must be 'batch_' \+ {ID_FORMATS}; got ''",
    ),
    case(
        "batch_id-run-id",
        lambda c: c.factory(batch_id="run_cmx0ugyuv00014a7da3uz70rc"),
        ValueError,
        r"batch_id must be 'batch_' \+ .*; got 'run_cmx0ugyuv00014a7da3uz70rc'",
    ),
    case(
        "batch_id-int",
        lambda c: c.factory(batch_id=5),
        ValueError,
        rf"batch_id must be 'batch_' \+ {ID_FORMATS}; got 5",
    ),
    case(
        "unknown-option",
        lambda c: c.factory(colour="red"),
        TypeError,
        r"unexpected keyword argument 'colour'",
    ),
    case(
        "lifecycle-bad-status",
        lambda c: c.factory.lifecycle("complete"),
        ValueError,
        rf"status must be one of {STATUSES}; got 'complete'",
    ),
    case(
        "seed-str",
        lambda c: BatchFactory(seed="1"),  # type: ignore[arg-type]
        TypeError,
        r"seed must be a whole number; got '1'",
    ),
    case(
        "seed-bool",
        lambda c: BatchFactory(seed=True),
        TypeError,
        r"seed must be a whole number; got True",
    ),
    case(
        "to_payload-version-3",
        lambda c: c.batch.to_payload(version=3),  # type: ignore[arg-type]
        ValueError,
        r"version must be 1 or 2; got 3",
    ),
    case(
        "to_payload-shape-unknown",
        lambda c: c.batch.to_payload(shape="spec"),  # type: ignore[arg-type]
        ValueError,
        r"shape must be 'server' or 'documented'; got 'spec'",
    ),
]

# -- payload dicts that break the platform's invariants, given to add_batch -----------

INVALID = r"batch is not a valid batch payload: "
NOT_SERVER = r"batch is not a body the server writes: "
PAYLOADS = [
    case(
        "counts-do-not-add-up",
        payload("failed", lambda p: p.update(successfulRunCount=9)),
        ValueError,
        INVALID + r"(?s:.*)successfulRunCount \+ failedRunCount must equal runCount: 9 \+ 2 != 10",
    ),
    case(
        "runs-do-not-match-successful",
        payload("failed", lambda p: p["runs"].pop()),
        ValueError,
        r"runs holds the created runs, so len\(runs\) == successfulRunCount: 7 != 8",
    ),
    case(
        "duplicate-error-index",
        payload("failed", lambda p: p.update(errors=[p["errors"][0], p["errors"][0]])),
        ValueError,
        r"error indices must be unique; got \[(\d+), \1\]",
    ),
    case(
        "error-index-out-of-range",
        payload("failed", error_entry(1, index=10)),
        ValueError,
        r"error indices must lie in 0\.\.9; got \[10\]",
    ),
    case(
        "error-index-negative",
        payload("failed", error_entry(1, index=-1)),
        ValueError,
        r"error indices must lie in 0\.\.9; got \[-1\]",
    ),
    case(
        "error-index-str",
        payload("failed", error_entry(1, index="1")),
        ValueError,
        r"error indices must be whole numbers; got \['1'\]",
    ),
    case(
        "error-index-bool",
        payload("failed", error_entry(1, index=True)),
        ValueError,
        r"error indices must be whole numbers; got \[True\]",
    ),
    case(
        "error-index-missing",
        payload("failed", lambda p: p["errors"][1].pop("index")),
        ValueError,
        INVALID + r"errors\[1\]\.index is missing",
    ),
    case(
        "bad-batch-id",
        payload("failed", lambda p: p.update(id="batch_123")),
        ValueError,
        rf"id must be 'batch_' \+ {ID_FORMATS}; got 'batch_123'",
    ),
    case(
        "batch-id-int",
        payload("failed", lambda p: p.update(id=5)),
        ValueError,
        rf"id must be 'batch_' \+ {ID_FORMATS}; got 5",
    ),
    case(
        "bad-run-id",
        payload("failed", lambda p: p["runs"].__setitem__(0, "run_x")),
        ValueError,
        rf"runs must be run ids \('run_' \+ {ID_FORMATS}\); got 'run_x'",
    ),
    case(
        "repeated-run-id",
        payload("failed", lambda p: p["runs"].__setitem__(1, p["runs"][0])),
        ValueError,
        r"runs must not repeat a run id",
    ),
    case(
        "updatedAt-before-createdAt",
        payload("failed", lambda p: p.update(updatedAt="2020-01-01T00:00:00.000Z")),
        ValueError,
        r"updatedAt must not be before createdAt",
    ),
    case(
        "errors-without-counts",
        lambda c: c.api.add_batch(
            {**c.payloads["pending"], "errors": c.payloads["failed"]["errors"]}
        ),
        ValueError,
        r"errors appear only once run creation has finished \(with the counts\)",
    ),
    case(
        "collapse-without-suffix",
        payload("queue", error_entry(0, error="Cannot trigger send-email: queue full")),
        ValueError,
        r"the collapsed QUEUE_SIZE_LIMIT_EXCEEDED entry ends "
        r"'\(5 items in this batch failed with the same error\)'",
    ),
    case(
        "collapse-in-two-entries",
        payload(
            "queue",
            lambda p: p["errors"].append({**p["errors"][0], "index": p["errors"][0]["index"] + 1}),
        ),
        ValueError,
        r"when every failure is QUEUE_SIZE_LIMIT_EXCEEDED they collapse into one error "
        r"entry; got 2",
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
        "one-error-entry-missing",
        payload("failed", lambda p: p["errors"].pop()),
        ValueError,
        r"one error entry per failed item: failedRunCount is 2, errors has 1",
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
        "runCount-0",
        payload("pending", lambda p: p.update(runCount=0)),
        ValueError,
        r"runCount must be a whole number from 1 to 1000; got 0",
    ),
    case(
        "runCount-1001",
        payload("pending", lambda p: p.update(runCount=1001)),
        ValueError,
        r"runCount must be a whole number from 1 to 1000; got 1001",
    ),
    case(
        "runCount-str",
        payload("pending", lambda p: p.update(runCount="10")),
        ValueError,
        r"runCount must be a whole number from 1 to 1000; got '10'",
    ),
    case(
        "runCount-True",
        payload("pending", lambda p: p.update(runCount=True)),
        ValueError,
        r"runCount must be a whole number from 1 to 1000; got True",
    ),
    case(
        "status-lower-case",
        payload("failed", lambda p: p.update(status="completed")),
        ValueError,
        INVALID + rf"payload status must be one of {STATUSES}; got 'completed' "
        r"\(statuses are upper case: 'COMPLETED'\)",
    ),
    case(
        "status-contradicts-counts",
        payload("failed", lambda p: p.update(status="ABORTED")),
        ValueError,
        r"with 2 of 10 items failed the status is PARTIAL_FAILED or COMPLETED, not ABORTED",
    ),
    case(
        "PARTIAL_FAILED-without-counts",
        payload("processing", lambda p: p.update(status="PARTIAL_FAILED")),
        ValueError,
        r"a PARTIAL_FAILED batch has finished run creation, so it has counts",
    ),
    case(
        "PROCESSING-with-runs",
        lambda c: c.api.add_batch(
            {**c.payloads["processing"], "runs": c.payloads["failed"]["runs"]}
        ),
        ValueError,
        r"a PROCESSING batch has no runs yet \(runs appear with the counts\)",
    ),
    case(
        "only-one-count",
        payload("failed", drop("failedRunCount")),
        ValueError,
        r"successfulRunCount and failedRunCount are both present or both absent",
    ),
    case(
        "negative-counts",
        payload("failed", lambda p: p.update(successfulRunCount=12, failedRunCount=-2)),
        ValueError,
        r"failedRunCount must be a whole number >= 0; got -2",
    ),
    case(
        "counts-as-strings",
        payload("failed", lambda p: p.update(successfulRunCount="8")),
        ValueError,
        r"successfulRunCount must be a whole number >= 0; got '8'",
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
    case(
        "payload-from_payload-list",
        lambda c: TriggerBatch.from_payload([c.payloads["failed"]]),  # type: ignore[arg-type]
        TypeError,
        r"payload must be a mapping \(a parsed JSON body\)",
    ),
]

# -- add_batch: arguments and sequences of states --------------------------------------


def reversed_lifecycle(c: Ctx) -> object:
    return c.api.add_batch(list(reversed(c.factory.lifecycle("COMPLETED", failed_count=1))))


def leaves_a_final_state(c: Ctx) -> object:
    aborted = c.factory("ABORTED", runs_created=False)
    return c.api.add_batch([aborted, c.factory("PENDING", batch_id=aborted.id)])


ADD_BATCH = [
    case(
        "empty-sequence",
        lambda c: c.api.add_batch([]),
        ValueError,
        r"batch must hold at least one state; got an empty sequence",
    ),
    case(
        "states-go-backwards",
        reversed_lifecycle,
        ValueError,
        r"states\[1\] cannot follow states\[0\] \(COMPLETED -> PARTIAL_FAILED\)",
    ),
    case(
        "states-of-two-batches",
        lambda c: c.api.add_batch([c.factory("PENDING"), c.factory("COMPLETED")]),
        ValueError,
        r"states\[1\] cannot follow states\[0\] \(PENDING -> COMPLETED\): the batch id changed",
    ),
    case(
        "leaves-a-final-state",
        leaves_a_final_state,
        ValueError,
        r"states\[1\] cannot follow states\[0\] \(ABORTED -> PENDING\)",
    ),
    case(
        "sequence-with-progress_after",
        lambda c: c.api.add_batch([c.batch], progress_after=2),
        ValueError,
        r"progress_after derives the states from one batch; with a sequence of states, "
        r"leave it out",
    ),
    case(
        "sequence-with-a-string",
        lambda c: c.api.add_batch([c.batch, "COMPLETED"]),
        TypeError,
        r"batch\[1\] must be a TriggerBatch or a payload dict; got 'COMPLETED'",
    ),
    case(
        "sequence-with-a-bad-payload",
        lambda c: c.api.add_batch([c.batch, {"id": c.batch.id}]),
        ValueError,
        r"batch\[1\] is not a valid batch payload: payload is missing the field",
    ),
    case(
        "generator",
        lambda c: c.api.add_batch(state for state in [c.batch]),  # type: ignore[arg-type]
        TypeError,
        r"batch must be a TriggerBatch, a payload dict or a sequence of them; got <generator",
    ),
    case(
        "batch-id-string",
        lambda c: c.api.add_batch(c.batch.id),  # type: ignore[arg-type]
        TypeError,
        r"batch must be a TriggerBatch, a payload dict or a sequence of them; got 'batch_",
    ),
    case(
        "batch-None",
        lambda c: c.api.add_batch(None),  # type: ignore[arg-type]
        TypeError,
        r"batch must be a TriggerBatch, a payload dict or a sequence of them; got None",
    ),
    case(
        "progress_after-negative",
        lambda c: c.api.add_batch(c.batch, progress_after=-1),
        ValueError,
        r"progress_after must be a whole number from 0 to 1000; got -1",
    ),
    case(
        "progress_after-True",
        lambda c: c.api.add_batch(c.batch, progress_after=True),
        TypeError,
        r"progress_after must be a whole number from 0 to 1000; got True",
    ),
    case(
        "progress_after-str",
        lambda c: c.api.add_batch(c.batch, progress_after="2"),  # type: ignore[arg-type]
        TypeError,
        r"progress_after must be a whole number from 0 to 1000; got '2'",
    ),
    case(
        "progress_after-float",
        lambda c: c.api.add_batch(c.batch, progress_after=2.0),  # type: ignore[arg-type]
        TypeError,
        r"progress_after must be a whole number from 0 to 1000; got 2.0",
    ),
    case(
        "environment-empty",
        lambda c: c.api.add_batch(c.batch, environment=""),
        ValueError,
        r"environment must be a non-empty string or None; got ''",
    ),
    case(
        "environment-int",
        lambda c: c.api.add_batch(c.batch, environment=5),  # type: ignore[arg-type]
        ValueError,
        r"environment must be a non-empty string or None; got 5",
    ),
    case(
        "environment-upper-case",
        lambda c: c.api.add_batch(c.batch, environment="PROD"),
        ValueError,
        r"environment names are lower case, as in the key prefix \(dev, stg, prod, "
        r"preview\): 'prod'; got 'PROD'",
    ),
]

# -- faults, rate limits, keys and the API's own settings ------------------------------

FAULTS = "rate_limit, server_error, timeout, connect_error"
SETTINGS = [
    case(
        "fault-unknown",
        lambda c: c.api.fail_next("boom"),  # type: ignore[arg-type]
        ValueError,
        rf"fault must be one of {FAULTS}; got 'boom'",
    ),
    case(
        "fault-upper-case",
        lambda c: c.api.fail_next("RATE_LIMIT"),  # type: ignore[arg-type]
        ValueError,
        rf"fault must be one of {FAULTS}; got 'RATE_LIMIT'",
    ),
    case(
        "fault-status-code",
        lambda c: c.api.fail_next(429),  # type: ignore[arg-type]
        ValueError,
        rf"fault must be one of {FAULTS}; got 429",
    ),
    case(
        "fault-times-0",
        lambda c: c.api.fail_next("timeout", times=0),
        ValueError,
        r"times must be a whole number from 1 to 10\*\*9; got 0",
    ),
    case(
        "fault-times-True",
        lambda c: c.api.fail_next("timeout", times=True),
        ValueError,
        r"times must be a whole number from 1 to 10\*\*9; got True",
    ),
    case(
        "fault-times-float",
        lambda c: c.api.fail_next("timeout", times=1.5),  # type: ignore[arg-type]
        ValueError,
        r"times must be a whole number from 1 to 10\*\*9; got 1.5",
    ),
    case(
        "fault-status_code-404",
        lambda c: c.api.fail_next("server_error", status_code=404),
        ValueError,
        r"status_code must be a 5xx status \(500 to 599\); got 404",
    ),
    case(
        "fault-status_code-600",
        lambda c: c.api.fail_next("server_error", status_code=600),
        ValueError,
        r"status_code must be a 5xx status \(500 to 599\); got 600",
    ),
    case(
        "fault-status_code-str",
        lambda c: c.api.fail_next("server_error", status_code="503"),  # type: ignore[arg-type]
        ValueError,
        r"status_code must be a 5xx status \(500 to 599\); got '503'",
    ),
    case(
        "fault-status_code-for-timeout",
        lambda c: c.api.fail_next("timeout", status_code=503),
        ValueError,
        r"status_code applies to fault='server_error' only; got status_code=503 with "
        r"fault='timeout'",
    ),
    case(
        "fault-reset_after-negative",
        lambda c: c.api.fail_next("rate_limit", reset_after=-1),
        ValueError,
        r"reset_after must be a number of seconds from 0 to a year \(31536000\); got -1",
    ),
    case(
        "fault-reset_after-nan",
        lambda c: c.api.fail_next("rate_limit", reset_after=math.nan),
        ValueError,
        r"reset_after must be a number of seconds from 0 to a year \(31536000\); got nan",
    ),
    case(
        "fault-reset_after-inf",
        lambda c: c.api.fail_next("rate_limit", reset_after=math.inf),
        ValueError,
        r"reset_after must be a number of seconds from 0 to a year \(31536000\); got inf",
    ),
    case(
        "fault-reset_after-str",
        lambda c: c.api.fail_next("rate_limit", reset_after="2"),  # type: ignore[arg-type]
        ValueError,
        r"reset_after must be a number of seconds from 0 to a year \(31536000\); got '2'",
    ),
    case(
        "fault-reset_after-for-server_error",
        lambda c: c.api.fail_next("server_error", reset_after=5),
        ValueError,
        r"reset_after applies to fault='rate_limit' only; got reset_after=5 with "
        r"fault='server_error'",
    ),
    case(
        "fault-batch_id-empty",
        lambda c: c.api.fail_next("timeout", batch_id=""),
        ValueError,
        r"batch_id must be a batch id or None \(any batch\); got ''",
    ),
    case(
        "fault-batch_id-a-batch",
        lambda c: c.api.fail_next("timeout", batch_id=c.batch),  # type: ignore[arg-type]
        ValueError,
        r"batch_id must be a batch id or None \(any batch\); got TriggerBatch\(",
    ),
    case(
        "rate_limit-limit-0",
        lambda c: c.api.rate_limit(limit=0),
        ValueError,
        r"limit must be a whole number from 1 to 10\*\*9; got 0",
    ),
    case(
        "rate_limit-limit-True",
        lambda c: c.api.rate_limit(limit=True),
        ValueError,
        r"limit must be a whole number from 1 to 10\*\*9; got True",
    ),
    case(
        "rate_limit-refill-0",
        lambda c: c.api.rate_limit(refill=0),
        ValueError,
        r"refill must be a whole number from 1 to 10\*\*9; got 0",
    ),
    case(
        "rate_limit-refill-float",
        lambda c: c.api.rate_limit(refill=2.5),  # type: ignore[arg-type]
        ValueError,
        r"refill must be a whole number from 1 to 10\*\*9; got 2.5",
    ),
    case(
        "rate_limit-interval-0",
        lambda c: c.api.rate_limit(interval=0),
        ValueError,
        r"interval must be a number of seconds > 0 \(at most a year\); got 0",
    ),
    case(
        "rate_limit-interval-nan",
        lambda c: c.api.rate_limit(interval=math.nan),
        ValueError,
        r"interval must be a number of seconds > 0 \(at most a year\); got nan",
    ),
    case(
        "rate_limit-interval-inf",
        lambda c: c.api.rate_limit(interval=math.inf),
        ValueError,
        r"interval must be a number of seconds > 0 \(at most a year\); got inf",
    ),
    case(
        "rate_limit-interval-True",
        lambda c: c.api.rate_limit(interval=True),
        ValueError,
        r"interval must be a number of seconds > 0 \(at most a year\); got True",
    ),
    case(
        "rate_limit-interval-str",
        lambda c: c.api.rate_limit(interval="10"),  # type: ignore[arg-type]
        ValueError,
        r"interval must be a number of seconds > 0 \(at most a year\); got '10'",
    ),
    case(
        "accept_key-too-short",
        lambda c: c.api.accept_key("tr_dev_abc"),
        ValueError,
        rf"key must be a secret key: {KEY_RULE}; got 'tr_dev_\*\*\*\*[0-9a-f]{{4}}'",
    ),
    case(
        "accept_key-too-long",
        lambda c: c.api.accept_key("tr_dev_" + "a" * 25),
        ValueError,
        rf"key must be a secret key: {KEY_RULE}; got 'tr_dev_\*\*\*\*[0-9a-f]{{4}}'",
    ),
    case(
        "accept_key-unknown-environment",
        lambda c: c.api.accept_key("tr_live_" + "a" * 24),
        ValueError,
        rf"key must be a secret key: {KEY_RULE}; got 'tr_live_\*\*\*\*[0-9a-f]{{4}}'",
    ),
    case(
        "accept_key-public-key",
        lambda c: c.api.accept_key("pk_dev_" + "a" * 22),
        ValueError,
        rf"key must be a secret key: {KEY_RULE}; got 'pk_dev_\*\*\*\*[0-9a-f]{{4}}'",
    ),
    case(
        "accept_key-with-Bearer",
        lambda c: c.api.accept_key("Bearer " + KEY),
        ValueError,
        rf"key must be a secret key: {KEY_RULE}; got '\*\*\*\*[0-9a-f]{{4}}'",
    ),
    case(
        "accept_key-trailing-space",
        lambda c: c.api.accept_key(KEY + " "),
        ValueError,
        rf"key must be a secret key: {KEY_RULE}; got 'tr_dev_\*\*\*\*[0-9a-f]{{4}}'",
    ),
    case(
        "accept_key-bytes",
        lambda c: c.api.accept_key(KEY.encode()),  # type: ignore[arg-type]
        ValueError,
        rf"key must be a secret key: {KEY_RULE}; got '<bytes>'",
    ),
    case(
        "accept_key-None",
        lambda c: c.api.accept_key(None),  # type: ignore[arg-type]
        ValueError,
        rf"key must be a secret key: {KEY_RULE}; got '<NoneType>'",
    ),
    case(
        "accept_key-environment-empty",
        lambda c: c.api.accept_key(KEY, environment=""),
        ValueError,
        r"environment must be a non-empty string or None; got ''",
    ),
    case(
        "accept_key-environment-int",
        lambda c: c.api.accept_key(KEY, environment=1),  # type: ignore[arg-type]
        ValueError,
        r"environment must be a non-empty string or None; got 1",
    ),
    case(
        "accept_key-environment-upper-case",
        lambda c: c.api.accept_key(KEY, environment="Dev"),
        ValueError,
        r"environment names are lower case, .*: 'dev'; got 'Dev'",
    ),
    case(
        "api-base_url-ftp",
        lambda c: TriggerApi(base_url="ftp://api.trigger.dev"),
        ValueError,
        r"base_url must be an http\(s\) URL such as 'https://api.trigger.dev'; "
        r"got 'ftp://api.trigger.dev'",
    ),
    case(
        "api-base_url-without-scheme",
        lambda c: TriggerApi(base_url="api.trigger.dev"),
        ValueError,
        r"base_url must be an http\(s\) URL such as 'https://api.trigger.dev'; "
        r"got 'api.trigger.dev'",
    ),
    case(
        "api-base_url-query",
        lambda c: TriggerApi(base_url="https://api.trigger.dev?x=1"),
        ValueError,
        r"base_url must not have a query or fragment; got 'https://api.trigger.dev\?x=1'",
    ),
    case(
        "api-base_url-port",
        lambda c: TriggerApi(base_url="https://api.trigger.dev:99999"),
        ValueError,
        r"base_url must have a port from 0 to 65535, if any; got 'https://api.trigger.dev:99999'",
    ),
    case(
        "api-base_url-None",
        lambda c: TriggerApi(base_url=None),  # type: ignore[arg-type]
        ValueError,
        r"base_url must be an http\(s\) URL such as 'https://api.trigger.dev'; got None",
    ),
    case(
        "api-secret_key-malformed",
        lambda c: TriggerApi(secret_key="sk_test_123"),
        ValueError,
        rf"secret_key must be a secret key: {KEY_RULE}; got 'sk_test_\*\*\*\*[0-9a-f]{{4}}'",
    ),
    case(
        "api-secret_key-empty",
        lambda c: MockTriggerApi(secret_key=""),
        ValueError,
        rf"secret_key must be a secret key: {KEY_RULE}; got '\*\*\*\*[0-9a-f]{{4}}'",
    ),
]

# -- assertion helpers with bad arguments ----------------------------------------------

RESPONSE_404 = httpx.Response(404, json={"error": "Not found"})
ASSERTIONS = [
    case(
        "assert_retrieved-times-negative",
        lambda c: c.api.assert_retrieved(c.batch, times=-1),
        ValueError,
        r"times must be a whole number >= 0; got -1",
    ),
    case(
        "assert_retrieved-times-True",
        lambda c: c.api.assert_retrieved(c.batch, times=True),
        ValueError,
        r"times must be a whole number >= 0; got True",
    ),
    case(
        "assert_retrieved-times-str",
        lambda c: c.api.assert_retrieved(c.batch, times="1"),  # type: ignore[arg-type]
        ValueError,
        r"times must be a whole number >= 0; got '1'",
    ),
    case(
        "assert_retrieved-batch-None",
        lambda c: c.api.assert_retrieved(None),  # type: ignore[arg-type]
        TypeError,
        r"batch must be a batch id, a TriggerBatch or a handle; got None",
    ),
    case(
        "assert_retrieved-batch-empty",
        lambda c: c.api.assert_retrieved(""),
        TypeError,
        r"batch must be a batch id, a TriggerBatch or a handle; got ''",
    ),
    case(
        "assert_retrieved-batch-payload",
        lambda c: c.api.assert_retrieved(c.payloads["failed"]),  # type: ignore[arg-type]
        TypeError,
        r"batch must be a batch id, a TriggerBatch or a handle; got \{'id'",
    ),
    case(
        "assert_retrieved-typo-times-0",
        lambda c: c.api.assert_retrieved("bacth_" + c.batch.id[6:], times=0),
        ValueError,
        r"batch must be a batch id such as 'batch_cmx0ugyuv00004a7d2bda9ln4', a TriggerBatch "
        r"or a handle; got 'bacth_\w+', which is not registered and was never requested",
    ),
    case(
        "assert_not_retrieved-typo",
        lambda c: c.api.assert_not_retrieved(c.batch.id.upper()),
        ValueError,
        r"batch must be a batch id such as .*; got 'BATCH_\w+', which is not registered",
    ),
    case(
        "retrievals-int",
        lambda c: c.api.retrievals(5),  # type: ignore[arg-type]
        TypeError,
        r"batch must be a batch id, a TriggerBatch or a handle; got 5",
    ),
    case(
        "assert_run_counts-nothing-expected",
        lambda c: assert_run_counts(c.batch),
        TypeError,
        r"assert_run_counts needs at least one of total=, successful=, failed=",
    ),
    case(
        "assert_run_counts-total-str",
        lambda c: assert_run_counts(c.batch, total="10"),  # type: ignore[arg-type]
        TypeError,
        r"total must be a whole number >= 0; got '10'",
    ),
    case(
        "assert_run_counts-failed-True",
        lambda c: assert_run_counts(c.batch, failed=True),
        TypeError,
        r"failed must be a whole number >= 0; got True",
    ),
    case(
        "assert_run_counts-successful-negative",
        lambda c: assert_run_counts(c.batch, successful=-8),
        ValueError,
        r"successful must be a whole number >= 0; got -8",
    ),
    case(
        "assert_run_counts-batch-None",
        lambda c: assert_run_counts(None, total=10),  # type: ignore[arg-type]
        TypeError,
        r"batch must be a TriggerBatch, a payload dict or an httpx.Response; got None",
    ),
    case(
        "assert_run_counts-batch-id",
        lambda c: assert_run_counts(c.batch.id, total=10),  # type: ignore[arg-type]
        TypeError,
        r"batch must be a TriggerBatch, a payload dict or an httpx.Response; got 'batch_",
    ),
    case(
        "assert_run_counts-not-a-payload",
        lambda c: assert_run_counts({"error": "Not found"}, total=10),
        AssertionError,
        r"not a batch payload \(missing or malformed 'id'\)",
    ),
    case(
        "assert_run_counts-404-response",
        lambda c: assert_run_counts(RESPONSE_404, total=10),
        AssertionError,
        r"expected a batch, but the response is HTTP 404: \{\"error\":\s?\"Not found\"\}",
    ),
    case(
        "assert_batch_errors-nothing-expected",
        lambda c: assert_batch_errors(c.batch),
        TypeError,
        r"assert_batch_errors needs at least one of count=, indices=, task_identifier=, "
        r"error_code=",
    ),
    case(
        "assert_batch_errors-count-negative",
        lambda c: assert_batch_errors(c.batch, count=-1),
        ValueError,
        r"count must be a whole number >= 0; got -1",
    ),
    case(
        "assert_batch_errors-count-str",
        lambda c: assert_batch_errors(c.batch, count="2"),  # type: ignore[arg-type]
        TypeError,
        r"count must be a whole number >= 0; got '2'",
    ),
    case(
        "assert_batch_errors-indices-int",
        lambda c: assert_batch_errors(c.batch, indices=3),  # type: ignore[arg-type]
        TypeError,
        r"indices must be a collection of item indices; got 3",
    ),
    case(
        "assert_batch_errors-indices-str",
        lambda c: assert_batch_errors(c.batch, indices="13"),
        TypeError,
        r"indices must be a collection of item indices; got '13'",
    ),
    case(
        "assert_batch_errors-indices-of-str",
        lambda c: assert_batch_errors(c.batch, indices=["1", 3]),  # type: ignore[list-item]
        TypeError,
        r"every index in indices must be a whole number >= 0; got '1'",
    ),
    case(
        "assert_batch_errors-error_code-unknown",
        lambda c: assert_batch_errors(c.batch, error_code="BOOM"),
        ValueError,
        rf"error_code must be one of {CODES}; got 'BOOM'",
    ),
    case(
        "assert_batch_errors-error_code-lower-case",
        lambda c: assert_batch_errors(c.batch, error_code="trigger_error"),
        ValueError,
        rf"error_code must be one of {CODES}; got 'trigger_error' \(codes are upper case: "
        r"'TRIGGER_ERROR'\)",
    ),
    case(
        "assert_batch_errors-task_identifier-empty",
        lambda c: assert_batch_errors(c.batch, task_identifier=""),
        TypeError,
        r"task_identifier must be a task id \(a string\); got ''",
    ),
]


def group(prefix: str, cases: list[Any]) -> list[Any]:
    return [pytest.param(*c.values, id=f"{prefix}-{c.id}") for c in cases]


# -- the set-up methods of triggering and runs ----------------------------------------------

WORKFLOW = [
    case(
        "on_item-outcome",
        lambda c: c.api.on_item(outcome="fails"),
        ValueError,  # type: ignore[arg-type]
        r"outcome must be one of created, trigger_failure, queue_limit",
    ),
    case(
        "on_item-task",
        lambda c: c.api.on_item(outcome="created", task=""),
        ValueError,
        r"task must be a task identifier or None",
    ),
    case(
        "on_item-index",
        lambda c: c.api.on_item(outcome="created", index=-1),
        ValueError,
        r"index must be a whole number >= 0",
    ),
    case(
        "on_run-outcome",
        lambda c: c.api.on_run(outcome="DONE"),
        ValueError,
        r"outcome must be one of COMPLETED, FAILED, CRASHED, SYSTEM_FAILURE, TIMED_OUT",
    ),
    case(
        "on_run-task",
        lambda c: c.api.on_run(outcome="FAILED", task=3),
        ValueError,  # type: ignore[arg-type]
        r"task must be a task identifier or None",
    ),
    case(
        "on_run-index",
        lambda c: c.api.on_run(outcome="FAILED", index=True),
        TypeError,  # type: ignore[arg-type]
        r"index must be a whole number",
    ),
    case(
        "on_run-error",
        lambda c: c.api.on_run(outcome="FAILED", error={"msg": 1}),
        TypeError,
        r'error must be \{"message": str, \.\.\.\} or None',
    ),
    case(
        "on_run-output-not-completed",
        lambda c: c.api.on_run(outcome="FAILED", output=1),
        ValueError,
        r"output applies to outcome='COMPLETED' only",
    ),
    case(
        "on_run-output-json",
        lambda c: c.api.on_run(outcome="COMPLETED", output={1, 2}),
        TypeError,
        r"output must be JSON-serializable",
    ),
    case(
        "progression",
        lambda c: setattr(c.api, "progression", "later"),
        ValueError,
        r"progression must be one of per_poll, held, immediate",
    ),
    case(
        "advance-unknown",
        lambda c: c.api.advance("batch_cmx0ugyuv00004a7d2bda9ln4"),
        ValueError,
        r"batch must be a registered or triggered batch",
    ),
    case(
        "advance-to",
        lambda c: c.api.advance(c.api.add_batch(c.batch), to="done"),
        ValueError,
        r"to must be one of PENDING, PROCESSING",
    ),
    case(
        "advance-unreachable",
        lambda c: c.api.advance(c.api.add_batch(c.batch), to="PENDING"),
        ValueError,
        r"to='PENDING' is not a state batch_\w+ reaches from COMPLETED",
    ),
    case(
        "run-unknown",
        lambda c: c.api.run("run_nope"),
        ValueError,
        r"run_id must be the id of a run the mock created",
    ),
    case(
        "public_token-scopes-str",
        lambda c: c.api.public_token(scopes="read:all"),
        TypeError,  # type: ignore[arg-type]
        r"scopes must be a list of scope strings",
    ),
    case(
        "public_token-scopes-empty",
        lambda c: c.api.public_token(scopes=[""]),
        ValueError,
        r"scopes must be non-empty strings such as 'read:runs'",
    ),
    case(
        "public_token-expires_in",
        lambda c: c.api.public_token(scopes=["admin"], expires_in=0),
        ValueError,
        r"expires_in must be a number of seconds > 0",
    ),
    case(
        "public_token-key",
        lambda c: c.api.public_token(scopes=["admin"], secret_key="sk_x"),
        ValueError,
        r"secret_key must be a key the API accepts",
    ),
    case(
        "add_route-method",
        lambda c: c.api.add_route("TRACE", "/api/v1/x"),
        ValueError,
        r"method must be one of GET, POST, PUT, PATCH, DELETE",
    ),
    case(
        "add_route-path",
        lambda c: c.api.add_route("GET", "v1/x"),
        ValueError,
        r"path must be a path template under /api/",
    ),
    case(
        "add_route-status",
        lambda c: c.api.add_route("GET", "/api/v1/x", status_code=700),
        ValueError,
        r"status_code must be an HTTP status \(100 to 599\)",
    ),
    case(
        "add_route-json",
        lambda c: c.api.add_route("GET", "/api/v1/x", json={1, 2}),
        TypeError,
        r"json must be JSON-serializable",
    ),
    case(
        "assert_triggered-count",
        lambda c: c.api.assert_triggered(count=-1),
        ValueError,
        r"count must be a whole number >= 0",
    ),
    case(
        "assert_triggered-payloads",
        lambda c: c.api.assert_triggered(payloads="x"),
        TypeError,  # type: ignore[arg-type]
        r"payloads must be a list of payloads",
    ),
    case(
        "fail_next-when",
        lambda c: c.api.fail_next("timeout", when="during"),
        ValueError,
        r"when must be 'before' or 'after'",
    ),
    case(
        "fail_next-when-kind",
        lambda c: c.api.fail_next("server_error", when="after"),
        ValueError,
        r"when='after' applies to fault='timeout' or 'connect_error'",
    ),
    case(
        "add_batch-runs",
        lambda c: c.api.add_batch(c.batch, runs=["run_x"]),
        ValueError,  # type: ignore[list-item]
        r"runs\[0\] must be a TriggerRun of a run the batch lists",
    ),
    case(
        "check_ids",
        lambda c: c.api.add_batch(c.batch, check_ids="no"),
        TypeError,  # type: ignore[arg-type]
        r"check_ids must be True or False",
    ),
    case(
        "clock",
        lambda c: setattr(c.api, "clock", 3),
        TypeError,
        r"clock must be a callable returning seconds since the epoch",
    ),
    case(
        "factory-run-status",
        lambda c: c.factory.run("DONE"),
        ValueError,
        r"status must be one of QUEUED, DELAYED, EXECUTING",
    ),
]

ALL_CALLS = (
    group("factory", FACTORY)
    + group("payload", PAYLOADS)
    + group("add_batch", ADD_BATCH)
    + SETTINGS
    + ASSERTIONS
    + group("workflow", WORKFLOW)
)


@pytest.mark.parametrize(("call", "error", "match"), ALL_CALLS)
def test_an_invalid_call_is_refused(
    ctx: Ctx, call: Call, error: type[BaseException], match: str
) -> None:
    batches_before = [h.id for h in ctx.api.batches]
    with pytest.raises(error, match=match) as raised:
        call(ctx)
    assert type(raised.value) is error, f"{type(raised.value).__name__}: {raised.value}"
    assert str(raised.value).strip(), "an error without a message"
    assert [h.id for h in ctx.api.batches] == batches_before, "a refused call left state behind"
    assert KEY not in str(raised.value)


def test_the_table_is_large_and_its_ids_unique() -> None:
    ids = [p.id for p in ALL_CALLS]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    options = set(BatchFactory.__call__.__annotations__) - {"return"}
    assert options <= {i.split("-")[1] for i in ids}
    print(f"\n{len(ids)} invalid calls, {len(REQUESTS)} malformed requests")


# -- malformed batch ids and keys in REQUESTS: answered like the real API --------------

NOT_FOUND = {"error": "Not found"}
INVALID_KEY = {"error": "Invalid API key"}
NO_HEADER = {
    "title": "Unauthorized",
    "status": 401,
    "type": "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/401",
    "detail": "No authorization header provided",
    "error": "No authorization header provided",
}
REAL = "{real}"  # replaced by the registered batch's id


def req(name: str, path: str, headers: dict[str, str] | None, status: int, body: object) -> Any:
    return pytest.param(path, headers, status, body, id=name)


AUTH = {"Authorization": f"Bearer {KEY}"}
REQUESTS = [
    req("id-too-short", "/api/v1/batches/batch_123", AUTH, 404, NOT_FOUND),
    req("id-without-prefix", "/api/v1/batches/cmx0ugyuv00004a7d2bda9ln4", AUTH, 404, NOT_FOUND),
    req("id-well-formed-unknown", f"/api/v1/batches/{WELL_FORMED_ID}", AUTH, 404, NOT_FOUND),
    req("id-upper-case", "/api/v1/batches/{REAL_UPPER}", AUTH, 404, NOT_FOUND),
    req("id-with-suffix", "/api/v1/batches/{real}x", AUTH, 404, NOT_FOUND),
    req("id-run-id", "/api/v1/batches/run_cmx0ugyuv00014a7da3uz70rc", AUTH, 404, NOT_FOUND),
    req("id-unicode", "/api/v1/batches/batch_\u00e9t\u00e9", AUTH, 404, NOT_FOUND),
    req("id-percent-encoded-space", "/api/v1/batches/batch%20x", AUTH, 404, NOT_FOUND),
    req("id-v2-unknown", "/api/v2/batches/batch_nope", AUTH, 404, NOT_FOUND),
    req("no-authorization", "/api/v1/batches/{real}", None, 401, NO_HEADER),
    req("no-authorization-v2", "/api/v2/batches/{real}", None, 401, NO_HEADER),
    req(
        "key-too-short",
        "/api/v1/batches/{real}",
        {"Authorization": "Bearer tr_dev_abc"},
        401,
        INVALID_KEY,
    ),
    req(
        "key-unknown-env",
        "/api/v1/batches/{real}",
        {"Authorization": "Bearer tr_live_" + "a" * 22},
        401,
        INVALID_KEY,
    ),
    req(
        "key-Basic-scheme",
        "/api/v1/batches/{real}",
        {"Authorization": f"Basic {KEY}"},
        401,
        INVALID_KEY,
    ),
    req(
        "key-empty-Bearer",
        "/api/v1/batches/{real}",
        {"Authorization": "Bearer "},
        401,
        {"error": "Invalid or Missing API key"},
    ),
    req(
        "key-trailing-junk",
        "/api/v1/batches/{real}",
        {"Authorization": f"Bearer {KEY}!"},
        401,
        INVALID_KEY,
    ),
    req(
        "key-public-key",
        "/api/v1/batches/{real}",
        {"Authorization": "Bearer pk_dev_" + "a" * 22},
        401,
        INVALID_KEY,
    ),
    req(
        "key-jwt",
        "/api/v1/batches/{real}",
        {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"},
        401,
        INVALID_KEY,
    ),
    req(
        "key-not-pinned",
        "/api/v1/batches/{real}",
        {"Authorization": "Bearer tr_dev_" + "Z" * 24},
        401,
        INVALID_KEY,
    ),
]


@pytest.mark.parametrize(("path", "headers", "status", "body"), REQUESTS)
def test_a_malformed_request_is_answered_like_the_real_api(
    mock_trigger_api: MockTriggerApi,
    trigger_batch_factory: BatchFactory,
    path: str,
    headers: dict[str, str] | None,
    status: int,
    body: object,
) -> None:
    batch = mock_trigger_api.add_batch(trigger_batch_factory("COMPLETED"))
    if "tr_dev_ZZZZ" in str(headers):
        mock_trigger_api.accept_key(KEY)  # pinned: only KEY opens the door now
    path = path.replace("{real}", batch.id).replace("{REAL_UPPER}", batch.id.upper())
    with httpx.Client() as client:
        response = client.get("https://api.trigger.dev" + path, headers=headers)
    assert (response.status_code, response.json()) == (status, body)
    if body is NO_HEADER:  # the limiter's own 401: before any bucket
        assert response.headers["content-type"] == "application/problem+json; charset=utf-8"
        assert "x-ratelimit-limit" not in response.headers
    else:
        assert response.headers["x-ratelimit-limit"] == "750"
    if status == 404:
        assert response.headers["x-should-retry"] == "true"
    (call,) = mock_trigger_api.calls
    assert (call.status_code, call.outcome) == (status, "answered")
    assert batch.served == 0, "a refused request must not advance the batch's lifecycle"


# -- bad marker arguments, --trigger-seed and ini values (through pytest itself) -------

# Inner runs: no reordering, and no hypothesis plugin (it imports hypothesis, over a
# second, into every in-process run: pytester forgets the modules a run imported).
INNER = ("-p", "no:randomly", "-p", "no:hypothesispytest")
MARKED = "import pytest\n\n{marker}\ndef test_app({fixture}):\n    pass\n"
FACTORY_MARK = "*@pytest.mark.trigger_batch({args}): {message}*"
MARKERS = [
    pytest.param(
        '@pytest.mark.trigger_batch("completed")',
        "mock_trigger_api",
        FACTORY_MARK.format(
            args="'completed'",
            message=f"status must be one of {STATUSES}; got 'completed' (statuses are upper*",
        ),
        id="trigger_batch-status-lower-case",
    ),
    pytest.param(
        '@pytest.mark.trigger_batch(status="DONE")',
        "trigger_batch",
        FACTORY_MARK.format(
            args="status='DONE'", message=f"status must be one of {STATUSES}; got 'DONE'"
        ),
        id="trigger_batch-status-unknown",
    ),
    pytest.param(
        '@pytest.mark.trigger_batch("COMPLETED", progress_after=-1)',
        "mock_trigger_api",
        FACTORY_MARK.format(
            args="'COMPLETED', progress_after=-1",
            message="progress_after must be a whole number from 0 to 1000; got -1",
        ),
        id="trigger_batch-progress_after-negative",
    ),
    pytest.param(
        '@pytest.mark.trigger_batch("COMPLETED", environment=5)',
        "mock_trigger_api",
        FACTORY_MARK.format(
            args="'COMPLETED', environment=5",
            message="environment must be a non-empty string or None; got 5",
        ),
        id="trigger_batch-environment-int",
    ),
    pytest.param(
        '@pytest.mark.trigger_batch("COMPLETED", environment="Prod")',
        "mock_trigger_api",
        FACTORY_MARK.format(
            args="'COMPLETED', environment='Prod'",
            message="environment names are lower case, as in the key prefix *: 'prod'; got 'Prod'",
        ),
        id="trigger_batch-environment-upper-case",
    ),
    pytest.param(
        '@pytest.mark.trigger_batch("COMPLETED", "PENDING")',
        "mock_trigger_api",
        FACTORY_MARK.format(
            args="'COMPLETED', 'PENDING'",
            message="takes one positional argument (the status); got 2",
        ),
        id="trigger_batch-two-statuses",
    ),
    pytest.param(
        '@pytest.mark.trigger_batch("COMPLETED", colour="red")',
        "mock_trigger_api",
        FACTORY_MARK.format(
            args="'COMPLETED', colour='red'",
            message="unknown option colour; the options are status, run_count, *, progress_after",
        ),
        id="trigger_batch-unknown-option",
    ),
    pytest.param(
        '@pytest.mark.trigger_batch(status="COMPLETED", run_count=0)',
        "mock_trigger_api",
        FACTORY_MARK.format(
            args="status='COMPLETED', run_count=0",
            message="run_count must be a whole number from 1 to 1000; got 0",
        ),
        id="trigger_batch-run_count-0",
    ),
    pytest.param(
        '@pytest.mark.trigger_batch("ABORTED", run_count=4, failed_count=2)',
        "mock_trigger_api",
        FACTORY_MARK.format(
            args="'ABORTED', run_count=4, failed_count=2",
            message="failed_count for a ABORTED batch of 4 items must be 4 (every item); got 2",
        ),
        id="trigger_batch-failed_count-out-of-range",
    ),
    pytest.param(
        '@pytest.mark.trigger_batch("COMPLETED", batch_id="")',
        "mock_trigger_api",
        FACTORY_MARK.format(
            args="'COMPLETED', batch_id=''",
            message="batch_id must be 'batch_' + a 25-char cuid, 21-char nanoid, *; got ''*",
        ),
        id="trigger_batch-batch_id-empty",
    ),
    pytest.param(
        '@pytest.mark.trigger_batch("PENDING", run_count=0)',
        "trigger_api_server",
        FACTORY_MARK.format(
            args="'PENDING', run_count=0",
            message="run_count must be a whole number from 1 to 1000; got 0",
        ),
        id="trigger_batch-on-the-server-fixture",
    ),
    pytest.param(
        "",
        "trigger_batch",
        "*the trigger_batch fixture needs a @pytest.mark.trigger_batch(status=...) marker*",
        id="trigger_batch-fixture-without-marker",
    ),
    pytest.param(
        '@pytest.mark.trigger_api("https://api.example")',
        "mock_trigger_api",
        "*@pytest.mark.trigger_api('https://api.example'): the options are keyword-only "
        "(base_url=..., clock=...); got 1 positional argument*",
        id="trigger_api-positional",
    ),
    pytest.param(
        '@pytest.mark.trigger_api(url="https://api.example")',
        "mock_trigger_api",
        "*@pytest.mark.trigger_api(url='https://api.example'): unknown option url; "
        "the options are base_url, clock*",
        id="trigger_api-unknown-argument",
    ),
    pytest.param(
        '@pytest.mark.trigger_api(base_url="ftp://api.example")',
        "mock_trigger_api",
        "*@pytest.mark.trigger_api(base_url=...): base_url must be an http(s) URL such as "
        "'https://api.trigger.dev'; got 'ftp://api.example'*",
        id="trigger_api-base_url-ftp",
    ),
    pytest.param(
        "@pytest.mark.trigger_api(base_url=5)",
        "mock_trigger_api",
        "*@pytest.mark.trigger_api(base_url=...): base_url must be an http(s) URL *; got 5*",
        id="trigger_api-base_url-int",
    ),
    pytest.param(
        "@pytest.mark.trigger_api(clock=5)",
        "trigger_api_server",
        "*@pytest.mark.trigger_api(clock=5): clock must be a callable returning seconds since "
        "the epoch (like time.time), or None for the wall clock; got 5*",
        id="trigger_api-clock-int",
    ),
]


@pytest.mark.parametrize(("marker", "fixture", "line"), MARKERS)
def test_a_bad_marker_errors_the_test_naming_the_parameter(
    pytester: pytest.Pytester, marker: str, fixture: str, line: str
) -> None:
    pytester.makepyfile(MARKED.format(marker=marker, fixture=fixture))
    result = pytester.runpytest(*INNER)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([brackets(line)])


def brackets(line: str) -> str:
    """fnmatch reads `[...]` as a set of characters: match them literally."""
    return line.replace("[", "[[]")


SEEDS = ["abc", "", "1.5", "0x10"]


@pytest.mark.parametrize("seed", SEEDS, ids=[f"trigger-seed-{s or 'empty'}" for s in SEEDS])
def test_a_bad_trigger_seed_is_a_usage_error(pytester: pytest.Pytester, seed: str) -> None:
    pytester.makepyfile("def test_app(trigger_batch_factory):\n    pass\n")
    result = pytester.runpytest(*INNER, f"--trigger-seed={seed}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*argument --trigger-seed: invalid int value: '{seed}'*"])
    assert "passed" not in result.stdout.str()


ORIGINS = [
    pytest.param(
        "ini",
        "ftp://api.example",
        "*the trigger_api_url ini option: base_url must be an http(s) URL such as "
        "'https://api.trigger.dev'; got 'ftp://api.example'*",
        id="ini-trigger_api_url-ftp",
    ),
    pytest.param(
        "ini",
        "api.trigger.dev",
        "*the trigger_api_url ini option: base_url must be an http(s) URL *; "
        "got 'api.trigger.dev'*",
        id="ini-trigger_api_url-without-scheme",
    ),
    pytest.param(
        "ini",
        "https://api.example/?region=eu",
        "*the trigger_api_url ini option: base_url must not have a query or fragment; "
        "got 'https://api.example/?region=eu'*",
        id="ini-trigger_api_url-query",
    ),
    pytest.param(
        "env",
        "localhost:3030",
        "*the TRIGGER_API_URL environment variable: base_url must be an http(s) URL *; "
        "got 'localhost:3030'*",
        id="env-TRIGGER_API_URL-without-scheme",
    ),
]


@pytest.mark.parametrize(("where", "value", "line"), ORIGINS)
def test_a_bad_origin_setting_errors_the_test_naming_its_source(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, where: str, value: str, line: str
) -> None:
    monkeypatch.delenv("TRIGGER_API_URL", raising=False)
    if where == "ini":
        pytester.makeini(f"[pytest]\ntrigger_api_url = {value}\n")
    else:
        monkeypatch.setenv("TRIGGER_API_URL", value)
    pytester.makepyfile("def test_app(mock_trigger_api):\n    pass\n")
    result = pytester.runpytest(*INNER)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([line])


def test_a_misspelt_ini_option_is_refused_under_strict_config(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\ntrigger_api_uri = https://api.example\n")
    pytester.makepyfile("def test_app(mock_trigger_api):\n    pass\n")
    result = pytester.runpytest(*INNER, "--strict-config")
    assert result.ret != pytest.ExitCode.OK
    result.stderr.fnmatch_lines(["*nknown config option: trigger_api_uri*"])


# -- issue 13: the inputs that used to escape as KeyError, RecursionError, ... --------


def _deep(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


def _issue_13_cases() -> list[Any]:
    import httpx

    from pytest_trigger_batches import BatchFactory, TriggerBatch, assert_run_counts
    from pytest_trigger_batches import assert_batch_errors as errors_of
    from pytest_trigger_batches.mock import MockTriggerApi
    from pytest_trigger_batches.server import TriggerApiServer

    batch = BatchFactory(seed=3)("PARTIAL_FAILED")
    v1, v2 = batch.to_payload(), batch.to_payload(version=2)
    entry = v1["errors"][0]
    not_json = httpx.Response(200, content=b"<html>oops</html>")

    def v2_with(**processing: object) -> dict[str, Any]:
        return {**v2, "processing": {**v2["processing"], **processing}}

    def replace(**changes: object) -> object:
        import dataclasses

        return dataclasses.replace(batch, **changes)

    cases = [
        ("created_at-None", lambda: replace(created_at=None), TypeError, "created_at must be"),
        ("runs-None", lambda: replace(runs=None), TypeError, "runs must be a sequence"),
        ("errors-None", lambda: replace(errors=None), TypeError, "errors must be a sequence"),
        (
            "error-entry-missing-index",
            lambda: TriggerBatch.from_payload(
                {**v1, "errors": [{k: v for k, v in entry.items() if k != "index"}]}
            ),
            ValueError,
            r"errors\[0\]\.index is missing",
        ),
        (
            "v2-error-entry-missing-task",
            lambda: TriggerBatch.from_payload(v2_with(errors=[{"index": 0, "error": "x"}])),
            ValueError,
            r"processing\.errors\[0\]\.taskIdentifier is missing",
        ),
        *[
            (
                f"deep-{field}",
                lambda field=field: TriggerBatch.from_payload({**v1, field: _deep(2000)}),
                None,  # ValueError or TypeError, as the field is
                field,
            )
            for field in (
                "id",
                "status",
                "runs",
                "errors",
                "idempotencyKey",
                "createdAt",
                "runCount",
            )
        ],
        (
            "deep-add_batch",
            lambda: MockTriggerApi().add_batch({**v1, "runs": [_deep(2000)]}),
            ValueError,
            "runs",
        ),
        (
            "huge-status",
            lambda: TriggerBatch.from_payload({**v1, "status": "x" * 10**6}),
            ValueError,
            "status",
        ),
        (
            "huge-id",
            lambda: TriggerBatch.from_payload({**v1, "id": "batch_" + "x" * 10**6}),
            ValueError,
            "id must be",
        ),
        (
            "base_url-unclosed-ipv6",
            lambda: MockTriggerApi(base_url="https://[::1"),
            ValueError,
            "base_url must be",
        ),
        ("server-host-int", lambda: TriggerApiServer(host=5), TypeError, "host must be"),  # type: ignore[arg-type]
        (
            "server-host-unresolvable",
            lambda: TriggerApiServer(host="no-such-host.invalid"),
            ValueError,
            "host must be",
        ),
        (
            "rate_limit-interval-1e306",
            lambda: MockTriggerApi().rate_limit(interval=1e306),
            ValueError,
            "interval must be",
        ),
        (
            "fail_next-reset_after-1e306",
            lambda: MockTriggerApi().fail_next("rate_limit", reset_after=1e306),
            ValueError,
            "reset_after must be",
        ),
        (
            "rate_limit-limit-10**5000",
            lambda: MockTriggerApi().rate_limit(limit=10**5000),
            ValueError,
            "limit must be",
        ),
        (
            "assert_run_counts-not-json",
            lambda: assert_run_counts(not_json, total=1),
            ValueError,
            "not JSON",
        ),
        (
            "assert_batch_errors-not-json",
            lambda: errors_of(not_json, count=1),
            ValueError,
            "not JSON",
        ),
        (
            "to_payload-version-True",
            lambda: batch.to_payload(version=True),
            ValueError,
            "version must be",
        ),  # type: ignore[arg-type]
        ("factory-seed-huge", lambda: BatchFactory(seed=10**5000), ValueError, "seed must be"),
        (
            "progress_after-1001",
            lambda: MockTriggerApi().add_batch(batch, progress_after=1001),
            ValueError,
            "progress_after must be a whole number from 0 to 1000",
        ),
        (
            "v2-completedAt-invalid",
            lambda: TriggerBatch.from_payload(v2_with(completedAt="soon")),
            ValueError,
            r"processing\.completedAt must be",
        ),
        (
            "v2-completedAt-inconsistent",
            lambda: TriggerBatch.from_payload(v2_with(completedAt="2020-01-01T00:00:00.000Z")),
            ValueError,
            "must equal processingCompletedAt",
        ),
        (
            "v2-completedAt-missing",
            lambda: TriggerBatch.from_payload(
                {**v2, "processing": {"errors": v2["processing"]["errors"]}}
            ),
            ValueError,
            r"processing\.completedAt is missing",
        ),
        (
            "fail_next-unregistered-batch_id",
            lambda: MockTriggerApi().fail_next(
                "timeout", batch_id="batch_cmx0ugyuv00004a7d2bda9ln4"
            ),
            ValueError,
            "batch_id must be a registered batch",
        ),
    ]
    return [pytest.param(call, error, match, id=name) for name, call, error, match in cases]


ISSUE_13_CASES = _issue_13_cases()


@pytest.mark.parametrize(("call", "error", "match"), ISSUE_13_CASES)
def test_issue_13_inputs_get_a_short_error_naming_the_parameter(
    call: Callable[[], object], error: type[BaseException] | None, match: str
) -> None:
    with pytest.raises((ValueError, TypeError)) as raised:
        call()
    assert error is None or type(raised.value) is error, (
        f"{type(raised.value).__name__}: {raised.value!s:.300}"
    )
    assert re.search(match, str(raised.value)), str(raised.value)[:300]
    assert len(str(raised.value)) < 1000, "the message echoes the whole input"


def test_a_deeply_nested_batches_file_exits_2(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(SystemExit) as exited:
        cli_main(["serve", "--port", "0", "--batches-file", str(path)])
    assert exited.value.code == 2
    assert "nested too deeply" in capsys.readouterr().err
