"""Run a failed job again: reset its idempotency key, then trigger it with the same key.

The service triggers each job with its own record as the run's idempotency key
(`invoice-1042`), so a double click or a retried request never runs it twice. The key
outlives the run: while it lives (30 days by default), the one-shot batch endpoint
answers the earlier run again whatever became of it, and every endpoint does when the
run completed or was cancelled. To run the job again on purpose, the service resets the
key first (`POST /api/v1/idempotencyKeys/{key}/reset`); the new run then holds the key,
so a duplicate of the re-run is still answered with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from batch_app.client import TriggerClient
from batch_app.trigger import Job

# Finished without success: worth running again once the cause is fixed. (CANCELED is
# someone's decision: `rerun_job` runs such a job again only when asked.)
FAILED_STATUSES = frozenset({"FAILED", "CRASHED", "SYSTEM_FAILURE", "TIMED_OUT"})


@dataclass(frozen=True, slots=True)
class Rerun:
    """A job run again: the run that failed and the new one."""

    job: Job
    failed_run: str
    new_run: str
    key_was_held: bool  # False: no run held the key any more (nothing to reset)


def trigger_job(client: TriggerClient, job: Job) -> str:
    """Trigger `job` once: its record is the idempotency key. The run's id (an earlier
    run's, when the key still answers it)."""
    run_id, _ = client.trigger_task(job.task, dict(job.payload), idempotency_key=job.record)
    return run_id


def rerun_job(client: TriggerClient, job: Job, failed_run: str) -> Rerun:
    """Reset `job`'s key and trigger it again with the same key."""
    held = client.reset_idempotency_key(job.record, task=job.task)
    return Rerun(job, failed_run, trigger_job(client, job), held)


def rerun_failed(client: TriggerClient, runs: Mapping[str, Job]) -> list[Rerun]:
    """Run again every job (by its run id in `runs`) whose run finished in failure;
    leave the others alone."""
    reruns = []
    for run_id, job in runs.items():
        if client.retrieve_run(run_id).status in FAILED_STATUSES:
            reruns.append(rerun_job(client, job, run_id))
    return reruns


def trigger_jobs(client: TriggerClient, jobs: Iterable[Job]) -> dict[str, Job]:
    """Trigger each job once; the jobs by their run ids."""
    return {trigger_job(client, job): job for job in jobs}
