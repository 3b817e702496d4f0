"""Hypothesis strategies: every batch and run the platform could return, and nothing else.

    from hypothesis import given
    from pytest_trigger_batches.strategies import batches

    @given(batch=batches())
    def test_the_report_adds_up(batch): ...

Each value is built by the factory (`BatchFactory`) from options and a seed that
hypothesis draws, so every platform rule holds, and a failing example shrinks toward a
small, plain batch: few items, no failures, no idempotency key, the factory's own ids
and timestamps. Needs hypothesis: `pip install 'pytest-trigger-batches[hypothesis]'`.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

try:
    from hypothesis import strategies as st
    from hypothesis.strategies import SearchStrategy
except ImportError as _missing:
    raise ImportError(
        "pytest_trigger_batches.strategies needs hypothesis; install it with the "
        "package's extra: pip install 'pytest-trigger-batches[hypothesis]'",
        name="hypothesis",
    ) from _missing

from pytest_trigger_batches import rules
from pytest_trigger_batches.factory import BatchFactory, _text_pools
from pytest_trigger_batches.model import TriggerBatch, TriggerRun, parse_timestamp
from pytest_trigger_batches.shown import shown
from pytest_trigger_batches.statuses import RUN_FAILED, RUN_STATUSES, BatchStatus

__all__ = ["batches", "runs"]

BATCH_OPTIONS = (
    "run_count",
    "failed_count",
    "runs_created",
    "legacy",
    "idempotency_key",
    "task_identifier",
    "error_code",
    "created_at",
    "batch_id",
)
"""The factory's options `batches()` draws (or takes as given)."""
RUN_OPTIONS = (
    "task_identifier",
    "batch_id",
    "payload",
    "output",
    "error",
    "created_at",
    "tags",
    "idempotency_key",
    "delayed_until",
)
"""The options of `trigger_batch_factory.run()` that `runs()` draws (or takes as given)."""

_LEGACY_STATUSES = (BatchStatus.PENDING, BatchStatus.COMPLETED, BatchStatus.ABORTED)
_FAILED_RUNS = tuple(s for s in RUN_STATUSES if s in RUN_FAILED)
_AFTER_RUN_CREATION = ("failed_count", "error_code")
# Leftover errors are not per-item entries: the default comes first, so it shrinks there.
_CODES = (rules.QUEUE_LIMIT, *(c for c in rules.ERROR_CODES if c != rules.QUEUE_LIMIT), None)

_SEEDS = st.integers(min_value=0, max_value=2**64 - 1)
# Postgres keeps no NUL in text or jsonb, and a lone surrogate is not UTF-8.
_CHARACTERS = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
_TEXT = st.text(_CHARACTERS, max_size=20)
_IDEMPOTENCY_KEY = st.one_of(
    st.none(), st.just(True), st.text(_CHARACTERS, min_size=1, max_size=64)
)
# A run's idempotency key: none, a SHA-256 as the SDK sends (True), or the user's own.
_RUN_KEY = st.one_of(
    st.none(),
    st.just(True),
    st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40),
)
# How long a run that was delayed waited, when it was (None: it was not).
_DELAY = st.one_of(st.none(), st.timedeltas(timedelta(seconds=1), timedelta(days=7)))
_TASK_ID = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=32)
_CREATED_AT = st.one_of(
    st.none(),  # the factory's own, from the seed
    st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 1, 1)),
)


def _id_body(alphabet: str, length: int) -> SearchStrategy[str]:
    # One number per id, spread over `alphabet` by a Random seeded with it: drawing
    # character by character (or from the regex) was most of the cost of a batch, and
    # the small numbers hypothesis shrinks toward still give ids that look drawn.
    def write(number: int) -> str:
        return "".join(random.Random(number).choices(alphabet, k=length))

    return st.integers(0, 2**64 - 1).map(write)


_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_BATCH_ID = st.one_of(
    st.none(),  # the factory's own cuid
    _id_body(_BASE36, 24).map(lambda body: "batch_c" + body),  # cuid
    _id_body("123456789abcdefghijkmnopqrstuvwxyz", 21).map(lambda body: "batch_" + body),  # nanoid
    st.tuples(_id_body(_BASE36[:32], 24), _id_body(_BASE36, 1), st.sampled_from("12")).map(
        lambda parts: "batch_" + "".join(parts)  # run-ops
    ),
    _id_body(_BASE36 + _BASE36[10:].upper(), 27).map(lambda body: "batch_" + body),  # base62
)
# JSON as the platform (JavaScript) writes it back: integers within 2**53, finite
# floats, no negative zero.
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False).map(lambda x: x + 0.0)
    | _TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_TEXT, children, max_size=4),
    max_leaves=6,
)
_ERROR = st.fixed_dictionaries({"message": _TEXT}, optional={"name": _TASK_ID, "stackTrace": _TEXT})
_TAGS = st.lists(
    st.text("abcdefghijklmnopqrstuvwxyz0123456789:_-", min_size=1, max_size=32), max_size=5
)


def batches(
    status: BatchStatus | str | SearchStrategy[BatchStatus] | SearchStrategy[str] | None = None,
    **options: object,
) -> SearchStrategy[TriggerBatch]:
    """Batches the platform could return: every status and flavour the factory builds.

    - `status`: one status, a strategy of statuses, or None for all five.
    - `options`: any of the factory's options (`run_count`, `failed_count`,
      `runs_created`, `legacy`, `idempotency_key`, `task_identifier`, `error_code`,
      `created_at`, `batch_id`), each a value or a strategy; the others are drawn to
      fit them (`batches("PARTIAL_FAILED", run_count=st.integers(2, 50))`).

    Drawn: the status, the flavour (just created, processing, runs created, legacy),
    1 to 1,000 items (mostly a few), the failures and their error code, an idempotency
    key, task ids, the creation time, the id's format and the factory's seed.
    """
    checked = _checked_status(status)
    _check_names(options, BATCH_OPTIONS, "batches")
    if not any(isinstance(v, SearchStrategy) for v in (checked, *options.values())):
        _statuses_for(checked, options)  # an impossible combination fails here, not per draw
    _text_pools()  # filled once now, so that hypothesis does not time it as drawing
    return _batch(checked, dict(options))


def runs(
    status: str | SearchStrategy[str] | None = None, **options: object
) -> SearchStrategy[TriggerRun]:
    """Runs the platform could show (`GET /api/v3/runs/{runId}`), in every status.

    - `status`: one of the current run statuses (`QUEUED` ... `EXPIRED`), a strategy of
      them, or None for all.
    - `options`: any of `trigger_batch_factory.run()`'s options (`task_identifier`,
      `batch_id`, `payload`, `output`, `error`, `created_at`, `tags`,
      `idempotency_key`, `delayed_until`), each a value or a strategy; the others are
      drawn (a run of any status may have been delayed). `output` fits only COMPLETED,
      `error` only the failed statuses.
    """
    if status is not None and not isinstance(status, SearchStrategy) and status not in RUN_STATUSES:
        raise ValueError(
            f"status must be one of {', '.join(RUN_STATUSES)}, a strategy of them or None; "
            f"got {shown(status)}"
        )
    _check_names(options, RUN_OPTIONS, "runs")
    if not any(isinstance(v, SearchStrategy) for v in (status, *options.values())):
        _run_statuses_for(status, options)
    _text_pools()
    return _run(status, dict(options))


# -- drawing ----------------------------------------------------------------------------


@st.composite
def _batch(draw: st.DrawFn, status: object, options: Mapping[str, object]) -> TriggerBatch:
    given = _given(draw, options)
    if isinstance(status, SearchStrategy):
        status = draw(status)
    fits = _statuses_for(_checked_status(status), given)
    chosen_status = fits[0] if status is not None else draw(st.sampled_from(fits))
    chosen = _batch_options(draw, chosen_status, given)
    return BatchFactory(seed=draw(_SEEDS))(chosen_status, **chosen)


def _batch_options(
    draw: st.DrawFn, status: BatchStatus, given: Mapping[str, object]
) -> dict[str, Any]:
    chosen = dict(given)
    after_creation = any(name in given for name in _AFTER_RUN_CREATION)
    if "legacy" not in given and status in _LEGACY_STATUSES and not after_creation:
        chosen["legacy"] = "runs_created" not in given and draw(st.booleans())
    if chosen.get("legacy"):
        chosen.setdefault("run_count", draw(_run_counts(1)))
        return _common(draw, chosen)
    runs_created = given.get("runs_created")
    if runs_created is None:
        if status in (BatchStatus.PENDING, BatchStatus.ABORTED):
            runs_created = after_creation or draw(st.booleans())
        else:
            runs_created = status != BatchStatus.PROCESSING
        chosen["runs_created"] = runs_created
    failed = given.get("failed_count")
    if "run_count" not in given:
        if runs_created and status == BatchStatus.ABORTED and isinstance(failed, int):
            chosen["run_count"] = failed  # every item failed
        else:
            least = 1
            if runs_created and status in (BatchStatus.PARTIAL_FAILED, BatchStatus.COMPLETED):
                least = (failed if isinstance(failed, int) else 0) + 1
            if status == BatchStatus.PARTIAL_FAILED:
                least = max(least, 2)
            chosen["run_count"] = draw(_run_counts(least))
    run_count = chosen["run_count"]
    if runs_created and failed is None and isinstance(run_count, int) and run_count >= 1:
        if status == BatchStatus.PARTIAL_FAILED and run_count >= 2:
            failed = chosen["failed_count"] = draw(st.integers(1, run_count - 1))
        elif status == BatchStatus.COMPLETED:
            failed = chosen["failed_count"] = draw(st.integers(0, run_count - 1))
        elif status == BatchStatus.ABORTED:
            failed = run_count
    if runs_created and failed and "error_code" not in given:
        chosen["error_code"] = draw(st.sampled_from(_CODES))
    return _common(draw, chosen)


def _common(draw: st.DrawFn, chosen: dict[str, Any]) -> dict[str, Any]:
    if "idempotency_key" not in chosen:
        chosen["idempotency_key"] = draw(_IDEMPOTENCY_KEY)
    if "task_identifier" not in chosen:
        chosen["task_identifier"] = draw(
            st.one_of(st.none(), st.lists(_TASK_ID, min_size=1, max_size=3))
        )
    if "created_at" not in chosen:
        chosen["created_at"] = draw(_CREATED_AT)
    if "batch_id" not in chosen:
        chosen["batch_id"] = draw(_BATCH_ID)
    return chosen


def _run_counts(least: int) -> SearchStrategy[int]:
    # Mostly a few items; now and then up to the platform's 1,000. Shrinks to `least`.
    return st.one_of(st.integers(least, max(least, 12)), st.integers(least, rules.MAX_ITEMS))


@st.composite
def _run(draw: st.DrawFn, status: object, options: Mapping[str, object]) -> TriggerRun:
    given = _given(draw, options)
    if isinstance(status, SearchStrategy):
        status = draw(status)
    statuses = _run_statuses_for(status, given)
    chosen_status: str = status if isinstance(status, str) else draw(st.sampled_from(statuses))
    chosen: dict[str, Any] = dict(given)
    if "payload" not in chosen:
        chosen["payload"] = draw(st.one_of(st.none(), _JSON))
    if "output" not in chosen and chosen_status == "COMPLETED":
        chosen["output"] = draw(st.one_of(st.none(), _JSON))
    if "error" not in chosen and chosen_status in _FAILED_RUNS:
        chosen["error"] = draw(st.one_of(st.none(), _ERROR))
    if "tags" not in chosen:
        chosen["tags"] = draw(_TAGS)
    if "task_identifier" not in chosen:
        chosen["task_identifier"] = draw(st.one_of(st.none(), _TASK_ID))
    if "created_at" not in chosen:
        chosen["created_at"] = draw(_CREATED_AT)
    if "batch_id" not in chosen:
        chosen["batch_id"] = draw(_BATCH_ID)
    if "idempotency_key" not in chosen:
        chosen["idempotency_key"] = draw(_RUN_KEY)
    given_delay = chosen.get("delayed_until")
    if given_delay is not None and "created_at" not in given:
        # Created before its delay ends, whatever the seed would have chosen.
        until = parse_timestamp(given_delay, parameter="delayed_until")
        chosen["created_at"] = until - timedelta(hours=1)
    elif "delayed_until" not in chosen and chosen["created_at"] is not None:
        created = parse_timestamp(chosen["created_at"], parameter="created_at")
        delay = draw(_DELAY)
        chosen["delayed_until"] = None if delay is None else created + delay
    return BatchFactory(seed=draw(_SEEDS)).run(chosen_status, **chosen)


# -- what fits what ---------------------------------------------------------------------


def _given(draw: st.DrawFn, options: Mapping[str, object]) -> dict[str, object]:
    return {
        name: draw(value) if isinstance(value, SearchStrategy) else value
        for name, value in options.items()
    }


def _checked_status(status: object) -> Any:
    if status is None or isinstance(status, SearchStrategy):
        return status
    return BatchStatus.parse(status)


def _check_names(options: Mapping[str, object], known: tuple[str, ...], name: str) -> None:
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ValueError(
            f"{name}() got unknown option(s) {', '.join(unknown)}; the options are "
            f"{', '.join(known)}"
        )


def _statuses_for(
    status: BatchStatus | str | None, given: Mapping[str, object]
) -> list[BatchStatus]:
    """The statuses a batch with the `given` options can have (or ValueError)."""
    wanted = [BatchStatus.parse(status)] if status is not None else list(BatchStatus)
    fits = [candidate for candidate in wanted if _fits(candidate, given)]
    if not fits:
        options = ", ".join(f"{k}={shown(v)}" for k, v in given.items())
        if status is None:
            raise ValueError(f"no batch the platform could return has {options}")
        others = [s.value for s in BatchStatus if _fits(s, given)]
        raise ValueError(
            f"status {shown(str(status))} does not fit {options}: with these options a "
            f"batch the platform could return has status {', '.join(others) or 'none'}"
        )
    return fits


def _fits(status: BatchStatus, given: Mapping[str, object]) -> bool:
    """Whether a batch with `status` and the `given` options is one the platform has."""
    legacy, runs_created = given.get("legacy"), given.get("runs_created")
    failed = given.get("failed_count")
    after_creation = any(name in given for name in _AFTER_RUN_CREATION)
    if legacy is True:
        return status in _LEGACY_STATUSES and runs_created is None and not after_creation
    if status == BatchStatus.PROCESSING:
        return not runs_created and not after_creation
    if status in (BatchStatus.PARTIAL_FAILED, BatchStatus.COMPLETED):
        fits = runs_created is not False
    else:  # PENDING, ABORTED: either side of run creation
        fits = not (runs_created is False and after_creation)
    if fits and isinstance(failed, int) and not isinstance(failed, bool):
        least = {BatchStatus.PARTIAL_FAILED: 1, BatchStatus.ABORTED: 1}.get(status, 0)
        fits = failed == 0 if status == BatchStatus.PENDING else failed >= least
    return fits


def _run_statuses_for(status: object, given: Mapping[str, object]) -> list[str]:
    """The run statuses that fit the `given` options (or ValueError)."""
    wanted = [status] if isinstance(status, str) else list(RUN_STATUSES)
    fits = [
        s
        for s in wanted
        if (given.get("output") is None or s == "COMPLETED")
        and (given.get("error") is None or s in _FAILED_RUNS)
    ]
    if not fits:
        raise ValueError(
            f"no run has status {shown(status)} with these options: output belongs to a "
            f"COMPLETED run, error to a failed one ({', '.join(_FAILED_RUNS)})"
            if status is not None
            else "no run has both an output (COMPLETED) and an error (failed)"
        )
    return fits
