"""TriggerBatch: `to_payload()`, `from_payload()` and `dataclasses.replace()` refuse bad values."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from contract.cases import EITHER, Call, Ctx, Error, case, deep, refused
from pytest_trigger_batches import BatchFactory, TriggerBatch

HOSTILE = BatchFactory(seed=3)("PARTIAL_FAILED")  # one collapsed queue-limit entry
V1, V2 = HOSTILE.to_payload(), HOSTILE.to_payload(version=2)
ENTRY = V1["errors"][0]


def v2_with(**processing: object) -> dict[str, Any]:
    return {**V2, "processing": {**V2["processing"], **processing}}


def replaced(**changes: Any) -> TriggerBatch:
    return dataclasses.replace(HOSTILE, **changes)


def from_v1(**fields: object) -> Call:
    return lambda c: TriggerBatch.from_payload({**V1, **fields})


MODEL = [
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
    case(
        "payload-from_payload-list",
        lambda c: TriggerBatch.from_payload([c.payloads["failed"]]),  # type: ignore[arg-type]
        TypeError,
        r"payload must be a mapping \(a parsed JSON body\)",
    ),
    case(
        "to_payload-version-True",
        lambda c: HOSTILE.to_payload(version=True),  # type: ignore[arg-type]
        ValueError,
        r"version must be",
    ),
    # hostile values: None for a required field, missing fields, deep nesting, huge text
    case("created_at-None", lambda c: replaced(created_at=None), TypeError, r"created_at must be"),
    case("runs-None", lambda c: replaced(runs=None), TypeError, r"runs must be a sequence"),
    case("errors-None", lambda c: replaced(errors=None), TypeError, r"errors must be a sequence"),
    case(
        "error-entry-missing-index",
        from_v1(errors=[{k: v for k, v in ENTRY.items() if k != "index"}]),
        ValueError,
        r"errors\[0\]\.index is missing",
    ),
    case(
        "v2-error-entry-missing-task",
        lambda c: TriggerBatch.from_payload(v2_with(errors=[{"index": 0, "error": "x"}])),
        ValueError,
        r"processing\.errors\[0\]\.taskIdentifier is missing",
    ),
    *[
        # ValueError or TypeError, as the field is
        case(f"deep-{field}", from_v1(**{field: deep(2000)}), EITHER, field)
        for field in ("id", "status", "runs", "errors", "idempotencyKey", "createdAt", "runCount")
    ],
    case(
        "huge-status",
        lambda c: TriggerBatch.from_payload({**V1, "status": "x" * 10**6}),
        ValueError,
        r"status",
    ),
    case(
        "huge-id",
        lambda c: TriggerBatch.from_payload({**V1, "id": "batch_" + "x" * 10**6}),
        ValueError,
        r"id must be",
    ),
    case(
        "v2-completedAt-invalid",
        lambda c: TriggerBatch.from_payload(v2_with(completedAt="soon")),
        ValueError,
        r"processing\.completedAt must be",
    ),
    case(
        "v2-completedAt-inconsistent",
        lambda c: TriggerBatch.from_payload(v2_with(completedAt="2020-01-01T00:00:00.000Z")),
        ValueError,
        r"must equal processingCompletedAt",
    ),
    case(
        "v2-completedAt-missing",
        lambda c: TriggerBatch.from_payload(
            {**V2, "processing": {"errors": V2["processing"]["errors"]}}
        ),
        ValueError,
        r"processing\.completedAt is missing",
    ),
]


@pytest.mark.parametrize(("call", "error", "match"), MODEL)
def test_a_batch_refuses_a_bad_value_naming_the_field(
    ctx: Ctx, call: Call, error: Error, match: str
) -> None:
    refused(ctx, call, error, match)
