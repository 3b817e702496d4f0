"""Trigger a batch of the application's own jobs, poll it, and report failures by job.

The application keeps its own record of what it sent: item `index` i of the batch is
`jobs[i]`. Error entries name an item by index and task, so they map back to the job
(and the task is checked: an entry that names another task than the one we sent means
the records are wrong, and we say so rather than blame the wrong job).

Two ways to trigger:

- streaming (`POST /api/v3/batches`, then the items as NDJSON), as the official SDK
  does since 4.3.1. The items go in chunks; the server deduplicates them by index, so
  when it answers `sealed: false` (some items never arrived) every item is sent again.
- one-shot (`POST /api/v1/tasks/batch`): every item in one request, and the answer
  lists the run of each item, in order.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from batch_app.client import Batch, TriggerApiError, TriggerClient
from batch_app.poller import wait_for_batch
from batch_app.resubmit import FailedItem, FailureReport

if TYPE_CHECKING:
    from batch_app.runs import CancelledRun, FailedRun

STREAM_CHUNK = 500  # items per items call
MAX_RESENDS = 2  # times every item is sent again while the batch is not sealed
Endpoint = Literal["streaming", "one-shot"]


@dataclass(frozen=True, slots=True)
class Job:
    """One piece of the application's own work."""

    record: str  # the application's id for it, e.g. "invoice-1042"
    task: str
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class SentBatch:
    """What the application triggered: `jobs[i]` went as item `i`."""

    batch_id: str
    endpoint: Endpoint
    jobs: tuple[Job, ...]
    runs: tuple[str, ...] = ()  # one-shot: the run of each item, in index order

    def job_at(self, index: int) -> Job:
        return self.jobs[index]


class BatchNotSealed(TriggerApiError):
    """The server still waits for items after every resend."""


class RecordsMismatch(TriggerApiError):
    """An error entry names another task than the item we sent at its index."""


def _line(index: int, job: Job) -> dict[str, Any]:
    return {"index": index, "task": job.task, "payload": dict(job.payload)}


def batch_key(jobs: Iterable[Job]) -> str:
    """The batch's idempotency key: a SHA-256 of the jobs, as the SDK makes one."""
    text = json.dumps([[job.record, job.task, job.payload] for job in jobs], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def trigger_streaming(
    client: TriggerClient,
    jobs: Iterable[Job],
    *,
    chunk_size: int = STREAM_CHUNK,
    max_resends: int = MAX_RESENDS,
) -> SentBatch:
    """Create a streaming batch for `jobs` and stream them until the batch is sealed."""
    jobs = tuple(jobs)
    if not jobs:
        raise ValueError("a batch needs at least one job")
    # The key makes a retried create (its answer lost) return the batch it made.
    key = batch_key(jobs)
    created = client.create_batch(len(jobs), tasks=[job.task for job in jobs], idempotency_key=key)
    batch_id = created["id"]
    lines = [_line(index, job) for index, job in enumerate(jobs)]
    answer: Mapping[str, Any] | None = None
    for start in range(0, len(lines), chunk_size):
        try:
            answer = client.stream_items(batch_id, lines[start : start + chunk_size])
        except TriggerApiError as error:
            if error.status_code is not None and error.status_code < 500:
                raise  # refused: sending the same items again would not help
            answer = None  # not delivered: the server will count the items missing
    resends = 0
    while answer is None or not answer["sealed"]:
        if resends == max_resends:
            have = "no answer" if answer is None else f"{answer['enqueuedCount']} items"
            raise BatchNotSealed(
                f"batch {batch_id} not sealed after {resends} resend(s): server has {have} "
                f"of {len(jobs)}"
            )
        resends += 1
        answer = client.stream_items(batch_id, lines)  # deduplicated by index
    return SentBatch(batch_id, "streaming", jobs)


def trigger_one_shot(
    client: TriggerClient, jobs: Iterable[Job], *, idempotency_key: str | None = None
) -> SentBatch:
    """Trigger `jobs` in one `POST /api/v1/tasks/batch`; keep the run of each."""
    jobs = tuple(jobs)
    answer = client.batch_trigger(
        [{"task": job.task, "payload": dict(job.payload)} for job in jobs],
        idempotency_key=idempotency_key,
    )
    runs = tuple(run["id"] for run in answer["runs"])
    return SentBatch(answer["id"], "one-shot", jobs, runs)


@dataclass(frozen=True, slots=True)
class FailedJob:
    job: Job
    index: int
    code: str | None
    message: str


@dataclass(frozen=True, slots=True)
class JobReport:
    """The failures of a batch, as the application's jobs.

    `failed` are the items that never became runs (the batch's error entries);
    `failed_runs` the runs that failed, and `cancelled` the runs we cancelled, once
    `batch_app.runs.follow_up` has looked at the runs.
    """

    sent: SentBatch
    batch: Batch
    failed: tuple[FailedJob, ...]  # the jobs the API named
    unnamed: int  # further failed jobs a collapsed entry stands for, not named by the API
    suspects: tuple[Job, ...] = field(default=())  # where the unnamed ones are
    failed_runs: tuple[FailedRun, ...] = field(default=())
    cancelled: tuple[CancelledRun, ...] = field(default=())

    @property
    def failed_count(self) -> int:
        return len(self.failed) + self.unnamed

    @classmethod
    def of(cls, sent: SentBatch, batch: Batch) -> JobReport:
        if batch.id != sent.batch_id:
            raise RecordsMismatch(f"batch {batch.id} is not the batch we sent ({sent.batch_id})")
        report = FailureReport.of(batch)
        failed = tuple(_failed_job(sent, item) for item in report.items)
        unnamed = sum(item.stands_for - 1 for item in report.items)
        suspects: tuple[Job, ...] = ()
        if unnamed:  # a collapsed entry names the first failure: the others come later
            first = min(item.index for item in report.items if item.stands_for > 1)
            named = {f.index for f in failed}
            suspects = tuple(
                job for index, job in enumerate(sent.jobs) if index > first and index not in named
            )
        return cls(sent, batch, failed, unnamed, suspects)

    def __str__(self) -> str:
        lines = [
            f"batch {self.batch.id} ({self.batch.status}): {self.failed_count} of "
            f"{len(self.sent.jobs)} jobs failed"
            + (f", {len(self.failed_runs)} runs failed" if self.failed_runs else "")
            + (f", {len(self.cancelled)} runs cancelled" if self.cancelled else "")
        ]
        lines += [f"  {f.job.record} ({f.job.task}) {f.code}: {f.message}" for f in self.failed]
        if self.unnamed:
            lines.append(
                f"  and {self.unnamed} more the API does not name, among "
                + ", ".join(job.record for job in self.suspects)
            )
        for run in self.failed_runs:
            job = f"{run.job.record} ({run.job.task})" if run.job else "a job we cannot tell"
            line = f"  {job} run {run.run_id} {run.status}: {run.message}"
            lines.append(line + (f", replayed as {run.replayed_as}" if run.replayed_as else ""))
        for run in self.cancelled:
            job = f"{run.job.record} ({run.job.task})" if run.job else "a job we cannot tell"
            lines.append(f"  {job} run {run.run_id} cancelled at the deadline ({run.status})")
        return "\n".join(lines)


def _failed_job(sent: SentBatch, item: FailedItem) -> FailedJob:
    if not 0 <= item.index < len(sent.jobs) or sent.jobs[item.index].task != item.task_identifier:
        raise RecordsMismatch(
            f"batch {sent.batch_id}: error entry for item {item.index} ({item.task_identifier}) "
            f"matches none of the {len(sent.jobs)} jobs we sent"
        )
    return FailedJob(sent.jobs[item.index], item.index, item.code, item.message)


def run_batch(
    client: TriggerClient,
    jobs: Iterable[Job],
    *,
    endpoint: Endpoint = "streaming",
    interval: float = 5.0,
    timeout: float = 600.0,
    on_failures: Callable[[Batch], object] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], object] = time.sleep,
) -> JobReport:
    """Trigger `jobs`, wait until their batch settles, and report failures by job."""
    if endpoint == "streaming":
        sent = trigger_streaming(client, jobs)
    else:
        sent = trigger_one_shot(client, jobs)
    batch = wait_for_batch(
        client,
        sent.batch_id,
        interval=interval,
        timeout=timeout,
        on_failures=on_failures,
        clock=clock,
        sleep=sleep,
    )
    return JobReport.of(sent, batch)
