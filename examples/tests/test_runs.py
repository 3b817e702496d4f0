"""The runs behind the app's batch: failed ones reported by job, replayed or cancelled.

As in the round trip, nothing is answered by hand: `on_item` decides which items never
become runs, `on_run` how the runs end, and the mock serves the runs the batch lists.
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import httpx
import pytest
from batch_app.client import Run
from batch_app.poller import BatchTimeout
from batch_app.runs import RunIndex, RunPolicy, follow_up, run_batch_and_follow_up
from batch_app.trigger import RecordsMismatch, run_batch

REPLAY = "POST /api/v1/runs/{runId}/replay"
LIST = "GET /api/v1/runs"
RETRIEVE_RUN = "GET /api/v3/runs/{runId}"


@pytest.mark.parametrize("lookup", ["listing", "retrieval"])
def test_failed_runs_are_reported_next_to_failed_items(
    client, mock_trigger_api, jobs, fake_time, lookup
):
    mock_trigger_api.on_item(index=1, outcome="queue_limit")  # no run for invoice-1041
    mock_trigger_api.on_item(index=2, outcome="too_large_error")  # nor for invoice-1042
    mock_trigger_api.on_run(index=3, outcome="FAILED", error={"message": "card declined"})
    mock_trigger_api.on_run(index=5, outcome="TIMED_OUT")

    report = run_batch_and_follow_up(
        client,
        jobs,
        policy=RunPolicy(lookup=lookup),
        interval=1,
        clock=fake_time.clock,
        sleep=fake_time.sleep,
    )

    assert report.batch.status == "COMPLETED"
    assert [(f.job.record, f.code) for f in report.failed] == [
        ("invoice-1041", "QUEUE_SIZE_LIMIT_EXCEEDED"),
        ("invoice-1042", "PAYLOAD_TOO_LARGE"),
    ]
    # Two items have no run: runs[1] is item 3, runs[3] item 5.
    assert [(f.job.record, f.status, f.message) for f in report.failed_runs] == [
        ("invoice-1043", "FAILED", "card declined"),
        ("invoice-1045", "TIMED_OUT", "Run exceeded maximum compute time (maxDuration)"),
    ]
    assert [f.run_id for f in report.failed_runs] == [report.batch.runs[1], report.batch.runs[3]]
    assert "invoice-1043 (send-reminder) run" in str(report)
    assert mock_trigger_api.calls_to(REPLAY) == []  # neither is worth another try
    for failed in report.failed_runs:
        assert mock_trigger_api.run(failed.run_id)["batchId"] == report.batch.id
    if lookup == "listing":  # one page of failed runs, then a GET for each one's error
        [listing] = mock_trigger_api.calls_to(LIST)
        query = httpx.URL(listing.url).params
        assert query["filter[batch]"] == report.batch.id
        assert query["filter[status]"] == "FAILED,CRASHED,SYSTEM_FAILURE,TIMED_OUT"
        for run_id in report.batch.runs:
            failed = run_id in {f.run_id for f in report.failed_runs}
            assert len(mock_trigger_api.calls_to(RETRIEVE_RUN, runId=run_id)) == int(failed)
    else:
        assert all(
            len(mock_trigger_api.calls_to(RETRIEVE_RUN, runId=r)) == 1 for r in report.batch.runs
        )


def test_crashed_and_system_failed_runs_are_replayed_once(
    client, mock_trigger_api, jobs, fake_time
):
    mock_trigger_api.on_item(index=2, outcome="trigger_failure")  # a SYSTEM_FAILURE run
    mock_trigger_api.on_run(index=4, outcome="CRASHED")
    mock_trigger_api.on_run(index=5, outcome="FAILED")

    report = run_batch_and_follow_up(
        client, jobs, interval=1, clock=fake_time.clock, sleep=fake_time.sleep
    )

    assert report.failed == ()  # every item became a run: runs[k] is item k
    assert [(f.job.record, f.status, f.message) for f in report.failed_runs] == [
        (
            "invoice-1042",
            "SYSTEM_FAILURE",
            "trigger.dev internal error (BATCH_ITEM_COULD_NOT_TRIGGER)",
        ),
        ("invoice-1044", "CRASHED", "Worker crashed"),
        ("invoice-1045", "FAILED", "send-reminder failed"),
    ]
    system_failure, crashed, failed = report.failed_runs
    for replayed in (system_failure, crashed):
        new = mock_trigger_api.assert_replayed(replayed.run_id)
        assert replayed.replayed_as == new
        replay = mock_trigger_api.run(new)
        assert replay["payload"] == replayed.job.payload
        assert "batchId" not in replay  # in no batch: it never comes back as a failed run
    assert failed.replayed_as is None
    with pytest.raises(AssertionError, match="replayed runs: "):
        mock_trigger_api.assert_replayed(failed.run_id)

    again = follow_up(client, report)  # looking again replays nothing twice

    assert again.failed_runs == report.failed_runs
    assert len(mock_trigger_api.calls_to(REPLAY)) == 2


def test_runs_still_executing_at_the_deadline_are_cancelled(
    client, mock_trigger_api, jobs, fake_time
):
    mock_trigger_api.on_item(index=3, outcome="trigger_failure")  # final from the start

    # Two polls fit in the deadline: the runs are created, then start executing.
    report = run_batch_and_follow_up(
        client, jobs, interval=1, timeout=1, clock=fake_time.clock, sleep=fake_time.sleep
    )

    assert [(c.job.record, c.status) for c in report.cancelled] == [
        (f"invoice-{n}", "EXECUTING") for n in (1040, 1041, 1042, 1044, 1045)
    ]
    for cancelled in report.cancelled:
        mock_trigger_api.assert_cancelled(cancelled.run_id)
    # Cancelled runs that were executing finished as their workers stopped: it settled.
    assert report.batch.status == "COMPLETED"
    [system_failure] = report.failed_runs
    assert (system_failure.job.record, system_failure.status) == ("invoice-1043", "SYSTEM_FAILURE")
    mock_trigger_api.assert_replayed(system_failure.run_id)
    listed = {run.id: run.status for run in client.list_runs(batch_id=report.batch.id)}
    assert listed == {
        run_id: "SYSTEM_FAILURE" if run_id == system_failure.run_id else "CANCELED"
        for run_id in report.batch.runs
    }
    assert "5 runs cancelled" in str(report)


def test_runs_still_queued_or_executing_at_the_deadline_are_cancelled(
    client, mock_trigger_api, jobs, fake_time
):
    # Busy workers: two runs never leave the queue in time, two never finish.
    mock_trigger_api.on_run(index=0, hold="queued")
    mock_trigger_api.on_run(index=4, hold="queued")
    mock_trigger_api.on_run(index=2, hold="executing")
    mock_trigger_api.on_run(index=5, hold="executing")

    report = run_batch_and_follow_up(
        client, jobs, interval=1, timeout=10, clock=fake_time.clock, sleep=fake_time.sleep
    )

    assert [(c.job.record, c.status) for c in report.cancelled] == [
        ("invoice-1040", "QUEUED"),
        ("invoice-1042", "EXECUTING"),
        ("invoice-1044", "QUEUED"),
        ("invoice-1045", "EXECUTING"),
    ]
    # The queued ones were final at once; the executing ones once their workers stopped.
    assert report.batch.status == "COMPLETED"
    listed = {run.id: run.status for run in client.list_runs(batch_id=report.batch.id)}
    assert sorted(listed.values()) == ["CANCELED"] * 4 + ["COMPLETED"] * 2
    assert "4 runs cancelled" in str(report)


def test_a_late_batch_is_not_cancelled_without_the_policy(
    client, mock_trigger_api, jobs, fake_time
):
    with pytest.raises(BatchTimeout):
        run_batch_and_follow_up(
            client,
            jobs,
            policy=RunPolicy(cancel_at_deadline=False),
            interval=1,
            timeout=1,
            clock=fake_time.clock,
            sleep=fake_time.sleep,
        )

    assert mock_trigger_api.calls_to("POST /api/v2/runs/{runId}/cancel") == []


def test_after_a_collapsed_entry_runs_are_placed_by_the_records(
    client, mock_trigger_api, jobs, fake_time
):
    mock_trigger_api.on_item(task="send-reminder", outcome="queue_limit")  # 1041, 1043, 1045
    mock_trigger_api.on_run(index=4, outcome="FAILED", error={"message": "no address"})

    report = run_batch_and_follow_up(
        client, jobs, interval=1, clock=fake_time.clock, sleep=fake_time.sleep
    )

    # One entry, at index 1, stands for three items; runs[2] is invoice-1044, which
    # the order alone cannot say: the run's task and payload match one open job.
    assert (report.failed[0].index, report.unnamed) == (1, 2)
    [failed] = report.failed_runs
    assert (failed.job.record, failed.index, failed.message) == ("invoice-1044", 4, "no address")
    assert failed.run_id == report.batch.runs[2]


def test_one_shot_runs_are_placed_by_the_trigger_answer(client, mock_trigger_api, jobs, fake_time):
    mock_trigger_api.on_run(task="send-invoice", outcome="CRASHED")

    report = run_batch_and_follow_up(
        client,
        jobs,
        endpoint="one-shot",
        policy=RunPolicy(lookup="retrieval"),
        interval=1,
        clock=fake_time.clock,
        sleep=fake_time.sleep,
    )

    assert [(f.job.record, f.status) for f in report.failed_runs] == [
        (f"invoice-{n}", "CRASHED") for n in (1040, 1042, 1044)
    ]
    assert [f.run_id for f in report.failed_runs] == [report.sent.runs[i] for i in (0, 2, 4)]
    for failed in report.failed_runs:
        replay = mock_trigger_api.assert_replayed(failed.run_id)
        # The replays crash too (the rule is by task), but they are not ours to replay.
        assert mock_trigger_api.run(replay)["taskIdentifier"] == "send-invoice"


def test_a_run_of_another_task_is_not_blamed_on_our_job(client, mock_trigger_api, jobs, fake_time):
    report = run_batch(client, jobs, interval=1, clock=fake_time.clock, sleep=fake_time.sleep)
    wrong = replace(report.sent, jobs=tuple(replace(job, task="another-task") for job in jobs))
    run = Run(report.batch.runs[0], "send-invoice", "FAILED", True, True)

    with pytest.raises(RecordsMismatch, match="but item 0 was another-task"):
        RunIndex.of(wrong, report.batch).index_of(run)


def test_the_listing_is_read_page_by_page(client, mock_trigger_api, jobs, fake_time):
    report = run_batch(client, jobs, interval=1, clock=fake_time.clock, sleep=fake_time.sleep)

    listed = list(client.list_runs(batch_id=report.batch.id, page_size=4))

    assert sorted(run.id for run in listed) == sorted(report.batch.runs)  # each run once
    assert {run.status for run in listed} == {"COMPLETED"}
    first, second = (httpx.URL(call.url).params for call in mock_trigger_api.calls_to(LIST))
    assert "page[after]" not in first
    # An opaque cursor, passed back as the first answer gave it: the last run's place.
    cursor = second["page[after]"]
    place = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    assert place["r"] == listed[3].id.removeprefix("run_")
