import httpx
import respx

from pytest_trigger_batches import BatchFactory, MockTriggerApi


def test_side_by_side_with_respx(
    respx_mock: respx.MockRouter,
    mock_trigger_api: MockTriggerApi,
    trigger_batch_factory: BatchFactory,
) -> None:
    respx_mock.post("https://hooks.example/notify").respond(json={"ok": True})
    batch = trigger_batch_factory("COMPLETED")
    mock_trigger_api.add_batch(batch)
    key = {"Authorization": f"Bearer {mock_trigger_api.secret_key}"}

    assert httpx.get(
        f"https://api.trigger.dev/api/v1/batches/{batch.id}", headers=key
    ).is_success
    assert httpx.post("https://hooks.example/notify").json() == {"ok": True}
    mock_trigger_api.assert_retrieved(
        batch, times=1
    )  # each mock records its own requests
    assert respx_mock.calls.call_count == 1
