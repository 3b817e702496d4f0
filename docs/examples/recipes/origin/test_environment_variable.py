import os

import httpx
import pytest

from pytest_trigger_batches import BatchFactory, MockTriggerApi


@pytest.fixture
def trigger_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The variables the application reads, set before mock_trigger_api starts."""
    monkeypatch.setenv("TRIGGER_API_URL", "https://trigger.staging.example")


def retrieve(batch_id: str, secret_key: str) -> httpx.Response:
    """The application's code: the origin from the environment, as the SDK reads it."""
    origin = os.environ.get("TRIGGER_API_URL", "https://api.trigger.dev")
    return httpx.get(
        f"{origin}/api/v1/batches/{batch_id}",
        headers={"Authorization": f"Bearer {secret_key}"},
    )


def test_the_origin_from_the_environment(
    trigger_env: None,
    mock_trigger_api: MockTriggerApi,
    trigger_batch_factory: BatchFactory,
) -> None:
    # trigger_env comes first in the parameters: mock_trigger_api reads the variable
    batch = trigger_batch_factory("COMPLETED")
    mock_trigger_api.add_batch(batch)

    assert retrieve(batch.id, mock_trigger_api.secret_key).status_code == 200
    assert mock_trigger_api.base_url == "https://trigger.staging.example"
