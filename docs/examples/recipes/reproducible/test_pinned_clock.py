import httpx
import pytest

from pytest_trigger_batches import BatchFactory, MockTriggerApi


@pytest.fixture
def trigger_seed() -> int:
    return 1234


@pytest.mark.trigger_api(clock=lambda: 1_780_000_000.0)  # 2026-05-28T20:26:40Z
def test_pinned_seed_and_clock(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory
) -> None:
    batch = trigger_batch_factory("COMPLETED")
    mock_trigger_api.add_batch(batch)
    key = {"Authorization": f"Bearer {mock_trigger_api.secret_key}"}
    url = f"{mock_trigger_api.base_url}/api/v1/batches/{batch.id}"
    answer = httpx.get(url, headers=key)
    # the next refill, in ms: the same in every run
    assert answer.headers["x-ratelimit-reset"] == "1780000010000"
    mock_trigger_api.clock = lambda: 1_780_000_060.0  # or move it by hand
