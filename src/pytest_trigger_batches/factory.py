"""Builds realistic batches for every status and flavour, reproducibly from a seed."""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pytest_trigger_batches import lifecycle, rules
from pytest_trigger_batches.ids import IdSource
from pytest_trigger_batches.model import BatchError, BatchStatus, TriggerBatch, parse_timestamp

__all__ = ["BatchFactory"]


class _Unset:
    def __repr__(self) -> str:
        return "<default>"


_DEFAULT = _Unset()
DEFAULT_RUN_COUNT = 10
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
# created_at bounds: cuids count milliseconds since 1970, and updatedAt (up to 15
# minutes later) must still be a datetime.
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 12, 30, tzinfo=UTC)
_MESSAGES = {
    "TRIGGER_ERROR": "Failed to trigger task '{task}': {reason}",
    "TRIGGER_FAILED": "Trigger failed for item {index}: {reason}",
    "ENVIRONMENT_NOT_FOUND": "Environment not found",
    "ITEM_ERROR": "Invalid payload for item {index}: {reason}",
    "QUEUE_SIZE_LIMIT_EXCEEDED": (
        "Cannot trigger {task} as the queue size limit for this environment has been "
        "reached. The maximum size is 10000"
    ),
    None: "{reason}",
}


@dataclass(frozen=True, slots=True)
class _TextPools:
    task_ids: tuple[str, ...]
    reasons: tuple[str, ...]


@functools.cache
def _text_pools() -> _TextPools:
    # Faker is slow to import and slow per call, so it fills small pools once per
    # process from a fixed seed; each batch then draws from them with its own seeded
    # Random. Same seed, same text, at the cost of a list index.
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(20260301)
    task_ids: list[str] = []
    while len(task_ids) < 48:
        words = fake.bs().lower().replace("-", " ").split()
        task_id = f"{words[0]}-{words[-1]}"
        if task_id not in task_ids:
            task_ids.append(task_id)
    reasons = tuple(fake.sentence(nb_words=6).rstrip(".").lower() for _ in range(48))
    return _TextPools(tuple(task_ids), reasons)


class BatchFactory:
    """Callable that builds a `TriggerBatch`; the `trigger_batch_factory` fixture is one.

    Every value comes from one `random.Random(seed)`: the same seed and the same calls
    give byte-identical payloads.
    """

    def __init__(self, *, seed: int) -> None:
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise TypeError(f"seed must be an int; got {seed!r}")
        self.seed = seed
        self._rng = random.Random(seed)
        self._ids = IdSource(self._rng)

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
          whose items never finished arriving.
        - `legacy`: a v3 / early v4 batch: no counts, no errors, nanoid ids; PENDING
          (runs filling up), COMPLETED or ABORTED.
        - `idempotency_key`: a key, True for a SHA-256 like the SDK sends, or None.
        - `task_identifier`: one task id, or a list spread over the items in turn.
        - `error_code`: the code of every failure, or None for entries without one.
          With QUEUE_SIZE_LIMIT_EXCEEDED the failures collapse into one entry.
        - `created_at`: a datetime or ISO-8601 string (default: drawn from the seed).
        - `batch_id`: use this id instead of a generated one.
        """
        status = BatchStatus.parse(status)
        run_count = _count("run_count", DEFAULT_RUN_COUNT if run_count is None else run_count)
        if not 1 <= run_count <= rules.MAX_ITEMS:
            raise ValueError(
                f"run_count must be from 1 to {rules.MAX_ITEMS} (items per batch); got {run_count}"
            )
        if not isinstance(legacy, bool):
            raise TypeError(f"legacy must be True or False; got {legacy!r}")
        if batch_id is not None and (
            not isinstance(batch_id, str) or not rules.BATCH_ID_RE.fullmatch(batch_id)
        ):
            raise ValueError(
                f"batch_id must be 'batch_' + a 25-char cuid or 21-char nanoid; "
                f"got {batch_id!r:.80} (e.g. 'batch_cmx0ugyuv00004a7d2bda9ln4'; None: generated)"
            )
        tasks = self._task_ids(task_identifier)
        key = self._idempotency_key(idempotency_key)
        created = (
            self._default_created_at()
            if created_at is None
            else parse_timestamp(created_at, parameter="created_at")
        )
        if not _EARLIEST <= created <= _LATEST:
            raise ValueError(
                f"created_at must be from 1970-01-01 to 9999-12-30 (UTC); got {created_at!r}"
            )
        if legacy:
            _legacy_options(status, runs_created, failed_count, error_code)
            return self._legacy(status, run_count, created, key, batch_id)
        runs_created = _runs_created(status, runs_created)
        if not runs_created:
            if failed_count is not None or error_code is not _DEFAULT:
                raise ValueError(
                    f"failed_count and error_code apply once runs are created; a {status} "
                    f"batch with runs_created=False has no failures yet"
                )
            return self._before_run_creation(status, run_count, created, key, batch_id)
        failed = _failed_count(status, run_count, failed_count)
        code = _error_code(error_code)
        return self._after_run_creation(
            status, run_count, failed, tasks, code, created, key, batch_id
        )

    def lifecycle(
        self, status: BatchStatus | str = BatchStatus.COMPLETED, **options: object
    ) -> tuple[TriggerBatch, ...]:
        """Every state a batch passes through to end as `factory(status, **options)`.

        The states share id, runCount and timestamps, oldest first: e.g. PENDING,
        PROCESSING, PARTIAL_FAILED, COMPLETED for a completed batch with failures.
        """
        return lifecycle.history(self(status, **options))  # type: ignore[arg-type]

    # -- the flavours -------------------------------------------------------------

    def _before_run_creation(
        self,
        status: BatchStatus,
        run_count: int,
        created: datetime,
        key: str | None,
        batch_id: str | None,
    ) -> TriggerBatch:
        updated = created
        if status == BatchStatus.PROCESSING:
            updated = created + self._ms(50, 2000)
        elif status == BatchStatus.ABORTED:
            updated = created + self._ms(5 * 60_000, 15 * 60_000)
        return TriggerBatch(
            id=batch_id or "batch_" + self._ids.cuid(_ms(created)),
            status=status,
            created_at=created,
            updated_at=updated,
            run_count=run_count,
            idempotency_key=key,
        )

    def _after_run_creation(
        self,
        status: BatchStatus,
        run_count: int,
        failed: int,
        tasks: tuple[str, ...],
        code: str | None,
        created: datetime,
        key: str | None,
        batch_id: str | None,
    ) -> TriggerBatch:
        sealed = created + self._ms(50, 2000)
        finished = sealed + self._ms(100, 5000)
        updated = finished
        if status == BatchStatus.COMPLETED:
            updated = finished + self._ms(1000, 600_000)
        own_id = self._ids.cuid(_ms(created))
        runs = self._ids.cuids(_ms(sealed), run_count - failed, prefix="run_")
        failed_indices = sorted(self._rng.sample(range(run_count), failed))
        return TriggerBatch(
            id=batch_id or "batch_" + own_id,
            status=status,
            created_at=created,
            updated_at=updated,
            run_count=run_count,
            runs=tuple(runs),
            idempotency_key=key,
            successful_run_count=run_count - failed,
            failed_run_count=failed,
            errors=self._errors(failed_indices, tasks, code),
            processing_completed_at=finished,
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
        return TriggerBatch(
            id=batch_id or "batch_" + ids[0],
            status=status,
            created_at=created,
            updated_at=created + self._ms(1000, 600_000),
            run_count=run_count,
            runs=tuple("run_" + run_id for run_id in ids[1:]),
            idempotency_key=key,
        )

    def _errors(
        self, indices: list[int], tasks: tuple[str, ...], code: str | None
    ) -> tuple[BatchError, ...]:
        if not indices:
            return ()
        template = _MESSAGES[code]
        if code == rules.QUEUE_LIMIT:
            first = indices[0]
            message = template.format(task=tasks[first % len(tasks)])
            if len(indices) > 1:
                message += " " + rules.collapsed_suffix(len(indices))
            return (BatchError(first, tasks[first % len(tasks)], message, code),)
        reasons = self._rng.choices(_text_pools().reasons, k=len(indices))
        return tuple(
            BatchError(
                index,
                tasks[index % len(tasks)],
                template.format(task=tasks[index % len(tasks)], index=index, reason=reason),
                code,
            )
            for index, reason in zip(indices, reasons, strict=True)
        )

    # -- values ---------------------------------------------------------------

    def _ms(self, low: int, high: int) -> timedelta:
        return timedelta(milliseconds=self._rng.randint(low, high))

    def _default_created_at(self) -> datetime:
        return _EPOCH + self._ms(0, 240 * 86_400_000)

    def _task_ids(self, value: str | Sequence[str] | None) -> tuple[str, ...]:
        if value is None:
            return (self._rng.choice(_text_pools().task_ids),)
        if isinstance(value, str):
            items: tuple[object, ...] = (value,)
        elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
            items = tuple(value)
        else:
            items = ()
        if not items or not all(isinstance(v, str) and v.strip() for v in items):
            raise ValueError(
                f"task_identifier must be a task id such as 'send-welcome-email', or a "
                f"non-empty list of them; got {value!r:.100}"
            )
        return items  # type: ignore[return-value]

    def _idempotency_key(self, value: str | bool | None) -> str | None:
        if value is None or value is False:
            return None
        if value is True:
            return self._ids.idempotency_key()
        if not isinstance(value, str) or not 1 <= len(value) <= rules.MAX_IDEMPOTENCY_KEY_LENGTH:
            raise ValueError(
                f"idempotency_key must be None, True (generate one) or a string of 1 to "
                f"{rules.MAX_IDEMPOTENCY_KEY_LENGTH} characters; got {value!r:.80}"
            )
        return value


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _count(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int; got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must not be negative; got {value}")
    return value


def _runs_created(status: BatchStatus, value: bool | None) -> bool:
    if value is None:
        return status not in (BatchStatus.PENDING, BatchStatus.PROCESSING)
    if not isinstance(value, bool):
        raise TypeError(f"runs_created must be True, False or None; got {value!r}")
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
    failed = _count("failed_count", value)
    if failed > run_count:
        raise ValueError(
            f"failed_count must be between 0 and run_count ({run_count}); got {failed}"
        )
    allowed = {
        BatchStatus.PENDING: (0, 0, "0 (PENDING after run creation means none failed)"),
        BatchStatus.PARTIAL_FAILED: (1, run_count - 1, f"1 to {run_count - 1}"),
        BatchStatus.COMPLETED: (0, run_count - 1, f"0 to {run_count - 1}"),
        BatchStatus.ABORTED: (run_count, run_count, f"{run_count} (every item)"),
    }[status]
    if not allowed[0] <= failed <= allowed[1]:
        raise ValueError(
            f"failed_count for a {status} batch of {run_count} items must be {allowed[2]}; "
            f"got {failed}"
        )
    return failed


def _error_code(value: str | _Unset | None) -> str | None:
    if isinstance(value, _Unset):
        return "TRIGGER_ERROR"
    if value is not None and value not in rules.ERROR_CODES:
        raise ValueError(
            f"error_code must be one of {', '.join(rules.ERROR_CODES)} or None; got {value!r}"
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
