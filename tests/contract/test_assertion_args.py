"""The assertions (`assert_retrieved`, `assert_run_counts`, ...) refuse bad arguments."""

from __future__ import annotations

import httpx
import pytest

from contract.cases import CODES, Call, Ctx, Error, case, refused
from pytest_trigger_batches import assert_batch_errors, assert_run_counts

RESPONSE_404 = httpx.Response(404, json={"error": "Not found"})
NOT_JSON = httpx.Response(200, content=b"<html>oops</html>")

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
        lambda c: assert_batch_errors(c.batch, indices="13"),  # type: ignore[arg-type]
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
    case(
        "assert_triggered-count",
        lambda c: c.api.assert_triggered(count=-1),
        ValueError,
        r"count must be a whole number >= 0",
    ),
    case(
        "assert_triggered-payloads",
        lambda c: c.api.assert_triggered(payloads="x"),
        TypeError,
        r"payloads must be a list of payloads",
    ),
    case(
        "assert_triggered-answer",
        lambda c: c.api.assert_triggered(answer="accepted"),  # type: ignore[arg-type]
        ValueError,
        r"answer must be one of created, cached, deduplicated, refused, or None \(every "
        r"item\); got 'accepted'",
    ),
    case(
        "assert_run_counts-not-json",
        lambda c: assert_run_counts(NOT_JSON, total=1),
        ValueError,
        r"not JSON",
    ),
    case(
        "assert_batch_errors-not-json",
        lambda c: assert_batch_errors(NOT_JSON, count=1),
        ValueError,
        r"not JSON",
    ),
]


@pytest.mark.parametrize(("call", "error", "match"), ASSERTIONS)
def test_an_assertion_refuses_a_bad_argument_naming_it(
    ctx: Ctx, call: Call, error: Error, match: str
) -> None:
    refused(ctx, call, error, match)
