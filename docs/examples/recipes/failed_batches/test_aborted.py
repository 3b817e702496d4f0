from datetime import timedelta

from pytest_trigger_batches import BatchFactory


def test_an_aborted_batch(trigger_batch_factory: BatchFactory) -> None:
    # No run could be created: every item failed.
    aborted = trigger_batch_factory("ABORTED", run_count=4, error_code="TRIGGER_ERROR")
    assert (aborted.successful_run_count, aborted.failed_run_count) == (0, 4)
    assert aborted.runs == ()
    assert len(aborted.errors) == 4

    # The items never finished arriving: aborted 30 minutes after it was created.
    never_sealed = trigger_batch_factory("ABORTED", runs_created=False)
    body = never_sealed.to_payload(version=2)
    assert body["runs"] == []
    assert body["processingCompletedAt"] is not None
    assert never_sealed.updated_at - never_sealed.created_at >= timedelta(minutes=30)
