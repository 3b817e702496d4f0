import httpx
import pytest

from pytest_trigger_batches import MockTriggerApi

NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z
HOUR = 3600.0


def client_for(api: MockTriggerApi) -> httpx.Client:
    headers = {
        "Authorization": f"Bearer {api.secret_key}",
        "x-trigger-api-version": "2025-07-16",
    }
    return httpx.Client(base_url=api.base_url, headers=headers)


# --8<-- [start:app]
def remind_later(client: httpx.Client, user: str) -> str:
    """A reminder in an hour: a DELAYED run."""
    body = {"payload": {"user": user}, "options": {"delay": "1h"}}
    answer = client.post("/api/v1/tasks/send-reminder/trigger", json=body)
    answer.raise_for_status()
    return str(answer.json()["id"])


def snooze(client: httpx.Client, run_id: str, delay: str) -> str:
    """Move a reminder that has not gone yet: `delay` from now ("3h"), or a date."""
    answer = client.post(f"/api/v1/runs/{run_id}/reschedule", json={"delay": delay})
    answer.raise_for_status()  # 400 once the run is no longer DELAYED
    return str(answer.json()["delayedUntil"])  # the body is the run, as retrieved
    # --8<-- [end:app]


# --8<-- [start:test]
def test_a_snoozed_reminder_waits_for_its_new_time(
    mock_trigger_api: MockTriggerApi,
) -> None:
    now = [NOW]
    mock_trigger_api.clock = lambda: now[0]
    with client_for(mock_trigger_api) as client:
        run_id = remind_later(client, "ana")
        assert snooze(client, run_id, "3h") == "2026-01-01T03:00:00.000Z"
        now[0] += 2 * HOUR  # past the first time, not the new one
        assert mock_trigger_api.run(run_id)["status"] == "DELAYED"
        now[0] += HOUR
        assert mock_trigger_api.run(run_id)["status"] == "QUEUED"
        # Too late to snooze: the run is queued.
        with pytest.raises(httpx.HTTPStatusError) as refused:
            snooze(client, run_id, "1h")
    assert refused.value.response.json() == {
        "error": "Cannot reschedule a run that is not delayed"
    }
    # --8<-- [end:test]
