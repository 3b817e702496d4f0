"""Wait for a batch to settle.

COMPLETED and ABORTED are final. PARTIAL_FAILED is not: the runs that were created
still execute, and the batch moves on to COMPLETED, keeping its failure counts. So we
keep polling through PARTIAL_FAILED until COMPLETED, but hand the batch to
`on_failures` the first time failures appear, so items can be re-submitted without
waiting for the other runs to finish.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from batch_app.client import ApiVersion, AsyncTriggerClient, Batch, TriggerClient

FINAL_STATUSES = frozenset({"COMPLETED", "ABORTED"})


class BatchTimeout(TimeoutError):
    """The batch was not final when the timeout ran out; `last` is what we saw last."""

    def __init__(self, batch_id: str, timeout: float, last: Batch) -> None:
        super().__init__(f"batch {batch_id} still {last.status} after {timeout:g}s")
        self.batch_id = batch_id
        self.last = last


@dataclass(slots=True)
class _Watch:
    """The decisions of one wait, shared by the sync and async loops."""

    timeout: float
    interval: float
    clock: Callable[[], float]
    on_failures: Callable[[Batch], object] | None
    deadline: float = field(init=False)
    failures_reported: bool = False

    def __post_init__(self) -> None:
        self.deadline = self.clock() + self.timeout

    def settled(self, batch: Batch) -> bool:
        if batch.failed_run_count and not self.failures_reported:
            self.failures_reported = True
            if self.on_failures is not None:
                self.on_failures(batch)
        return batch.status in FINAL_STATUSES

    def pause(self, batch: Batch) -> float:
        """How long to sleep before the next poll; raise once the deadline has passed."""
        left = self.deadline - self.clock()
        if left <= 0:
            raise BatchTimeout(batch.id, self.timeout, batch)
        return min(self.interval, left)


def wait_for_batch(
    client: TriggerClient,
    batch_id: str,
    *,
    interval: float = 5.0,
    timeout: float = 600.0,
    on_failures: Callable[[Batch], object] | None = None,
    api_version: ApiVersion = 1,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], object] = time.sleep,
) -> Batch:
    """Poll every `interval` s until the batch is COMPLETED or ABORTED; return it."""
    watch = _Watch(timeout, interval, clock, on_failures)
    while True:
        batch = client.retrieve(batch_id, api_version=api_version)
        if watch.settled(batch):
            return batch
        sleep(watch.pause(batch))


async def wait_for_batch_async(
    client: AsyncTriggerClient,
    batch_id: str,
    *,
    interval: float = 5.0,
    timeout: float = 600.0,
    on_failures: Callable[[Batch], object] | None = None,
    api_version: ApiVersion = 1,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> Batch:
    """`wait_for_batch` for the async client."""
    watch = _Watch(timeout, interval, clock, on_failures)
    while True:
        batch = await client.retrieve(batch_id, api_version=api_version)
        if watch.settled(batch):
            return batch
        await sleep(watch.pause(batch))
