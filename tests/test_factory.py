"""The batch factory: every status and flavour, its options, refusals and reproducibility."""

from __future__ import annotations

import json
import random
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from pytest_trigger_batches import factory as factory_module
from pytest_trigger_batches import lifecycle, rules
from pytest_trigger_batches.factory import BatchFactory
from pytest_trigger_batches.model import BatchStatus, TriggerBatch
from pytest_trigger_batches.timefmt import iso_ms, to_ms

QUEUE = "QUEUE_SIZE_LIMIT_EXCEEDED"
NANOID = re.compile(r"[1-9a-km-z]{21}")
CUID = re.compile(r"c[0-9a-z]{24}")


@pytest.fixture
def factory() -> BatchFactory:
    return BatchFactory(seed=4242)


# -- every status in each flavour --------------------------------------------------------


def test_pending_before_run_creation(factory: BatchFactory) -> None:
    batch = factory("PENDING", run_count=8)
    assert batch.status is BatchStatus.PENDING
    assert not batch.runs_created
    assert batch.runs == ()
    assert (batch.successful_run_count, batch.failed_run_count) == (None, None)
    assert batch.errors == ()
    assert batch.updated_at == batch.created_at
    assert batch.processing_completed_at is None


def test_pending_after_run_creation(factory: BatchFactory) -> None:
    batch = factory("PENDING", runs_created=True, run_count=8)
    assert batch.status is BatchStatus.PENDING
    assert batch.runs_created
    assert len(batch.runs) == 8
    assert (batch.successful_run_count, batch.failed_run_count) == (8, 0)
    assert batch.errors == ()
    assert batch.processing_completed_at is not None


def test_processing(factory: BatchFactory) -> None:
    batch = factory("PROCESSING", run_count=8)
    assert batch.status is BatchStatus.PROCESSING
    assert not batch.runs_created
    assert batch.runs == ()
    assert batch.errors == ()
    assert batch.updated_at > batch.created_at


def test_completed_without_failures(factory: BatchFactory) -> None:
    batch = factory("COMPLETED", run_count=8)
    assert batch.status is BatchStatus.COMPLETED
    assert (batch.successful_run_count, batch.failed_run_count) == (8, 0)
    assert len(batch.runs) == 8
    assert batch.errors == ()
    assert batch.processing_completed_at is not None
    assert batch.created_at < batch.processing_completed_at < batch.updated_at


def test_completed_keeps_its_failures(factory: BatchFactory) -> None:
    batch = factory("COMPLETED", run_count=8, failed_count=3)
    assert (batch.successful_run_count, batch.failed_run_count) == (5, 3)
    assert len(batch.runs) == 5
    assert [e.error_code for e in batch.errors] == [QUEUE]  # collapsed
    each = factory("COMPLETED", run_count=8, failed_count=3, error_code="TRIGGER_ERROR")
    assert [e.error_code for e in each.errors] == ["TRIGGER_ERROR"] * 3


def test_partial_failed(factory: BatchFactory) -> None:
    batch = factory("PARTIAL_FAILED", run_count=8, failed_count=2)
    assert batch.status is BatchStatus.PARTIAL_FAILED
    assert (batch.successful_run_count, batch.failed_run_count) == (6, 2)
    assert len(batch.runs) == 6
    assert sorted(e.index for e in batch.errors) == [e.index for e in batch.errors]
    assert batch.updated_at == batch.processing_completed_at


def test_aborted_because_every_item_failed(factory: BatchFactory) -> None:
    batch = factory("ABORTED", run_count=8)
    assert batch.status is BatchStatus.ABORTED
    assert batch.runs_created
    assert (batch.successful_run_count, batch.failed_run_count) == (0, 8)
    assert batch.runs == ()
    (entry,) = batch.errors  # the default code collapses, at the first failure
    assert (entry.index, entry.error_code) == (0, QUEUE)
    each = factory("ABORTED", run_count=8, error_code="ITEM_ERROR")
    assert [e.index for e in each.errors] == list(range(8))


def test_aborted_because_items_never_finished_arriving(factory: BatchFactory) -> None:
    batch = factory("ABORTED", runs_created=False, run_count=8)
    assert batch.status is BatchStatus.ABORTED
    assert not batch.runs_created
    assert batch.runs == ()
    assert batch.errors == ()
    # The seal timeout aborted it, 30 minutes after creation, and set processingCompletedAt.
    assert timedelta(minutes=30) <= batch.updated_at - batch.created_at < timedelta(minutes=31)
    assert batch.processing_completed_at == batch.updated_at


@pytest.mark.parametrize("status", ["PENDING", "COMPLETED", "ABORTED"])
def test_legacy_batches_have_no_counts_and_nanoid_ids(factory: BatchFactory, status: str) -> None:
    batch = factory(status, legacy=True, run_count=8)
    assert batch.status == status
    assert (batch.successful_run_count, batch.failed_run_count) == (None, None)
    assert batch.errors == ()
    assert NANOID.fullmatch(batch.id.removeprefix("batch_"))
    assert all(NANOID.fullmatch(r.removeprefix("run_")) for r in batch.runs)
    body = batch.to_payload()
    assert "successfulRunCount" not in body
    assert "errors" not in body


def test_legacy_run_counts_by_status() -> None:
    for seed in range(20):
        factory = BatchFactory(seed=seed)
        assert len(factory("COMPLETED", legacy=True, run_count=5).runs) == 5
        assert len(factory("ABORTED", legacy=True, run_count=5).runs) < 5
        assert len(factory("PENDING", legacy=True, run_count=5).runs) <= 5


# -- defaults --------------------------------------------------------------------------------


def test_default_is_a_completed_batch_of_ten(factory: BatchFactory) -> None:
    batch = factory()
    assert batch.status is BatchStatus.COMPLETED
    assert batch.run_count == 10
    assert batch.failed_run_count == 0
    assert batch.idempotency_key is None
    assert CUID.fullmatch(batch.id.removeprefix("batch_"))


def test_partial_failed_alone_is_a_plausible_partial_failure(factory: BatchFactory) -> None:
    batch = factory(status="PARTIAL_FAILED")
    assert batch.run_count == 10
    assert batch.failed_run_count == 3
    assert batch.successful_run_count == 7
    (entry,) = batch.errors
    assert entry.error_code == QUEUE
    assert entry.error.endswith("(3 items in this batch failed with the same error)")
    assert entry.task_identifier


@pytest.mark.parametrize(
    ("status", "options"),
    [
        ("PARTIAL_FAILED", {}),
        ("PARTIAL_FAILED", {"run_count": 40, "failed_count": 1}),
        ("COMPLETED", {"failed_count": 4}),
        ("ABORTED", {}),
    ],
)
def test_failures_default_to_the_queue_size_limit(
    factory: BatchFactory, status: str, options: dict[str, Any]
) -> None:
    # Since 2026-02-23 an item that cannot trigger becomes a pre-failed run (counted as
    # created); what still fails is, commonly, a full queue: one collapsed entry.
    batch = factory(status, **options)
    failed = batch.failed_run_count
    assert failed
    (entry,) = batch.errors
    assert entry.error_code == QUEUE
    assert entry.error.endswith(f" ({failed} items in this batch failed with the same error)")
    assert TriggerBatch.from_payload(batch.to_payload()) == batch


def test_the_collapsed_entry_sits_at_the_first_failure() -> None:
    # The first of the failed items: never one past the last item that could have failed.
    seen = set()
    for seed in range(40):
        factory = BatchFactory(seed=seed)
        for run_count, failed in ((10, 3), (1000, 900), (1000, 10), (50, 1)):
            (entry,) = factory("PARTIAL_FAILED", run_count=run_count, failed_count=failed).errors
            assert 0 <= entry.index <= run_count - failed
            seen.add((run_count, failed, entry.index))
    assert len({index for run_count, _, index in seen if run_count == 50}) > 10  # anywhere


def test_partial_failed_default_keeps_a_success_and_a_failure() -> None:
    factory = BatchFactory(seed=1)
    assert factory("PARTIAL_FAILED", run_count=2).failed_run_count == 1
    assert factory("PARTIAL_FAILED", run_count=3).failed_run_count == 1
    assert factory("PARTIAL_FAILED", run_count=1000).failed_run_count == 300


def test_status_accepts_the_enum(factory: BatchFactory) -> None:
    assert factory(BatchStatus.PARTIAL_FAILED).status is BatchStatus.PARTIAL_FAILED


def test_created_at_defaults_to_2026(factory: BatchFactory) -> None:
    for _ in range(10):
        assert factory().created_at.year == 2026


# -- options ---------------------------------------------------------------------------------


@pytest.mark.parametrize("run_count", [1, 2, 37, 1000])
def test_run_count(factory: BatchFactory, run_count: int) -> None:
    batch = factory("COMPLETED", run_count=run_count)
    assert batch.run_count == run_count
    assert len(batch.runs) == run_count
    assert len(set(batch.runs)) == run_count


@pytest.mark.parametrize(
    ("status", "failed"), [("COMPLETED", 0), ("COMPLETED", 4), ("PARTIAL_FAILED", 9)]
)
def test_failed_count(factory: BatchFactory, status: str, failed: int) -> None:
    batch = factory(status, run_count=10, failed_count=failed)
    assert batch.failed_run_count == failed
    assert batch.successful_run_count == 10 - failed
    assert len(batch.errors) == min(failed, 1)  # the default code collapses
    each = factory(status, run_count=10, failed_count=failed, error_code="TRIGGER_FAILED")
    assert len(each.errors) == failed


def test_idempotency_key_true_generates_an_sdk_key(factory: BatchFactory) -> None:
    first = factory(idempotency_key=True).idempotency_key
    second = factory(idempotency_key=True).idempotency_key
    assert first is not None
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert first != second


def test_idempotency_key_string_is_kept(factory: BatchFactory) -> None:
    batch = factory("PROCESSING", idempotency_key="order-42")
    assert batch.to_payload()["idempotencyKey"] == "order-42"
    assert factory(idempotency_key="k" * 2048).idempotency_key == "k" * 2048


@pytest.mark.parametrize("value", [None, False])
def test_idempotency_key_none_leaves_it_out(factory: BatchFactory, value: Any) -> None:
    batch = factory(idempotency_key=value)
    assert batch.idempotency_key is None
    assert "idempotencyKey" not in batch.to_payload()


def test_task_identifier_string_names_every_error(factory: BatchFactory) -> None:
    batch = factory("ABORTED", run_count=5, task_identifier="send-welcome-email")
    assert {e.task_identifier for e in batch.errors} == {"send-welcome-email"}
    assert all("send-welcome-email" in e.error for e in batch.errors)


def test_task_identifier_list_is_spread_over_items_in_turn(factory: BatchFactory) -> None:
    tasks = ["send-email", "resize-image", "charge-card"]
    batch = factory("ABORTED", run_count=7, task_identifier=tasks, error_code="ITEM_ERROR")
    assert [e.task_identifier for e in batch.errors] == [tasks[i % 3] for i in range(7)]
    one = factory("ABORTED", run_count=2, task_identifier=("a-task",), error_code=None)
    assert one.errors[1].task_identifier == "a-task"


@pytest.mark.parametrize("code", rules.ERROR_CODES)
def test_error_code_applies_to_every_failure(factory: BatchFactory, code: str) -> None:
    batch = factory("COMPLETED", run_count=6, failed_count=1, error_code=code)
    assert [e.error_code for e in batch.errors] == [code]
    assert batch.to_payload()["errors"][0]["errorCode"] == code


def test_error_code_none_gives_entries_without_a_code(factory: BatchFactory) -> None:
    batch = factory("PARTIAL_FAILED", run_count=6, failed_count=3, error_code=None)
    assert [e.error_code for e in batch.errors] == [None, None, None]
    assert all("errorCode" not in e for e in batch.to_payload()["errors"])
    assert all(e.error for e in batch.errors)


def test_queue_size_limit_failures_collapse(factory: BatchFactory) -> None:
    batch = factory(
        "PARTIAL_FAILED", run_count=50, failed_count=12, error_code=QUEUE, task_identifier="t-x"
    )
    (entry,) = batch.errors
    assert batch.failed_run_count == 12
    assert entry.error_code == QUEUE
    assert entry.task_identifier == "t-x"
    assert entry.error.startswith("Cannot trigger t-x as the queue size limit")
    assert entry.error.endswith(" 10000 (12 items in this batch failed with the same error)")


def test_a_single_queue_size_limit_failure_has_the_suffix_too(factory: BatchFactory) -> None:
    (entry,) = factory("COMPLETED", run_count=5, failed_count=1, error_code=QUEUE).errors
    assert entry.error.endswith(" 10000 (1 items in this batch failed with the same error)")


THROWN = re.compile(r"[A-Z][a-z]+(?: [a-z]+)+")  # a thrown message, as Error.message has it


def test_error_messages_are_the_platforms(factory: BatchFactory) -> None:
    def messages(code: str) -> list[str]:
        batch = factory("ABORTED", run_count=6, error_code=code, task_identifier="send-email")
        return [e.error for e in batch.errors]

    assert messages("TRIGGER_FAILED") == ["TriggerTaskService returned undefined"] * 6
    assert messages("ENVIRONMENT_NOT_FOUND") == ["Environment not found"] * 6
    too_large = re.compile(
        r"Batch item payload is too large \((\d+\.\d) KB\)\. Maximum allowed size is "
        r"3072\.0 KB\. Reduce the payload size or offload large data to external storage\."
    )
    for message in messages("PAYLOAD_TOO_LARGE"):
        match = too_large.fullmatch(message)
        assert match, message
        assert float(match.group(1)) > 3072.0
    for code in ("TRIGGER_ERROR", "UNEXPECTED_ERROR"):  # the thrown message, unwrapped
        thrown = messages(code)
        assert all(THROWN.fullmatch(m) for m in thrown), thrown
        assert len(set(thrown)) > 1
        assert not any("send-email" in m for m in thrown)
    assert all(
        m.startswith(f"Invalid payload for item {i}: ")
        for i, m in enumerate(messages("ITEM_ERROR"))
    )


def test_payload_sizes_round_as_javascript_does() -> None:
    # (3072.25).toFixed(1) is "3072.3"; Python's format would give "3072.2".
    assert "(3072.3 KB)" in rules.payload_too_large_message(3_145_984)
    assert "(3072.1 KB)" in rules.payload_too_large_message(3_145_830)


def test_created_at_accepts_a_datetime(factory: BatchFactory) -> None:
    moment = datetime(2026, 3, 1, 13, 0, 0, 123999, tzinfo=timezone(timedelta(hours=1)))
    batch = factory("PENDING", created_at=moment)
    assert batch.created_at == datetime(2026, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)
    assert batch.to_payload()["createdAt"] == "2026-03-01T12:00:00.123Z"
    naive = factory("PENDING", created_at=datetime(2026, 3, 1, 12, 0))
    assert naive.to_payload()["createdAt"] == "2026-03-01T12:00:00.000Z"


@pytest.mark.parametrize(
    "text", ["2026-03-01T12:00:00.000Z", "2026-03-01T12:00:00Z", "2026-03-01T14:00:00+02:00"]
)
def test_created_at_accepts_an_iso_string(factory: BatchFactory, text: str) -> None:
    batch = factory("COMPLETED", created_at=text)
    body = batch.to_payload()
    assert body["createdAt"] == "2026-03-01T12:00:00.000Z"
    assert body["updatedAt"] > body["createdAt"]


def test_batch_id_is_used(factory: BatchFactory) -> None:
    batch_id = "batch_cm8rr2zw50000efdyyq0376m5"
    assert factory("COMPLETED", batch_id=batch_id).id == batch_id
    assert factory("PENDING", batch_id=batch_id).id == batch_id
    legacy_id = "batch_p4omhh45hgxxnq1re6ovy"
    assert factory("COMPLETED", legacy=True, batch_id=legacy_id).id == legacy_id


@pytest.mark.parametrize(
    "batch_id",
    [
        "batch_p4omhh45hgxxnq1re6ovy",  # nanoid
        "batch_0685k5ubvh2ue9l1c3pqsr7me1",  # run-ops
        "batch_2yQbR7vTz0KxWm4NcLp8HsDfGa1",  # base62
    ],
)
def test_batch_id_may_be_any_of_the_platforms_formats(factory: BatchFactory, batch_id: str) -> None:
    batch = factory("PARTIAL_FAILED", batch_id=batch_id)
    assert batch.id == batch_id
    assert TriggerBatch.from_payload(batch.to_payload(version=2)) == batch
    # ... while its runs, and ids it makes itself, stay cuids.
    assert all(CUID.fullmatch(r.removeprefix("run_")) for r in batch.runs)
    assert CUID.fullmatch(factory("PARTIAL_FAILED").id.removeprefix("batch_"))


def test_the_factory_repr_names_its_seed() -> None:
    # The factory's refusals (bad options, bad seeds) live in tests/contract/test_factory_*.py.
    assert repr(BatchFactory(seed=17)) == "BatchFactory(seed=17)"


# -- reproducibility -------------------------------------------------------------------------

CALLS: list[tuple[str, dict[str, Any]]] = [
    ("COMPLETED", {}),
    ("PARTIAL_FAILED", {"run_count": 40, "idempotency_key": True}),
    ("PENDING", {"runs_created": True}),
    ("ABORTED", {"error_code": None}),
    ("COMPLETED", {"failed_count": 5, "error_code": QUEUE}),
    ("PENDING", {"legacy": True, "run_count": 30}),
    ("PROCESSING", {}),
]


def payloads(seed: int) -> str:
    factory = BatchFactory(seed=seed)
    bodies = []
    for status, options in CALLS:
        batch = factory(status, **options)
        bodies.append(batch.to_payload())
        bodies.append(batch.to_payload(version=2))
        bodies.append(batch.to_payload(shape="documented"))
    return json.dumps(bodies)


def test_same_seed_gives_byte_identical_payloads() -> None:
    assert payloads(99) == payloads(99)


def test_different_seeds_give_different_payloads() -> None:
    seen = {payloads(seed) for seed in (1, 2, 3)}
    assert len(seen) == 3


def test_each_call_gives_a_new_batch(factory: BatchFactory) -> None:
    first, second = factory(), factory()
    assert first.id != second.id
    assert set(first.runs).isdisjoint(second.runs)


def test_lifecycle_states_share_the_batch(factory: BatchFactory) -> None:
    states = factory.lifecycle("COMPLETED", run_count=6, failed_count=2, idempotency_key=True)
    assert [s.status for s in states] == ["PENDING", "PROCESSING", "PARTIAL_FAILED", "COMPLETED"]
    assert len({s.id for s in states}) == 1
    assert {s.run_count for s in states} == {6}
    assert len({s.idempotency_key for s in states}) == 1
    lifecycle.check_sequence(states)
    assert states[-1] == BatchFactory(seed=4242)(
        "COMPLETED", run_count=6, failed_count=2, idempotency_key=True
    )


def test_built_batches_survive_validation(factory: BatchFactory) -> None:
    batch = factory("PARTIAL_FAILED", run_count=300, failed_count=120, task_identifier=["a", "b"])
    assert TriggerBatch.from_payload(batch.to_payload()) == batch


# -- built once, unchecked: the factory keeps every rule by construction -------------------

BUILDS: list[tuple[str, dict[str, Any]]] = [
    *((status, {}) for status in BatchStatus),
    *((status, {"run_count": 1000}) for status in BatchStatus),
    ("PENDING", {"runs_created": True, "idempotency_key": True}),
    ("ABORTED", {"runs_created": False, "run_count": 1}),
    ("PARTIAL_FAILED", {"run_count": 2}),
    *(
        ("PARTIAL_FAILED", {"run_count": 300, "failed_count": 200, "error_code": code})
        for code in (*rules.ERROR_CODES, None)
    ),
    ("COMPLETED", {"failed_count": 999, "run_count": 1000, "task_identifier": ["a", "b"]}),
    ("ABORTED", {"created_at": "1970-01-01T00:00:00Z", "batch_id": "batch_" + "a" * 27}),
    *((status, {"legacy": True}) for status in ("PENDING", "COMPLETED", "ABORTED")),
]


@pytest.mark.parametrize("seed", [0, 1, 2**63])
def test_every_batch_the_factory_builds_keeps_every_platform_rule(seed: int) -> None:
    # The factory builds batches without checking them again (TriggerBatch._made).
    factory = BatchFactory(seed=seed)
    for status, options in BUILDS:
        batch = factory(status, **options)
        assert rules.problems(batch) == [], (status, options)
        fields = {name: getattr(batch, name) for name in TriggerBatch.__dataclass_fields__}
        assert TriggerBatch(**fields) == batch  # the public constructor accepts it as it is


@pytest.mark.parametrize("seed", [0, 7, 2**40])
def test_runs_of_builds_each_run_as_run_would_one_by_one(seed: int) -> None:
    # runs_of draws in bulk what run() draws per run, and builds each run unchecked.
    assert factory_module._inline_draws_exact()  # the bulk path on this Python
    bulk, single = BatchFactory(seed=seed), BatchFactory(seed=seed)
    cases: list[tuple[str, dict[str, Any]]] = [
        ("COMPLETED", {"run_count": 1000}),
        ("PENDING", {"runs_created": True, "run_count": 40}),
        ("PENDING", {"legacy": True, "run_count": 30}),
        ("PARTIAL_FAILED", {"run_count": 7}),
        ("ABORTED", {}),
    ]
    for status, options in cases:
        batch, same = bulk(status, **options), single(status, **options)
        tasks = ["a", "b", "c"] if status == "PARTIAL_FAILED" else None
        runs = bulk.runs_of(batch, task_identifier=tasks)
        status_of_runs = factory_module._status_of_runs(same)
        no_keys = [None] * len(same.runs)
        one_by_one = single._runs_one_by_one(same, single._task_ids(tasks), status_of_runs, no_keys)
        assert runs == one_by_one, status
        assert [replace(run) for run in runs] == list(runs)  # TriggerRun's rules hold
        # Both factories are in the same state afterwards: later batches stay identical.
        assert bulk(status, **options) == single(status, **options)


def test_runs_of_gives_each_run_its_own_payload_and_output(factory: BatchFactory) -> None:
    runs = factory.runs_of(factory("COMPLETED", run_count=3))
    assert runs[0].payload is not runs[1].payload
    assert runs[0].output is not runs[1].output
    assert {run.task_identifier for run in runs} == {runs[0].task_identifier}


def test_runs_of_draws_one_by_one_where_random_draws_differently(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batch = BatchFactory(seed=3)("COMPLETED", run_count=20)
    bulk = BatchFactory(seed=8).runs_of(batch)
    monkeypatch.setattr(factory_module, "_inline_draws_exact", lambda: False)
    assert BatchFactory(seed=8).runs_of(batch) == bulk


def test_a_bodys_timestamps_are_written_as_javascript_writes_them_in_every_year() -> None:
    # Bodies write a batch's moments from the datetime's fields, not through iso_ms.
    rng = random.Random(6)
    first, last = datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC)
    span = (last - first) // timedelta(milliseconds=1)
    for _ in range(3000):
        moment = first + timedelta(milliseconds=rng.randrange(span))
        batch = TriggerBatch("batch_x", BatchStatus.PENDING, moment, moment, 1, check_ids=False)
        assert batch.to_payload()["createdAt"] == iso_ms(to_ms(moment))
