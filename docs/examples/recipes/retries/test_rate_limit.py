import httpx
import pytest

from pytest_trigger_batches import BatchFactory, MockTriggerApi


@pytest.mark.trigger_api(clock=lambda: 1_780_000_000.0)  # no refill during the test
def test_a_small_bucket_catches_a_client_that_never_waits(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory
) -> None:
    mock_trigger_api.rate_limit(limit=2, refill=1, interval=10.0)
    batch = trigger_batch_factory("COMPLETED")
    mock_trigger_api.add_batch(batch)
    key = {"Authorization": f"Bearer {mock_trigger_api.secret_key}"}
    url = f"{mock_trigger_api.base_url}/api/v1/batches/{batch.id}"

    answers = [httpx.get(url, headers=key) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    # the next refill, in ms since the epoch
    assert answers[2].headers["x-ratelimit-reset"] == "1780000010000"
