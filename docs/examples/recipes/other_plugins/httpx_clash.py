import httpx
from pytest_httpx import HTTPXMock

from pytest_trigger_batches import MockTriggerApi


def test_notifies_after_the_batch(
    httpx_mock: HTTPXMock, mock_trigger_api: MockTriggerApi
) -> None:
    httpx_mock.add_response(url="https://hooks.example/notify", json={"ok": True})
    assert httpx.post("https://hooks.example/notify").json() == {"ok": True}
