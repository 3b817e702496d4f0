from typing import Any

import httpx

from pytest_trigger_batches import MockTriggerApi


# --8<-- [start:app]
def run_batch(client: httpx.Client, items: list[dict[str, Any]]) -> list[str]:
    """Trigger `items` as one batch, wait until it completes, report the failed runs."""
    created = client.post("/api/v1/tasks/batch", json={"items": items})
    created.raise_for_status()
    batch = created.json()  # {"id": "batch_...", "runs": [{"id": "run_...", ...}, ...]}
    while client.get(f"/api/v1/batches/{batch['id']}").json()["status"] != "COMPLETED":
        pass  # a real poller sleeps here; the mock moves the batch one step a poll
    report = []
    for run in batch["runs"]:
        body = client.get(f"/api/v3/runs/{run['id']}").json()
        if body["isFailed"]:
            report.append(f"{body['taskIdentifier']}: {body['error']['message']}")
    return report
    # --8<-- [end:app]


# --8<-- [start:test]
def test_a_declined_card_is_reported(mock_trigger_api: MockTriggerApi) -> None:
    mock_trigger_api.on_run(
        task="charge-card", outcome="FAILED", error={"message": "declined"}
    )
    items = [
        {"task": "send-receipt", "payload": {"order": 7}},
        {"task": "charge-card", "payload": {"order": 7}},
    ]
    key = {"Authorization": f"Bearer {mock_trigger_api.secret_key}"}
    with httpx.Client(base_url=mock_trigger_api.base_url, headers=key) as client:
        report = run_batch(client, items)

    assert report == ["charge-card: declined"]
    mock_trigger_api.assert_triggered("charge-card", payloads=[{"order": 7}])
    # --8<-- [end:test]
