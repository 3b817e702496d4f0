import httpx

from pytest_trigger_batches import BatchFactory, MockTriggerApi


def failed_items(base_url: str, secret_key: str, batch_id: str) -> int:
    """The code under test: how many items of a batch could not become runs."""
    answer = httpx.get(
        f"{base_url}/api/v1/batches/{batch_id}",
        headers={"Authorization": f"Bearer {secret_key}"},
    )
    answer.raise_for_status()
    return int(answer.json().get("failedRunCount", 0))


def test_failed_items_are_counted(
    trigger_batch_factory: BatchFactory, mock_trigger_api: MockTriggerApi
) -> None:
    batch = trigger_batch_factory("PARTIAL_FAILED", run_count=10, failed_count=3)
    mock_trigger_api.add_batch(batch)

    url, key = mock_trigger_api.base_url, mock_trigger_api.secret_key
    assert failed_items(url, key, batch.id) == 3
    mock_trigger_api.assert_retrieved(batch, times=1)
