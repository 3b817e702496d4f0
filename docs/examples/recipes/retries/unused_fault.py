import httpx

from pytest_trigger_batches import BatchFactory, MockTriggerApi


def test_the_retry_path(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory
) -> None:
    batch = trigger_batch_factory("COMPLETED")
    mock_trigger_api.add_batch(batch)
    mock_trigger_api.fail_next("rate_limit", route="GET /api/v2/batches/{batchId}")

    key = {"Authorization": f"Bearer {mock_trigger_api.secret_key}"}
    httpx.get(
        f"{mock_trigger_api.base_url}/api/v1/batches/{batch.id}", headers=key
    )  # v1
