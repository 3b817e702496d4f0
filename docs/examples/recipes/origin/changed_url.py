import httpx
import pytest

from pytest_trigger_batches import MockTriggerApi


def test_the_variable_set_too_late(
    mock_trigger_api: MockTriggerApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "TRIGGER_API_URL", "https://trigger.staging.example"
    )  # after the mock
    httpx.get("https://trigger.staging.example/api/v1/batches/batch_1")
