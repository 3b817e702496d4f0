import pytest

from pytest_trigger_batches import BatchFactory


def test_impossible_batches_are_refused(trigger_batch_factory: BatchFactory) -> None:
    with pytest.raises(
        ValueError, match="PARTIAL_FAILED batch of 10 items must be 1 to 9; got 0"
    ):
        trigger_batch_factory("PARTIAL_FAILED", failed_count=0)
    with pytest.raises(ValueError, match="statuses are upper case: 'COMPLETED'"):
        trigger_batch_factory("completed")
    with pytest.raises(
        ValueError, match="run_count must be a whole number from 1 to 1000"
    ):
        trigger_batch_factory("COMPLETED", run_count=1001)
