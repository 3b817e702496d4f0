from pytest_trigger_batches import BatchFactory


def test_report(trigger_batch_factory: BatchFactory) -> None:
    batch = trigger_batch_factory("PARTIAL_FAILED")
    assert batch.failed_run_count == 2  # the default is 3 of 10
