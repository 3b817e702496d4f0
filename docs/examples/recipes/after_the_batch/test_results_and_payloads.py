from typing import Any

import httpx

from pytest_trigger_batches import MockTriggerApi


def client_for(api: MockTriggerApi) -> httpx.Client:
    headers = {
        "Authorization": f"Bearer {api.secret_key}",
        "x-trigger-api-version": "2025-07-16",
    }
    return httpx.Client(base_url=api.base_url, headers=headers)


def trigger(client: httpx.Client, task: str, payload: object) -> str:
    answer = client.post(f"/api/v1/tasks/{task}/trigger", json={"payload": payload})
    return str(answer.json()["id"])


# --8<-- [start:app]
def result_of(client: httpx.Client, run_id: str) -> dict[str, Any] | None:
    """The run's result, None when the platform has none (as the SDK reads a 404)."""
    answer = client.get(f"/api/v1/runs/{run_id}/result")  # secret keys only
    if answer.status_code == 404:
        return None
    answer.raise_for_status()
    result: dict[str, Any] = answer.json()
    return result


def output_of(client: httpx.Client, run_id: str) -> object:
    """A finished run's output: from the run itself, where the platform keeps it."""
    run = client.get(f"/api/v3/runs/{run_id}").json()
    return run.get("output")
    # --8<-- [end:app]


# --8<-- [start:test]
def test_only_a_cancelled_run_has_a_result(mock_trigger_api: MockTriggerApi) -> None:
    mock_trigger_api.on_run(task="report", outcome="COMPLETED", output={"pages": 3})
    mock_trigger_api.on_run(task="export", hold="queued")  # stays QUEUED
    with client_for(mock_trigger_api) as client:
        done = trigger(client, "report", {"month": 5})
        while client.get(f"/api/v3/runs/{done}").json()["status"] != "COMPLETED":
            pass
        stopped = trigger(client, "export", {"month": 5})
        client.post(f"/api/v2/runs/{stopped}/cancel")

        assert result_of(client, done) is None  # 404, as on the platform
        assert output_of(client, done) == {"pages": 3}
        assert result_of(client, stopped) == {
            "ok": False,
            "id": stopped,
            "taskIdentifier": "export",
            "error": {"type": "INTERNAL_ERROR", "code": "TASK_RUN_CANCELLED"},
        }
        answer = client.get(f"/api/v1/runs/{done}/result")
    assert answer.json() == {"error": "Run either doesn't exist or is not finished"}
    # --8<-- [end:test]


# --8<-- [start:payload]
def payload_of(client: httpx.Client, run_id: str) -> object:
    """A run's payload, downloaded when the platform stored it (512 KiB or more)."""
    run = client.get(f"/api/v3/runs/{run_id}").json()
    if "payloadPresignedUrl" not in run:
        return run["payload"]
    stored = httpx.get(run["payloadPresignedUrl"])  # signed: no Authorization header
    stored.raise_for_status()
    return stored.json()


def test_a_large_payload_is_read_through_its_presigned_url(
    mock_trigger_api: MockTriggerApi,
) -> None:
    rows = {"rows": ["x" * 1000] * 600}  # over 512 KiB of JSON
    with client_for(mock_trigger_api) as client:
        run_id = trigger(client, "import", rows)
        assert "payload" not in client.get(f"/api/v3/runs/{run_id}").json()
        assert payload_of(client, run_id) == rows
    assert mock_trigger_api.packet(f"{run_id}/payload.json") is not None
    # --8<-- [end:payload]
