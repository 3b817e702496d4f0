"""The round trip: the app triggers a batch, polls it, and reports failures by job.

No answer is written by hand: the mock creates the batch from what the app sent, the
test says only what happens to some items (`on_item`), and checks what was sent.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from batch_app.client import TriggerApiError
from batch_app.trigger import (
    JobReport,
    RecordsMismatch,
    run_batch,
    trigger_one_shot,
    trigger_streaming,
)

CREATE = "POST /api/v3/batches"
ITEMS = "POST /api/v3/batches/{batchId}/items"


def indices(call) -> list[int]:
    lines = call.body if isinstance(call.body, list) else [call.body]  # one line is one object
    return [line["index"] for line in lines]


def test_the_batch_the_app_triggers_is_the_batch_it_polls(
    client, mock_trigger_api, jobs, fake_time
):
    report = run_batch(client, jobs, interval=1, clock=fake_time.clock, sleep=fake_time.sleep)

    assert (report.batch.status, report.batch.run_count) == ("COMPLETED", 6)
    assert report.batch.successful_run_count == 6
    assert (report.failed, report.failed_count) == ((), 0)
    sent = mock_trigger_api.assert_triggered(count=6)
    assert [(item.index, item.task, item.payload) for item in sent] == [
        (index, job.task, job.payload) for index, job in enumerate(jobs)
    ]
    assert {item.batch_id for item in sent} == {report.sent.batch_id}
    # PROCESSING (sealed), PENDING with the runs, PENDING while they run, COMPLETED
    mock_trigger_api.assert_retrieved(report.sent.batch_id, times=4)


def test_failed_items_are_reported_as_the_apps_jobs(client, mock_trigger_api, jobs, fake_time):
    mock_trigger_api.on_item(task="send-reminder", outcome="queue_limit")  # 1041, 1043, 1045
    seen = []

    report = run_batch(
        client,
        jobs,
        interval=1,
        on_failures=seen.append,
        clock=fake_time.clock,
        sleep=fake_time.sleep,
    )

    assert [batch.status for batch in seen] == ["PARTIAL_FAILED"]
    assert report.batch.status == "COMPLETED"
    # One collapsed entry, at the first failed item, stands for all three.
    [failed] = report.failed
    assert (failed.job.record, failed.index, failed.code) == (
        "invoice-1041",
        1,
        "QUEUE_SIZE_LIMIT_EXCEEDED",
    )
    assert failed.message.endswith("(3 items in this batch failed with the same error)")
    assert (report.unnamed, report.failed_count) == (2, 3)
    assert [job.record for job in report.suspects] == [f"invoice-{n}" for n in range(1042, 1046)]
    assert "and 2 more the API does not name" in str(report)


def test_separate_errors_each_name_their_job(client, mock_trigger_api, jobs, fake_time):
    mock_trigger_api.on_item(index=1, outcome="queue_limit")
    mock_trigger_api.on_item(index=4, outcome="too_large_error")

    report = run_batch(client, jobs, interval=1, clock=fake_time.clock, sleep=fake_time.sleep)

    assert [(f.job.record, f.code) for f in report.failed] == [
        ("invoice-1041", "QUEUE_SIZE_LIMIT_EXCEEDED"),
        ("invoice-1044", "PAYLOAD_TOO_LARGE"),
    ]
    assert (report.unnamed, report.suspects) == (0, ())
    assert report.batch.failed_run_count == 2


def test_every_item_failing_aborts_the_batch(client, mock_trigger_api, jobs, fake_time):
    mock_trigger_api.on_item(outcome="queue_limit")

    report = run_batch(client, jobs, interval=1, clock=fake_time.clock, sleep=fake_time.sleep)

    assert (report.batch.status, report.batch.runs) == ("ABORTED", ())
    assert [f.job.record for f in report.failed] == ["invoice-1040"]
    assert report.failed_count == 6


def test_a_run_that_fails_to_trigger_is_no_error_entry(client, mock_trigger_api, jobs, fake_time):
    mock_trigger_api.on_item(index=2, outcome="trigger_failure")

    report = run_batch(client, jobs, interval=1, clock=fake_time.clock, sleep=fake_time.sleep)

    # The platform makes a pre-failed run for it, counted as created: the batch has no
    # error for invoice-1042; only the run (SYSTEM_FAILURE) tells.
    assert report.failed_count == 0
    assert report.batch.successful_run_count == len(report.batch.runs) == 6


def test_items_go_in_chunks_until_the_batch_is_sealed(client, mock_trigger_api, jobs):
    sent = trigger_streaming(client, jobs, chunk_size=4)

    first, last = mock_trigger_api.calls_to(ITEMS)
    assert (indices(first), indices(last)) == ([0, 1, 2, 3], [4, 5])
    assert client.retrieve(sent.batch_id).status == "PROCESSING"  # sealed by the last chunk


def test_items_that_never_arrived_are_sent_again(client, mock_trigger_api, jobs, retry_waits):
    mock_trigger_api.fail_next("server_error", times=4, route=ITEMS)  # the first chunk, 4 tries

    sent = trigger_streaming(client, jobs, chunk_size=4)

    # The second chunk's answer says sealed: false (2 of 6): every item goes again, and
    # the server keeps the four it lacks.
    assert [indices(call) for call in mock_trigger_api.calls_to(ITEMS)] == [
        [0, 1, 2, 3],
        [0, 1, 2, 3],
        [0, 1, 2, 3],
        [0, 1, 2, 3],
        [4, 5],
        [0, 1, 2, 3, 4, 5],
    ]
    assert [item.index for item in mock_trigger_api.assert_triggered(count=6)] == [4, 5, 0, 1, 2, 3]
    assert retry_waits == [0.5, 1.0, 2.0]
    assert client.retrieve(sent.batch_id).status == "PROCESSING"


def test_a_lost_create_answer_is_retried_without_a_second_batch(
    client, mock_trigger_api, jobs, retry_waits
):
    # The server creates the batch, then the answer is lost.
    mock_trigger_api.fail_next("timeout", route=CREATE, when="after")

    sent = trigger_streaming(client, jobs)

    lost, retried = mock_trigger_api.calls_to(CREATE)
    assert (lost.outcome, retried.status_code) == ("timeout", 200)  # 200: the same batch
    assert lost.body["idempotencyKey"] == retried.body["idempotencyKey"]  # the batch's key
    [items] = mock_trigger_api.calls_to(ITEMS)
    assert items.batch_id == sent.batch_id
    assert {item.batch_id for item in mock_trigger_api.assert_triggered(count=6)} == {sent.batch_id}
    assert retry_waits == [0.5]


def test_a_lost_items_answer_is_safe_to_send_again(client, mock_trigger_api, jobs):
    mock_trigger_api.fail_next("timeout", route=ITEMS, when="after")

    sent = trigger_streaming(client, jobs)

    assert [call.outcome for call in mock_trigger_api.calls_to(ITEMS)] == ["timeout", "answered"]
    mock_trigger_api.assert_triggered(count=6)  # the retry found the batch sealed: no copies
    assert client.retrieve(sent.batch_id).status == "PROCESSING"


def test_a_one_shot_batch_keeps_the_run_of_each_job(client, mock_trigger_api, jobs, fake_time):
    report = run_batch(
        client,
        jobs,
        endpoint="one-shot",
        interval=1,
        clock=fake_time.clock,
        sleep=fake_time.sleep,
    )

    sent = report.sent
    assert len(sent.runs) == len(jobs)
    assert report.batch.runs == sent.runs  # runs[i] is the run of jobs[i]
    assert (report.batch.status, report.failed_count) == ("COMPLETED", 0)
    mock_trigger_api.assert_triggered(
        "send-reminder", payloads=[{"invoice": n} for n in (1041, 1043, 1045)]
    )
    [call] = mock_trigger_api.calls_to("POST /api/v1/tasks/batch")
    assert call.status_code == 202


def test_a_full_queue_refuses_the_whole_one_shot_batch(client, mock_trigger_api, jobs, retry_waits):
    mock_trigger_api.on_item(index=3, outcome="queue_limit")

    with pytest.raises(TriggerApiError, match="answered 422: Cannot trigger 6 tasks") as caught:
        trigger_one_shot(client, jobs)

    assert caught.value.status_code == 422
    mock_trigger_api.assert_nothing_triggered()
    assert retry_waits == []  # a 422 is not retried


def test_an_entry_that_is_not_ours_is_refused(client, mock_trigger_api, jobs, fake_time):
    mock_trigger_api.on_item(index=1, outcome="queue_limit")
    report = run_batch(client, jobs, interval=1, clock=fake_time.clock, sleep=fake_time.sleep)
    # records that say another task went at index 1: the entry is not one of ours
    wrong = replace(report.sent, jobs=tuple(replace(job, task="another-task") for job in jobs))

    with pytest.raises(RecordsMismatch, match="matches none of the 6 jobs"):
        JobReport.of(wrong, report.batch)
