"""One test per platform rule (docs/platform.md): the model obeys it and refuses to break it."""

from __future__ import annotations

import random
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from pytest_trigger_batches import lifecycle, rules
from pytest_trigger_batches.factory import BatchFactory
from pytest_trigger_batches.ids import IdSource
from pytest_trigger_batches.model import BatchError, BatchStatus, TriggerBatch
from pytest_trigger_batches.timefmt import iso_ms, to_ms

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
CUID = re.compile(r"c[0-9a-z]{24}")
# One real-shaped id body of each format the platform has minted (docs/platform.md, section 3).
ID_BODIES = {
    "cuid": "cmx0ugyuv00004a7d2bda9ln4",
    "nanoid": "p4omhh45hgxxnq1re6ovy",
    "run-ops": "0685k5ubvh2ue9l1c3pqsr7me1",
    "base62": "2yQbR7vTz0KxWm4NcLp8HsDfGa1",
}
NANOID = re.compile(r"[1-9a-km-z]{21}")
TASK_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
QUEUE = "QUEUE_SIZE_LIMIT_EXCEEDED"


@pytest.fixture
def factory() -> BatchFactory:
    return BatchFactory(seed=20260301)


def finished_batches(factory: BatchFactory) -> list[TriggerBatch]:
    """One batch per status that has finished run creation."""
    return [
        factory("PENDING", runs_created=True, run_count=6),
        factory("COMPLETED", run_count=12),
        factory("COMPLETED", run_count=12, failed_count=5),
        factory("PARTIAL_FAILED", run_count=9, failed_count=4),
        factory("ABORTED", run_count=5),
    ]


def parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def has_null(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(has_null(v) for v in value.values())
    if isinstance(value, list):
        return any(has_null(v) for v in value)
    return False


# -- invariants once run creation has finished -------------------------------------------


def test_successful_plus_failed_equals_run_count(factory: BatchFactory) -> None:
    for batch in finished_batches(factory):
        body = batch.to_payload()
        assert body["successfulRunCount"] + body["failedRunCount"] == body["runCount"]
    good = factory("COMPLETED", run_count=10, failed_count=2)
    with pytest.raises(ValueError, match=r"successfulRunCount \+ failedRunCount must equal"):
        replace(good, failed_run_count=3)


def test_runs_hold_exactly_the_successful_runs(factory: BatchFactory) -> None:
    for batch in finished_batches(factory):
        body = batch.to_payload()
        assert len(body["runs"]) == body["successfulRunCount"]
        assert len(set(body["runs"])) == len(body["runs"])
    good = factory("COMPLETED", run_count=4, failed_count=1)
    with pytest.raises(ValueError, match=r"len\(runs\) == successfulRunCount: 2 != 3"):
        replace(good, runs=good.runs[:2])
    with pytest.raises(ValueError, match="must not repeat a run id"):
        replace(good, runs=(good.runs[0], good.runs[0], good.runs[1]))


def test_error_indices_are_unique_and_in_range(factory: BatchFactory) -> None:
    for batch in finished_batches(factory):
        indices = [e["index"] for e in batch.to_payload().get("errors", [])]
        assert len(set(indices)) == len(indices)
        assert all(0 <= i < batch.run_count for i in indices)
    good = factory("PARTIAL_FAILED", run_count=5, failed_count=2, error_code="TRIGGER_ERROR")
    first, second = good.errors
    with pytest.raises(ValueError, match="error indices must be unique"):
        replace(good, errors=(first, replace(second, index=first.index)))
    with pytest.raises(ValueError, match=r"error indices must lie in 0\.\.4; got \[5\]"):
        replace(good, errors=(first, replace(second, index=5)))


def test_one_error_entry_per_failed_item(factory: BatchFactory) -> None:
    good = factory("PARTIAL_FAILED", run_count=5, failed_count=2, error_code="TRIGGER_ERROR")
    assert len(good.errors) == good.failed_run_count == 2
    with pytest.raises(ValueError, match="one error entry per failed item"):
        replace(good, errors=good.errors[:1])


def test_task_identifiers_are_task_ids(factory: BatchFactory) -> None:
    batch = factory("COMPLETED", run_count=30, failed_count=10, error_code="ITEM_ERROR")
    assert all(TASK_ID.fullmatch(e.task_identifier) for e in batch.errors)
    with pytest.raises(ValueError, match="taskIdentifier must be a task id"):
        replace(batch, errors=(replace(batch.errors[0], task_identifier=""), *batch.errors[1:]))


def test_error_codes_come_from_the_platform_list(factory: BatchFactory) -> None:
    # The codes its code writes today, UNEXPECTED_ERROR and PAYLOAD_TOO_LARGE included.
    assert set(rules.ERROR_CODES) == {
        "TRIGGER_ERROR",
        "TRIGGER_FAILED",
        "ENVIRONMENT_NOT_FOUND",
        "ITEM_ERROR",
        QUEUE,
        "UNEXPECTED_ERROR",
        "PAYLOAD_TOO_LARGE",
    }
    for code in rules.ERROR_CODES:
        batch = factory("COMPLETED", run_count=4, failed_count=1, error_code=code)
        assert batch.to_payload()["errors"][0]["errorCode"] == code
    good = factory("PARTIAL_FAILED", run_count=3, failed_count=1)
    with pytest.raises(ValueError, match=r"errorCode must be one of TRIGGER_ERROR.* got 'OOPS'"):
        replace(good, errors=(replace(good.errors[0], error_code="OOPS"),))


def test_status_matches_the_failure_counts(factory: BatchFactory) -> None:
    assert factory("PENDING", runs_created=True).failed_run_count == 0
    partial = factory("PARTIAL_FAILED", run_count=4, failed_count=1)
    assert partial.failed_run_count is not None
    assert 0 < partial.failed_run_count < partial.run_count
    aborted = factory("ABORTED", run_count=4)
    assert aborted.failed_run_count == aborted.run_count
    with pytest.raises(ValueError, match="the status is ABORTED, not PARTIAL_FAILED"):
        replace(aborted, status="PARTIAL_FAILED")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="the status is PARTIAL_FAILED or COMPLETED, not PENDING"):
        replace(partial, status="PENDING")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="the status is PENDING or COMPLETED, not ABORTED"):
        replace(factory("COMPLETED", run_count=3), status="ABORTED")  # type: ignore[arg-type]


def test_at_most_1000_items_per_batch(factory: BatchFactory) -> None:
    assert factory("COMPLETED", run_count=rules.MAX_ITEMS).run_count == 1000
    good = factory("PENDING")
    for bad in (0, 1001):
        with pytest.raises(
            ValueError, match=f"runCount must be a whole number from 1 to 1000; got {bad}"
        ):
            replace(good, run_count=bad)


# -- statuses and their lifecycle -------------------------------------------------------


def test_before_run_creation_there_are_no_runs_counts_or_errors(factory: BatchFactory) -> None:
    for batch in (
        factory("PENDING", run_count=7),
        factory("PROCESSING", run_count=7),
        factory("ABORTED", runs_created=False, run_count=7),
    ):
        body = batch.to_payload()
        assert body["runs"] == []
        assert body["runCount"] == 7
        assert not {"successfulRunCount", "failedRunCount", "errors"} & body.keys()
    processing = factory("PROCESSING", run_count=2)
    run_id = factory("PENDING", runs_created=True, run_count=1).runs[0]
    with pytest.raises(ValueError, match="a PROCESSING batch has no runs yet"):
        replace(processing, runs=(run_id,))
    error = BatchError(0, "send-welcome-email", "boom", "TRIGGER_ERROR")
    with pytest.raises(ValueError, match="errors appear only once run creation has finished"):
        replace(processing, errors=(error,))
    with pytest.raises(ValueError, match="a PARTIAL_FAILED batch has finished run creation"):
        replace(processing, status="PARTIAL_FAILED")  # type: ignore[arg-type]


def test_an_unsealed_batch_aborted_has_processing_completed_at_but_no_counts(
    factory: BatchFactory,
) -> None:
    aborted = factory("ABORTED", runs_created=False, run_count=3)
    assert aborted.processing_completed_at == aborted.updated_at
    assert aborted.updated_at - aborted.created_at >= timedelta(minutes=30)
    body = aborted.to_payload(version=2)
    assert body["processingCompletedAt"] == body["processing"]["completedAt"] == body["updatedAt"]
    assert (body["runs"], body["processing"]["errors"]) == ([], [])
    v1 = aborted.to_payload()
    assert not {"successfulRunCount", "failedRunCount", "errors"} & v1.keys()
    # Read back as that batch from either body, not as "every item failed".
    for payload in (body, v1):
        back = TriggerBatch.from_payload(payload)
        assert back == aborted
        assert (back.successful_run_count, back.processing_completed_at) == (
            None,
            aborted.processing_completed_at,
        )
    # Only then: not with runs (a legacy ABORTED batch), not on another status.
    run_id = factory("COMPLETED", run_count=1).runs[0]
    with pytest.raises(ValueError, match="or on an ABORTED batch whose items never"):
        replace(aborted, runs=(run_id,))  # runs without counts: a legacy batch
    with pytest.raises(ValueError, match="or on an ABORTED batch whose items never"):
        replace(aborted, status="PENDING")  # type: ignore[arg-type]
    assert lifecycle.history(aborted)[0].processing_completed_at is None


def test_counts_come_in_pairs_with_processing_completed_at(factory: BatchFactory) -> None:
    good = factory("COMPLETED", run_count=3)
    with pytest.raises(ValueError, match="both present or both absent"):
        replace(good, failed_run_count=None)
    with pytest.raises(ValueError, match="processingCompletedAt is set once run creation"):
        replace(good, processing_completed_at=None)
    with pytest.raises(ValueError, match="processingCompletedAt is set only once run creation"):
        replace(factory("PENDING"), processing_completed_at=good.created_at)
    with pytest.raises(ValueError, match="processingCompletedAt is set only once run creation"):
        replace(factory("PROCESSING"), processing_completed_at=good.created_at)
    with pytest.raises(ValueError, match="processingCompletedAt must lie between"):
        replace(good, processing_completed_at=good.updated_at + timedelta(seconds=1))


def test_legacy_completed_batch_holds_all_its_runs(factory: BatchFactory) -> None:
    batch = factory("COMPLETED", legacy=True, run_count=5)
    assert len(batch.runs) == 5
    assert batch.successful_run_count is None
    with pytest.raises(ValueError, match="runCount is 5 but runs holds 4"):
        replace(batch, runs=batch.runs[:4])


# -- v1 body as the server writes it ------------------------------------------------------


def test_timestamps_have_milliseconds_and_z_and_move_forward(factory: BatchFactory) -> None:
    for batch in [*finished_batches(factory), factory("PROCESSING")]:
        body = batch.to_payload()
        assert TIMESTAMP.fullmatch(body["createdAt"]), body["createdAt"]
        assert TIMESTAMP.fullmatch(body["updatedAt"]), body["updatedAt"]
        assert parse_ts(body["updatedAt"]) >= parse_ts(body["createdAt"])
    moment = datetime(2026, 3, 1, 13, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert iso_ms(to_ms(moment)) == "2026-03-01T12:00:00.123Z"
    good = factory("PENDING")
    with pytest.raises(ValueError, match="updatedAt must not be before createdAt"):
        replace(good, updated_at=good.created_at - timedelta(milliseconds=1))


def test_server_shape_leaves_out_absent_fields_instead_of_null(factory: BatchFactory) -> None:
    pending = factory("PENDING", idempotency_key=None).to_payload()
    assert set(pending) == {"id", "status", "createdAt", "updatedAt", "runCount", "runs"}
    no_failures = factory("COMPLETED", run_count=3).to_payload()
    assert "errors" not in no_failures
    assert no_failures["failedRunCount"] == 0
    uncoded = factory("PARTIAL_FAILED", run_count=3, failed_count=1, error_code=None)
    assert "errorCode" not in uncoded.to_payload()["errors"][0]
    for batch in [
        *finished_batches(factory),
        factory("PROCESSING"),
        factory("ABORTED", legacy=True),
    ]:
        assert not has_null(batch.to_payload())


def test_server_shape_error_is_the_message_string(factory: BatchFactory) -> None:
    batch = factory("PARTIAL_FAILED", run_count=5, failed_count=2)
    for entry, error in zip(batch.to_payload()["errors"], batch.errors, strict=True):
        assert isinstance(entry["error"], str)
        assert entry["error"] == error.error
        assert entry["error"]


def test_queue_limit_failures_collapse_into_one_entry(factory: BatchFactory) -> None:
    batch = factory("COMPLETED", run_count=20, failed_count=7, error_code=QUEUE)
    body = batch.to_payload()
    assert body["failedRunCount"] == 7
    assert len(body["errors"]) == 1
    assert body["errors"][0]["errorCode"] == QUEUE
    assert body["errors"][0]["error"].endswith("(7 items in this batch failed with the same error)")
    assert rules.collapsed_suffix(7) == "(7 items in this batch failed with the same error)"


def test_a_single_queue_limit_failure_collapses_too(factory: BatchFactory) -> None:
    # The server appends the count whatever it is: "(1 items in this batch ...)".
    batch = factory("PARTIAL_FAILED", run_count=5, failed_count=1, error_code=QUEUE)
    (entry,) = batch.errors
    assert entry.error.endswith(" 10000 (1 items in this batch failed with the same error)")
    bare = entry.error.removesuffix(" (1 items in this batch failed with the same error)")
    with pytest.raises(ValueError, match=re.escape("ends '(1 items in this batch failed")):
        replace(batch, errors=(replace(entry, error=bare),))


def test_queue_limit_collapse_is_enforced(factory: BatchFactory) -> None:
    batch = factory("COMPLETED", run_count=20, failed_count=7, error_code=QUEUE)
    entry = batch.errors[0]
    with pytest.raises(ValueError, match="they collapse into one error entry; got 2"):
        replace(batch, errors=(entry, replace(entry, index=(entry.index + 1) % 20)))
    with pytest.raises(ValueError, match=re.escape("ends '(7 items in this batch failed")):
        replace(batch, errors=(replace(entry, error="queue full"),))
    nothing_failed = factory("PENDING", runs_created=True, run_count=3)
    with pytest.raises(ValueError, match="one error entry per failed item"):
        replace(nothing_failed, errors=(BatchError(0, "send-welcome-email", "full", QUEUE),))


# -- ids and keys ---------------------------------------------------------------------------


def test_batch_and_run_ids_come_in_four_formats(factory: BatchFactory) -> None:
    good = factory("COMPLETED", run_count=2)
    for name, body in ID_BODIES.items():
        batch = replace(good, id=f"batch_{body}", runs=(f"run_{body}", good.runs[1]))
        payload = batch.to_payload()
        assert TriggerBatch.from_payload(payload) == batch, name
        assert TriggerBatch.from_payload(batch.to_payload(version=2)).id == f"batch_{body}"
    wrong = {
        "cuid in upper case": "CMX0UGYUV00004A7D2BDA9LN4",
        "nanoid with an l": "l" * 21,
        "run-ops core outside base32hex": "w685k5ubvh2ue9l1c3pqsr7me1",
        "run-ops version 3": "0685k5ubvh2ue9l1c3pqsr7me3",
        "base62 with a dash": "2yQbR7vTz0KxWm4NcLp8HsDfG-1",
        "24 chars": "cmx0ugyuv00004a7d2bda9ln",
        "28 chars": "2yQbR7vTz0KxWm4NcLp8HsDfGa12",
    }
    for name, body in wrong.items():
        with pytest.raises(
            ValueError, match=r"id must be 'batch_' \+ a 25-char cuid, 21-char nanoid"
        ):
            replace(good, id=f"batch_{body}")
        with pytest.raises(ValueError, match=r"runs must be run ids \('run_' \+ a 25-char cuid"):
            replace(good, runs=(good.runs[0], f"run_{body}"))
        assert not rules.RUN_ID_RE.fullmatch(f"run_{body}"), name


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(number: int, width: int) -> str:
    return "".join(_DIGITS[number // 36**p % 36] for p in reversed(range(width)))


class _OneByOne:
    """The cuid layout spelled out one id at a time: c, 8 of time, 4 of counter, the
    fingerprint, 8 random; from the draws `IdSource` makes, in its order."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.counter = rng.randrange(36**4)
        self.fingerprint = _base36(rng.randrange(36**4), 4)

    def cuids(self, start_ms: int, count: int, per_ms: int) -> list[str]:
        noise = self.rng.randbytes(8 * count)
        made = []
        for i in range(count):
            self.counter = (self.counter + 1) % 36**4
            random_part = "".join(_DIGITS[b % 36] for b in noise[8 * i : 8 * i + 8])
            stamp = _base36(start_ms + i // per_ms, 8)
            made.append(f"run_c{stamp}{_base36(self.counter, 4)}{self.fingerprint}{random_part}")
        return made


def test_cuids_made_column_by_column_are_the_layout_one_by_one() -> None:
    # IdSource writes many ids column by column for speed (a few one by one).
    calls = ((1_772_366_400_000, 1, 50), (1295, 1000, 7), (0, 3, 1), (36**8 - 2, 60, 1))
    for seed in range(5):
        source, plain = IdSource(random.Random(seed)), _OneByOne(random.Random(seed))
        for start, count, per_ms in calls:
            made = source.cuids(start, count, per_ms=per_ms, prefix="run_")
            assert made == plain.cuids(start, count, per_ms), (seed, start, count)
            assert all(rules.RUN_ID_RE.fullmatch(r) for r in made)


def test_the_factory_path_checks_every_rule_but_the_id_formats(factory: BatchFactory) -> None:
    good = factory("COMPLETED", run_count=3, failed_count=1)
    values = {name: getattr(good, name) for name in ("id", "status", "created_at", "updated_at")}
    values |= {"run_count": 3, "runs": good.runs, "errors": good.errors}
    values |= {"successful_run_count": 2, "processing_completed_at": good.processing_completed_at}
    with pytest.raises(ValueError, match="both present or both absent"):
        TriggerBatch._minted(**values)
    # A public copy checks the ids again.
    with pytest.raises(ValueError, match="runs must be run ids"):
        replace(good, runs=(good.runs[0], "run_x"))


def test_batch_and_run_ids_are_prefixed_cuids(factory: BatchFactory) -> None:
    for batch in finished_batches(factory):
        assert batch.id.startswith("batch_")
        assert CUID.fullmatch(batch.id.removeprefix("batch_"))
        for run_id in batch.runs:
            assert run_id.startswith("run_")
            assert CUID.fullmatch(run_id.removeprefix("run_"))


def test_legacy_ids_are_nanoids(factory: BatchFactory) -> None:
    batch = factory("COMPLETED", legacy=True, run_count=8)
    assert NANOID.fullmatch(batch.id.removeprefix("batch_"))
    assert all(NANOID.fullmatch(r.removeprefix("run_")) for r in batch.runs)


def test_ids_that_break_the_shape_are_refused(factory: BatchFactory) -> None:
    good = factory("COMPLETED", run_count=2)
    with pytest.raises(ValueError, match=r"id must be 'batch_' \+ a 25-char cuid"):
        replace(good, id="batch_1234")
    with pytest.raises(ValueError, match=r"id must be 'batch_' \+ a 25-char cuid"):
        replace(good, id="my-batch")
    with pytest.raises(ValueError, match=r"runs must be run ids .* got 'run_1234'"):
        replace(good, runs=(good.runs[0], "run_1234"))


def test_cuid_encodes_creation_time(factory: BatchFactory) -> None:
    created = datetime(2026, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)
    batch = factory("COMPLETED", created_at=created, run_count=3)
    stamp_ms = int(batch.id.removeprefix("batch_")[1:9], 36)
    assert stamp_ms == int(created.timestamp()) * 1000 + 250


def test_ids_made_together_share_a_prefix_and_sort_by_creation(factory: BatchFactory) -> None:
    # A creation time well inside one 36**3 ms block, so the time prefixes line up.
    start = datetime.fromtimestamp(36**3 * 38_000_000 / 1000, tz=UTC) + timedelta(seconds=1)
    batch = factory("COMPLETED", run_count=200, created_at=start)
    cuids = [batch.id.removeprefix("batch_")] + [r.removeprefix("run_") for r in batch.runs]
    # Same host fingerprint, time prefixes that differ only in their last characters.
    assert len({c[13:17] for c in cuids}) == 1
    assert len({c[:6] for c in cuids}) == 1
    assert cuids == sorted(cuids)
    source = IdSource(random.Random(7))
    made = [*source.cuids(1_772_366_400_000, 120, per_ms=50), source.cuid(1_772_366_400_003)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)


def test_idempotency_keys_look_like_the_sdk_ones(factory: BatchFactory) -> None:
    key = factory("COMPLETED", idempotency_key=True).to_payload()["idempotencyKey"]
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    good = factory("PENDING")
    with pytest.raises(ValueError, match="idempotencyKey must be 1 to 2048 characters"):
        replace(good, idempotency_key="k" * 2049)
    with pytest.raises(ValueError, match="idempotencyKey must be 1 to 2048 characters"):
        replace(good, idempotency_key="")


# -- v2 and the documented shape ----------------------------------------------------------


def test_v2_body_after_run_creation(factory: BatchFactory) -> None:
    batch = factory("PARTIAL_FAILED", run_count=6, failed_count=2)
    body = batch.to_payload(version=2)
    assert set(body) == {
        "id",
        "status",
        "createdAt",
        "updatedAt",
        "runCount",
        "runs",
        "processingCompletedAt",
        "processing",
    }
    assert body["processing"]["completedAt"] == body["processingCompletedAt"]
    assert TIMESTAMP.fullmatch(body["processingCompletedAt"])
    assert body["processing"]["errors"] == [e.to_payload() for e in batch.errors]
    assert all(isinstance(e["error"], str) for e in body["processing"]["errors"])
    assert body["runs"] == list(batch.runs)


def test_v2_body_keys_come_in_the_server_order(factory: BatchFactory) -> None:
    keyed = factory("PARTIAL_FAILED", run_count=6, idempotency_key=True).to_payload(version=2)
    assert list(keyed) == [
        "id",
        "status",
        "idempotencyKey",
        "createdAt",
        "updatedAt",
        "processingCompletedAt",
        "runCount",
        "runs",
        "processing",
    ]
    assert list(keyed["processing"]) == ["completedAt", "errors"]
    waiting = factory("PROCESSING").to_payload(version=2)
    assert list(waiting) == [
        "id",
        "status",
        "createdAt",
        "updatedAt",
        "runCount",
        "runs",
        "processing",
    ]


def test_v2_body_errors_is_an_empty_list_when_none(factory: BatchFactory) -> None:
    done = factory("COMPLETED", run_count=3).to_payload(version=2)
    assert done["processing"]["errors"] == []
    assert "completedAt" in done["processing"]
    waiting = factory("PROCESSING", run_count=3).to_payload(version=2)
    assert waiting["processing"] == {"errors": []}
    assert "processingCompletedAt" not in waiting
    for body in (done, waiting):
        assert not {"successfulRunCount", "failedRunCount", "errors"} & body.keys()


def test_documented_shape_has_explicit_nulls_and_error_objects(factory: BatchFactory) -> None:
    pending = factory("PENDING", idempotency_key=None).to_payload(shape="documented")
    assert pending["idempotencyKey"] is None
    assert pending["successfulRunCount"] is None
    assert pending["failedRunCount"] is None
    assert pending["errors"] is None
    batch = factory("PARTIAL_FAILED", run_count=4, failed_count=2, error_code=None)
    entries = batch.to_payload(shape="documented")["errors"]
    assert [e["error"] for e in entries] == [{"message": e.error} for e in batch.errors]
    assert all(e["errorCode"] is None for e in entries)


def test_documented_shape_exists_for_v1_only(factory: BatchFactory) -> None:
    batch = factory("COMPLETED")
    with pytest.raises(ValueError, match="shape='documented' exists for version=1 only"):
        batch.to_payload(version=2, shape="documented")
    with pytest.raises(ValueError, match="version must be 1 or 2; got 3"):
        batch.to_payload(version=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="shape must be 'server' or 'documented'"):
        batch.to_payload(shape="spec")  # type: ignore[arg-type]


# -- construction and round trips -----------------------------------------------------------


def test_invalid_batch_lists_every_broken_rule(factory: BatchFactory) -> None:
    good = factory("COMPLETED", run_count=4, failed_count=1)
    with pytest.raises(ValueError, match=r"not a batch Trigger\.dev could return") as caught:
        replace(good, updated_at=good.created_at - timedelta(seconds=1), runs=())
    message = str(caught.value)
    assert good.id in message
    assert "updatedAt must not be before createdAt" in message
    assert "len(runs) == successfulRunCount: 0 != 3" in message


def test_status_is_parsed_with_an_upper_case_hint(factory: BatchFactory) -> None:
    good = factory("PENDING")
    assert replace(good, status="PENDING").status is BatchStatus.PENDING  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"statuses are upper case: 'PENDING'"):
        replace(good, status="pending")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="status must be one of PENDING, PROCESSING"):
        replace(good, status="DONE")  # type: ignore[arg-type]


def test_errors_come_in_any_order(factory: BatchFactory) -> None:
    batch = factory("ABORTED", run_count=12, error_code="TRIGGER_ERROR")
    shuffled = list(batch.errors)
    random.Random(3).shuffle(shuffled)
    assert shuffled != list(batch.errors)
    for version in (1, 2):
        body = batch.to_payload(version=version)
        entries = [e.to_payload() for e in shuffled]
        if version == 1:
            body["errors"] = entries
        else:
            body["processing"]["errors"] = entries
        back = TriggerBatch.from_payload(body)
        assert back == batch  # the same batch ...
        assert hash(back) == hash(batch)
        assert list(back.errors) == shuffled  # ... listing its entries as given
        assert back.to_payload(version=version) == body
    reordered = replace(batch, errors=tuple(shuffled))
    assert rules.transition_problem(batch, reordered) is None
    assert rules.transition_problem(reordered, batch) is None
    other = replace(batch, errors=(replace(shuffled[0], error="boom"), *shuffled[1:]))
    assert rules.transition_problem(batch, other) == (
        "runs or errors changed after run creation had finished"
    )


def test_readable_ids_only_with_check_ids_false(factory: BatchFactory) -> None:
    good = factory("COMPLETED", run_count=2)
    readable: dict[str, Any] = {"id": "batch_nightly-report", "runs": ("run_1", "run_2")}
    with pytest.raises(ValueError, match="id must be 'batch_' \\+ a 25-char cuid"):
        replace(good, **readable)  # strict by default
    batch = replace(good, **readable, check_ids=False)
    assert batch.check_ids is False
    assert batch == replace(good, **readable, check_ids=False)
    assert "check_ids" not in repr(batch)
    body = batch.to_payload()
    assert body["id"] == "batch_nightly-report"
    assert TriggerBatch.from_payload(body, check_ids=False) == batch
    with pytest.raises(ValueError, match="id must be 'batch_' \\+ a 25-char cuid"):
        TriggerBatch.from_payload(body)
    # Only the id formats are skipped: every other rule still applies ...
    with pytest.raises(ValueError, match="runs must not repeat a run id"):
        replace(batch, runs=("run_1", "run_1"))
    with pytest.raises(ValueError, match=r"len\(runs\) == successfulRunCount: 1 != 2"):
        replace(batch, runs=("run_1",))
    # ... and an id must still fit in a URL path.
    for bad in ("", "nightly/report", "night ly", 7):
        with pytest.raises(ValueError, match="must be a non-empty string without spaces, '/'"):
            replace(batch, id=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="runs must be a non-empty string without spaces"):
        replace(batch, runs=("run_1", "run 2"))
    with pytest.raises(ValueError, match="runs must be run ids"):
        replace(good, runs=(" ".join(good.runs),), successful_run_count=1, failed_run_count=1)
    with pytest.raises(TypeError, match="check_ids must be True or False; got 'no'"):
        replace(good, check_ids="no")  # type: ignore[arg-type]


def test_whole_numbers_are_ints_in_range() -> None:
    assert rules.whole_number(5, parameter="n", minimum=1, maximum=5) == 5
    assert rules.whole_number(-3, parameter="n") == -3
    for value in ("5", 5.0, True, None):
        with pytest.raises(
            TypeError, match=rf"^n must be a whole number from 1 to 9; got {value!r}$"
        ):
            rules.whole_number(value, parameter="n", minimum=1, maximum=9)
    cases = [
        ({"minimum": 1, "maximum": 9}, 10, "n must be a whole number from 1 to 9; got 10"),
        ({"minimum": 0}, -1, "n must be a whole number >= 0; got -1"),
        ({"maximum": 3}, 4, "n must be a whole number <= 3; got 4"),
    ]
    for bounds, value, message in cases:
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            rules.whole_number(value, parameter="n", **bounds)


ROUND_TRIP_CASES = [
    ("PENDING", {}),
    ("PENDING", {"runs_created": True, "idempotency_key": True}),
    ("PROCESSING", {"idempotency_key": "order-42"}),
    ("COMPLETED", {}),
    ("COMPLETED", {"failed_count": 3, "error_code": None}),
    ("COMPLETED", {"failed_count": 4, "error_code": QUEUE}),
    ("PARTIAL_FAILED", {"task_identifier": ["a-task", "b-task"]}),
    ("ABORTED", {}),
    ("ABORTED", {"runs_created": False}),
    ("ABORTED", {"error_code": "PAYLOAD_TOO_LARGE"}),
    ("COMPLETED", {"failed_count": 2, "error_code": "UNEXPECTED_ERROR"}),
    ("PENDING", {"legacy": True}),
    ("COMPLETED", {"legacy": True}),
    ("ABORTED", {"legacy": True}),
]


@pytest.mark.parametrize(("status", "options"), ROUND_TRIP_CASES)
@pytest.mark.parametrize(("version", "shape"), [(1, "server"), (1, "documented"), (2, "server")])
def test_payload_round_trips(
    factory: BatchFactory, status: str, options: dict[str, Any], version: int, shape: str
) -> None:
    batch = factory(status, run_count=12, **options)
    body = batch.to_payload(version=version, shape=shape)  # type: ignore[arg-type]
    back = TriggerBatch.from_payload(body)
    assert back == batch
    assert back.to_payload(version=version, shape=shape) == body  # type: ignore[arg-type]
    if version == 2:
        assert back.processing_completed_at == batch.processing_completed_at


def test_from_payload_refuses_what_is_not_a_batch(factory: BatchFactory) -> None:
    body = factory("COMPLETED").to_payload()
    with pytest.raises(TypeError, match="payload must be a mapping"):
        TriggerBatch.from_payload([body])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="payload is missing the field 'runCount'"):
        TriggerBatch.from_payload({k: v for k, v in body.items() if k != "runCount"})
    with pytest.raises(ValueError, match="createdAt must be an ISO-8601 timestamp"):
        TriggerBatch.from_payload({**body, "createdAt": "yesterday"})
    with pytest.raises(ValueError, match="successfulRunCount \\+ failedRunCount"):
        TriggerBatch.from_payload({**body, "failedRunCount": body["failedRunCount"] + 1})


# -- lifecycle --------------------------------------------------------------------------------


def statuses(states: tuple[TriggerBatch, ...]) -> list[tuple[str, bool]]:
    return [rules.phase(s) for s in states]


@pytest.mark.parametrize(
    ("status", "options", "expected"),
    [
        ("PENDING", {}, [("PENDING", False)]),
        ("PROCESSING", {}, [("PENDING", False), ("PROCESSING", False)]),
        (
            "PENDING",
            {"runs_created": True},
            [("PENDING", False), ("PROCESSING", False), ("PENDING", True)],
        ),
        (
            "COMPLETED",
            {"failed_count": 0},
            [("PENDING", False), ("PROCESSING", False), ("PENDING", True), ("COMPLETED", True)],
        ),
        (
            "COMPLETED",
            {"failed_count": 2},
            [
                ("PENDING", False),
                ("PROCESSING", False),
                ("PARTIAL_FAILED", True),
                ("COMPLETED", True),
            ],
        ),
        (
            "PARTIAL_FAILED",
            {},
            [("PENDING", False), ("PROCESSING", False), ("PARTIAL_FAILED", True)],
        ),
        ("ABORTED", {}, [("PENDING", False), ("PROCESSING", False), ("ABORTED", True)]),
        ("ABORTED", {"runs_created": False}, [("PENDING", False), ("ABORTED", False)]),
        (
            "COMPLETED",
            {"legacy": True},
            [("PENDING", False), ("PENDING", False), ("COMPLETED", False)],
        ),
    ],
)
def test_history_walks_the_platform_lifecycle(
    factory: BatchFactory, status: str, options: dict[str, Any], expected: list[Any]
) -> None:
    final = factory(status, run_count=6, **options)
    states = lifecycle.history(final)
    assert statuses(states) == expected
    assert states[-1] == final
    assert states[0].runs == ()
    assert {(s.id, s.run_count, s.created_at, s.idempotency_key) for s in states} == {
        (final.id, final.run_count, final.created_at, final.idempotency_key)
    }
    assert [s.updated_at for s in states] == sorted(s.updated_at for s in states)
    lifecycle.check_sequence(states)


def test_legacy_history_fills_runs_while_pending(factory: BatchFactory) -> None:
    final = factory("COMPLETED", legacy=True, run_count=8)
    created, half, done = lifecycle.history(final)
    assert created.runs == ()
    assert 0 < len(half.runs) < len(done.runs) == 8
    assert half.runs == final.runs[: len(half.runs)]


def test_timeline_spreads_history_over_polls(factory: BatchFactory) -> None:
    final = factory("COMPLETED", run_count=5, failed_count=1)
    history = lifecycle.history(final)
    assert lifecycle.timeline(final, polls=0) == (final,)
    many = lifecycle.timeline(final, polls=6)
    assert len(many) == 7
    assert many[-1] == final
    assert [s for i, s in enumerate(many) if i == 0 or s != many[i - 1]] == list(history)
    few = lifecycle.timeline(final, polls=1)
    assert few == (history[-2], final)
    lifecycle.check_sequence(many)
    with pytest.raises(
        ValueError, match="progress_after must be a whole number from 0 to 1000; got -1"
    ):
        lifecycle.timeline(final, polls=-1)


def test_check_sequence_refuses_impossible_orders(factory: BatchFactory) -> None:
    states = lifecycle.history(factory("COMPLETED", run_count=5, failed_count=1))
    with pytest.raises(
        ValueError, match=r"states\[1\] cannot follow states\[0\] \(COMPLETED -> PARTIAL_FAILED\)"
    ):
        lifecycle.check_sequence(states[::-1])
    lifecycle.check_sequence([states[0], states[0], states[1]])


def test_final_statuses_are_final(factory: BatchFactory) -> None:
    completed = factory("COMPLETED", run_count=4)
    created = lifecycle.history(completed)[0]
    later = replace(created, updated_at=completed.updated_at + timedelta(seconds=1))
    assert (
        rules.transition_problem(completed, later) == "COMPLETED is final; a batch never leaves it"
    )
    aborted = factory("ABORTED", runs_created=False, run_count=4)
    processing = replace(aborted, status="PROCESSING", processing_completed_at=None)  # type: ignore[arg-type]
    assert (
        rules.transition_problem(aborted, processing) == "ABORTED is final; a batch never leaves it"
    )
    assert rules.transition_problem(completed, completed) is None


def test_run_count_and_identity_never_change(factory: BatchFactory) -> None:
    pending = factory("PENDING", run_count=4)
    processing = replace(pending, status="PROCESSING", run_count=5)  # type: ignore[arg-type]
    assert rules.transition_problem(pending, processing) == (
        "runCount changed from 4 to 5 (it never changes)"
    )
    other = factory("PENDING", run_count=4)
    assert "the batch id changed" in (rules.transition_problem(pending, other) or "")
    keyed = replace(pending, status="PROCESSING", idempotency_key="order-42")  # type: ignore[arg-type]
    assert rules.transition_problem(pending, keyed) == "idempotencyKey changed (it never changes)"


def test_transition_problems_name_the_step(factory: BatchFactory) -> None:
    final = factory("COMPLETED", run_count=5, failed_count=2)
    created, sealed, partial, done = lifecycle.history(final)
    assert rules.transition_problem(created, sealed) is None
    # two polls may miss the states between them
    assert rules.transition_problem(sealed, done) is None
    assert rules.transition_problem(created, done) is None
    reopened = replace(created, updated_at=sealed.updated_at)
    assert rules.transition_problem(sealed, reopened) == (
        "PENDING (before run creation) never follows PROCESSING (before run creation)"
    )
    assert rules.transition_problem(sealed, created) == "updatedAt went backwards"
    other_runs = replace(done, runs=done.runs[::-1])
    assert rules.transition_problem(partial, other_runs) == (
        "runs or errors changed after run creation had finished"
    )
