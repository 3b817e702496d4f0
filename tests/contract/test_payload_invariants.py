"""Payload dicts given to `add_batch` that break the platform's invariants: counts, runs, errors."""

from __future__ import annotations

import pytest

from contract.cases import INVALID, Call, Ctx, Error, case, drop, error_entry, payload, refused

INVARIANTS = [
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
        "one-error-entry-missing",
        payload("failed", lambda p: p["errors"].pop()),
        ValueError,
        r"one error entry per failed item: failedRunCount is 2, errors has 1",
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
]


@pytest.mark.parametrize(("call", "error", "match"), INVARIANTS)
def test_a_payload_that_breaks_an_invariant_is_refused_naming_it(
    ctx: Ctx, call: Call, error: Error, match: str
) -> None:
    refused(ctx, call, error, match)
