import httpx

from pytest_trigger_batches import MockTriggerApi


def test_failed_runs_are_reported_and_replayed(
    mock_trigger_api: MockTriggerApi,
) -> None:
    mock_trigger_api.on_run(
        task="charge-card", outcome="FAILED", error={"message": "card declined"}
    )
    key = {"Authorization": f"Bearer {mock_trigger_api.secret_key}"}
    with httpx.Client(base_url="https://api.trigger.dev", headers=key) as client:
        items = [
            {"task": "send-receipt"},
            {"task": "charge-card", "payload": {"order": 7}},
        ]
        batch = client.post("/api/v1/tasks/batch", json={"items": items}).json()
        url = f"/api/v1/batches/{batch['id']}"
        while client.get(url).json()["status"] != "COMPLETED":
            pass  # each poll moves the batch and its runs one step
        runs = [client.get(f"/api/v3/runs/{run['id']}").json() for run in batch["runs"]]
        failed = [run for run in runs if run["isFailed"]]
        assert [(run["taskIdentifier"], run["error"]["message"]) for run in failed] == [
            ("charge-card", "card declined")
        ]
        client.post(f"/api/v1/runs/{failed[0]['id']}/replay")

    replay = mock_trigger_api.assert_replayed(failed[0]["id"])
    assert mock_trigger_api.run(replay)["payload"] == {"order": 7}
