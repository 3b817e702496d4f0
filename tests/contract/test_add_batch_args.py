"""`add_batch`: its arguments, sequences of states, `progress_after`, `environment`, `runs`."""

from __future__ import annotations

import pytest

from contract.cases import Call, Ctx, Error, case, deep, refused


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
        lambda c: c.api.add_batch([c.batch, "COMPLETED"]),  # type: ignore[list-item]
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
    case(
        "add_batch-runs",
        lambda c: c.api.add_batch(c.batch, runs=["run_x"]),  # type: ignore[list-item]
        ValueError,
        r"runs\[0\] must be a TriggerRun of a run the batch lists",
    ),
    case(
        "check_ids",
        lambda c: c.api.add_batch(c.batch, check_ids="no"),  # type: ignore[arg-type]
        TypeError,
        r"check_ids must be True or False",
    ),
    case(
        "progress_after-1001",
        lambda c: c.api.add_batch(c.batch, progress_after=1001),
        ValueError,
        r"progress_after must be a whole number from 0 to 1000",
    ),
    case(
        "runs-deeply-nested",
        lambda c: c.api.add_batch({**c.payloads["failed"], "runs": [deep(2000)]}),
        ValueError,
        r"runs",
    ),
]


@pytest.mark.parametrize(("call", "error", "match"), ADD_BATCH)
def test_add_batch_refuses_a_bad_argument_naming_it(
    ctx: Ctx, call: Call, error: Error, match: str
) -> None:
    refused(ctx, call, error, match)
