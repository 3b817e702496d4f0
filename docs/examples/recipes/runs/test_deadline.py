import httpx

from pytest_trigger_batches import MockTriggerApi


def test_a_deadline_cancels_what_is_still_queued_or_executing(
    mock_trigger_api: MockTriggerApi,
) -> None:
    mock_trigger_api.on_run(index=0, hold="queued")  # no worker picks it up in time
    mock_trigger_api.on_run(index=1, hold="executing")  # it does not finish in time
    key = {"Authorization": f"Bearer {mock_trigger_api.secret_key}"}
    with httpx.Client(base_url=mock_trigger_api.base_url, headers=key) as client:
        items = [{"task": "sync-ledger", "payload": {"account": n}} for n in range(3)]
        batch = client.post("/api/v1/tasks/batch", json={"items": items}).json()
        url = f"/api/v1/batches/{batch['id']}"
        for _ in range(3):  # the polls before the deadline
            assert client.get(url).json()["status"] == "PENDING"
        query = {"filter[batch]": batch["id"], "filter[status]": "QUEUED,EXECUTING"}
        late = client.get("/api/v1/runs", params=query).json()["data"]
        assert sorted(run["status"] for run in late) == ["EXECUTING", "QUEUED"]
        for run in late:
            client.post(f"/api/v2/runs/{run['id']}/cancel")
        # The executing run's worker stops at the next step; then the batch completes.
        seen = [client.get(url).json()["status"] for _ in range(2)]
    assert seen == ["PENDING", "COMPLETED"]
