import httpx

from pytest_trigger_batches import MockTriggerApi


def test_a_browser_token_triggers_only_its_task(
    mock_trigger_api: MockTriggerApi,
) -> None:
    token = mock_trigger_api.public_token(
        scopes=["trigger:tasks:send-email"], expires_in=60
    )
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=mock_trigger_api.base_url, headers=headers) as client:
        sent = client.post("/api/v1/tasks/send-email/trigger", json={"payload": {}})
        other = client.post(
            "/api/v1/tasks/delete-account/trigger", json={"payload": {}}
        )
        batch = client.post(
            "/api/v1/tasks/batch", json={"items": [{"task": "send-email"}]}
        )

    assert sent.status_code == 200
    assert (other.status_code, batch.status_code) == (
        403,
        403,
    )  # batching is another scope
    mock_trigger_api.assert_triggered("send-email", count=1)
