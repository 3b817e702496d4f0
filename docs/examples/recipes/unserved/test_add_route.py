import httpx
import respx

from pytest_trigger_batches import MockTriggerApi


def test_tags_are_added(
    mock_trigger_api: MockTriggerApi, respx_mock: respx.MockRouter
) -> None:
    # answered after the mock's own steps (key, rate limit, faults), on both transports
    mock_trigger_api.add_route("POST", "/api/v1/runs/{runId}/tags", json={"ok": True})
    # answered exactly as written, in-process only
    metadata_url = "https://api.trigger.dev/api/v1/runs/run_1/metadata"
    respx_mock.post(metadata_url).respond(200, json={})

    key = {"Authorization": f"Bearer {mock_trigger_api.secret_key}"}
    with httpx.Client(base_url="https://api.trigger.dev", headers=key) as client:
        tagged = client.post("/api/v1/runs/run_1/tags", json={"tags": ["a"]})
        described = client.post("/api/v1/runs/run_1/metadata", json={})
    assert (tagged.status_code, described.status_code) == (200, 200)

    tags, metadata = mock_trigger_api.calls
    assert (tags.route, tags.params, tags.body) == (
        "POST /api/v1/runs/{runId}/tags",
        {"runId": "run_1"},
        {"tags": ["a"]},
    )
    assert metadata.stubbed
