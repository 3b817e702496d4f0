"""What every bad-input table shares: the context a case works on, `case()` and `refused()`."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from pytest_trigger_batches import BatchFactory, BatchStatus
from pytest_trigger_batches.api import TriggerApi
from pytest_trigger_batches.model import TriggerBatch
from pytest_trigger_batches.rules import ERROR_CODES, ID_FORMATS

if TYPE_CHECKING:
    from _pytest.mark import ParameterSet

# Parts of messages, as regular expressions, built from the product's own lists.
STATUSES = re.escape(", ".join(BatchStatus))
CODES = re.escape(", ".join(ERROR_CODES))
ID_FORMATS_RE = re.escape(ID_FORMATS)
# The key rule is written out in one message only (ids.py): no constant to take it from.
KEY_RULE = (
    r"tr_dev_, tr_stg_, tr_prod_ or tr_preview_ \+ 24 letters or digits \(20 in keys made "
    r"before 2026-08-06\), or an additional key tr_<env>_sk_ \+ 24"
)
KEY = "tr_dev_" + "Kq7" * 8  # 24 chars after the prefix
WELL_FORMED_ID = "batch_cmx0ugyuv00004a7d2bda9ln4"


@dataclass
class Ctx:
    """What a case works on: a seeded factory, a fresh API and a few valid payloads."""

    factory: BatchFactory
    api: TriggerApi
    batch: TriggerBatch  # COMPLETED, 10 items, 2 failed (TRIGGER_ERROR)
    payloads: dict[str, dict[str, Any]]


def make_ctx() -> Ctx:
    factory = BatchFactory(seed=20260301)
    batch = factory("COMPLETED", run_count=10, failed_count=2, error_code="TRIGGER_ERROR")
    queue = factory("ABORTED", run_count=5, error_code="QUEUE_SIZE_LIMIT_EXCEEDED")
    api = TriggerApi(secret_key=KEY)
    api.add_batch(batch)
    payloads = {
        "failed": batch.to_payload(),
        "queue": queue.to_payload(),
        "pending": factory("PENDING").to_payload(),
        "processing": factory("PROCESSING").to_payload(),
        "v2": batch.to_payload(version=2),
    }
    return Ctx(factory, api, batch, payloads)


Call = Callable[[Ctx], object]
Error = type[Exception] | tuple[type[Exception], ...]
# For a hostile value whose exception type depends on the field it is put in.
EITHER: Error = (ValueError, TypeError)


def case(name: str, call: Call, error: Error, match: str) -> ParameterSet:
    """One row of a table: `call(ctx)` raises `error` with a message matching `match`."""
    return pytest.param(call, error, match, id=name)


def refused(ctx: Ctx, call: Call, error: Error, match: str) -> None:
    """Run one case: the exact error, a short message naming the problem, nothing changed."""
    batches_before = [handle.id for handle in ctx.api.batches]
    with pytest.raises(error, match=match) as raised:
        call(ctx)
    allowed = error if isinstance(error, tuple) else (error,)
    message = str(raised.value)
    assert type(raised.value) in allowed, f"{type(raised.value).__name__}: {message:.300}"
    assert message.strip(), "an error without a message"
    assert len(message) < 1000, f"the message echoes the whole input: {message:.300}"
    assert [h.id for h in ctx.api.batches] == batches_before, "a refused call left state behind"
    assert KEY not in message


# -- payload dicts: a valid one, changed --------------------------------------------------

INVALID = r"batch is not a valid batch payload: "
NOT_SERVER = r"batch is not a body the server writes: "


def payload(base: str, change: Callable[[dict[str, Any]], object]) -> Call:
    """add_batch(a copy of a valid payload with `change` applied)."""

    def call(ctx: Ctx) -> object:
        body = copy.deepcopy(ctx.payloads[base])
        change(body)
        return ctx.api.add_batch(body)

    return call


def error_entry(number: int, **fields: object) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        errors = body["processing"]["errors"] if "processing" in body else body["errors"]
        errors[number].update(fields)

    return change


def drop(*names: str) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        for name in names:
            del body[name]

    return change


def deep(depth: int) -> object:
    """A list nested `depth` levels deep: more than json or a recursive check can take."""
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value
