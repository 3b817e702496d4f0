import httpx

from pytest_trigger_batches import MockTriggerApi

NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z


# --8<-- [start:app]
def ask_for_approval(client: httpx.Client, order_id: str, outbox: list[str]) -> str:
    """The service: one token per order (a retry gets the same one), a day to answer;
    the approver gets the token's URL."""
    token = client.post(
        "/api/v1/waitpoints/tokens",
        json={
            "idempotencyKey": f"approve-{order_id}",
            "timeout": "1d",
            "tags": [f"order:{order_id}"],
        },
    ).json()
    outbox.append(token["url"])
    return str(token["id"])


def decision(client: httpx.Client, token_id: str) -> str:
    token = client.get(f"/api/v1/waitpoints/tokens/{token_id}").json()
    return str(token["status"])  # WAITING, COMPLETED or TIMED_OUT
    # --8<-- [end:app]


def client_for(mock: MockTriggerApi) -> httpx.Client:
    key = {"Authorization": f"Bearer {mock.secret_key}"}
    return httpx.Client(base_url=mock.base_url, headers=key)


# --8<-- [start:click]
def test_the_approver_clicks_the_link(mock_trigger_api: MockTriggerApi) -> None:
    outbox: list[str] = []
    with client_for(mock_trigger_api) as client:
        token_id = ask_for_approval(client, "o-7", outbox)
        assert ask_for_approval(client, "o-7", outbox) == token_id  # the same token
        assert decision(client, token_id) == "WAITING"
        # The person's click: a POST to the URL, no key needed; the body is the data.
        httpx.post(outbox[0], json={"approved": True, "by": "ana"})
        assert decision(client, token_id) == "COMPLETED"
    mock_trigger_api.assert_waitpoint_completed(token_id)
    # --8<-- [end:click]


# --8<-- [start:facade]
def test_the_test_approves_for_the_person(mock_trigger_api: MockTriggerApi) -> None:
    with client_for(mock_trigger_api) as client:
        token_id = ask_for_approval(client, "o-8", [])
        mock_trigger_api.complete_waitpoint_token(token_id, data={"approved": False})
        assert decision(client, token_id) == "COMPLETED"
    [token] = mock_trigger_api.waitpoint_tokens
    assert token["output"] == '{"json":{"approved":false}}'  # as the SDK stores it
    # --8<-- [end:facade]


# --8<-- [start:timeout]
def test_nobody_answers_in_time(mock_trigger_api: MockTriggerApi) -> None:
    mock_trigger_api.clock = lambda: NOW
    with client_for(mock_trigger_api) as client:
        token_id = ask_for_approval(client, "o-9", [])
        mock_trigger_api.clock = lambda: NOW + 86_400  # a day later
        assert decision(client, token_id) == "TIMED_OUT"
    # --8<-- [end:timeout]
