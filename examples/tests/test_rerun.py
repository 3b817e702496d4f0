"""Running a failed job again: its idempotency key reset, then the job triggered again.

The mock keeps the keys as the platform does: a key answers its run until it is reset,
and the reset is refused (404) when no run of the task holds the key.
"""

from __future__ import annotations

from batch_app.rerun import rerun_failed, rerun_job, trigger_job, trigger_jobs

RESET = "POST /api/v1/idempotencyKeys/{key}/reset"
TRIGGER = "POST /api/v1/tasks/{taskId}/trigger"


def settle(client, run_ids):
    """Retrieve each run until it has finished (each retrieval moves it one step)."""
    for run_id in run_ids:
        while not client.retrieve_run(run_id).is_completed:
            pass


def test_only_the_jobs_whose_runs_failed_run_again(client, mock_trigger_api, jobs):
    mock_trigger_api.on_run(task="send-invoice", outcome="FAILED", error={"message": "SMTP 451"})
    runs = trigger_jobs(client, jobs)
    settle(client, runs)

    reruns = rerun_failed(client, runs)

    failed = [job for job in jobs if job.task == "send-invoice"]
    assert [rerun.job for rerun in reruns] == failed
    assert all(rerun.key_was_held for rerun in reruns)
    assert {rerun.new_run for rerun in reruns}.isdisjoint(runs)
    resets = mock_trigger_api.calls_to(RESET)
    assert [call.params["key"] for call in resets] == [job.record for job in failed]
    assert [call.body["taskIdentifier"] for call in resets] == ["send-invoice"] * len(failed)
    # The new run holds the key: a duplicate of the re-run is answered with it.
    first = reruns[0]
    assert trigger_job(client, first.job) == first.new_run
    # The failed run keeps what it had.
    old = client.retrieve_run(first.failed_run)
    assert (old.status, old.error_message) == ("FAILED", "SMTP 451")


def test_a_key_still_answers_its_cancelled_run_until_it_is_reset(client, mock_trigger_api, jobs):
    job = jobs[0]
    run_id = trigger_job(client, job)
    client.cancel_run(run_id)
    assert trigger_job(client, job) == run_id  # the key still answers the cancelled run

    rerun = rerun_job(client, job, run_id)

    assert rerun.key_was_held
    assert rerun.new_run != run_id
    assert client.retrieve_run(rerun.new_run).status == "QUEUED"
    assert client.retrieve_run(run_id).status == "CANCELED"


def test_a_job_whose_key_no_run_holds_is_triggered_all_the_same(client, mock_trigger_api, jobs):
    job = jobs[1]

    rerun = rerun_job(client, job, "run_from_last_month")

    assert not rerun.key_was_held
    [reset] = mock_trigger_api.calls_to(RESET)
    assert reset.status_code == 404
    [trigger] = mock_trigger_api.calls_to(TRIGGER)
    assert trigger.body["options"] == {"idempotencyKey": job.record}
    assert client.retrieve_run(rerun.new_run).task_identifier == job.task
