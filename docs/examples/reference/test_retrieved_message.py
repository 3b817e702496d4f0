from pathlib import Path

import httpx
import pytest

from pytest_trigger_batches import BatchFactory, MockTriggerApi


@pytest.fixture
def trigger_seed() -> int:
    return 7  # the same batch id in every run, as on the page


def test_a_failure_lists_what_was_retrieved(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory
) -> None:
    with pytest.raises(AssertionError) as failure:  # noqa: PT012 (the example, whole)
        # --8<-- [start:call]
        batch = trigger_batch_factory("COMPLETED")
        mock_trigger_api.add_batch(batch)
        mock_trigger_api.fail_next("rate_limit")
        key = {"Authorization": f"Bearer {mock_trigger_api.secret_key}"}
        for _ in range(3):
            httpx.get(f"https://api.trigger.dev/api/v1/batches/{batch.id}", headers=key)
        mock_trigger_api.assert_retrieved(batch, times=2)  # fails: it was three times
        # --8<-- [end:call]
    shown = (
        Path(__file__).with_name("retrieved_message.txt").read_text(encoding="utf-8")
    )
    assert f"AssertionError: {failure.value}\n" == shown
