import json
from typing import Any

import httpx

from pytest_trigger_batches import MockTriggerApi, TriggerApiServer

# --8<-- [start:headers]
REALTIME_HEADERS = {
    "x-trigger-electric-version": "1.0.0-beta.1",  # what the SDK 4.8.3 sends
    "x-trigger-api-version": "2025-07-16",
}
# --8<-- [end:headers]


def client_for(api: MockTriggerApi | TriggerApiServer) -> httpx.Client:
    key = {"Authorization": f"Bearer {api.secret_key}"}
    return httpx.Client(base_url=api.base_url, headers=key, timeout=30)


def trigger(client: httpx.Client, task: str) -> str:
    answer = client.post(f"/api/v1/tasks/{task}/trigger", json={"payload": {"to": "a"}})
    return str(answer.json()["id"])


# --8<-- [start:app]
def follow_run(client: httpx.Client, run_id: str) -> list[dict[str, Any]]:
    """Each state of a run the realtime stream shows, until the run has finished."""
    url = f"/realtime/v1/runs/{run_id}"
    params = {"offset": "-1", "log": "full"}  # a snapshot first
    row: dict[str, Any] = {}
    states = []
    while True:
        answer = client.get(url, params=params, headers=REALTIME_HEADERS)
        answer.raise_for_status()  # a 409 (must-refetch) means: again from offset -1
        for message in answer.json():  # change messages, then "up-to-date"
            if "value" in message:
                row = {**row, **message["value"]}  # whole rows: the latest wins
                states.append(row)
        if row.get("completedAt"):  # finished: the SDK's loop ends here too
            return states
        params = {  # then live, from where this answer left off
            "offset": answer.headers["electric-offset"],
            "handle": answer.headers["electric-handle"],
            "live": "true",
            "log": "full",
            "cursor": answer.headers.get("electric-cursor", ""),
        }
        # --8<-- [end:app]


# --8<-- [start:respx]
def test_a_run_is_followed_until_it_completes(mock_trigger_api: MockTriggerApi) -> None:
    mock_trigger_api.on_run(task="send-email", outcome="COMPLETED", output={"ok": 1})
    with client_for(mock_trigger_api) as client:
        run_id = trigger(client, "send-email")
        states = follow_run(client, run_id)

    # Each request moves the run, as a retrieval does; statuses are the stored names.
    assert [row["status"] for row in states] == [
        "PENDING",
        "EXECUTING",
        "COMPLETED_SUCCESSFULLY",
    ]
    last = states[-1]
    assert (last["friendlyId"], last["output"]) == (run_id, '{"ok":1}')  # JSON text
    assert mock_trigger_api.run(run_id)["status"] == "COMPLETED"
    # --8<-- [end:respx]


# --8<-- [start:server]
def test_a_failed_run_is_followed_over_http(
    trigger_api_server: TriggerApiServer,
) -> None:
    trigger_api_server.on_run(
        task="send-email", outcome="FAILED", error={"message": "SMTP refused"}
    )
    with client_for(trigger_api_server) as client:
        run_id = trigger(client, "send-email")
        states = follow_run(client, run_id)

    last = states[-1]
    assert last["status"] == "COMPLETED_WITH_ERRORS"
    assert json.loads(last["error"])["message"] == "SMTP refused"
    # --8<-- [end:server]
