import json

import httpx

from pytest_trigger_batches import MockTriggerApi


def test_a_streaming_batch_round_trip(mock_trigger_api: MockTriggerApi) -> None:
    mock_trigger_api.on_item(task="resize-image", outcome="queue_limit")
    key = {"Authorization": f"Bearer {mock_trigger_api.secret_key}"}
    with httpx.Client(base_url="https://api.trigger.dev", headers=key) as client:
        batch = client.post("/api/v3/batches", json={"runCount": 3}).json()
        lines = [
            {"index": 0, "task": "send-email", "payload": {"to": "a@example.com"}},
            {"index": 1, "task": "send-email", "payload": {"to": "b@example.com"}},
            {"index": 2, "task": "resize-image", "payload": {"id": 7}},
        ]
        sealed = client.post(
            f"/api/v3/batches/{batch['id']}/items",
            content="\n".join(json.dumps(line) for line in lines),
            headers={"content-type": "application/x-ndjson"},
        ).json()
        assert sealed["sealed"] is True
        seen = [client.get(f"/api/v1/batches/{batch['id']}").json() for _ in range(4)]

    statuses = [b["status"] for b in seen]
    assert statuses == ["PROCESSING", "PARTIAL_FAILED", "PARTIAL_FAILED", "COMPLETED"]
    [entry] = seen[-1]["errors"]
    assert (entry["index"], entry["taskIdentifier"]) == (2, "resize-image")
    assert seen[-1]["failedRunCount"] == 1
    assert len(seen[-1]["runs"]) == 2
    mock_trigger_api.assert_triggered(
        "send-email", payloads=[{"to": "a@example.com"}, {"to": "b@example.com"}]
    )
