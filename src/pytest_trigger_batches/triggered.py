"""Batches and runs the application triggered through the mock, as the store keeps them.

A `TriggeredBatch` holds what the app sent (items, by index) and what the platform made
of it (runs, error entries, status); `snapshot()` is the `TriggerBatch` a retrieval
shows, checked by every platform rule. `step()` moves it on as polls do
(`progress.py` says when).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from pytest_trigger_batches.model import BatchError, TriggerBatch
from pytest_trigger_batches.progress import ItemOutcome
from pytest_trigger_batches.statuses import BatchStatus

__all__ = ["BatchKind", "Item", "Run", "TriggeredBatch"]

BatchKind = Literal["streaming", "v2", "v1", "v1-task"]
QUEUE_LIMIT_SIZE = 10_000
MAX_ITEM_BYTES = 3 * 1024 * 1024


def queue_limit_message(task: str) -> str:
    """The platform's text for an item refused because the queue is full."""
    return (
        f"Cannot trigger {task} as the queue size limit for this environment has been "
        f"reached. The maximum size is {QUEUE_LIMIT_SIZE}"
    )


def too_large_message(size: int) -> str:
    """The platform's text for an item over the size limit."""
    return (
        f"Batch item payload is too large ({size / 1024:.1f} KB). Maximum allowed size is "
        f"{MAX_ITEM_BYTES / 1024:.1f} KB. Reduce the payload size or offload large data to "
        f"external storage."
    )


@dataclass(slots=True)
class Item:
    """One item as the app sent it."""

    index: int
    task: str
    payload: object
    options: Mapping[str, object]
    size: int = 0


DEFAULT_REGION = "us-east-1"
"""Where a deployed environment's runs go when the trigger names no region."""


def run_region(environment: str, environment_id: str, options: Mapping[str, object]) -> str:
    """The region a new run shows: a dev run's worker queue is its environment's id; a
    deployed one's is the region it asked for, else the project's default."""
    if environment == "dev":
        return environment_id
    asked = options.get("region")
    return asked if isinstance(asked, str) and asked else DEFAULT_REGION


def locked_version(options: Mapping[str, object]) -> str | None:
    """The version `lockToVersion` locks a new run to, if any."""
    version = options.get("lockToVersion")
    return version if isinstance(version, str) and version else None


RUN_OUTCOMES = ("COMPLETED", "FAILED", "CRASHED", "SYSTEM_FAILURE", "TIMED_OUT")
"""What a run ends as, when the test chooses (`on_run`); COMPLETED by default."""
_STORED_FINAL = {"COMPLETED": "COMPLETED_SUCCESSFULLY", "FAILED": "COMPLETED_WITH_ERRORS"}
KEY_CLEARING_STATUSES = frozenset(
    {"COMPLETED_WITH_ERRORS", "SYSTEM_FAILURE", "CRASHED", "TIMED_OUT", "INTERRUPTED", "EXPIRED"}
)
"""Stored statuses whose run gives up its idempotency key: the key makes a new run."""
PREFAILED_ERROR = {"message": "trigger.dev internal error (BATCH_ITEM_COULD_NOT_TRIGGER)"}


@dataclass(slots=True, eq=False)
class Run:
    """A run: delayed or queued, executing, then final (stored status names, §7.1)."""

    id: str
    task: str
    created_ms: int
    payload: object = None
    options: Mapping[str, object] = field(default_factory=dict)
    batch_id: str | None = None
    index: int | None = None
    prefailed: bool = False
    undeployed: bool = False
    """Its task is not deployed: the run waits in its queue (until its TTL or a cancel)."""
    stage: int = 0
    """0 queued, 1 executing, 2 final."""
    idempotency_key: str | None = None
    idempotency_expires_ms: int | None = None
    outcome: str = "COMPLETED"
    output: object = None
    error: Mapping[str, object] | None = None
    delayed_until_ms: int | None = None
    ttl_ms: int | None = None
    started_ms: int | None = None
    finished_ms: int | None = None
    expired_ms: int | None = None
    updated_ms: int = 0
    enqueued_ms: int | None = None
    """When a delayed run entered the queue (its TTL counts from then)."""
    canceled: bool = False
    """Cancelled: CANCELED at once; a started run finishes when its worker stops (next step)."""
    region: str | None = None
    """The region a run the mock made shows (docs/platform.md §7.3); registered runs: none."""
    version: str | None = None
    """The worker version the run is locked to: `lockToVersion`, else set when it starts."""
    replayed_from: str | None = None
    environment: str | None = None
    attempts: int | None = None
    """A registered run's own attempt count (computed for the runs the mock makes)."""
    listed_always: bool = False
    """A registered run: listed whatever its date (the factory's are seeded months back)."""

    def __post_init__(self) -> None:
        self.updated_ms = max(self.updated_ms, self.created_ms)
        if self.prefailed:
            self.finished_ms = self.created_ms
            self.error = PREFAILED_ERROR

    @property
    def final(self) -> bool:
        """Whether the run has finished (pre-failed runs are born finished)."""
        if self.canceled:  # a started run is PENDING_CANCEL until its worker stops
            return self.started_ms is None or self.finished_ms is not None
        return self.prefailed or self.expired_ms is not None or self.stage >= 2

    @property
    def stored_status(self) -> str:
        """The status as the platform stores it (`PENDING`, `COMPLETED_SUCCESSFULLY`...)."""
        if self.prefailed:
            return "SYSTEM_FAILURE"
        if self.canceled:
            return "CANCELED"
        if self.expired_ms is not None:
            return "EXPIRED"
        if self.stage >= 2:
            return _STORED_FINAL.get(self.outcome, self.outcome)
        if self.stage == 1:
            return "EXECUTING"
        return "DELAYED" if self.delayed_until_ms is not None else "PENDING"

    @property
    def clears_idempotency_key(self) -> bool:
        """Whether its idempotency key makes a new run: it failed, crashed, expired..."""
        return self.stored_status in KEY_CLEARING_STATUSES

    @property
    def status(self) -> str:
        """The run's status in the current vocabulary (SDK 4.x)."""
        return {"PENDING": "QUEUED", "COMPLETED_SUCCESSFULLY": "COMPLETED"}.get(
            self.stored_status,
            "FAILED" if self.stored_status == "COMPLETED_WITH_ERRORS" else self.stored_status,
        )

    def refresh(self, now_ms: int) -> None:
        """What time alone does: a delay passes, then a queued run's TTL runs out.

        The TTL counts from when the run entered the queue (after its delay); it expires
        at that deadline, whenever the mock notices (docs/platform.md §7.3).
        """
        if self.final or self.stage > 0:
            return
        if self.delayed_until_ms is not None:
            if now_ms < self.delayed_until_ms:
                return
            self.enqueued_ms = self.delayed_until_ms
            self.delayed_until_ms = None
            self.updated_ms = max(self.updated_ms, self.enqueued_ms)
        if self.ttl_ms is not None:
            deadline = (self.enqueued_ms or self.created_ms) + self.ttl_ms
            if now_ms >= deadline:
                self.expired_ms = self.finished_ms = deadline
                self.updated_ms = max(self.updated_ms, deadline)

    def step(self, now_ms: int = 0) -> None:
        """One step along the run's lifecycle (a delayed run waits for its time)."""
        self.refresh(now_ms)
        if self.final or self.delayed_until_ms is not None or self.undeployed:
            return
        moment = max(now_ms, self.updated_ms)
        self.updated_ms = moment
        if self.canceled:  # its worker stopped the attempt: now it has finished
            self.finished_ms = moment
            return
        self.stage += 1
        if self.stage == 1:
            self.started_ms = moment
            if self.version is None:  # locked to the worker that dequeued it
                self.version = datetime.fromtimestamp(moment / 1000, tz=UTC).strftime("%Y%m%d.1")
        else:
            self.finished_ms = moment

    def cancel(self, now_ms: int) -> None:
        """Cancelled by the API: CANCELED at once, with no finish time until a started run's
        worker stops (the next step); a final run stays as it is."""
        if not self.final and not self.canceled:
            self.canceled = True
            self.updated_ms = max(now_ms, self.updated_ms)

    @property
    def attempt_count(self) -> int:
        """Attempts so far: none before it starts; on failure every attempt allowed."""
        if self.attempts is not None:
            return self.attempts
        if self.started_ms is None:
            return 0
        if self.stage >= 2 and self.outcome == "FAILED":
            allowed = self.options.get("maxAttempts")
            return allowed if isinstance(allowed, int) and allowed > 0 else 1
        return 1


@dataclass(slots=True, eq=False)
class TriggeredBatch:
    """A batch created by a trigger endpoint, with everything the platform made of it."""

    id: str
    kind: BatchKind
    environment: str
    run_count: int
    created_ms: int
    idempotency_key: str | None = None
    status: BatchStatus = BatchStatus.PENDING
    sealed: bool = False
    processed: bool = False
    items: dict[int, Item] = field(default_factory=dict)
    runs: list[str] = field(default_factory=list)
    """Run ids in item-index order: created, pre-failed and reused runs."""
    linked: list[Run] = field(default_factory=list)
    """The runs created for this batch (not the ones reused through an idempotency key)."""
    errors: list[BatchError] = field(default_factory=list)
    updated_ms: int = 0
    processing_completed_ms: int | None = None
    served: int = 0
    _bodies: dict[int, bytes] = field(default_factory=dict, repr=False)

    @property
    def settled(self) -> bool:
        """COMPLETED or ABORTED: nothing moves any more."""
        return self.status in (BatchStatus.COMPLETED, BatchStatus.ABORTED)

    @property
    def counted(self) -> bool:
        """Whether the batch has counts and error entries (streaming batches do)."""
        return self.kind == "streaming"

    def touch(self, now_ms: int) -> None:
        """A write: `updatedAt` moves (never backwards)."""
        self.updated_ms = max(self.updated_ms, now_ms, self.created_ms)
        self._bodies.clear()

    def seal(self, now_ms: int) -> None:
        """Every item has arrived: PROCESSING."""
        self.sealed = True
        self.status = BatchStatus.PROCESSING
        self.touch(now_ms)

    def process(
        self,
        now_ms: int,
        make_run: Callable[[Item, ItemOutcome], Run | str | None],
        outcome_of: Callable[[Item], ItemOutcome],
    ) -> None:
        """Every item processed: runs, error entries, counts, and the processed status.

        `make_run(item, outcome)` returns the new run, the id of a reused run, or None.
        """
        failures: list[tuple[Item, str]] = []
        for index in sorted(self.items):
            item = self.items[index]
            outcome = "too_large" if item.size > MAX_ITEM_BYTES else outcome_of(item)
            if item.size > MAX_ITEM_BYTES and outcome_of(item) == "too_large_error":
                outcome = "too_large_error"
            if outcome == "queue_limit":
                failures.append((item, "QUEUE_SIZE_LIMIT_EXCEEDED"))
                continue
            if outcome == "too_large_error":
                failures.append((item, "PAYLOAD_TOO_LARGE"))
                continue
            made = make_run(item, outcome)
            self._add_run(made)
        self.errors = _error_entries(failures)
        failed = len(failures)
        self.processed = True
        if failed and failed == self.run_count:
            self.status = BatchStatus.ABORTED
        elif failed:
            self.status = BatchStatus.PARTIAL_FAILED
        else:
            self.status = BatchStatus.PENDING
        self.processing_completed_ms = max(now_ms, self.created_ms)
        self.touch(now_ms)

    def _add_run(self, made: Run | str | None) -> None:
        if isinstance(made, Run):
            self.runs.append(made.id)
            self.linked.append(made)
        elif isinstance(made, str):
            self.runs.append(made)

    def add_runs(self, runs: list[Run | str]) -> None:
        """One-shot endpoints: the runs exist as soon as the batch does."""
        for made in runs:
            self._add_run(made)

    def complete_if_done(self, now_ms: int) -> None:
        """COMPLETED once every run created for it is final (never from ABORTED)."""
        ready = self.processed if self.counted else True
        if ready and not self.settled and all(run.final for run in self.linked):
            self.status = BatchStatus.COMPLETED
            self.touch(now_ms)

    def step(
        self,
        now_ms: int,
        make_run: Callable[[Item, ItemOutcome], Run | str | None],
        outcome_of: Callable[[Item], ItemOutcome],
    ) -> None:
        """One poll's worth of progress."""
        if self.settled or (self.counted and not self.sealed):
            return
        if self.counted and not self.processed:
            self.process(now_ms, make_run, outcome_of)
            return
        moved = False
        for run in self.linked:
            if not run.final:
                run.step(now_ms)
                moved = True
        if moved:
            self.touch(now_ms)

    @property
    def batch(self) -> TriggerBatch:
        """The batch as the next retrieval shows it."""
        return self.snapshot()

    def snapshot(self) -> TriggerBatch:
        """The batch as a retrieval shows it now."""
        created = _moment(self.created_ms)
        processed = self.counted and self.processed
        successful = len(self.runs) if processed else None
        failed = self.run_count - len(self.runs) if processed else None
        return TriggerBatch(
            id=self.id,
            status=self.status,
            created_at=created,
            updated_at=_moment(max(self.updated_ms, self.created_ms)),
            run_count=self.run_count,
            runs=tuple(self.runs),
            idempotency_key=self.idempotency_key,
            successful_run_count=successful,
            failed_run_count=failed,
            errors=tuple(self.errors),
            processing_completed_at=(
                _moment(self.processing_completed_ms)
                if self.processing_completed_ms is not None
                else None
            ),
        )

    def body(self, version: int) -> bytes:
        """The current snapshot's body for API `version`."""
        body = self._bodies.get(version)
        if body is None:
            payload = self.snapshot().to_payload(version=1 if version == 1 else 2)
            body = json.dumps(payload, separators=(",", ":")).encode()
            self._bodies[version] = body
        return body


def _error_entries(failures: list[tuple[Item, str]]) -> list[BatchError]:
    if not failures:
        return []
    if all(code == "QUEUE_SIZE_LIMIT_EXCEEDED" for _, code in failures):
        first = failures[0][0]
        message = (
            f"{queue_limit_message(first.task)} "
            f"({len(failures)} items in this batch failed with the same error)"
        )
        return [BatchError(first.index, first.task, message, "QUEUE_SIZE_LIMIT_EXCEEDED")]
    return [
        BatchError(
            item.index,
            item.task,
            queue_limit_message(item.task)
            if code == "QUEUE_SIZE_LIMIT_EXCEEDED"
            else too_large_message(max(item.size, MAX_ITEM_BYTES + 1)),  # declared too large
            code,
        )
        for item, code in failures
    ]


def _moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
