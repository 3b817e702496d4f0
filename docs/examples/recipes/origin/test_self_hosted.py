import httpx
import pytest

from pytest_trigger_batches import BatchFactory, MockTriggerApi


@pytest.mark.trigger_api(base_url="https://trigger.internal/base")
def test_a_self_hosted_instance(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory
) -> None:
    batch = trigger_batch_factory("COMPLETED")
    mock_trigger_api.add_batch(batch)
    key = {"Authorization": f"Bearer {mock_trigger_api.secret_key}"}

    answer = httpx.get(
        f"https://trigger.internal/base/api/v1/batches/{batch.id}", headers=key
    )

    assert answer.json()["id"] == batch.id
    assert mock_trigger_api.base_url == "https://trigger.internal/base"
