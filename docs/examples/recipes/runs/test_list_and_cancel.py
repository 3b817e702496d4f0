from typing import Any

import httpx

from pytest_trigger_batches import MockTriggerApi


# --8<-- [start:list]
def list_runs(client: httpx.Client, **filters: str) -> list[dict[str, Any]]:
    """Every run the listing holds, page after page."""
    params = {f"filter[{name}]": value for name, value in filters.items()}
    params["page[size]"] = "2"
    found = []
    while True:
        page = client.get("/api/v1/runs", params=params).json()
        found.extend(page["data"])
        if not page["pagination"].get("next"):
            return found
        params["page[after]"] = page["pagination"]["next"]
    # --8<-- [end:list]


# --8<-- [start:cancel]
def test_unfinished_runs_are_cancelled(mock_trigger_api: MockTriggerApi) -> None:
    mock_trigger_api.progression = "held"  # the runs stay QUEUED until told
    key = {"Authorization": f"Bearer {mock_trigger_api.secret_key}"}
    with httpx.Client(base_url=mock_trigger_api.base_url, headers=key) as client:
        items = [{"task": "resize-image", "payload": {"id": n}} for n in range(5)]
        batch = client.post("/api/v1/tasks/batch", json={"items": items}).json()

        queued = list_runs(client, batch=batch["id"], status="QUEUED")
        for run in queued:
            client.post(f"/api/v2/runs/{run['id']}/cancel")
        after = list_runs(client, batch=batch["id"])

    assert len(queued) == 5  # three pages of at most two
    assert {run["status"] for run in after} == {"CANCELED"}
    for run in queued:
        mock_trigger_api.assert_cancelled(run["id"])
    # --8<-- [end:cancel]
