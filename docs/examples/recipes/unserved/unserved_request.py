import httpx

from pytest_trigger_batches import MockTriggerApi


def test_tags_are_added(mock_trigger_api: MockTriggerApi) -> None:
    key = {"Authorization": f"Bearer {mock_trigger_api.secret_key}"}
    with httpx.Client(base_url=mock_trigger_api.base_url, headers=key) as client:
        client.post("/api/v1/runs/run_1/tags", json={"tags": ["nightly"]})
