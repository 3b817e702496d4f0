"""The factory's options for a batch's values: key, tasks, creation time, id; its seed."""

from __future__ import annotations

from datetime import datetime

import pytest

from contract.cases import ID_FORMATS_RE, Call, Ctx, Error, case, refused
from contract.test_factory_options import SHAPES
from pytest_trigger_batches import BatchFactory

VALUES = [
    case(
        "idempotency_key-empty",
        lambda c: c.factory(idempotency_key=""),
        ValueError,
        r"idempotency_key must be None, True \(generate one\) or a string of 1 to 2048 "
        r"characters; got ''",
    ),
    case(
        "idempotency_key-too-long",
        lambda c: c.factory(idempotency_key="k" * 2049),
        ValueError,
        r"idempotency_key must be None, True \(generate one\) or a string of 1 to 2048",
    ),
    case(
        "idempotency_key-int",
        lambda c: c.factory(idempotency_key=5),  # type: ignore[arg-type]
        ValueError,
        r"idempotency_key must be None, True .*; got 5",
    ),
    case(
        "task_identifier-empty",
        lambda c: c.factory(task_identifier=""),
        ValueError,
        r"task_identifier must be a task id such as 'send-welcome-email', or a non-empty "
        r"list of them; got ''",
    ),
    case(
        "task_identifier-blank",
        lambda c: c.factory(task_identifier="   "),
        ValueError,
        r"task_identifier must be a task id .*; got '   '",
    ),
    case(
        "task_identifier-empty-list",
        lambda c: c.factory(task_identifier=[]),
        ValueError,
        r"task_identifier must be a task id .*; got \[\]",
    ),
    case(
        "task_identifier-list-of-int",
        lambda c: c.factory(task_identifier=["send-email", 1]),  # type: ignore[list-item]
        ValueError,
        r"task_identifier must be a task id .*; got \['send-email', 1\]",
    ),
    case(
        "task_identifier-int",
        lambda c: c.factory(task_identifier=5),  # type: ignore[arg-type]
        ValueError,
        r"task_identifier must be a task id .*; got 5",
    ),
    case(
        "task_identifier-dict",
        lambda c: c.factory(task_identifier={"send-email": 1}),  # type: ignore[arg-type]
        ValueError,
        r"task_identifier must be a task id .*; got \{'send-email': 1\}",
    ),
    case(
        "created_at-text",
        lambda c: c.factory(created_at="yesterday"),
        ValueError,
        r"created_at must be an ISO-8601 timestamp such as '2026-03-01T12:00:00.000Z'; "
        r"got 'yesterday'",
    ),
    case(
        "created_at-int",
        lambda c: c.factory(created_at=1767225600),  # type: ignore[arg-type]
        TypeError,
        r"created_at must be a datetime or an ISO-8601 string; got 1767225600",
    ),
    case(
        "created_at-before-1970",
        lambda c: c.factory(created_at="1969-12-31T23:59:59.000Z"),
        ValueError,
        r"created_at must be from 1970-01-01 to 9999-12-30 \(UTC\); got '1969-12-31T23:59:59.000Z'",
    ),
    case(
        "created_at-end-of-time",
        lambda c: c.factory("COMPLETED", created_at=datetime.max),
        ValueError,
        r"created_at must be from 1970-01-01 to 9999-12-30 \(UTC\); got datetime.datetime\(9999",
    ),
    case(
        "batch_id-malformed",
        lambda c: c.factory(batch_id="batch_123"),
        ValueError,
        rf"batch_id must be 'batch_' \+ {ID_FORMATS_RE}; got 'batch_123'",
    ),
    case(
        "batch_id-empty",
        lambda c: c.factory(batch_id=""),
        ValueError,
        rf"batch_id must be 'batch_' \+ {ID_FORMATS_RE}; got ''",
    ),
    case(
        "batch_id-run-id",
        lambda c: c.factory(batch_id="run_cmx0ugyuv00014a7da3uz70rc"),
        ValueError,
        r"batch_id must be 'batch_' \+ .*; got 'run_cmx0ugyuv00014a7da3uz70rc'",
    ),
    case(
        "batch_id-int",
        lambda c: c.factory(batch_id=5),  # type: ignore[arg-type]
        ValueError,
        rf"batch_id must be 'batch_' \+ {ID_FORMATS_RE}; got 5",
    ),
    case(
        "unknown-option",
        lambda c: c.factory(colour="red"),  # type: ignore[call-arg]
        TypeError,
        r"unexpected keyword argument 'colour'",
    ),
    case(
        "seed-str",
        lambda c: BatchFactory(seed="1"),  # type: ignore[arg-type]
        TypeError,
        r"seed must be a whole number; got '1'",
    ),
    case(
        "seed-bool",
        lambda c: BatchFactory(seed=True),
        TypeError,
        r"seed must be a whole number; got True",
    ),
    case(
        "seed-huge",
        lambda c: BatchFactory(seed=10**5000),
        ValueError,
        r"seed must be",
    ),
]


@pytest.mark.parametrize(("call", "error", "match"), VALUES)
def test_the_factory_refuses_a_bad_value_naming_the_option(
    ctx: Ctx, call: Call, error: Error, match: str
) -> None:
    refused(ctx, call, error, match)


def test_every_factory_option_has_a_bad_input_case() -> None:
    options = set(BatchFactory.__call__.__annotations__) - {"return"}
    named = {str(param.id).split("-")[0] for param in [*SHAPES, *VALUES]}
    assert options <= named, f"options without a bad-input case: {sorted(options - named)}"
