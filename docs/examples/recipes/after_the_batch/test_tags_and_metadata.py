import json
from typing import Any

import httpx

from pytest_trigger_batches import MockTriggerApi


def client_for(api: MockTriggerApi) -> httpx.Client:
    headers = {
        "Authorization": f"Bearer {api.secret_key}",
        "x-trigger-api-version": "2025-07-16",
    }
    return httpx.Client(base_url=api.base_url, headers=headers)


# --8<-- [start:app]
def tag_run(client: httpx.Client, run_id: str, *tags: str) -> str:
    """Tags added to a run (10 at most in all; those it has are left out)."""
    answer = client.post(f"/api/v1/runs/{run_id}/tags", json={"tags": list(tags)})
    answer.raise_for_status()  # 422 past 10 tags, and then none is set
    return str(answer.json()["message"])


def count_sent(client: httpx.Client, run_id: str, to: str) -> dict[str, Any]:
    """Progress in the run's metadata: operations apply in order, on what is stored."""
    operations = [
        {"type": "increment", "key": "sent", "value": 1},
        {"type": "append", "key": "recipients", "value": to},
        {"type": "set", "key": "$.progress.last", "value": to},
    ]
    answer = client.put(
        f"/api/v1/runs/{run_id}/metadata", json={"operations": operations}
    )
    answer.raise_for_status()
    metadata: dict[str, Any] = answer.json()["metadata"]  # after the operations
    return metadata
    # --8<-- [end:app]


# --8<-- [start:test]
def test_tags_and_metadata_are_read_back_from_the_run(
    mock_trigger_api: MockTriggerApi,
) -> None:
    with client_for(mock_trigger_api) as client:
        body = {
            "payload": {"campaign": "spring"},
            "options": {"tags": ["campaign:spring"], "metadata": {"progress": {}}},
        }
        run_id = client.post("/api/v1/tasks/newsletter/trigger", json=body).json()["id"]

        message = tag_run(client, run_id, "campaign:spring", "team:growth")
        assert message == "Successfully set 1 new tags."
        count_sent(client, run_id, "ana@example.com")
        after = count_sent(client, run_id, "bo@example.com")
        stored = client.get(f"/api/v1/runs/{run_id}/metadata").json()

    expected = {
        "progress": {"last": "bo@example.com"},
        "sent": 2,
        "recipients": ["ana@example.com", "bo@example.com"],
    }
    assert after == expected
    shown = mock_trigger_api.run(run_id)  # as GET /api/v3/runs/{runId} shows it
    assert shown["tags"] == ["campaign:spring", "team:growth"]  # sorted
    assert shown["metadata"] == expected
    # The metadata route answers the stored JSON text, not an object:
    assert stored["metadataType"] == "application/json"
    assert json.loads(stored["metadata"]) == expected
    # --8<-- [end:test]
