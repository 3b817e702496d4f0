"""Queues: the ones an environment's runs wait in, paused or not, with their limits.

A queue exists once a run of the environment is made on it: each task's `task/<id>`
(a "task" queue) or the name a trigger gave (`options.queue.name`, a "custom" queue),
as the platform has a `TaskQueue` row for each queue a deploy declares. Its `running`
and `queued` counts are read from the runs. A paused queue starts none of its runs
(`stored_run.Run.step`). docs/platform.md §13.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pytest_trigger_batches.ids import digest_nanoid
from pytest_trigger_batches.rules import ENVIRONMENT_CONCURRENCY_LIMIT
from pytest_trigger_batches.stored_run import queue_name, queue_of
from pytest_trigger_batches.timefmt import iso_ms

if TYPE_CHECKING:
    from pytest_trigger_batches.stored_run import Run

__all__ = ["Queue", "QueueStore", "counts", "task_queue_name"]

TASK_PREFIX = "task/"


def task_queue_name(type_: str, name: str) -> str:
    """The stored name a `{type, name}` asks for: a task's queue is `task/<id>`."""
    if type_ == "task":
        return TASK_PREFIX + name.removeprefix(TASK_PREFIX)
    return name


@dataclass(slots=True, eq=False)
class Queue:
    """One queue of one environment (the platform's `TaskQueue` row)."""

    id: str
    name: str
    """The stored name: `task/<taskId>` or the custom queue's name."""
    environment: str
    paused: bool = False
    limit: int | None = None
    """`concurrencyLimit`: the limit in force (None: the environment's)."""
    base: int | None = None
    """`concurrencyLimitBase`: the limit an override replaced."""
    overridden_ms: int | None = None
    percent: float | None = None
    """The percent an override gave, when it gave one."""

    @property
    def type(self) -> str:
        """Either "task" (a task's own queue) or "custom"."""
        return "task" if self.name.startswith(TASK_PREFIX) else "custom"

    @property
    def order(self) -> str:
        """The list's order (`orderableName`): a task queue sorts by its task id."""
        return self.name.removeprefix(TASK_PREFIX)

    def item(self, running: int, queued: int) -> dict[str, object]:
        """The queue as `toQueueItem` writes it (`QueueItem`)."""
        overridden = self.overridden_ms is not None
        return {
            "id": self.id,
            "name": self.name.removeprefix(TASK_PREFIX),
            "type": self.type,
            "running": running,
            "queued": queued,
            "paused": self.paused,
            "concurrencyLimit": self.limit,
            "concurrency": {
                "current": self.limit,
                "base": self.base,
                "override": self.limit if overridden else None,
                "overriddenBy": None,
                "overriddenAt": iso_ms(self.overridden_ms) if self.overridden_ms else None,
            },
            "releaseConcurrencyOnWaitpoint": True,
        }

    def override(self, now_ms: int, *, limit: int | None, percent: float | None) -> None:
        """A new limit (absolute, or a percent of the environment's); the base is kept."""
        if self.overridden_ms is None:
            self.base = self.limit
        if percent is not None:
            materialized = math.floor(ENVIRONMENT_CONCURRENCY_LIMIT * percent / 100)
            limit = min(max(materialized, 1), ENVIRONMENT_CONCURRENCY_LIMIT)
        self.limit, self.percent, self.overridden_ms = limit, percent, now_ms

    def reset_limit(self) -> None:
        """Back to the base limit, no override."""
        self.limit, self.base, self.percent, self.overridden_ms = self.base, None, None, None


class QueueStore:
    """Every queue, by environment and stored name. Ids depend on `seed`, the
    environment and the name alone: listing queues draws nothing from the id source."""

    def __init__(self, seed: str) -> None:
        self._seed = seed
        self._queues: dict[tuple[str, str], Queue] = {}

    def of(self, run: Run, environment: str) -> Queue:
        """The queue `run` (of `environment`) waits in, made when it is the first."""
        return self.named(environment, queue_of(run))

    def declare(self, environment: str, type_: str, name: str) -> Queue:
        """The queue a deploy declares: a task's (`type_` "task") or a named one."""
        return self.named(environment, queue_name(task_queue_name(type_, name)))

    def named(self, environment: str, name: str) -> Queue:
        """The queue of `environment` with the stored `name`, made if there is none."""
        found = self._queues.get((environment, name))
        if found is None:
            digest = hashlib.blake2b(
                f"{self._seed}\0{environment}\0{name}".encode(), digest_size=32
            ).digest()
            found = Queue("queue_" + digest_nanoid(digest), name, environment)
            self._queues[(environment, name)] = found
        return found

    def in_environment(self, environment: str) -> list[Queue]:
        """The environment's queues in the list's order (`orderableName`, then name)."""
        found = [queue for (env, _), queue in self._queues.items() if env == environment]
        return sorted(found, key=lambda queue: (queue.order, queue.name))

    def find(
        self, environment: str, *, queue_id: str | None = None, name: str = ""
    ) -> Queue | None:
        """The queue of `environment` with `queue_id`, or else with the stored `name`."""
        if queue_id is not None:
            found = (q for (env, _), q in self._queues.items() if env == environment)
            return next((q for q in found if q.id == queue_id), None)
        return self._queues.get((environment, name))


def counts(queues: Iterable[Queue], runs: Iterable[Run], now_ms: int) -> dict[str, tuple[int, int]]:
    """Each queue's (running, queued) by id: runs started and not final, and runs in
    the queue (not delayed, not started, not final)."""
    wanted = {id(queue): queue.id for queue in queues}
    found = dict.fromkeys(wanted.values(), (0, 0))
    for run in runs:
        key = wanted.get(id(run.queue))
        if key is None:
            continue
        run.refresh(now_ms)
        if run.final:
            continue
        running, queued = found[key]
        if run.stage >= 1:
            found[key] = (running + 1, queued)
        elif not run.delayed:
            found[key] = (running, queued + 1)
    return found
