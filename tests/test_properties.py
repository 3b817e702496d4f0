"""Property tests: whatever valid request the factory gets, its payloads obey the platform.

The checker below is written from docs/platform.md on purpose, independently of `rules`, so a
mistake in `rules` cannot hide a mistake in the factory.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_trigger_batches import lifecycle
from pytest_trigger_batches.factory import BatchFactory
from pytest_trigger_batches.model import TriggerBatch

STATUSES = ("PENDING", "PROCESSING", "COMPLETED", "PARTIAL_FAILED", "ABORTED")
CODES = (
    "TRIGGER_ERROR",
    "TRIGGER_FAILED",
    "ENVIRONMENT_NOT_FOUND",
    "ITEM_ERROR",
    "QUEUE_SIZE_LIMIT_EXCEEDED",
    "UNEXPECTED_ERROR",
    "PAYLOAD_TOO_LARGE",
)
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
# What the factory mints: cuids, and nanoids for legacy batches.
BATCH_ID = re.compile(r"batch_(c[0-9a-z]{24}|[1-9a-km-z]{21})")
RUN_ID = re.compile(r"run_(c[0-9a-z]{24}|[1-9a-km-z]{21})")
V1_FIELDS = {
    "id",
    "status",
    "idempotencyKey",
    "createdAt",
    "updatedAt",
    "runCount",
    "runs",
    "successfulRunCount",
    "failedRunCount",
    "errors",
}
V2_FIELDS = {
    "id",
    "status",
    "idempotencyKey",
    "createdAt",
    "updatedAt",
    "runCount",
    "runs",
    "processingCompletedAt",
    "processing",
}

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def requests(draw: st.DrawFn) -> tuple[int, str, dict[str, Any]]:
    """A seed, a status and a valid combination of factory options."""
    seed = draw(st.integers(min_value=0, max_value=2**64 - 1))  # seeds are 64-bit
    legacy = draw(st.booleans())
    options: dict[str, Any] = {}
    small = st.integers(min_value=1, max_value=12)
    any_size = st.integers(min_value=1, max_value=1000)
    run_count = draw(st.one_of(small, small, any_size))
    if legacy:
        status = draw(st.sampled_from(("PENDING", "COMPLETED", "ABORTED")))
        options["legacy"] = True
    else:
        status = draw(st.sampled_from(STATUSES))
        if status == "PARTIAL_FAILED":
            run_count = max(run_count, 2)
        runs_created = {
            "PENDING": st.sampled_from((None, False, True)),
            "PROCESSING": st.sampled_from((None, False)),
            "COMPLETED": st.sampled_from((None, True)),
            "PARTIAL_FAILED": st.sampled_from((None, True)),
            "ABORTED": st.sampled_from((None, False, True)),
        }[status]
        created = draw(runs_created)
        if created is not None:
            options["runs_created"] = created
        finished = created if created is not None else status not in ("PENDING", "PROCESSING")
        if finished:
            low, high = {
                "PENDING": (0, 0),
                "COMPLETED": (0, run_count - 1),
                "PARTIAL_FAILED": (1, run_count - 1),
                "ABORTED": (run_count, run_count),
            }[status]
            failed = draw(st.none() | st.integers(min_value=low, max_value=high))
            if failed is not None:
                options["failed_count"] = failed
            if draw(st.booleans()):
                options["error_code"] = draw(st.sampled_from((*CODES, None)))
    options["run_count"] = run_count
    options["idempotency_key"] = draw(
        st.none()
        | st.just(True)
        | st.text(min_size=1, max_size=40, alphabet=st.characters(codec="utf-8"))
    )
    options["task_identifier"] = draw(
        st.none()
        | st.sampled_from(("send-welcome-email", "resize-image"))
        | st.lists(st.from_regex(r"[a-z]{1,8}(-[a-z]{1,8}){0,2}", fullmatch=True), min_size=1)
    )
    options["created_at"] = draw(
        st.none()
        | st.datetimes(
            min_value=datetime(2025, 12, 1),
            max_value=datetime(2026, 8, 31),
            timezones=st.sampled_from((UTC, timezone(timedelta(hours=-5)))),
        )
    )
    return seed, status, options


def walk(value: Any) -> list[Any]:
    """Every value nested in a JSON document."""
    found = [value]
    if isinstance(value, dict):
        for item in value.values():
            found.extend(walk(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(walk(item))
    return found


def check_common(body: dict[str, Any]) -> None:
    assert BATCH_ID.fullmatch(body["id"])
    assert body["status"] in STATUSES
    assert TIMESTAMP.fullmatch(body["createdAt"])
    assert TIMESTAMP.fullmatch(body["updatedAt"])
    assert body["updatedAt"] >= body["createdAt"]
    assert isinstance(body["runCount"], int)
    assert 1 <= body["runCount"] <= 1000
    runs = body["runs"]
    assert all(isinstance(r, str) and RUN_ID.fullmatch(r) for r in runs)
    assert len(set(runs)) == len(runs) <= body["runCount"]
    if "idempotencyKey" in body:
        assert isinstance(body["idempotencyKey"], str)
        assert 1 <= len(body["idempotencyKey"]) <= 2048
    assert None not in walk(body), "the server leaves absent values out"


def check_errors(errors: list[dict[str, Any]], run_count: int, failed: int) -> None:
    indices = [e["index"] for e in errors]
    assert len(set(indices)) == len(indices)
    assert all(0 <= i < run_count for i in indices)
    for entry in errors:
        assert set(entry) <= {"index", "taskIdentifier", "error", "errorCode"}
        assert isinstance(entry["error"], str)
        assert entry["error"]
        assert isinstance(entry["taskIdentifier"], str)
        assert entry["taskIdentifier"]
        assert entry.get("errorCode", CODES[0]) in CODES
    if errors and all(e.get("errorCode") == "QUEUE_SIZE_LIMIT_EXCEEDED" for e in errors):
        assert len(errors) == 1
        suffix = f" ({failed} items in this batch failed with the same error)"  # also for 1
        assert errors[0]["error"].endswith(suffix)
    else:
        assert len(errors) == failed


def check_server_v1(body: dict[str, Any]) -> None:
    """Every platform invariant (docs/platform.md §4) a v1 body as the server writes it obeys."""
    assert set(body) <= V1_FIELDS
    check_common(body)
    status, run_count, runs = body["status"], body["runCount"], body["runs"]
    assert ("successfulRunCount" in body) == ("failedRunCount" in body)
    if "successfulRunCount" not in body:
        assert "errors" not in body
        assert status != "PARTIAL_FAILED"
        if status == "PROCESSING":
            assert runs == []
        if status == "COMPLETED":
            assert len(runs) == run_count
        return
    successful, failed = body["successfulRunCount"], body["failedRunCount"]
    assert successful >= 0
    assert failed >= 0
    assert successful + failed == run_count
    assert len(runs) == successful
    if failed == 0:
        assert status in ("PENDING", "COMPLETED")
    elif failed == run_count:
        assert status == "ABORTED"
    else:
        assert status in ("PARTIAL_FAILED", "COMPLETED")
    errors = body.get("errors", [])
    assert ("errors" in body) == (failed > 0)
    check_errors(errors, run_count, failed)


def check_v2(body: dict[str, Any], batch: TriggerBatch, *, legacy: bool) -> None:
    assert set(body) <= V2_FIELDS
    order = ["id", "status", "idempotencyKey", "createdAt", "updatedAt", "processingCompletedAt"]
    assert list(body) == [k for k in order if k in body] + ["runCount", "runs", "processing"]
    check_common(body)
    processing = body["processing"]
    assert isinstance(processing["errors"], list)
    if body["status"] == "ABORTED" and not batch.runs_created and not legacy:
        # items never finished arriving: aborted with processingCompletedAt, nothing else
        assert body["processingCompletedAt"] == processing["completedAt"] == body["updatedAt"]
        assert processing["errors"] == []
    elif batch.runs_created:
        assert TIMESTAMP.fullmatch(body["processingCompletedAt"])
        assert processing["completedAt"] == body["processingCompletedAt"]
        assert body["createdAt"] <= body["processingCompletedAt"] <= body["updatedAt"]
        failed = body["runCount"] - len(body["runs"])
        check_errors(processing["errors"], body["runCount"], failed)
    else:
        assert "processingCompletedAt" not in body
        assert processing == {"errors": []}


def check_request_honoured(batch: TriggerBatch, status: str, options: dict[str, Any]) -> None:
    assert batch.status == status
    assert batch.run_count == options["run_count"]
    if "failed_count" in options:
        assert batch.failed_run_count == options["failed_count"]
    if options.get("runs_created") is not None:
        assert batch.runs_created == options["runs_created"]
    key = options["idempotency_key"]
    if key is None:
        assert batch.idempotency_key is None
    elif key is True:
        assert re.fullmatch(r"[0-9a-f]{64}", batch.idempotency_key or "")
    else:
        assert batch.idempotency_key == key
    if "error_code" in options:
        assert {e.error_code for e in batch.errors} <= {options["error_code"]}
    tasks = options["task_identifier"]
    if isinstance(tasks, list):
        assert all(e.task_identifier == tasks[e.index % len(tasks)] for e in batch.errors)


@SETTINGS
@given(requests())
def test_server_payload_obeys_every_invariant(case: tuple[int, str, dict[str, Any]]) -> None:
    seed, status, options = case
    batch = BatchFactory(seed=seed)(status, **options)
    check_request_honoured(batch, status, options)
    body = batch.to_payload()
    check_server_v1(body)
    json.dumps(body)  # JSON-ready as it is
    assert TriggerBatch.from_payload(body) == batch


@SETTINGS
@given(requests())
def test_documented_payload_validates_against_the_published_schema(
    documented_schema: dict[str, Any], case: tuple[int, str, dict[str, Any]]
) -> None:
    seed, status, options = case
    batch = BatchFactory(seed=seed)(status, **options)
    body = batch.to_payload(shape="documented")
    jsonschema.validate(body, documented_schema)
    assert set(body) == V1_FIELDS, "the documented shape writes every field, null when absent"
    for entry in body["errors"] or []:
        assert isinstance(entry["error"], dict)
        assert isinstance(entry["error"]["message"], str)
    assert TriggerBatch.from_payload(body) == batch


@SETTINGS
@given(requests())
def test_v2_payload_has_the_v2_shape(case: tuple[int, str, dict[str, Any]]) -> None:
    seed, status, options = case
    batch = BatchFactory(seed=seed)(status, **options)
    body = batch.to_payload(version=2)
    check_v2(body, batch, legacy="legacy" in options)
    back = TriggerBatch.from_payload(body)
    assert back == batch
    assert back.processing_completed_at == batch.processing_completed_at


@SETTINGS
@given(requests())
def test_every_state_of_the_history_is_a_valid_body(
    case: tuple[int, str, dict[str, Any]],
) -> None:
    seed, status, options = case
    states = BatchFactory(seed=seed).lifecycle(status, **options)
    lifecycle.check_sequence(states)
    assert states[0].status == "PENDING"
    assert states[0].runs == ()
    for state in states:
        check_server_v1(state.to_payload())
        check_v2(state.to_payload(version=2), state, legacy="legacy" in options)


@settings(max_examples=25, deadline=None)
@given(requests())
def test_same_seed_same_request_same_bytes(case: tuple[int, str, dict[str, Any]]) -> None:
    seed, status, options = case
    first = BatchFactory(seed=seed)(status, **options)
    second = BatchFactory(seed=seed)(status, **options)
    for version, shape in ((1, "server"), (1, "documented"), (2, "server")):
        assert json.dumps(first.to_payload(version=version, shape=shape)) == json.dumps(  # type: ignore[arg-type]
            second.to_payload(version=version, shape=shape)  # type: ignore[arg-type]
        )
