import time
from typing import Any

import httpx

from pytest_trigger_batches import MockTriggerApi


def client_for(api: MockTriggerApi) -> httpx.Client:
    headers = {
        "Authorization": f"Bearer {api.secret_key}",
        "x-trigger-api-version": "2025-07-16",
    }
    return httpx.Client(base_url=api.base_url, headers=headers)


# --8<-- [start:bodies]
# Exactly one of "runIds" (1 to 500 ids) and "filter" (the run list's filters).
BY_IDS = {
    "action": "cancel",  # or "replay"
    "name": "stop two sends",  # optional, at most 255 characters
    "runIds": ["run_cmx0ugyuv00014a7da3uz70rc", "run_cmx0ugyuv00024a7da8qk2mzd"],
}
BY_FILTER = {
    "action": "cancel",
    "name": "stop the spring campaign",
    "filter": {
        "taskIdentifier": "send-email",  # a string or a list of them
        "status": ["QUEUED", "DELAYED", "EXECUTING"],  # the SDK's status names
        "tag": ["campaign:spring"],
        "from": "2026-01-01T00:00:00Z",  # a date or epoch ms; "to" is now if absent
    },
}
# --8<-- [end:bodies]


# --8<-- [start:app]
def cancel_in_bulk(
    client: httpx.Client, body: dict[str, Any], *, every: float = 1.0
) -> dict[str, Any]:
    """Make a bulk cancel and poll it until it is no longer PENDING."""
    made = client.post("/api/v1/bulk-actions", json=body)
    made.raise_for_status()  # 202 {"id": "bulk_..."}
    url = f"/api/v1/bulk-actions/{made.json()['id']}"
    while True:
        action: dict[str, Any] = client.get(url).json()
        if action["status"] != "PENDING":  # COMPLETED, or ABORTED by someone
            return action
        time.sleep(every)
        # --8<-- [end:app]


# --8<-- [start:test]
def test_a_bulk_cancel_stops_the_campaigns_queued_sends(
    mock_trigger_api: MockTriggerApi,
) -> None:
    mock_trigger_api.clock = lambda: 1_767_225_600.0 + 86_400  # 2026-01-02
    mock_trigger_api.progression = "held"  # every run stays QUEUED
    tagged = {"task": "send-email", "options": {"tags": ["campaign:spring"]}}
    items = [{**tagged, "payload": n} for n in range(150)]
    items.append({"task": "send-email", "payload": "no tag"})
    with client_for(mock_trigger_api) as client:
        batch = client.post("/api/v1/tasks/batch", json={"items": items}).json()
        action = cancel_in_bulk(client, BY_FILTER, every=0)  # two polls: 100 a poll
        listed = client.get(
            "/api/v1/runs", params={"filter[bulkAction]": action["id"]}
        ).json()

    assert (action["type"], action["status"]) == ("CANCEL", "COMPLETED")
    assert action["counts"] == {"total": 150, "success": 150, "failure": 0}
    assert action["name"] == "stop the spring campaign"
    polls = mock_trigger_api.calls_to("GET /api/v1/bulk-actions/{bulkActionId}")
    assert len(polls) == 2
    *campaign, other = (run["id"] for run in batch["runs"])
    assert mock_trigger_api.run(campaign[0])["status"] == "CANCELED"
    assert mock_trigger_api.run(other)["status"] == "QUEUED"  # no tag: not selected
    assert len(listed["data"]) == 25  # the runs it cancelled, a page at a time
    # --8<-- [end:test]


def test_a_bulk_cancel_by_run_ids_cancels_those_runs(
    mock_trigger_api: MockTriggerApi,
) -> None:
    mock_trigger_api.progression = "held"
    with client_for(mock_trigger_api) as client:
        items = [{"task": "send-email"}] * 3
        runs = client.post("/api/v1/tasks/batch", json={"items": items}).json()["runs"]
        body = {**BY_IDS, "runIds": [run["id"] for run in runs[:2]]}
        action = cancel_in_bulk(client, body, every=0)
    assert action["counts"] == {"total": 2, "success": 2, "failure": 0}
    for run in runs[:2]:
        mock_trigger_api.assert_cancelled(run["id"])
    assert mock_trigger_api.run(runs[2]["id"])["status"] == "QUEUED"
