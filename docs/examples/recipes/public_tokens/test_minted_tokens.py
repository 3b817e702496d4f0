import httpx

from pytest_trigger_batches import MockTriggerApi

ADDITIONAL_KEY = "tr_dev_sk_" + "a" * 24


def test_an_additional_key_has_the_platform_mint_its_token(
    mock_trigger_api: MockTriggerApi,
) -> None:
    with httpx.Client(base_url=mock_trigger_api.base_url) as client:
        minted = client.post(
            "/api/v1/auth/public-tokens",
            json={"scopes": ["read:runs"], "expirationTime": "1h"},
            headers={"Authorization": f"Bearer {ADDITIONAL_KEY}"},
        )
        token = minted.json()["token"]
        runs = client.get("/api/v1/runs", headers={"Authorization": f"Bearer {token}"})

    assert minted.status_code == 200
    assert runs.status_code == 200
