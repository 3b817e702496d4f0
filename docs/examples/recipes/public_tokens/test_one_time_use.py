import httpx

from pytest_trigger_batches import MockTriggerApi


def trigger(client: httpx.Client, token: str) -> httpx.Response:
    return client.post(
        "/api/v1/tasks/send-email/trigger",
        json={"payload": {}},
        headers={"Authorization": f"Bearer {token}"},
    )


def test_one_time_tokens_make_one_run_per_environment(
    mock_trigger_api: MockTriggerApi,
) -> None:
    scopes = ["trigger:tasks:send-email"]
    once = mock_trigger_api.public_token(scopes=scopes, one_time_use=True)
    fresh = mock_trigger_api.public_token(scopes=scopes, one_time_use=True)
    many = mock_trigger_api.public_token(scopes=scopes)  # multipleUse: true
    with httpx.Client(base_url=mock_trigger_api.base_url) as client:
        first, again = trigger(client, once), trigger(client, once)
        other = trigger(client, fresh)  # the mark is the environment's
        repeated = [trigger(client, many).status_code for _ in range(2)]

    assert first.status_code == 200
    assert (again.status_code, other.status_code) == (422, 422)
    assert again.json() == {
        "error": "Cannot trigger send-email with a one-time use token "
        "as it has already been used."
    }
    assert repeated == [200, 200]
