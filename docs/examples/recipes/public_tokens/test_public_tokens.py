import httpx

from pytest_trigger_batches import BatchFactory, MockTriggerApi


def test_a_public_token_reads_only_its_batch(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory
) -> None:
    mine, other = trigger_batch_factory("COMPLETED"), trigger_batch_factory("COMPLETED")
    mock_trigger_api.add_batch(mine)
    mock_trigger_api.add_batch(other)
    token = mock_trigger_api.public_token(scopes=[f"read:batch:{mine.id}"])

    with httpx.Client(base_url="https://api.trigger.dev") as client:
        headers = {"Authorization": f"Bearer {token}"}
        assert (
            client.get(f"/api/v2/batches/{mine.id}", headers=headers).status_code == 200
        )
        refused = client.get(f"/api/v2/batches/{other.id}", headers=headers)
    assert refused.status_code == 403
    assert refused.json()["param"] == "access_token"
