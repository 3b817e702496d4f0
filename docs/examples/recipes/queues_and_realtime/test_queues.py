from typing import Any

import httpx

from pytest_trigger_batches import MockTriggerApi


def client_for(api: MockTriggerApi) -> httpx.Client:
    headers = {
        "Authorization": f"Bearer {api.secret_key}",
        "x-trigger-api-version": "2025-07-16",
    }
    return httpx.Client(base_url=api.base_url, headers=headers)


def status(client: httpx.Client, run_id: str) -> str:
    return str(client.get(f"/api/v3/runs/{run_id}").json()["status"])


# --8<-- [start:app]
def set_paused(client: httpx.Client, task_id: str, *, paused: bool) -> dict[str, Any]:
    """Pause or resume a task's queue: its runs wait, those executing go on."""
    body = {"type": "task", "action": "pause" if paused else "resume"}
    answer = client.post(f"/api/v1/queues/{task_id}/pause", json=body)
    answer.raise_for_status()  # 404 {"error": "queue-not-found"}
    queue: dict[str, Any] = answer.json()  # the queue, with running and queued
    return queue


def is_paused(client: httpx.Client, task_id: str) -> bool:
    answer = client.get(f"/api/v1/queues/{task_id}", params={"type": "task"})
    answer.raise_for_status()
    return bool(answer.json()["paused"])
    # --8<-- [end:app]


# --8<-- [start:by-the-app]
def test_runs_of_a_paused_queue_stay_queued_until_it_is_resumed(
    mock_trigger_api: MockTriggerApi,
) -> None:
    with client_for(mock_trigger_api) as client:
        sending = client.post(
            "/api/v1/tasks/send-email/trigger", json={"payload": {"to": "a"}}
        ).json()["id"]
        paused = set_paused(client, "send-email", paused=True)
        assert (paused["paused"], paused["queued"]) == (True, 1)
        assert [status(client, sending) for _ in range(3)] == ["QUEUED"] * 3

        resumed = set_paused(client, "send-email", paused=False)
        assert resumed["paused"] is False
        assert [status(client, sending) for _ in range(3)] == [
            "QUEUED",
            "EXECUTING",
            "COMPLETED",
        ]
    # --8<-- [end:by-the-app]


# --8<-- [start:by-the-test]
def test_the_test_pauses_a_queue_the_app_then_finds_paused(
    mock_trigger_api: MockTriggerApi,
) -> None:
    mock_trigger_api.queue("send-email", paused=True)  # before any run uses it
    with client_for(mock_trigger_api) as client:
        assert is_paused(client, "send-email")
        items = [{"task": "send-email"}, {"task": "resize-image"}]
        batch = client.post("/api/v1/tasks/batch", json={"items": items}).json()
        email, image = (run["id"] for run in batch["runs"])
        for _ in range(3):
            mock_trigger_api.advance(batch["id"])
        assert (status(client, email), status(client, image)) == ("QUEUED", "COMPLETED")
        assert mock_trigger_api.queue("send-email")["queued"] == 1

        mock_trigger_api.queue("send-email", paused=False)
        done = mock_trigger_api.advance(batch["id"], to="COMPLETED")
        assert done.status == "COMPLETED"
        assert status(client, email) == "COMPLETED"
    # --8<-- [end:by-the-test]
