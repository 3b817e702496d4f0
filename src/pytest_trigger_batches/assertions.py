"""Assertions on a batch's run counts and error entries, with messages that explain."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_trigger_batches import rules
from pytest_trigger_batches.model import BatchError, TriggerBatch
from pytest_trigger_batches.redact import redact
from pytest_trigger_batches.shown import shown

if TYPE_CHECKING:
    import httpx

    BatchLike = TriggerBatch | Mapping[str, Any] | httpx.Response

__all__ = ["assert_batch_errors", "assert_run_counts"]


@dataclass(frozen=True, slots=True)
class _Seen:
    """What a batch, a payload or a response says, in one form."""

    label: str
    total: int | None
    successful: int | None
    failed: int | None
    errors: tuple[BatchError, ...]


def assert_run_counts(
    batch: BatchLike,
    *,
    total: int | None = None,
    successful: int | None = None,
    failed: int | None = None,
) -> None:
    """Assert the batch's runCount, successful and failed run counts.

    `batch` may be a `TriggerBatch`, a v1 or v2 payload dict as the application parsed
    it, or an `httpx.Response`. For v2 bodies the counts are derived as the SDK does:
    successful = len(runs), failed = runCount - len(runs) once processing completed.
    """
    __tracebackhide__ = True
    expected = {"total": total, "successful": successful, "failed": failed}
    if all(v is None for v in expected.values()):
        raise TypeError("assert_run_counts needs at least one of total=, successful=, failed=")
    for name, value in expected.items():
        _check_count(name, value)
    seen = _read(batch)
    actual = {"total": seen.total, "successful": seen.successful, "failed": seen.failed}
    wrong = [
        f"  {name}: expected {value}, actual {_count(actual[name])}"
        for name, value in expected.items()
        if value is not None and actual[name] != value
    ]
    if wrong:
        raise AssertionError(
            f"run counts of {seen.label} differ:\n"
            + "\n".join(wrong)
            + _collapse_note(seen)
            + _listing(seen.errors)
        )


def assert_batch_errors(
    batch: BatchLike,
    *,
    count: int | None = None,
    indices: Collection[int] | None = None,
    task_identifier: str | None = None,
    error_code: str | None = None,
) -> None:
    """Assert the batch's error entries (the items whose run could not be created).

    - `count`: the number of error entries (a collapsed queue-limit failure is one).
    - `indices`: the entries' item indices are exactly these (any order). A collapsed
      queue-limit entry has one index, the first failure's.
    - `task_identifier` / `error_code`: every entry has this task id / error code.

    The entries may come in any order: the platform defines none.
    """
    __tracebackhide__ = True
    if count is None and indices is None and task_identifier is None and error_code is None:
        raise TypeError(
            "assert_batch_errors needs at least one of count=, indices=, "
            "task_identifier=, error_code="
        )
    _check_count("count", count)
    if indices is not None:
        if not isinstance(indices, Collection) or isinstance(indices, str | bytes | Mapping):
            raise TypeError(f"indices must be a collection of item indices; got {shown(indices)}")
        for index in indices:
            rules.whole_number(index, parameter="every index in indices", minimum=0)
    if task_identifier is not None and (
        not isinstance(task_identifier, str) or not task_identifier.strip()
    ):
        raise TypeError(
            f"task_identifier must be a task id (a string); got {shown(task_identifier)}"
        )
    if error_code is not None and error_code not in rules.ERROR_CODES:
        hint = ""
        if isinstance(error_code, str) and error_code.upper() in rules.ERROR_CODES:
            hint = f" (codes are upper case: {shown(error_code.upper())})"
        raise ValueError(
            f"error_code must be one of {', '.join(rules.ERROR_CODES)}; "
            f"got {shown(error_code)}{hint}"
        )
    seen = _read(batch)
    errors = seen.errors
    wrong: list[str] = []
    if count is not None and len(errors) != count:
        wrong.append(f"  count: expected {count}, actual {len(errors)}")
    if indices is not None:
        want, got = set(indices), {e.index for e in errors}
        if want != got:
            detail = []
            if want - got:
                detail.append(f"missing {sorted(want - got)}")
            if got - want:
                detail.append(f"unexpected {sorted(got - want)}")
            wrong.append(
                f"  indices: expected {sorted(want)}, actual {sorted(got)} ({'; '.join(detail)})"
            )
    for name, value, attribute in (
        ("task_identifier", task_identifier, "task_identifier"),
        ("error_code", error_code, "error_code"),
    ):
        if value is None:
            continue
        others = [e for e in errors if getattr(e, attribute) != value]
        if others or not errors:
            found = sorted({str(getattr(e, attribute)) for e in others}) or ["no error entries"]
            wrong.append(
                f"  {name}: expected every entry to have {shown(value)}; "
                f"{len(others)} of {len(errors)} have {', '.join(found)}"
            )
    if wrong:
        raise AssertionError(
            f"error entries of {seen.label} differ:\n"
            + "\n".join(wrong)
            + _collapse_note(seen)
            + _listing(errors)
        )


def _read(batch: object) -> _Seen:
    __tracebackhide__ = True
    if isinstance(batch, TriggerBatch):
        return _Seen(
            f"batch {batch.id} ({batch.status})",
            batch.run_count,
            batch.successful_run_count,
            batch.failed_run_count,
            batch.errors,
        )
    if not isinstance(batch, Mapping) and hasattr(batch, "status_code") and hasattr(batch, "json"):
        if batch.status_code != 200:
            raise AssertionError(
                f"expected a batch, but the response is HTTP {batch.status_code}: "
                f"{getattr(batch, 'text', '')[:300]}"
            )
        try:
            batch = batch.json()
        except ValueError:  # json.JSONDecodeError and UnicodeDecodeError among them
            raise ValueError(
                f"batch is an HTTP 200 response whose body is not JSON: "
                f"{redact(getattr(batch, 'text', ''))[:300]!r}"
            ) from None
    if not isinstance(batch, Mapping):
        raise TypeError(
            f"batch must be a TriggerBatch, a payload dict or an httpx.Response; got {shown(batch)}"
        )
    try:
        label = f"batch {batch['id']} ({batch['status']})"
        total = batch["runCount"]
        processing = batch.get("processing")
        if isinstance(processing, Mapping):  # v2: counts derive from runs
            done = batch.get("processingCompletedAt") is not None
            created = len(batch["runs"])
            successful, failed = (created, total - created) if done else (None, None)
            raw_errors = processing.get("errors") or ()
        else:
            successful = batch.get("successfulRunCount")
            failed = batch.get("failedRunCount")
            raw_errors = batch.get("errors") or ()
        errors = tuple(BatchError.from_payload(e) for e in raw_errors)
    except (KeyError, TypeError) as problem:
        raise AssertionError(
            f"not a batch payload (missing or malformed {problem}): {shown(dict(batch), 300)}"
        ) from None
    return _Seen(label, total, successful, failed, errors)


def _check_count(name: str, value: object) -> None:
    if value is not None:  # None: not checked
        rules.whole_number(value, parameter=name, minimum=0)


def _collapse_note(seen: _Seen) -> str:
    """Why one entry may stand for several failed items, when it does."""
    errors, failed = seen.errors, seen.failed
    if len(errors) != 1 or errors[0].error_code != rules.QUEUE_LIMIT or not failed:
        return ""
    return (
        f"\nnote: the {failed} failed item(s) collapsed into one {rules.QUEUE_LIMIT} entry, "
        f"at index {errors[0].index} (the first failure); the API does not list the others"
    )


def _count(value: int | None) -> str:
    return "absent (run creation has not finished)" if value is None else str(value)


def _listing(errors: tuple[BatchError, ...], limit: int = 20) -> str:
    if not errors:
        return "\nerror entries: none"
    in_order = sorted(errors, key=lambda e: e.index if type(e.index) is int else math.inf)
    lines = [
        f"  [{e.index}] {e.task_identifier} {e.error_code or '(no code)'}: {e.error}"
        for e in in_order[:limit]
    ]
    if len(errors) > limit:
        lines.append(f"  ... and {len(errors) - limit} more")
    return f"\nerror entries ({len(errors)}):\n" + "\n".join(lines)
