"""assert_run_counts and assert_batch_errors on every form a batch can take."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from pytest_trigger_batches.assertions import assert_batch_errors, assert_run_counts
from pytest_trigger_batches.factory import BatchFactory
from pytest_trigger_batches.model import TriggerBatch

FORMS: dict[str, Callable[[TriggerBatch], Any]] = {
    "batch": lambda b: b,
    "v1": lambda b: b.to_payload(),
    "v1-documented": lambda b: b.to_payload(shape="documented"),
    "v2": lambda b: b.to_payload(version=2),
    "response-v1": lambda b: httpx.Response(200, json=b.to_payload()),
    "response-v2": lambda b: httpx.Response(200, json=b.to_payload(version=2)),
}


@pytest.fixture(params=sorted(FORMS))
def form(request: pytest.FixtureRequest) -> Callable[[TriggerBatch], Any]:
    return FORMS[request.param]


@pytest.fixture
def partial() -> TriggerBatch:
    """7 of 10 runs created, 3 ITEM_ERROR failures spread over two task ids."""
    factory = BatchFactory(seed=11)
    for _ in range(200):
        batch = factory(
            "PARTIAL_FAILED",
            run_count=10,
            failed_count=3,
            task_identifier=["send-email", "resize-image"],
            error_code="ITEM_ERROR",
        )
        if {e.task_identifier for e in batch.errors} == {"send-email", "resize-image"}:
            return batch
    raise AssertionError("the factory never spread failures over both tasks")


# -- assert_run_counts --------------------------------------------------------------------


def test_run_counts_pass(partial: TriggerBatch, form: Callable[[TriggerBatch], Any]) -> None:
    batch = form(partial)
    assert_run_counts(batch, total=10, successful=7, failed=3)
    assert_run_counts(batch, total=10)
    assert_run_counts(batch, failed=3)


def test_run_counts_name_the_field_that_differs(
    partial: TriggerBatch, form: Callable[[TriggerBatch], Any]
) -> None:
    with pytest.raises(AssertionError) as caught:
        assert_run_counts(form(partial), total=10, successful=8, failed=2)
    message = str(caught.value)
    assert f"run counts of batch {partial.id} (PARTIAL_FAILED) differ" in message
    assert "successful: expected 8, actual 7" in message
    assert "failed: expected 2, actual 3" in message
    assert "total:" not in message
    # The error entries are listed to explain the failure.
    assert "error entries (3):" in message
    for error in partial.errors:
        assert f"[{error.index}] {error.task_identifier} ITEM_ERROR: {error.error}" in message


def test_run_counts_of_a_batch_still_creating_runs(form: Callable[[TriggerBatch], Any]) -> None:
    processing = BatchFactory(seed=3)("PROCESSING", run_count=4)
    assert_run_counts(form(processing), total=4)
    with pytest.raises(AssertionError) as caught:
        assert_run_counts(form(processing), successful=4)
    message = str(caught.value)
    assert "successful: expected 4, actual absent (run creation has not finished)" in message
    assert "error entries: none" in message


def test_run_counts_of_a_collapsed_queue_limit_failure(
    form: Callable[[TriggerBatch], Any],
) -> None:
    batch = BatchFactory(seed=5)(
        "COMPLETED", run_count=40, failed_count=25, error_code="QUEUE_SIZE_LIMIT_EXCEEDED"
    )
    assert_run_counts(form(batch), total=40, successful=15, failed=25)
    assert_batch_errors(form(batch), count=1, error_code="QUEUE_SIZE_LIMIT_EXCEEDED")


def test_run_counts_need_an_expectation(partial: TriggerBatch) -> None:
    with pytest.raises(TypeError, match="needs at least one of total=, successful=, failed="):
        assert_run_counts(partial)


# -- assert_batch_errors -------------------------------------------------------------------


def test_batch_errors_pass(partial: TriggerBatch, form: Callable[[TriggerBatch], Any]) -> None:
    indices = [e.index for e in partial.errors]
    batch = form(partial)
    assert_batch_errors(batch, count=3, indices=indices, error_code="ITEM_ERROR")
    assert_batch_errors(batch, indices=set(reversed(indices)))
    one_task = BatchFactory(seed=2)(
        "ABORTED", run_count=3, task_identifier="send-email", error_code="TRIGGER_ERROR"
    )
    assert_batch_errors(form(one_task), indices=[0, 1, 2], task_identifier="send-email")


def test_batch_errors_of_a_collapsed_entry_match_its_index(
    form: Callable[[TriggerBatch], Any],
) -> None:
    batch = BatchFactory(seed=6)("PARTIAL_FAILED", run_count=20, failed_count=7)
    (entry,) = batch.errors  # the default: every failure is the queue size limit
    assert_batch_errors(form(batch), count=1, indices=[entry.index])
    others = [i for i in range(20) if i != entry.index][:7]
    with pytest.raises(AssertionError) as caught:
        assert_batch_errors(form(batch), indices=others)
    message = str(caught.value)
    assert f"indices: expected {sorted(others)}, actual [{entry.index}]" in message
    assert (
        f"note: the 7 failed item(s) collapsed into one QUEUE_SIZE_LIMIT_EXCEEDED entry, at "
        f"index {entry.index} (the first failure)"
    ) in message


def test_batch_errors_in_any_order(partial: TriggerBatch) -> None:
    body = partial.to_payload()
    body["errors"].reverse()  # the platform defines no order
    indices = [e.index for e in partial.errors]
    assert_batch_errors(body, count=3, indices=indices, error_code="ITEM_ERROR")
    assert_run_counts(body, total=10, successful=7, failed=3)
    with pytest.raises(AssertionError) as caught:
        assert_batch_errors(body, count=2)
    listed = [line.split("]")[0] for line in str(caught.value).splitlines() if "] " in line]
    assert listed == [f"  [{i}" for i in sorted(indices)]  # listed in index order


def test_batch_errors_name_what_differs(
    partial: TriggerBatch, form: Callable[[TriggerBatch], Any]
) -> None:
    actual = sorted(e.index for e in partial.errors)
    missing = next(i for i in range(10) if i not in actual)
    expected = [*actual[:2], missing]
    with pytest.raises(AssertionError) as caught:
        assert_batch_errors(
            form(partial),
            count=2,
            indices=expected,
            task_identifier="send-email",
            error_code="TRIGGER_ERROR",
        )
    message = str(caught.value)
    assert f"error entries of batch {partial.id} (PARTIAL_FAILED) differ" in message
    assert "count: expected 2, actual 3" in message
    assert (
        f"indices: expected {sorted(expected)}, actual {actual} "
        f"(missing [{missing}]; unexpected [{actual[2]}])"
    ) in message
    others = sum(e.task_identifier != "send-email" for e in partial.errors)
    assert (
        f"task_identifier: expected every entry to have 'send-email'; "
        f"{others} of 3 have resize-image"
    ) in message
    assert "error_code: expected every entry to have 'TRIGGER_ERROR'; 3 of 3 have ITEM_ERROR" in (
        message
    )
    for error in partial.errors:
        assert f"[{error.index}] {error.task_identifier} ITEM_ERROR: {error.error}" in message


def test_batch_errors_when_there_are_none(form: Callable[[TriggerBatch], Any]) -> None:
    clean = BatchFactory(seed=8)("COMPLETED", run_count=5)
    assert_batch_errors(form(clean), count=0, indices=[])
    with pytest.raises(AssertionError) as caught:
        assert_batch_errors(form(clean), error_code="TRIGGER_ERROR")
    message = str(caught.value)
    assert "0 of 0 have no error entries" in message
    assert "error entries: none" in message


def test_batch_errors_without_codes_say_so() -> None:
    batch = BatchFactory(seed=9)("ABORTED", run_count=2, error_code=None)
    with pytest.raises(AssertionError, match=r"(?s)2 of 2 have None.*\[0\] .* \(no code\): "):
        assert_batch_errors(batch, error_code="ITEM_ERROR")


def test_long_error_listings_are_cut(form: Callable[[TriggerBatch], Any]) -> None:
    batch = BatchFactory(seed=4)("ABORTED", run_count=30, error_code="TRIGGER_ERROR")
    with pytest.raises(AssertionError) as caught:
        assert_batch_errors(form(batch), count=29)
    message = str(caught.value)
    assert "error entries (30):" in message
    assert "... and 10 more" in message
    assert "[19] " in message
    assert "[20] " not in message


def test_batch_errors_need_an_expectation(partial: TriggerBatch) -> None:
    with pytest.raises(TypeError, match="needs at least one of count=, indices="):
        assert_batch_errors(partial)


# -- what is not a batch -----------------------------------------------------------------


@pytest.mark.parametrize("status_code", [401, 404, 429, 500])
def test_non_200_response_is_a_failure_that_shows_the_body(status_code: int) -> None:
    response = httpx.Response(status_code, json={"error": "Not found"})
    with pytest.raises(AssertionError, match=f"the response is HTTP {status_code}: .*Not found"):
        assert_run_counts(response, total=1)
    with pytest.raises(AssertionError, match=f"the response is HTTP {status_code}"):
        assert_batch_errors(response, count=0)


def test_payload_that_is_not_a_batch(partial: TriggerBatch) -> None:
    body = partial.to_payload()
    del body["runCount"]
    with pytest.raises(
        AssertionError, match=re.escape("not a batch payload (missing or malformed")
    ):
        assert_run_counts(body, total=10)
    with pytest.raises(TypeError, match="batch must be a TriggerBatch, a payload dict or an"):
        assert_run_counts([partial.to_payload()], total=10)  # type: ignore[arg-type]
