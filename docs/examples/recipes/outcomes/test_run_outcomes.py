import httpx

from pytest_trigger_batches import MockTriggerApi


def test_runs_end_as_the_test_says(mock_trigger_api: MockTriggerApi) -> None:
    mock_trigger_api.on_run(outcome="COMPLETED", output={"sent": True})  # every run
    mock_trigger_api.on_run(index=1, outcome="CRASHED")  # the second item's run
    mock_trigger_api.on_run(
        task="charge-card", outcome="FAILED", error={"message": "declined"}
    )
    key = {"Authorization": f"Bearer {mock_trigger_api.secret_key}"}
    with httpx.Client(base_url=mock_trigger_api.base_url, headers=key) as client:
        items = [
            {"task": "send-email"},
            {"task": "send-email"},
            {"task": "charge-card"},
        ]
        batch = client.post("/api/v1/tasks/batch", json={"items": items}).json()
        url = f"/api/v1/batches/{batch['id']}"
        while client.get(url).json()["status"] != "COMPLETED":
            pass  # each poll moves the batch and its runs one step
        runs = [client.get(f"/api/v3/runs/{run['id']}").json() for run in batch["runs"]]

    assert [run["status"] for run in runs] == ["COMPLETED", "CRASHED", "FAILED"]
    assert runs[0]["output"] == {"sent": True}
    assert runs[2]["error"]["message"] == "declined"
    assert [run["isFailed"] for run in runs] == [False, True, True]
