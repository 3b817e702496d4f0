import httpx

from pytest_trigger_batches import MockTriggerApi


def test_a_schedule_is_created(mock_trigger_api: MockTriggerApi) -> None:
    key = {"Authorization": f"Bearer {mock_trigger_api.secret_key}"}
    with httpx.Client(base_url=mock_trigger_api.base_url, headers=key) as client:
        client.post("/api/v1/schedules", json={"task": "nightly", "cron": "0 3 * * *"})
