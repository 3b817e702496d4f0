from pathlib import Path

import pytest

from pytest_trigger_batches import BatchFactory, assert_batch_errors


@pytest.fixture
def trigger_seed() -> int:
    return 7  # the same batch id in every run, as on the page


def test_a_failure_lists_the_error_entries(trigger_batch_factory: BatchFactory) -> None:
    with pytest.raises(AssertionError) as failure:  # noqa: PT012 (the example, whole)
        # --8<-- [start:call]
        batch = trigger_batch_factory(
            "PARTIAL_FAILED",
            run_count=10,
            failed_count=3,
            task_identifier="send-welcome-email",
        )
        assert_batch_errors(
            batch, indices=[2, 5, 6]
        )  # fails: the three collapsed into one
        # --8<-- [end:call]
    shown = Path(__file__).with_name("failure_message.txt").read_text(encoding="utf-8")
    assert f"AssertionError: {failure.value}\n" == shown
