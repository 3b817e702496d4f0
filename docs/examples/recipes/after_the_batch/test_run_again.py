from urllib.parse import quote

import httpx

from pytest_trigger_batches import MockTriggerApi


def client_for(api: MockTriggerApi) -> httpx.Client:
    headers = {
        "Authorization": f"Bearer {api.secret_key}",
        "x-trigger-api-version": "2025-07-16",  # the SDK 4.8.3's: current status names
    }
    return httpx.Client(base_url=api.base_url, headers=headers)


def wait_until_finished(client: httpx.Client, run_id: str) -> str:
    while True:
        run = client.get(f"/api/v3/runs/{run_id}").json()  # each GET moves it a step
        if run["isCompleted"]:
            return str(run["status"])


# --8<-- [start:app]
def send_invoice(client: httpx.Client, invoice: int) -> str:
    """One run per invoice: a retried request gets the run the key already has."""
    options = {"idempotencyKey": f"inv-{invoice}"}
    body = {"payload": {"invoice": invoice}, "options": options}
    answer = client.post("/api/v1/tasks/send-invoice/trigger", json=body)
    answer.raise_for_status()
    return str(answer.json()["id"])


def send_invoice_again(client: httpx.Client, invoice: int) -> str:
    """The customer lost it: free the key (it names the task), then trigger again."""
    key = quote(f"inv-{invoice}", safe="")  # the key as it was sent, one path segment
    reset = client.post(
        f"/api/v1/idempotencyKeys/{key}/reset", json={"taskIdentifier": "send-invoice"}
    )
    reset.raise_for_status()  # 200 {"id": key}; 404 when no run of the task holds it
    return send_invoice(client, invoice)
    # --8<-- [end:app]


# --8<-- [start:completed]
def test_a_sent_invoice_is_sent_again_once_its_key_is_reset(
    mock_trigger_api: MockTriggerApi,
) -> None:
    with client_for(mock_trigger_api) as client:
        first = send_invoice(client, 42)
        assert wait_until_finished(client, first) == "COMPLETED"
        assert send_invoice(client, 42) == first  # the key still points at it
        second = send_invoice_again(client, 42)

    assert second != first
    old, new = mock_trigger_api.run(first), mock_trigger_api.run(second)
    assert old["status"] == "COMPLETED"
    assert "idempotencyKey" not in old  # the old run keeps everything but its key
    assert (new["status"], new["idempotencyKey"]) == ("QUEUED", "inv-42")
    assert new["payload"] == {"invoice": 42}
    # --8<-- [end:completed]


# --8<-- [start:failed]
def test_a_failed_invoice_gives_its_key_up_by_itself(
    mock_trigger_api: MockTriggerApi,
) -> None:
    mock_trigger_api.on_run(task="send-invoice", outcome="FAILED")
    with client_for(mock_trigger_api) as client:
        first = send_invoice(client, 7)
        assert wait_until_finished(client, first) == "FAILED"
        assert send_invoice(client, 7) != first  # a new run, no reset needed
        missing = client.post(
            "/api/v1/idempotencyKeys/inv-7/reset", json={"taskIdentifier": "send-mail"}
        )
    assert missing.status_code == 404
    assert missing.json() == {
        "error": "No runs found with idempotency key: inv-7 and task: send-mail"
    }
    # --8<-- [end:failed]
