import uuid
from typing import Any

import httpx

from pytest_trigger_batches import MockTriggerApi

TRIGGER = "POST /api/v1/tasks/{taskId}/trigger"


# --8<-- [start:client]
def trigger(
    client: httpx.Client, task: str, payload: dict[str, Any], *, attempts: int = 3
) -> str:
    """Trigger one run; a retry of the same call carries the same request key."""
    key = {"x-trigger-request-idempotency-key": uuid.uuid4().hex}  # one per call
    for attempt in range(1, attempts + 1):
        try:
            answer = client.post(
                f"/api/v1/tasks/{task}/trigger", json={"payload": payload}, headers=key
            )
        except httpx.TimeoutException:
            if attempt == attempts:
                raise
            continue
        answer.raise_for_status()
        return str(answer.json()["id"])
    raise AssertionError("unreachable")
    # --8<-- [end:client]


# --8<-- [start:test]
def test_a_lost_answer_is_retried_without_a_second_run(
    mock_trigger_api: MockTriggerApi,
) -> None:
    # The server creates the run, then the answer is lost on its way back.
    mock_trigger_api.fail_next("timeout", route=TRIGGER, when="after")
    key = {"Authorization": f"Bearer {mock_trigger_api.secret_key}"}
    with httpx.Client(base_url=mock_trigger_api.base_url, headers=key) as client:
        run_id = trigger(client, "send-invoice", {"invoice": 1040})

    lost, retried = mock_trigger_api.calls_to(TRIGGER, taskId="send-invoice")
    assert (lost.outcome, retried.status_code) == ("timeout", 200)
    assert mock_trigger_api.run(run_id)["payload"] == {"invoice": 1040}
    mock_trigger_api.assert_triggered("send-invoice", count=1)  # one run
    sent = [item.answer for item in mock_trigger_api.triggered]
    assert sent == ["created", "cached"]  # the retry was answered with that run
    # --8<-- [end:test]


# --8<-- [start:without]
def test_without_the_key_the_retry_makes_a_second_run(
    mock_trigger_api: MockTriggerApi,
) -> None:
    mock_trigger_api.fail_next("timeout", route=TRIGGER, when="after")
    key = {"Authorization": f"Bearer {mock_trigger_api.secret_key}"}
    with httpx.Client(base_url=mock_trigger_api.base_url, headers=key) as client:
        url, body = "/api/v1/tasks/send-invoice/trigger", {"payload": {"invoice": 1040}}
        try:
            client.post(url, json=body)
        except httpx.TimeoutException:
            client.post(url, json=body)  # a plain retry

    mock_trigger_api.assert_triggered(count=2)  # the invoice would be sent twice
    # --8<-- [end:without]
