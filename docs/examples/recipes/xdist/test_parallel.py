import httpx
import pytest

from pytest_trigger_batches import MockTriggerApi, TriggerApiServer, TriggerBatch


@pytest.mark.trigger_batch("COMPLETED", run_count=3)
@pytest.mark.parametrize("poll", range(4))
def test_each_worker_has_its_own_mock(
    mock_trigger_api: MockTriggerApi, trigger_batch: TriggerBatch, poll: int
) -> None:
    key = {"Authorization": f"Bearer {mock_trigger_api.secret_key}"}
    httpx.get(
        f"{mock_trigger_api.base_url}/api/v1/batches/{trigger_batch.id}", headers=key
    )
    assert len(mock_trigger_api.calls) == 1  # only this test's request


@pytest.mark.trigger_batch("COMPLETED")
@pytest.mark.parametrize("poll", range(4))
def test_each_test_has_its_own_port(
    trigger_api_server: TriggerApiServer, trigger_batch: TriggerBatch, poll: int
) -> None:
    key = {"Authorization": f"Bearer {trigger_api_server.secret_key}"}
    url = f"{trigger_api_server.base_url}/api/v1/batches/{trigger_batch.id}"
    assert httpx.get(url, headers=key).status_code == 200
