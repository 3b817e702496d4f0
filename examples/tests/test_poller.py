"""Waiting for a batch to settle, through every state the platform shows on the way."""

from __future__ import annotations

import pytest
from batch_app.poller import BatchTimeout, wait_for_batch, wait_for_batch_async

from pytest_trigger_batches import assert_batch_errors, assert_run_counts


@pytest.mark.trigger_batch("COMPLETED", run_count=6, progress_after=3)
def test_polls_until_completed(client, mock_trigger_api, trigger_batch, fake_time):
    batch = wait_for_batch(
        client, trigger_batch.id, interval=2, clock=fake_time.clock, sleep=fake_time.sleep
    )

    assert batch.status == "COMPLETED"
    assert batch.successful_run_count == 6
    mock_trigger_api.assert_retrieved(trigger_batch, times=4)
    assert fake_time.sleeps == [2, 2, 2]


@pytest.mark.parametrize("api_version", [1, 2])
def test_failures_are_reported_as_soon_as_they_appear(
    client, mock_trigger_api, trigger_batch_factory, fake_time, api_version
):
    states = trigger_batch_factory.lifecycle("COMPLETED", run_count=10, failed_count=3)
    pending, processing, partial_failed, completed = states
    assert partial_failed.status == "PARTIAL_FAILED"
    # slow progress: PENDING and PROCESSING are each seen twice
    mock_trigger_api.add_batch(
        [pending, pending, processing, processing, partial_failed, completed]
    )
    reported = []

    def on_failures(batch):
        reported.append((batch.status, len(mock_trigger_api.retrievals(completed))))

    final = wait_for_batch(
        client,
        completed.id,
        interval=1,
        on_failures=on_failures,
        api_version=api_version,
        clock=fake_time.clock,
        sleep=fake_time.sleep,
    )

    assert reported == [("PARTIAL_FAILED", 5)]  # once, at the fifth poll; not again at COMPLETED
    assert final.status == "COMPLETED"
    assert final.failed_run_count == 3  # a COMPLETED batch keeps its failures
    assert_run_counts(completed, successful=7, failed=3)
    assert_batch_errors(completed, count=1)  # the 3 queue-limit failures collapse into one
    mock_trigger_api.assert_retrieved(completed, times=6)


@pytest.mark.trigger_batch("ABORTED", run_count=5, progress_after=2)
def test_aborted_is_final(client, mock_trigger_api, trigger_batch, fake_time):
    reported = []

    batch = wait_for_batch(
        client,
        trigger_batch.id,
        on_failures=reported.append,
        clock=fake_time.clock,
        sleep=fake_time.sleep,
    )

    assert batch.status == "ABORTED"
    assert [b.failed_run_count for b in reported] == [5]
    mock_trigger_api.assert_retrieved(trigger_batch, times=3)


@pytest.mark.trigger_batch("ABORTED", runs_created=False)
def test_a_batch_whose_items_never_arrived_aborts_without_failures(client, trigger_batch):
    reported = []

    batch = wait_for_batch(client, trigger_batch.id, on_failures=reported.append)

    assert (batch.status, batch.failed_run_count, batch.runs) == ("ABORTED", None, ())
    assert reported == []


def test_gives_up_when_the_batch_never_settles(
    client, mock_trigger_api, trigger_batch_factory, fake_time
):
    stuck = mock_trigger_api.add_batch(trigger_batch_factory("PROCESSING"))

    with pytest.raises(BatchTimeout, match="still PROCESSING after 10s") as caught:
        wait_for_batch(
            client, stuck.id, interval=3, timeout=10, clock=fake_time.clock, sleep=fake_time.sleep
        )

    assert caught.value.last.status == "PROCESSING"
    assert fake_time.sleeps == [3, 3, 3, 1]  # the last sleep stops at the deadline
    mock_trigger_api.assert_retrieved(stuck, times=5)


def test_a_rate_limit_while_polling_is_waited_out(
    client, mock_trigger_api, trigger_batch_factory, fake_time, retry_waits
):
    handle = mock_trigger_api.add_batch(trigger_batch_factory("COMPLETED"), progress_after=2)

    def sleep_then_get_limited(seconds):
        fake_time.sleep(seconds)
        mock_trigger_api.fail_next("rate_limit", reset_after=7)

    batch = wait_for_batch(
        client, handle.id, interval=1, clock=fake_time.clock, sleep=sleep_then_get_limited
    )

    assert batch.status == "COMPLETED"
    statuses = [call.status_code for call in mock_trigger_api.retrievals(handle)]
    assert statuses == [200, 429, 200, 429, 200]
    assert len(retry_waits) == 2


@pytest.mark.anyio
@pytest.mark.trigger_batch("COMPLETED", run_count=8, failed_count=2, progress_after=3)
async def test_the_async_poller_walks_the_same_lifecycle(
    async_client, mock_trigger_api, trigger_batch, fake_time
):
    reported = []

    batch = await wait_for_batch_async(
        async_client,
        trigger_batch.id,
        interval=1,
        on_failures=reported.append,
        clock=fake_time.clock,
        sleep=fake_time.asleep,
    )

    assert batch.status == "COMPLETED"
    assert [b.status for b in reported] == ["PARTIAL_FAILED"]
    mock_trigger_api.assert_retrieved(trigger_batch, times=4)
    assert fake_time.sleeps == [1, 1, 1]
