import httpx
import pytest
from pytest_httpx import HTTPXMock

from pytest_trigger_batches import BatchFactory, MockTriggerApi


@pytest.mark.httpx_mock(
    should_mock=lambda request: request.url.host != "api.trigger.dev"
)
def test_notifies_after_the_batch(
    httpx_mock: HTTPXMock,
    mock_trigger_api: MockTriggerApi,
    trigger_batch_factory: BatchFactory,
) -> None:
    httpx_mock.add_response(url="https://hooks.example/notify", json={"ok": True})
    batch = trigger_batch_factory("COMPLETED")
    mock_trigger_api.add_batch(batch)
    key = {"Authorization": f"Bearer {mock_trigger_api.secret_key}"}
    assert httpx.get(
        f"https://api.trigger.dev/api/v2/batches/{batch.id}", headers=key
    ).is_success
    assert httpx.post("https://hooks.example/notify").json() == {"ok": True}
