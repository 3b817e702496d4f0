"""`pytest_trigger_batches.strategies`: what hypothesis draws is what the platform returns."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from pytest_trigger_batches import rules
from pytest_trigger_batches.mock import MockTriggerApi
from pytest_trigger_batches.model import TriggerBatch, TriggerRun
from pytest_trigger_batches.statuses import RUN_STATUSES
from pytest_trigger_batches.strategies import batches, runs

SEARCH = settings(max_examples=150, derandomize=True, database=None, deadline=None)
FEW = settings(SEARCH, max_examples=25)
# Enough draws that each flavour, code, id format and run status shows (the rarest come
# up in about 3% of draws): the thorough search runs with the slow tests.
THOROUGH = settings(SEARCH, max_examples=400)
PLAIN = {"idempotency_key": None, "task_identifier": None, "created_at": None}
FLAVOURS = {
    "PENDING, just created",
    "PENDING, runs created",
    "PENDING, legacy",
    "PROCESSING",
    "PARTIAL_FAILED",
    "COMPLETED",
    "COMPLETED, with failures",
    "COMPLETED, legacy",
    "ABORTED, runs created",
    "ABORTED, never sealed",
    "ABORTED, legacy",
}


def flavour(batch: TriggerBatch) -> str:
    """The row of the README's table of flavours `batch` belongs to."""
    status = batch.status.value
    if batch.runs_created:
        if status == "PENDING":
            return "PENDING, runs created"
        if status == "COMPLETED" and batch.failed_run_count:
            return "COMPLETED, with failures"
        return "ABORTED, runs created" if status == "ABORTED" else status
    if status == "ABORTED" and batch.processing_completed_at is not None:
        return "ABORTED, never sealed"
    if status == "PENDING" and batch.updated_at == batch.created_at:
        return "PENDING, just created"
    return status if status == "PROCESSING" else f"{status}, legacy"


def collect(
    strategy: st.SearchStrategy[Any], record: Callable[[Any], None], search: settings = SEARCH
) -> None:
    @search
    @given(strategy)
    def each(value: Any) -> None:
        record(value)

    each()


@pytest.mark.slow
def test_batches_draw_every_status_flavour_error_code_and_id_format() -> None:
    flavours: set[str] = set()
    id_lengths: set[int] = set()
    codes: set[str | None] = set()

    def record(batch: TriggerBatch) -> None:
        flavours.add(flavour(batch))
        id_lengths.add(len(batch.id) - len("batch_"))

    collect(batches(**PLAIN), record, THOROUGH)
    partial = batches("PARTIAL_FAILED", **PLAIN, batch_id=None)
    collect(partial, lambda b: codes.update(e.error_code for e in b.errors), THOROUGH)
    assert flavours == FLAVOURS
    assert id_lengths == {25, 21, 26, 27}  # cuid, nanoid, run-ops, base62
    assert codes == {*rules.ERROR_CODES, None}


@settings(SEARCH, max_examples=60)
@given(batch=batches())
def test_every_drawn_batch_is_one_the_mock_serves_and_reads_back(batch: TriggerBatch) -> None:
    assert TriggerBatch.from_payload(batch.to_payload()) == batch
    assert rules.problems(batch) == []
    with MockTriggerApi() as api:
        handle = api.add_batch(batch.to_payload())  # the platform-shape check of bodies
        assert handle.batch == batch


def test_a_failing_example_shrinks_to_a_small_plain_batch() -> None:
    partial = find(batches(), lambda batch: batch.status == "PARTIAL_FAILED", settings=SEARCH)
    assert (partial.run_count, partial.failed_run_count, len(partial.errors)) == (2, 1, 1)
    assert partial.errors[0].error_code == rules.QUEUE_LIMIT  # the default code
    assert partial.idempotency_key is None
    assert partial.id.startswith("batch_c")  # the factory's own cuid


def test_given_options_are_kept_and_the_others_drawn_to_fit_them() -> None:
    def aborted(batch: TriggerBatch) -> None:
        assert (batch.status, batch.run_count, batch.failed_run_count) == ("ABORTED", 3, 3)

    def partial(batch: TriggerBatch) -> None:
        assert batch.status == "PARTIAL_FAILED"
        assert 2 <= batch.run_count <= 4
        assert {error.error_code for error in batch.errors} == {"ITEM_ERROR"}

    def legacy(batch: TriggerBatch) -> None:
        assert batch.status in ("PENDING", "COMPLETED", "ABORTED")
        assert (batch.successful_run_count, batch.errors) == (None, ())

    collect(batches("ABORTED", failed_count=3), aborted, FEW)  # every item failed
    collect(
        batches("PARTIAL_FAILED", run_count=st.integers(2, 4), error_code="ITEM_ERROR"),
        partial,
        FEW,
    )
    collect(batches(legacy=True), legacy, FEW)


@pytest.mark.parametrize(
    ("status", "options", "message"),
    [
        (
            "PROCESSING",
            {"runs_created": True},
            "status 'PROCESSING' does not fit runs_created=True: with these options a batch "
            "the platform could return has status PENDING, COMPLETED, PARTIAL_FAILED, ABORTED",
        ),
        (None, {"legacy": True, "failed_count": 2}, "no batch the platform could return has"),
        ("completed", {}, "statuses are upper case: 'COMPLETED'"),
        (None, {"runcount": 3}, "batches() got unknown option(s) runcount; the options are"),
    ],
)
def test_options_no_batch_has_are_refused_naming_what_fits(
    status: str | None, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        batches(status, **options)


def test_a_drawn_run_shows_what_its_status_shows() -> None:
    def record(run: TriggerRun) -> None:
        assert (run.output is not None) == (run.status == "COMPLETED")
        assert (run.error is not None) == (
            run.status in ("FAILED", "CRASHED", "SYSTEM_FAILURE", "TIMED_OUT")
        )
        assert run.to_payload()["status"] == run.status

    collect(runs(), record, settings(SEARCH, max_examples=40))


@pytest.mark.slow
def test_runs_draw_every_status() -> None:
    statuses: set[str] = set()
    collect(runs(payload=None, tags=()), lambda run: statuses.add(run.status), THOROUGH)
    assert statuses == set(RUN_STATUSES)


def test_runs_keep_the_given_options_and_refuse_what_no_run_has() -> None:
    def record(run: TriggerRun) -> None:
        assert (run.status, run.output) == ("COMPLETED", {"sent": 3})

    collect(runs(output={"sent": 3}), record, FEW)
    with pytest.raises(ValueError, match="output belongs to a COMPLETED run"):
        runs("QUEUED", output=1)
    with pytest.raises(ValueError, match="status must be one of QUEUED, DELAYED"):
        runs("queued")


def test_runs_draw_idempotency_keys_and_delays_a_run_shows() -> None:
    keyed, delayed = [], []

    def record(run: TriggerRun) -> None:
        body = run.to_payload()
        assert body.get("idempotencyKey") == run.idempotency_key
        assert body.get("delayedUntil") is not None or run.delayed_until is None
        keyed.append(run.idempotency_key is not None)
        delayed.append(run.status != "DELAYED" and run.delayed_until is not None)

    collect(runs(), record, settings(SEARCH, max_examples=60))
    assert any(keyed)
    assert any(delayed)  # a run that was delayed, in a later state

    def given(run: TriggerRun) -> None:
        assert run.idempotency_key == "ledger-7"
        assert run.delayed_until is not None
        assert run.delayed_until.isoformat() == "2026-01-05T12:00:00+00:00"
        assert run.created_at < run.delayed_until

    until = "2026-01-05T12:00:00Z"
    collect(runs("COMPLETED", idempotency_key="ledger-7", delayed_until=until), given, FEW)


def test_without_hypothesis_the_import_error_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("hypothesis", "hypothesis.strategies"):
        monkeypatch.setitem(sys.modules, name, None)  # an import of it raises ImportError
    monkeypatch.delitem(sys.modules, "pytest_trigger_batches.strategies")
    with pytest.raises(ImportError, match=r"pip install 'pytest-trigger-batches\[hypothesis\]'"):
        importlib.import_module("pytest_trigger_batches.strategies")
