"""The records the backend keeps: batches (both kinds) and the items the app sent.

Two kinds of batch, one `BatchRecord` protocol: a `BatchHandle` is a batch the test
registered (`add_batch`), whose retrievals walk through the states it was given; a
`TriggeredBatch` is one the application triggered through the mock, holding what the
app sent (items, by index) and what the platform made of it (runs, error entries,
status). Either shows its current state as a `TriggerBatch` (`batch`), renders it
(`body`) and moves one step when the progression engine says so (`progress.py`). Runs
are `stored_run.Run` records.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Literal, Protocol, get_args

from pytest_trigger_batches.model import BatchError, TriggerBatch
from pytest_trigger_batches.rules import (
    DEVELOPMENT,
    MAX_ITEM_BYTES,
    QUEUE_LIMIT,
    collapsed_suffix,
    payload_too_large_message,
    queue_limit_message,
)
from pytest_trigger_batches.statuses import BatchStatus
from pytest_trigger_batches.stored_run import Run
from pytest_trigger_batches.timefmt import from_ms

__all__ = [
    "ANSWERS",
    "OUTCOMES",
    "BatchHandle",
    "BatchKind",
    "BatchRecord",
    "Item",
    "ItemOutcome",
    "RunMaker",
    "Sent",
    "TriggerAnswer",
    "TriggeredBatch",
    "TriggeredBatchHandle",
]

BatchKind = Literal["streaming", "v2", "v1", "v1-task"]

ItemOutcome = Literal[
    "created", "trigger_failure", "queue_limit", "unknown_task", "too_large", "too_large_error"
]
"""What happens to an item (see README, "What happens to items").

- created: a run is created (default);
- trigger_failure: the trigger keeps failing: a pre-failed SYSTEM_FAILURE run
  (streaming and one-shot batches; `/api/v1/tasks/batch` of up to 20 items aborts
  with a `500`), `500` for a single trigger;
- queue_limit: the environment's queue is full;
- unknown_task: the task is not deployed: the platform still makes the run, queued on
  `task/<id>`, and it stays QUEUED (nothing runs it) until its ttl or a cancel;
- too_large: the payload is over the limit (a pre-failed run in a streaming batch);
- too_large_error: as too_large, but recorded as a PAYLOAD_TOO_LARGE error entry (the
  platform does this when even the pre-failed run cannot be created).
"""
OUTCOMES: tuple[str, ...] = get_args(ItemOutcome)


@dataclass(slots=True)
class Item:
    """One item as the app sent it."""

    index: int
    task: str
    payload: object
    options: Mapping[str, object]
    size: int = 0


TriggerAnswer = Literal["created", "cached", "deduplicated", "refused"]
"""How the platform took an item the app sent (the site's "Item and run outcomes" recipe).

- created: new work: it made a run (in a streaming batch, when the batch is processed,
  where `on_item` may make it a pre-failed run or an error entry instead);
- cached: answered with what an earlier request made: a request key
  (`x-trigger-request-idempotency-key`), a batch key (`idempotency-key`), or the
  item's own `idempotencyKey` reusing an earlier run (in a streaming batch, found when
  the batch is processed);
- deduplicated: a streaming batch already held an item at its index;
- refused: the request was refused (an error status) and no run was made for it.
"""
ANSWERS: tuple[str, ...] = get_args(TriggerAnswer)


@dataclass(slots=True, eq=False)
class Sent:
    """One item the app sent: the route, the item, its batch (None: a single trigger or a
    request refused before a batch existed) and how the platform took it."""

    route: str
    item: Item
    batch_id: str | None
    answer: TriggerAnswer = "created"


DEFAULT_REGION = "us-east-1"
"""Where a deployed environment's runs go when the trigger names no region."""


def run_region(environment: str, environment_id: str, options: Mapping[str, object]) -> str:
    """The region a new run shows: a dev run's worker queue is its environment's id; a
    deployed one's is the region it asked for, else the project's default."""
    if environment == DEVELOPMENT:
        return environment_id
    asked = options.get("region")
    return asked if isinstance(asked, str) and asked else DEFAULT_REGION


def locked_version(options: Mapping[str, object]) -> str | None:
    """The version `lockToVersion` locks a new run to, if any."""
    version = options.get("lockToVersion")
    return version if isinstance(version, str) and version else None


class RunMaker(Protocol):
    """What a triggered batch needs to make its runs: the backend's rules and ids."""

    def process(self, batch: TriggeredBatch, now_ms: int) -> None:
        """Make the runs (and error entries) of `batch`'s items: its processing step."""


class BatchRecord(Protocol):
    """What both kinds of batch answer, so that nothing needs to ask which kind it has."""

    registered: ClassVar[bool]
    """Registered by the test (`add_batch`), not triggered by the application."""
    served: int
    """How many successful (200) GET retrievals have been answered."""

    @property
    def id(self) -> str:
        """The batch's id."""

    @property
    def environment(self) -> str | None:
        """The environment whose keys see it (None: every key)."""

    @property
    def batch(self) -> TriggerBatch:
        """The state the next retrieval shows."""

    @property
    def settled(self) -> bool:
        """Whether nothing moves it any more."""

    def body(self, version: int) -> bytes:
        """The current state's body for API `version`."""

    def ready(self, now_ms: int) -> None:
        """What a poll finds before it answers (a triggered batch whose runs are all final
        is COMPLETED)."""

    def step(self, now_ms: int, runs: RunMaker, *, release: bool = False) -> None:
        """One step on (progress.py says when); `release`: held runs move too."""


@dataclass(slots=True, eq=False)
class BatchHandle:
    """A registered batch: the states its retrievals walk through, the last one sticking."""

    registered: ClassVar[bool] = True
    id: str
    states: tuple[TriggerBatch, ...]
    environment: str | None = None
    served: int = 0
    """How many successful (200) GET retrievals have been answered."""
    _position: int = field(default=0, repr=False)
    _bodies: dict[tuple[int, int], bytes] = field(default_factory=dict, repr=False)

    @property
    def batch(self) -> TriggerBatch:
        """The state the next successful retrieval answers with."""
        return self.states[self._position]

    @property
    def final(self) -> TriggerBatch:
        """The last state, which sticks once reached."""
        return self.states[-1]

    @property
    def settled(self) -> bool:
        """Whether the last state is reached."""
        return self._position == len(self.states) - 1

    def body(self, version: int) -> bytes:
        """The current state's body for API `version` (rendered once per state)."""
        position = self._position
        body = self._bodies.get((position, version))
        if body is None:
            payload = self.states[position].to_payload(version=1 if version == 1 else 2)
            body = json.dumps(payload, separators=(",", ":")).encode()
            self._bodies[(position, version)] = body
        return body

    def ready(self, now_ms: int) -> None:
        """Nothing: a registered state is shown as it was given."""

    def step(self, now_ms: int, runs: RunMaker, *, release: bool = False) -> None:
        """On to the next state (the last one sticks)."""
        self._position = min(self._position + 1, len(self.states) - 1)


@dataclass(slots=True, eq=False)
class TriggeredBatch:
    """A batch created by a trigger endpoint, with everything the platform made of it."""

    registered: ClassVar[bool] = False
    id: str
    kind: BatchKind
    environment: str
    run_count: int
    created_ms: int
    idempotency_key: str | None = None
    route: str = ""
    """The route that created it, named as recorded calls name it."""
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
                failures.append((item, QUEUE_LIMIT))
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

    def ready(self, now_ms: int) -> None:
        """COMPLETED once every run created for it is final (never from ABORTED)."""
        ready = self.processed if self.counted else True
        if ready and not self.settled and all(run.final for run in self.linked):
            self.status = BatchStatus.COMPLETED
            self.touch(now_ms)

    def step(self, now_ms: int, runs: RunMaker, *, release: bool = False) -> None:
        """One poll's worth of progress: process the items once sealed, else move the runs
        (held ones too with `release`: `advance()`)."""
        if self.settled or (self.counted and not self.sealed):
            return
        if self.counted and not self.processed:
            runs.process(self, now_ms)
            return
        moved = False
        for run in self.linked:
            if not run.final:
                run.step(now_ms, release=release)
                moved = True
        if moved:
            self.touch(now_ms)

    @property
    def batch(self) -> TriggerBatch:
        """The batch as the next retrieval shows it."""
        return self.snapshot()

    def snapshot(self) -> TriggerBatch:
        """The batch as a retrieval shows it now."""
        created = from_ms(self.created_ms)
        processed = self.counted and self.processed
        successful = len(self.runs) if processed else None
        failed = self.run_count - len(self.runs) if processed else None
        return TriggerBatch(
            id=self.id,
            status=self.status,
            created_at=created,
            updated_at=from_ms(max(self.updated_ms, self.created_ms)),
            run_count=self.run_count,
            runs=tuple(self.runs),
            idempotency_key=self.idempotency_key,
            successful_run_count=successful,
            failed_run_count=failed,
            errors=tuple(self.errors),
            processing_completed_at=(
                from_ms(self.processing_completed_ms)
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


class TriggeredBatchHandle:
    """A batch the application triggered, as `TriggerApi.triggered_batches` lists it.

    Read-only and live: each attribute is read when asked, and reading moves nothing.
    Name the batch with it wherever a batch is named (`advance`, `retrievals`,
    `assert_retrieved`, `run(...)` of its `batch.runs`).
    """

    __slots__ = ("_lock", "_record")

    def __init__(self, record: TriggeredBatch, lock: AbstractContextManager[object]) -> None:
        self._record = record
        self._lock = lock

    @property
    def id(self) -> str:
        """The batch's id."""
        return self._record.id

    @property
    def route(self) -> str:
        """The route that created it, as `calls` name it (`"POST /api/v3/batches"`)."""
        return self._record.route

    @property
    def environment(self) -> str:
        """The environment of the key that created it (`"dev"`, `"prod"`...)."""
        return self._record.environment

    @property
    def created_at(self) -> datetime:
        """When the mock created it, on the mock's clock."""
        return from_ms(self._record.created_ms)

    @property
    def batch(self) -> TriggerBatch:
        """The batch as its next retrieval would show it (reading it moves nothing)."""
        with self._lock:
            return self._record.snapshot()

    @property
    def served(self) -> int:
        """How many successful (200) GET retrievals of it have been answered."""
        with self._lock:
            return self._record.served

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TriggeredBatchHandle):
            return NotImplemented
        return self._record is other._record

    def __hash__(self) -> int:
        return hash(self._record.id)

    def __repr__(self) -> str:
        return f"<TriggeredBatchHandle {self.id} {self.route} {self.batch.status.value}>"


def _error_entries(failures: list[tuple[Item, str]]) -> list[BatchError]:
    if not failures:
        return []
    if all(code == QUEUE_LIMIT for _, code in failures):
        first = failures[0][0]
        message = f"{queue_limit_message(first.task)} {collapsed_suffix(len(failures))}"
        return [BatchError(first.index, first.task, message, QUEUE_LIMIT)]
    return [
        BatchError(
            item.index,
            item.task,
            queue_limit_message(item.task)
            if code == QUEUE_LIMIT
            else payload_too_large_message(max(item.size, MAX_ITEM_BYTES + 1)),  # declared
            code,
        )
        for item, code in failures
    ]
