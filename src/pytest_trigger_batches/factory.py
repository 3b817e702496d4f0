"""Builds realistic batches for every status and flavour, reproducibly from a seed."""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import cycle, repeat
from pathlib import Path

from pytest_trigger_batches import lifecycle, rules
from pytest_trigger_batches.ids import IdSource
from pytest_trigger_batches.model import (
    BatchError,
    TriggerBatch,
    TriggerRun,
    _error,
    _many_errors,
    _many_runs,
    parse_timestamp,
)
from pytest_trigger_batches.shown import shown
from pytest_trigger_batches.statuses import RUN_FAILED, RUN_FINAL, RUN_STATUSES, BatchStatus
from pytest_trigger_batches.timefmt import to_ms

__all__ = ["BatchFactory"]


class _Unset:
    def __repr__(self) -> str:
        return "<default>"


_DEFAULT = _Unset()
DEFAULT_RUN_COUNT = 10
DEFAULT_ERROR_CODE = rules.QUEUE_LIMIT
"""Why items fail today: the environment's queue is full (other failures become
pre-failed runs, counted as created)."""
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_EPOCH_MS = to_ms(_EPOCH)
_CREATED_SPAN_MS = 240 * 86_400_000
"""A batch or run is created in the 240 days after `_EPOCH`, unless the test says when."""
# created_at bounds: cuids count milliseconds since 1970, and updatedAt (up to 40
# minutes later) must still be a datetime.
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 12, 30, tzinfo=UTC)
_SEAL_TIMEOUT = timedelta(minutes=30)
"""An unsealed batchTriggerAndWait batch is aborted this long after creation."""
# The message of each code, where it does not depend on the item.
_FIXED_MESSAGES = {
    "TRIGGER_FAILED": "TriggerTaskService returned undefined",
    "ENVIRONMENT_NOT_FOUND": "Environment not found",
}
# Codes whose message is whatever the failing code threw.
_THROWN = frozenset({"TRIGGER_ERROR", "UNEXPECTED_ERROR"})


@dataclass(frozen=True, slots=True)
class _TextPools:
    task_ids: tuple[str, ...]
    reasons: tuple[str, ...]
    thrown: tuple[str, ...]


@functools.cache
def _text_pools() -> _TextPools:
    # Task ids and messages come from faker, drawn once from a fixed seed by
    # scripts/regenerate_text_pools.py and shipped as data: faker is not a dependency,
    # as its pytest plugin would load in every run of every project that installs this
    # one. Read once per process; each batch draws from them with its own seeded Random.
    pools = json.loads(Path(__file__).with_name("text_pools.json").read_text(encoding="utf-8"))
    reasons = tuple(pools["reasons"])
    # An Error's message, as the failing call threw it: "Respond alone lose state".
    thrown = tuple(reason[:1].upper() + reason[1:] for reason in reasons)
    return _TextPools(tuple(pools["task_ids"]), reasons, thrown)


# -- the factory ---------------------------------------------------------------------


class BatchFactory:
    """Callable that builds a `TriggerBatch`; the `trigger_batch_factory` fixture is one.

    Every value comes from one `random.Random(seed)`: the same seed and the same calls
    give byte-identical payloads.
    """

    def __init__(self, *, seed: int) -> None:
        self.seed: int = rules.whole_number(seed, parameter="seed")
        if abs(seed) >= 2**64:
            raise ValueError(f"seed must be a whole number of at most 64 bits; got {shown(seed)}")
        self._rng = random.Random(seed)
        self._ids = IdSource(self._rng)
        self._cuids = IdSource(self._rng)  # batches' ids: a counter of their own

    def __repr__(self) -> str:
        return f"BatchFactory(seed={self.seed})"

    def __call__(
        self,
        status: BatchStatus | str = BatchStatus.COMPLETED,
        *,
        run_count: int | None = None,
        failed_count: int | None = None,
        runs_created: bool | None = None,
        legacy: bool = False,
        idempotency_key: str | bool | None = None,
        task_identifier: str | Sequence[str] | None = None,
        error_code: str | _Unset | None = _DEFAULT,
        created_at: datetime | str | None = None,
        batch_id: str | None = None,
    ) -> TriggerBatch:
        """Build a batch with `status`, in the flavour the options ask for.

        - `run_count`: items in the batch (1 to 1,000; default 10).
        - `failed_count`: items whose run could not be created. Defaults per status:
          30% for PARTIAL_FAILED, all for ABORTED, none otherwise.
        - `runs_created`: whether run creation has finished (counts and runs present).
          Defaults to False for PENDING and PROCESSING, True otherwise. PENDING with
          True is "all runs created, waiting to finish"; ABORTED with False is a batch
          whose items never finished arriving (aborted 30 minutes after creation).
        - `legacy`: a v3 / early v4 batch: no counts, no errors, nanoid ids; PENDING
          (runs filling up), COMPLETED or ABORTED.
        - `idempotency_key`: a key, True for a SHA-256 like the SDK sends, or None.
        - `task_identifier`: one task id, or a list spread over the items in turn.
        - `error_code`: the code of every failure. The default, QUEUE_SIZE_LIMIT_EXCEEDED,
          is why items fail today: the failures collapse into one entry (at the first
          failed index) that says how many items it stands for. Any other code gives
          one entry per failure; None gives entries without a code.
        - `created_at`: a datetime or ISO-8601 string (default: drawn from the seed).
        - `batch_id`: use this id instead of a generated one (any of the platform's
          formats: cuid, nanoid, run-ops or base62).
        """
        status = BatchStatus.parse(status)
        if run_count is None:
            run_count = DEFAULT_RUN_COUNT
        elif type(run_count) is not int or not 1 <= run_count <= rules.MAX_ITEMS:
            run_count = rules.whole_number(
                run_count, parameter="run_count", minimum=1, maximum=rules.MAX_ITEMS
            )
        if not isinstance(legacy, bool):
            raise TypeError(f"legacy must be True or False; got {shown(legacy)}")
        if batch_id is not None and (
            not isinstance(batch_id, str) or not rules.BATCH_ID_RE.fullmatch(batch_id)
        ):
            raise ValueError(
                f"batch_id must be 'batch_' + {rules.ID_FORMATS}; got {shown(batch_id)} "
                f"(e.g. 'batch_cmx0ugyuv00004a7d2bda9ln4'; None: generated)"
            )
        tasks = self._task_ids(task_identifier)
        key = None if idempotency_key is None else self._idempotency_key(idempotency_key)
        if created_at is None:
            offset = self._offset(0, _CREATED_SPAN_MS)
            created, created_ms = _EPOCH + timedelta(0, 0, 0, offset), _EPOCH_MS + offset
        else:
            created = parse_timestamp(created_at, parameter="created_at")
            if not _EARLIEST <= created <= _LATEST:
                raise ValueError(
                    f"created_at must be from 1970-01-01 to 9999-12-30 (UTC); "
                    f"got {shown(created_at)}"
                )
            created_ms = to_ms(created)
        if legacy:
            _legacy_options(status, runs_created, failed_count, error_code)
            return self._legacy(status, run_count, created, key, batch_id)
        if runs_created is None:  # the default: finished unless PENDING or PROCESSING
            runs_created = status not in _BEFORE_RUN_CREATION
        else:
            runs_created = _runs_created(status, runs_created)
        if not runs_created:
            if failed_count is not None or error_code is not _DEFAULT:
                raise ValueError(
                    f"failed_count and error_code apply once runs are created; a {status} "
                    f"batch with runs_created=False has no failures yet"
                )
            return self._before_run_creation(status, run_count, created, created_ms, key, batch_id)
        if failed_count is None and status == BatchStatus.ABORTED:
            failed = run_count  # the default: every item (checked by _failed_count else)
        else:
            failed = _failed_count(status, run_count, failed_count)
        code = DEFAULT_ERROR_CODE if error_code is _DEFAULT else _error_code(error_code)
        return self._after_run_creation(
            status, run_count, failed, tasks, code, created, created_ms, key, batch_id
        )

    def lifecycle(
        self, status: BatchStatus | str = BatchStatus.COMPLETED, **options: object
    ) -> tuple[TriggerBatch, ...]:
        """Every state a batch passes through to end as `factory(status, **options)`.

        The states share id, runCount and timestamps, oldest first: e.g. PENDING,
        PROCESSING, PARTIAL_FAILED, COMPLETED for a completed batch with failures.
        """
        return lifecycle.history(self(status, **options))  # type: ignore[arg-type]

    def run(
        self,
        status: str = "COMPLETED",
        *,
        task_identifier: str | None = None,
        batch_id: str | None = None,
        payload: object = None,
        output: object = None,
        error: Mapping[str, object] | None = None,
        created_at: datetime | str | None = None,
        tags: Sequence[str] = (),
        idempotency_key: str | bool | None = None,
        delayed_until: datetime | str | None = None,
    ) -> TriggerRun:
        """Build a run with `status` (the current names: QUEUED, EXECUTING, COMPLETED...).

        Timestamps, ids, a payload and (when COMPLETED) an output come from the seed
        unless given; a failed run gets an error in the platform's shape.

        - `idempotency_key`: the key the run shows, True for a SHA-256 like the SDK
          sends, or None.
        - `delayed_until`: when the run's delay ends and it enters the queue: a DELAYED
          run waits until then (default: an hour after `created_at`); any other run was
          delayed until then, and shows it still, as the platform does. None: a DELAYED
          run gets the default, any other was not delayed.
        """
        if status not in RUN_STATUSES:
            raise ValueError(
                f"status must be one of {', '.join(RUN_STATUSES)}; got {shown(status, 50)}"
            )
        task = self._task_ids(task_identifier)[0]
        created = (
            self._default_created_at()
            if created_at is None
            else parse_timestamp(created_at, parameter="created_at")
        )
        delay = None
        if delayed_until is not None:
            delay = parse_timestamp(delayed_until, parameter="delayed_until")
            if delay <= created:
                raise ValueError(
                    f"delayed_until must be after created_at ({created.isoformat()}); "
                    f"got {delay.isoformat()}"
                )
        elif status == "DELAYED":
            delay = created + timedelta(hours=1)
        key = self._idempotency_key(idempotency_key)
        queued = status in ("QUEUED", "DELAYED")
        # A run that was delayed entered the queue when its delay ended.
        enqueued = delay if delay is not None and status != "DELAYED" else created
        started = (
            None if queued or (status in ("CANCELED", "EXPIRED")) else enqueued + self._ms(50, 3000)
        )
        final = status in RUN_FINAL
        finished = (started or enqueued) + self._ms(100, 60_000) if final else None
        updated = finished or started or enqueued
        reason = self._rng.choice(_text_pools().thrown)
        failed = status in RUN_FAILED
        return TriggerRun(
            id="run_" + self._ids.cuid(to_ms(created)),
            task_identifier=task,
            status=status,
            created_at=created,
            updated_at=updated,
            started_at=started,
            finished_at=finished,
            delayed_until=delay,
            batch_id=batch_id,
            payload={"id": self._rng.randrange(_PAYLOADS)} if payload is None else payload,
            output=(output if output is not None else {"ok": True})
            if status == "COMPLETED"
            else None,
            error=(error or {"message": reason, "name": "Error"}) if failed else None,
            tags=tuple(tags),
            idempotency_key=key,
            attempt_count=0 if started is None else 1,
        )

    def runs_of(
        self,
        batch: TriggerBatch,
        *,
        task_identifier: str | Sequence[str] | None = None,
        idempotency_key: bool | Sequence[str | None] | None = None,
    ) -> tuple[TriggerRun, ...]:
        """The runs `batch` lists, each in a state its batch allows: COMPLETED in a
        COMPLETED batch, EXECUTING before (QUEUED while runs fill up); created with the
        batch. Serve them with `add_batch(batch, runs=...)`.

        - `task_identifier`: one task id, or a list spread over the runs in turn.
        - `idempotency_key`: True gives each run a SHA-256 like the SDK sends; a list
          gives the runs their keys in order (None: no key), one for each run; None:
          no keys.
        """
        tasks = self._task_ids(task_identifier)
        keys = self._run_keys(idempotency_key, len(batch.runs))
        status = _status_of_runs(batch)
        # Keys are drawn run by run; so is everything on a Python whose random draws differ.
        keyed = idempotency_key is not None and any(key is not None for key in keys)
        if keyed or not _inline_draws_exact():
            return self._runs_one_by_one(batch, tasks, status, keys)
        ids = batch.runs
        count = len(ids)
        created = batch.created_at
        started, finished, payload_ids = self._run_draws(count, status)
        # Each run is what `run(status, ...)` with its id would give, drawn in the same
        # order, built once and unchecked: every value is one `TriggerRun` accepts.
        started_at = _moments(created, started) if started else repeat(None, count)
        finished_at = _moments(created, finished) if finished else repeat(None, count)
        updated_at = finished_at if finished else started_at if started else repeat(created)
        return _many_runs(
            {
                "id": ids,
                "task_identifier": repeat(tasks[0]) if len(tasks) == 1 else cycle(tasks),
                "status": repeat(status),
                "created_at": repeat(created),
                "updated_at": updated_at,
                "started_at": started_at,
                "finished_at": finished_at,
                "delayed_until": repeat(None),
                "batch_id": repeat(batch.id),
                "payload": [{"id": number} for number in payload_ids],
                "output": ([{"ok": True} for _ in ids] if status == "COMPLETED" else repeat(None)),
                "error": repeat(None),
                "tags": repeat(()),
                "metadata": repeat(None),
                "idempotency_key": repeat(None),
                "attempt_count": repeat(0 if status == "QUEUED" else 1),
            },
        )

    def _run_draws(self, count: int, status: str) -> tuple[list[int], list[int], list[int]]:
        """What `run(status, ...)` draws for each of `count` runs, in its order.

        Per run: the start, then the finish (ms after creation; none before the run
        starts or ends), the failure message it would have (`choice`), the cuid it would
        have (8 random bytes), and its payload's number (`randrange(10**6)`). `choice`
        and `randrange` are written out as `random` computes them (`getrandbits`, a
        draw again while too large), which `_inline_draws_exact` checks once.
        """
        rng = self._rng
        draw, bits = rng.random, rng.getrandbits
        reasons = len(_text_pools().thrown)
        reason_bits, payload_bits = reasons.bit_length(), _PAYLOADS.bit_length()
        starts = status != "QUEUED"
        ends = status in RUN_FINAL
        started: list[int] = []
        finished: list[int] = []
        payload_ids: list[int] = []
        for _ in range(count):
            if starts:
                start = 50 + int(draw() * 2951)  # _ms(50, 3000)
                started.append(start)
                if ends:
                    finished.append(start + 100 + int(draw() * 59901))  # + _ms(100, 60_000)
            while bits(reason_bits) >= reasons:
                pass
            bits(64)  # the cuid's random part (its id is the batch's)
            number = bits(payload_bits)
            while number >= _PAYLOADS:
                number = bits(payload_bits)
            payload_ids.append(number)
        self._ids.skip(count)  # the cuids' counter moved on as if they were made
        return started, finished, payload_ids

    def _runs_one_by_one(
        self,
        batch: TriggerBatch,
        tasks: tuple[str, ...],
        status: str,
        keys: Sequence[str | bool | None],
    ) -> tuple[TriggerRun, ...]:
        made = []
        for number, run_id in enumerate(batch.runs):
            run = self.run(
                status,
                task_identifier=tasks[number % len(tasks)],
                batch_id=batch.id,
                created_at=batch.created_at,
                idempotency_key=keys[number],
            )
            made.append(replace(run, id=run_id))
        return tuple(made)

    # -- the flavours -------------------------------------------------------------
    # Built with TriggerBatch._made: nothing is checked again, as each flavour keeps
    # every platform rule by construction (tests/test_factory.py checks them all).
    # Moments are kept in milliseconds too, for the ids, rather than converted back.

    def _before_run_creation(
        self,
        status: BatchStatus,
        run_count: int,
        created: datetime,
        created_ms: int,
        key: str | None,
        batch_id: str | None,
    ) -> TriggerBatch:
        updated = created
        completed = None
        if status == BatchStatus.PROCESSING:
            updated = created + self._ms(50, 2000)
        elif status == BatchStatus.ABORTED:
            # The seal timeout aborts it, setting processingCompletedAt.
            updated = completed = created + _SEAL_TIMEOUT + self._ms(0, 5000)
        return TriggerBatch._made(
            batch_id or "batch_" + self._cuids.cuid(created_ms),
            status,
            created,
            updated,
            run_count,
            idempotency_key=key,
            processing_completed_at=completed,
        )

    def _after_run_creation(
        self,
        status: BatchStatus,
        run_count: int,
        failed: int,
        tasks: tuple[str, ...],
        code: str | None,
        created: datetime,
        created_ms: int,
        key: str | None,
        batch_id: str | None,
    ) -> TriggerBatch:
        draw = self._rng.random  # _offset(low, high), written out
        sealed_ms = created_ms + 50 + int(draw() * 1951)  # 50 to 2,000 ms
        finished_ms = sealed_ms + 100 + int(draw() * 4901)  # 100 to 5,000 ms
        updated_ms = finished_ms
        if status == BatchStatus.COMPLETED:
            updated_ms = finished_ms + 1000 + int(draw() * 599_001)  # 1 s to 10 min
        finished = created + timedelta(0, 0, 0, finished_ms - created_ms)
        updated = finished + timedelta(0, 0, 0, updated_ms - finished_ms)
        own_id = "batch_" + self._cuids.cuid(created_ms)
        runs = (
            tuple(self._cuids.cuids(sealed_ms, run_count - failed, prefix="run_"))
            if failed < run_count
            else ()  # no run: nothing drawn
        )
        return TriggerBatch._made(
            batch_id or own_id,
            status,
            created,
            updated,
            run_count,
            runs,
            key,
            run_count - failed,
            failed,
            self._errors(run_count, failed, tasks, code),
            finished,
        )

    def _legacy(
        self,
        status: BatchStatus,
        run_count: int,
        created: datetime,
        key: str | None,
        batch_id: str | None,
    ) -> TriggerBatch:
        created_runs = {
            BatchStatus.COMPLETED: run_count,
            BatchStatus.PENDING: self._rng.randint(0, run_count),
            BatchStatus.ABORTED: self._rng.randint(0, run_count - 1),
        }[status]
        ids = self._ids.nanoids(created_runs + 1)
        return TriggerBatch._made(
            batch_id or "batch_" + ids[0],
            status,
            created,
            created + self._ms(1000, 600_000),
            run_count,
            tuple("run_" + run_id for run_id in ids[1:]),
            key,
        )

    # -- error entries ------------------------------------------------------------

    def _errors(
        self, run_count: int, failed: int, tasks: tuple[str, ...], code: str | None
    ) -> tuple[BatchError, ...]:
        if not failed:
            return ()
        if code == rules.QUEUE_LIMIT:
            # One entry for all of them, at the first failure; no per-item work.
            every = failed == run_count and run_count > 1  # item 0, and nothing drawn
            first = 0 if every else self._first_failure(run_count, failed)
            task = tasks[first % len(tasks)]
            message = f"{rules.queue_limit_message(task)} {rules.collapsed_suffix(failed)}"
            return (_error(first, task, message, code),)
        indices = self._failed_indices(run_count, failed)
        if len(tasks) == 1:
            item_tasks = [tasks[0]] * failed
        else:
            item_tasks = [tasks[index % len(tasks)] for index in indices]
        return _many_errors(indices, item_tasks, self._messages(code, indices), code)

    def _messages(self, code: str | None, indices: list[int]) -> list[str]:
        """What each failed item's entry says, for error code `code`."""
        count = len(indices)
        if code in _FIXED_MESSAGES:
            return [_FIXED_MESSAGES[code]] * count
        pools = _text_pools()
        if code in _THROWN:
            return self._rng.choices(pools.thrown, k=count)
        if code == "PAYLOAD_TOO_LARGE":
            largest = rules.MAX_ITEM_BYTES
            sizes = (self._rng.randint(largest + 1, 4 * largest) for _ in indices)
            return [rules.payload_too_large_message(size) for size in sizes]
        reasons = self._rng.choices(pools.reasons, k=count)
        if code == "ITEM_ERROR":
            return [
                f"Invalid payload for item {index}: {reason}"
                for index, reason in zip(indices, reasons, strict=True)
            ]
        return reasons  # no code: a bare message

    def _failed_indices(self, run_count: int, failed: int) -> list[int]:
        """`failed` item indices drawn at random, in index order."""
        if failed == run_count:
            return list(range(run_count))
        if 2 * failed > run_count:  # draw the fewer: the items that did not fail
            kept = set(self._rng.sample(range(run_count), run_count - failed))
            return [index for index in range(run_count) if index not in kept]
        return sorted(self._rng.sample(range(run_count), failed))

    def _first_failure(self, run_count: int, failed: int) -> int:
        """The lowest of `failed` item indices drawn at random, without drawing them all."""
        if failed * failed <= run_count:
            return min(self._rng.sample(range(run_count), failed))
        draw = self._rng.random
        # Item i is among the failures with probability (failures left) / (items left);
        # none before it were, so all `failed` are still to place. Certain at the end.
        for index in range(run_count - failed):
            if draw() * (run_count - index) < failed:
                return index
        return run_count - failed

    # -- values ---------------------------------------------------------------

    def _batch_id(self, created: datetime) -> str:
        return "batch_" + self._cuids.cuid(to_ms(created))

    def _offset(self, low: int, high: int) -> int:
        """Milliseconds from `low` to `high`, uniformly drawn."""
        # random() rather than randint(): a third of the cost, and as uniform as needed.
        return low + int(self._rng.random() * (high - low + 1))

    def _ms(self, low: int, high: int) -> timedelta:
        return timedelta(0, 0, 0, self._offset(low, high))

    def _default_created_at(self) -> datetime:
        return _EPOCH + self._ms(0, _CREATED_SPAN_MS)

    def _task_ids(self, value: str | Sequence[str] | None) -> tuple[str, ...]:
        if value is None:
            pool = _text_pools().task_ids
            if not _inline_draws_exact():
                return (self._rng.choice(pool),)
            # choice(pool), written out as random computes it (_inline_draws_exact).
            bits, count = self._rng.getrandbits, len(pool)
            width = count.bit_length()
            drawn = bits(width)
            while drawn >= count:
                drawn = bits(width)
            return (pool[drawn],)
        if isinstance(value, str):
            items: tuple[object, ...] = (value,)
        elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
            items = tuple(value)
        else:
            items = ()
        if not items or not all(isinstance(v, str) and v.strip() for v in items):
            raise ValueError(
                f"task_identifier must be a task id such as 'send-welcome-email', or a "
                f"non-empty list of them; got {shown(value)}"
            )
        return items  # type: ignore[return-value]

    def _run_keys(
        self, value: bool | Sequence[str | None] | None, count: int
    ) -> list[str | bool | None]:
        """`runs_of`'s keys: one for each of `count` runs (True: each generated)."""
        if value is None or isinstance(value, bool):
            return [value or None] * count
        if isinstance(value, str) or not isinstance(value, Sequence) or len(value) != count:
            raise ValueError(
                f"idempotency_key must be True, None or a list of {count} keys (one for "
                f"each run the batch lists, None for none); got {shown(value)}"
            )
        return list(value)

    def _idempotency_key(self, value: str | bool | None) -> str | None:
        if value is None or value is False:
            return None
        if value is True:
            return self._ids.idempotency_key()
        if not isinstance(value, str) or not 1 <= len(value) <= rules.MAX_IDEMPOTENCY_KEY_LENGTH:
            raise ValueError(
                f"idempotency_key must be None, True (generate one) or a string of 1 to "
                f"{rules.MAX_IDEMPOTENCY_KEY_LENGTH} characters; got {shown(value)}"
            )
        return value


def _status_of_runs(batch: TriggerBatch) -> str:
    """The status `runs_of` gives the runs of `batch`."""
    if batch.status == BatchStatus.COMPLETED:
        return "COMPLETED"
    return "EXECUTING" if batch.runs_created else "QUEUED"


_PAYLOADS = 10**6
"""A run's default payload is `{"id": n}`, n below this."""
_DELTAS: dict[int, timedelta] = {}
"""timedelta(milliseconds=n) by n: a run starts and ends at most 63,100 ms after creation."""


def _moments(start: datetime, offsets: list[int]) -> list[datetime]:
    """`start` plus each offset, in milliseconds."""
    deltas = _DELTAS
    missing = set(offsets).difference(deltas)
    deltas.update((ms, timedelta(0, 0, 0, ms)) for ms in missing)
    return list(map(start.__add__, map(deltas.__getitem__, offsets)))


@functools.cache
def _inline_draws_exact() -> bool:
    """Whether `_run_draws` draws what `choice`, `randbytes` and `randrange` would."""
    pool = _text_pools().thrown
    ours, theirs = random.Random(2026), random.Random(2026)
    for _ in range(200):
        reason = ours.getrandbits(pool.__len__().bit_length())
        while reason >= len(pool):
            reason = ours.getrandbits(len(pool).bit_length())
        noise = ours.getrandbits(64).to_bytes(8, "little")
        number = ours.getrandbits(_PAYLOADS.bit_length())
        while number >= _PAYLOADS:
            number = ours.getrandbits(_PAYLOADS.bit_length())
        expected = (theirs.choice(pool), theirs.randbytes(8), theirs.randrange(_PAYLOADS))
        if (pool[reason], noise, number) != expected:
            return False
    return True


_BEFORE_RUN_CREATION = frozenset((BatchStatus.PENDING, BatchStatus.PROCESSING))


def _runs_created(status: BatchStatus, value: bool | None) -> bool:
    if value is None:
        return status not in (BatchStatus.PENDING, BatchStatus.PROCESSING)
    if not isinstance(value, bool):
        raise TypeError(f"runs_created must be True, False or None; got {shown(value)}")
    if value and status == BatchStatus.PROCESSING:
        raise ValueError(
            "runs_created=True is not possible with status PROCESSING: once run creation "
            "finishes the batch moves to PENDING, PARTIAL_FAILED or ABORTED"
        )
    if not value and status in (BatchStatus.PARTIAL_FAILED, BatchStatus.COMPLETED):
        raise ValueError(
            f"runs_created=False is not possible with status {status}: it is only "
            f"reached after run creation (use legacy=True for a COMPLETED batch without counts)"
        )
    return value


def _failed_count(status: BatchStatus, run_count: int, value: int | None) -> int:
    if status == BatchStatus.PARTIAL_FAILED and run_count < 2:
        raise ValueError(
            "run_count must be at least 2 for PARTIAL_FAILED (some items fail, some succeed)"
        )
    if value is None:
        if status == BatchStatus.ABORTED:
            return run_count
        if status == BatchStatus.PARTIAL_FAILED:
            return min(run_count - 1, max(1, run_count * 3 // 10))
        return 0
    failed = rules.whole_number(value, parameter="failed_count", minimum=0, maximum=run_count)
    low, high = {
        BatchStatus.PENDING: (0, 0),
        BatchStatus.PARTIAL_FAILED: (1, run_count - 1),
        BatchStatus.COMPLETED: (0, run_count - 1),
        BatchStatus.ABORTED: (run_count, run_count),
    }[status]
    if not low <= failed <= high:
        allowed = {
            BatchStatus.PENDING: "0 (PENDING after run creation means none failed)",
            BatchStatus.ABORTED: f"{run_count} (every item)",
        }.get(status, f"{low} to {high}")
        raise ValueError(
            f"failed_count for a {status} batch of {run_count} items must be {allowed}; "
            f"got {failed}"
        )
    return failed


def _error_code(value: str | _Unset | None) -> str | None:
    if isinstance(value, _Unset):
        return DEFAULT_ERROR_CODE
    if value is not None and value not in rules.ERROR_CODES:
        raise ValueError(
            f"error_code must be one of {', '.join(rules.ERROR_CODES)} or None; got {shown(value)}"
        )
    return value


def _legacy_options(
    status: BatchStatus,
    runs_created: bool | None,
    failed_count: int | None,
    error_code: str | _Unset | None,
) -> None:
    if status not in (BatchStatus.PENDING, BatchStatus.COMPLETED, BatchStatus.ABORTED):
        raise ValueError(
            f"status for a legacy batch must be PENDING, COMPLETED or ABORTED; got {status}"
        )
    if runs_created or failed_count is not None or error_code is not _DEFAULT:
        raise ValueError(
            "legacy=True batches have no counts and no errors: leave out runs_created, "
            "failed_count and error_code"
        )
