import httpx
import respx

from pytest_trigger_batches import MockTriggerApi


def test_tags_are_added(
    mock_trigger_api: MockTriggerApi, respx_mock: respx.MockRouter
) -> None:
    mock_trigger_api.add_route(
        "POST", "/api/v1/runs/{runId}/tags", json={"message": "ok"}
    )
    respx_mock.post("https://api.trigger.dev/api/v1/runs/run_1/metadata").respond(
        200, json={}
    )

    key = {"Authorization": f"Bearer {mock_trigger_api.secret_key}"}
    with httpx.Client(base_url="https://api.trigger.dev", headers=key) as client:
        assert (
            client.post("/api/v1/runs/run_1/tags", json={"tags": ["a"]}).status_code
            == 200
        )
        assert client.post("/api/v1/runs/run_1/metadata", json={}).status_code == 200

    tags, metadata = mock_trigger_api.calls
    assert (tags.route, tags.params, tags.body) == (
        "POST /api/v1/runs/{runId}/tags",
        {"runId": "run_1"},
        {"tags": ["a"]},
    )
    assert metadata.stubbed
