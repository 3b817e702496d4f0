"""The factory's options for a batch's shape: status, counts, error codes, flavours."""

from __future__ import annotations

import pytest

from contract.cases import CODES, STATUSES, Call, Ctx, Error, case, refused

SHAPES = [
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
    case("status-int", lambda c: c.factory(3), ValueError, rf"status must be one of {STATUSES}"),  # type: ignore[arg-type]
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
        lambda c: c.factory(run_count="10"),  # type: ignore[arg-type]
        TypeError,
        r"run_count must be a whole number from 1 to 1000; got '10'",
    ),
    case(
        "run_count-float",
        lambda c: c.factory(run_count=10.0),  # type: ignore[arg-type]
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
        lambda c: c.factory("COMPLETED", failed_count="1"),  # type: ignore[arg-type]
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
        lambda c: c.factory(runs_created=1),  # type: ignore[arg-type]
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
        lambda c: c.factory(legacy=1),  # type: ignore[arg-type]
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
        "lifecycle-bad-status",
        lambda c: c.factory.lifecycle("complete"),
        ValueError,
        rf"status must be one of {STATUSES}; got 'complete'",
    ),
    case(
        "factory-run-status",
        lambda c: c.factory.run("DONE"),
        ValueError,
        r"status must be one of QUEUED, DELAYED, EXECUTING",
    ),
    case(
        "factory-run-delayed_until-before-creation",
        lambda c: c.factory.run(
            "DELAYED", created_at="2026-01-05T10:00:00Z", delayed_until="2026-01-05T09:00:00Z"
        ),
        ValueError,
        r"delayed_until must be after created_at \(2026-01-05T10:00:00\+00:00\); "
        r"got 2026-01-05T09:00:00\+00:00",
    ),
    case(
        "factory-run-idempotency_key-empty",
        lambda c: c.factory.run("COMPLETED", idempotency_key=""),
        ValueError,
        r"idempotency_key must be None, True \(generate one\) or a string of 1 to 2048",
    ),
    case(
        "factory-runs_of-idempotency_key-count",
        lambda c: c.factory.runs_of(c.factory("COMPLETED", run_count=2), idempotency_key=["a"]),
        ValueError,
        r"idempotency_key must be True, None or a list of 2 keys \(one for each run the "
        r"batch lists, None for none\); got \['a'\]",
    ),
]


@pytest.mark.parametrize(("call", "error", "match"), SHAPES)
def test_the_factory_refuses_an_impossible_shape_naming_the_option(
    ctx: Ctx, call: Call, error: Error, match: str
) -> None:
    refused(ctx, call, error, match)
