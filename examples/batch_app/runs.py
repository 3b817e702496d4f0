"""The runs behind a batch: which failed and why, by job; replay or cancel by policy.

A batch's error entries only cover the items that never became runs. Items that did
become runs can still fail, and only the runs tell: this module finds the failed runs
of a settled batch, reads their errors, maps each back to the application's job, and
replays the ones worth another try. When the batch misses its deadline, it cancels the
runs that are still queued or executing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from batch_app.client import Batch, Run, TriggerClient
from batch_app.poller import BatchTimeout, wait_for_batch
from batch_app.resubmit import FailureReport
from batch_app.trigger import (
    Endpoint,
    Job,
    JobReport,
    RecordsMismatch,
    SentBatch,
    trigger_one_shot,
    trigger_streaming,
)

# Finished without success; CANCELED and EXPIRED are left out: nothing ran to fail.
FAILED_STATUSES = ("FAILED", "CRASHED", "SYSTEM_FAILURE", "TIMED_OUT")
UNFINISHED_STATUSES = (
    "QUEUED",
    "DELAYED",
    "WAITING_FOR_DEPLOY",
    "EXECUTING",
    "REATTEMPTING",
    "FROZEN",
)
Lookup = Literal["listing", "retrieval"]


@dataclass(frozen=True, slots=True)
class RunPolicy:
    """What to do about the runs of a batch once it has settled, or missed its deadline."""

    # A crash or a platform failure may pass on another try; a FAILED run already used
    # its attempts, and a TIMED_OUT one would hit maxDuration again.
    replay: frozenset[str] = frozenset({"CRASHED", "SYSTEM_FAILURE"})
    cancel_at_deadline: bool = True  # cancel what still runs when the batch is late
    # "listing": `GET /api/v1/runs` filtered by batch and status, then each failed run;
    # "retrieval": `GET /api/v3/runs/{runId}` for every run the batch lists.
    lookup: Lookup = "listing"


@dataclass(frozen=True, slots=True)
class FailedRun:
    """A run that failed, and the job it was for (None: the records cannot tell)."""

    job: Job | None
    index: int | None
    run_id: str
    status: str
    message: str
    replayed_as: str | None = None  # the new run, when the policy replayed it


@dataclass(frozen=True, slots=True)
class CancelledRun:
    """A run cancelled because its batch missed the deadline."""

    job: Job | None
    index: int | None
    run_id: str
    status: str  # what it was when we cancelled it


@dataclass(frozen=True, slots=True)
class RunIndex:
    """Which job each run of a batch was for.

    A run's body does not carry its item's index, so the mapping goes through the
    order of the batch's `runs` and the application's records (`SentBatch.jobs`):

    - one-shot: the trigger answer listed the run of each item in order, so
      `sent.runs[i]` is `jobs[i]`;
    - streaming: `runs` lists the created runs (pre-failed ones included) in item
      order, skipping the items that have an error entry. With no entries, `runs[k]` is
      item k; with entries that each name one item, `runs[k]` is the k-th item no entry
      names;
    - after a collapsed queue-limit entry (one entry standing for N items, only the
      first named), the runs before that first index are still items 0, 1, ...; the
      later ones are matched to the unnamed jobs after it by task and payload. A run
      that matches none or several (identical jobs, or a payload too large to come back
      inline) gets no job: reported as failed all the same.

    Every mapped run's `taskIdentifier` must be its job's task, or `RecordsMismatch`.
    """

    sent: SentBatch
    known: Mapping[str, int]  # run id -> job index, pinned by the order
    unpinned: frozenset[str]  # runs of the batch the order alone cannot place
    open: tuple[int, ...]  # the jobs those runs may be for

    @classmethod
    def of(cls, sent: SentBatch, batch: Batch) -> RunIndex:
        if batch.id != sent.batch_id:
            raise RecordsMismatch(f"batch {batch.id} is not the batch we sent ({sent.batch_id})")
        if sent.endpoint == "one-shot":
            if batch.runs and batch.runs != sent.runs:
                raise RecordsMismatch(f"batch {batch.id} lists other runs than it answered")
            return cls(sent, {run: i for i, run in enumerate(sent.runs)}, frozenset(), ())
        items = FailureReport.of(batch).items
        named = {item.index for item in items}
        created = [i for i in range(len(sent.jobs)) if i not in named]
        collapsed = [item.index for item in items if item.stands_for > 1]
        if not collapsed:
            processed = batch.successful_run_count is not None
            if processed and len(created) != len(batch.runs):
                raise RecordsMismatch(
                    f"batch {batch.id} lists {len(batch.runs)} runs for the "
                    f"{len(created)} jobs without an error entry"
                )
            return cls(sent, dict(zip(batch.runs, created, strict=False)), frozenset(), ())
        first = min(collapsed)
        known = dict(zip(batch.runs[:first], range(first), strict=True))
        later = tuple(i for i in created if i > first)
        return cls(sent, known, frozenset(batch.runs[first:]), later)

    def index_of(self, run: Run) -> int | None:
        """The index of the job `run` was for; None when the records cannot tell."""
        index = self.known.get(run.id)
        if index is None:
            if run.id not in self.unpinned:
                raise RecordsMismatch(
                    f"run {run.id} is not one of the runs of batch {self.sent.batch_id}"
                )
            matches = [
                i
                for i in self.open
                if self.sent.jobs[i].task == run.task_identifier
                and (run.payload is None or self.sent.jobs[i].payload == run.payload)
            ]
            if len(matches) != 1:
                return None
            index = matches[0]
        if self.sent.jobs[index].task != run.task_identifier:
            raise RecordsMismatch(
                f"run {run.id} is a run of {run.task_identifier}, but item {index} was "
                f"{self.sent.jobs[index].task} ({self.sent.jobs[index].record})"
            )
        return index

    def job_of(self, run: Run) -> tuple[Job | None, int | None]:
        index = self.index_of(run)
        return (None, None) if index is None else (self.sent.jobs[index], index)


def failed_runs(client: TriggerClient, batch: Batch, *, lookup: Lookup = "listing") -> list[Run]:
    """The batch's failed runs, each retrieved (the listing carries no error)."""
    if lookup == "retrieval":
        runs: Iterable[Run] = (client.retrieve_run(run_id) for run_id in batch.runs)
        return [run for run in runs if run.status in FAILED_STATUSES]
    listed = client.list_runs(batch_id=batch.id, statuses=FAILED_STATUSES)
    return [client.retrieve_run(run.id) for run in listed]


def follow_up(
    client: TriggerClient, report: JobReport, policy: RunPolicy | None = None
) -> JobReport:
    """Add the batch's failed runs to `report`, by job; replay those the policy says.

    A replay is a new run in no batch: it never shows among this batch's runs, and a run
    `report` already lists as replayed is not replayed again, so each run is replayed
    at most once however often this is called.
    """
    policy = policy or RunPolicy()
    index = RunIndex.of(report.sent, report.batch)
    replayed = {f.run_id: f.replayed_as for f in report.failed_runs if f.replayed_as}
    failed = []
    for run in failed_runs(client, report.batch, lookup=policy.lookup):
        job, at = index.job_of(run)
        again = replayed.get(run.id)
        if again is None and run.status in policy.replay:
            again = client.replay_run(run.id)
        message = run.error_message or run.status
        failed.append(FailedRun(job, at, run.id, run.status, message, again))
    failed.sort(key=lambda f: (f.index is None, f.index or 0, f.run_id))
    return replace(report, failed_runs=tuple(failed))


def cancel_unfinished(
    client: TriggerClient, sent: SentBatch, batch: Batch
) -> tuple[CancelledRun, ...]:
    """The batch missed its deadline: cancel its runs that are still queued or running.

    The listing finds them without moving them (retrieving a run can move it on).
    """
    index = RunIndex.of(sent, batch)
    cancelled = []
    for run in _unfinished(client, sent.batch_id):
        client.cancel_run(run.id)
        job, at = index.job_of(run)
        cancelled.append(CancelledRun(job, at, run.id, run.status))
    cancelled.sort(key=lambda c: (c.index is None, c.index or 0, c.run_id))
    return tuple(cancelled)


def _unfinished(client: TriggerClient, batch_id: str) -> Iterator[Run]:
    # Read every page before cancelling: a cancelled run leaves the filtered listing,
    # and the cursor of a page should not depend on what we did meanwhile.
    yield from list(client.list_runs(batch_id=batch_id, statuses=UNFINISHED_STATUSES))


def run_batch_and_follow_up(
    client: TriggerClient,
    jobs: Iterable[Job],
    *,
    endpoint: Endpoint = "streaming",
    policy: RunPolicy | None = None,
    interval: float = 5.0,
    timeout: float = 600.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], object] = time.sleep,
) -> JobReport:
    """`run_batch`, then the runs: failed ones by job, replayed or cancelled by policy.

    `timeout` is the deadline: a batch that has not settled by then has its unfinished
    runs cancelled, and the batch settles once their workers have stopped them.
    """
    policy = policy or RunPolicy()
    if endpoint == "streaming":
        sent = trigger_streaming(client, jobs)
    else:
        sent = trigger_one_shot(client, jobs)
    cancelled: tuple[CancelledRun, ...] = ()
    try:
        batch = wait_for_batch(
            client, sent.batch_id, interval=interval, timeout=timeout, clock=clock, sleep=sleep
        )
    except BatchTimeout as late:
        if not policy.cancel_at_deadline:
            raise
        cancelled = cancel_unfinished(client, sent, late.last)
        # A run cancelled while executing finishes once its worker stops: wait for that.
        batch = wait_for_batch(
            client, sent.batch_id, interval=interval, timeout=timeout, clock=clock, sleep=sleep
        )
    report = replace(JobReport.of(sent, batch), cancelled=cancelled)
    return follow_up(client, report, policy)
