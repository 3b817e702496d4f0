import httpx
import respx

from pytest_trigger_batches import MockTriggerApi


def test_a_schedule_is_created(
    mock_trigger_api: MockTriggerApi, respx_mock: respx.MockRouter
) -> None:
    # answered after the mock's own steps (key, rate limit, faults), on both transports
    mock_trigger_api.add_route("POST", "/api/v1/schedules", json={"id": "sched_1"})
    # answered exactly as written, in-process only
    schedule_url = "https://api.trigger.dev/api/v1/schedules/sched_1"
    respx_mock.get(schedule_url).respond(200, json={"id": "sched_1", "active": True})

    key = {"Authorization": f"Bearer {mock_trigger_api.secret_key}"}
    with httpx.Client(base_url="https://api.trigger.dev", headers=key) as client:
        nightly = {"task": "nightly", "cron": "0 3 * * *"}
        created = client.post("/api/v1/schedules", json=nightly)
        read = client.get("/api/v1/schedules/sched_1")
    assert (created.status_code, read.status_code) == (200, 200)

    schedules, retrieval = mock_trigger_api.calls
    assert (schedules.route, schedules.params, schedules.body) == (
        "POST /api/v1/schedules",
        {},
        {"task": "nightly", "cron": "0 3 * * *"},
    )
    assert retrieval.stubbed
