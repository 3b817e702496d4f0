"""A run as the backend keeps it: its options, its stage, what time does to it.

Statuses are the stored names (`PENDING`, `COMPLETED_SUCCESSFULLY`...; docs/platform.md
§7.1); `payloads` shows them in the vocabulary a request asks for. A leaf of the backend:
the public `TriggerRun` (model.py) turns into one through `Run.from_public`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol, get_args

from pytest_trigger_batches.handlers.validate import JS_SPACES
from pytest_trigger_batches.statuses import KEY_CLEARING_STATUSES, RUN_FAILED, stored_outcome
from pytest_trigger_batches.timefmt import from_ms, to_ms

if TYPE_CHECKING:
    from pytest_trigger_batches.model import TriggerRun

__all__ = [
    "HOLDS",
    "MACHINES",
    "PREFAILED_ERROR",
    "QueueGate",
    "Run",
    "RunHold",
    "machine_of",
    "queue_name",
    "queue_of",
    "stored_tags",
]

PREFAILED_ERROR = {"message": "trigger.dev internal error (BATCH_ITEM_COULD_NOT_TRIGGER)"}
MACHINES = ("micro", "small-1x", "small-2x", "medium-1x", "medium-2x", "large-1x", "large-2x")
"""The machine presets (`MachinePresetName`); a run that names none starts on small-1x."""
RunHold = Literal["queued", "executing"]
"""Where `on_run(hold=...)` stops a run: QUEUED, or EXECUTING (its stage, in order)."""
HOLDS: tuple[str, ...] = get_args(RunHold)
_QUEUE_JUNK = re.compile(r"[^a-zA-Z0-9_\-/]")  # sanitizeQueueName drops the rest


class QueueGate(Protocol):
    """The queue a run waits in, as far as the run asks: whether it is paused."""

    paused: bool


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
    hold: int | None = None
    """The stage it goes no further than, except when `advance()` moves it or it is
    cancelled (`on_run(hold=...)`); None: it moves with the progression."""
    idempotency_key: str | None = None
    idempotency_expires_ms: int | None = None
    outcome: str = "COMPLETED"
    output: object = None
    error: Mapping[str, object] | None = None
    delayed_until_ms: int | None = None
    """When its delay ends; kept once it has (the platform's `delayUntil` stays)."""
    ttl: str | None = None
    """The run's `ttl` as the platform stores it (`"1h"`; `"10m"` by default in dev)."""
    ttl_ms: int | None = None
    """How long it may wait queued before it expires (None: never)."""
    started_ms: int | None = None
    finished_ms: int | None = None
    expired_ms: int | None = None
    updated_ms: int = 0
    enqueued_ms: int | None = None
    """When a delayed run entered the queue (its TTL counts from then); None while it
    waits for its delay."""
    canceled: bool = False
    """Cancelled: CANCELED at once; a started run finishes when its worker stops (next step)."""
    region: str | None = None
    """The region a run the mock made shows (docs/platform.md §7.3); registered runs: none."""
    version: str | None = None
    """The worker version the run is locked to: `lockToVersion`, else set when it starts."""
    environment: str | None = None
    attempts: int | None = None
    """A registered run's own attempt count (computed for the runs the mock makes)."""
    listed_always: bool = False
    """A registered run: listed whatever its date (the factory's are seeded months back)."""
    shown_in_list: tuple[tuple[object, ...], bytes] | None = field(default=None, repr=False)
    """Its last entry in the run list, and what it was rendered from (`payloads`)."""
    queue: QueueGate | None = field(default=None, repr=False)
    """The queue it waits in (a paused one keeps it QUEUED); None: a registered run."""
    bulk_actions: tuple[str, ...] = ()
    """The internal ids of the bulk actions that cancelled or made it."""

    def __post_init__(self) -> None:
        self.updated_ms = max(self.updated_ms, self.created_ms)
        if self.prefailed:
            self.finished_ms = self.created_ms
            self.error = PREFAILED_ERROR

    @classmethod
    def from_public(cls, run: TriggerRun) -> Run:
        """The backend's record of a run built with `TriggerRun` (served as it was given)."""
        status = run.status
        ended = status == "COMPLETED" or status in RUN_FAILED
        options: dict[str, object] = {}
        if run.tags:
            options["tags"] = list(run.tags)
        if run.metadata is not None:
            options["metadata"] = dict(run.metadata)
        record = cls(
            id=run.id,
            task=run.task_identifier,
            created_ms=to_ms(run.created_at),
            payload=run.payload,
            options=options,
            batch_id=run.batch_id,
            prefailed=status == "SYSTEM_FAILURE" and run.started_at is None,
            stage=2 if ended else 1 if status == "EXECUTING" else 0,
            outcome=status if ended else "COMPLETED",
            output=run.output,
            error=dict(run.error) if run.error is not None else None,
            delayed_until_ms=to_ms(run.delayed_until) if run.delayed_until else None,
            started_ms=to_ms(run.started_at) if run.started_at else None,
            finished_ms=to_ms(run.finished_at) if run.finished_at else None,
            updated_ms=to_ms(run.updated_at),
            canceled=status == "CANCELED",
            idempotency_key=run.idempotency_key,
            attempts=run.attempt_count,
        )
        if status == "EXPIRED":
            record.expired_ms = record.finished_ms
        if status != "DELAYED" and record.delayed_until_ms is not None:
            record.enqueued_ms = record.delayed_until_ms  # its delay has ended
        return record

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
            return stored_outcome(self.outcome)
        if self.stage == 1:
            return "EXECUTING"
        return "DELAYED" if self.delayed else "PENDING"

    @property
    def delayed(self) -> bool:
        """Whether it still waits for its delay (DELAYED, not in the queue yet)."""
        return self.delayed_until_ms is not None and self.enqueued_ms is None

    @property
    def clears_idempotency_key(self) -> bool:
        """Whether its idempotency key makes a new run: it failed, crashed, expired..."""
        return self.stored_status in KEY_CLEARING_STATUSES

    @property
    def deadline_ms(self) -> int | None:
        """When time alone next changes the run (`refresh`): its delay ends or its TTL
        runs out; None when nothing will."""
        if self.final or self.stage > 0:
            return None
        if self.delayed_until_ms is not None and self.enqueued_ms is None:
            return self.delayed_until_ms  # still delayed
        if self.ttl_ms is not None:
            return (self.enqueued_ms or self.created_ms) + self.ttl_ms
        return None

    def refresh(self, now_ms: int) -> None:
        """What time alone does: a delay passes, then a queued run's TTL runs out.

        The TTL counts from when the run entered the queue (after its delay); it expires
        at that deadline, whenever the mock notices (docs/platform.md §7.3).
        """
        if self.final or self.stage > 0:
            return
        if self.delayed_until_ms is not None and self.enqueued_ms is None:
            if now_ms < self.delayed_until_ms:
                return
            self.enqueued_ms = self.delayed_until_ms  # `delayed_until_ms` stays, as shown
            self.updated_ms = max(self.updated_ms, self.enqueued_ms)
        if self.ttl_ms is not None:
            deadline = (self.enqueued_ms or self.created_ms) + self.ttl_ms
            if now_ms >= deadline:
                self.expired_ms = self.finished_ms = deadline
                self.updated_ms = max(self.updated_ms, deadline)

    def step(self, now_ms: int = 0, *, release: bool = False) -> None:
        """One step along the run's lifecycle (a delayed run waits for its time; a held
        one at its stage, unless `release`: `advance()`)."""
        self.refresh(now_ms)
        if self.final or self.delayed or self.undeployed:
            return
        if self.stage == 0 and self.queue is not None and self.queue.paused:
            return  # a paused queue starts nothing, whatever moves it
        held = self.hold is not None and self.stage >= self.hold and not release
        if held and not self.canceled:
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
                self.version = from_ms(moment).strftime("%Y%m%d.1")
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


def queue_of(run: Run) -> str:
    """The queue a run is on: `options.queue.name`, else `task/<taskId>` (sanitized)."""
    queue = run.options.get("queue")
    name = queue.get("name") if isinstance(queue, Mapping) else None
    sanitized = queue_name(name) if isinstance(name, str) else ""
    return sanitized or queue_name(f"task/{run.task}")


def queue_name(name: str) -> str:
    """A queue's name as the platform keeps it (`sanitizeQueueName`): letters, digits,
    `_`, `-` and `/` only, at most 128."""
    return _QUEUE_JUNK.sub("", name)[:128]


def machine_of(run: Run) -> str:
    """The machine preset a run asked for; one that started without asking got small-1x."""
    machine = run.options.get("machine")
    if isinstance(machine, str) and machine:
        return machine
    return "small-1x" if run.started_ms is not None else ""


def stored_tags(run: Run) -> list[str]:
    """The run's tags as the platform stores them: in the order given, blank ones (once
    trimmed as JavaScript trims) dropped, repeats kept."""
    tags = run.options.get("tags")
    listed = [tags] if isinstance(tags, str) else tags if isinstance(tags, list) else []
    return [str(tag) for tag in listed if str(tag).strip(JS_SPACES)]
