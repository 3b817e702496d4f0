import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from pytest_trigger_batches import BatchFactory, MockTriggerApi

NOW = 1_780_000_000.0  # the mock's clock and the client's, pinned


# --8<-- [start:client]
def get_batch(
    client: httpx.Client,
    batch_id: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], float] = time.time,
    attempts: int = 3,
) -> dict[str, Any]:
    """Retrieve a batch, retrying as the official SDK does."""
    for attempt in range(1, attempts + 1):
        last = attempt == attempts
        try:
            answer = client.get(f"/api/v1/batches/{batch_id}")
        except httpx.TimeoutException:
            if last:
                raise
            sleep(0.5 * attempt)
            continue
        if answer.status_code == 429 and not last:  # wait until the bucket refills
            sleep(max(0.0, int(answer.headers["x-ratelimit-reset"]) / 1000 - now()))
            continue
        should_retry = answer.headers.get("x-should-retry")
        transient = should_retry == "true" or (
            should_retry is None and answer.status_code >= 500
        )
        if transient and not last:
            sleep(0.5 * attempt)
            continue
        answer.raise_for_status()
        return dict(answer.json())
    raise AssertionError("unreachable")
    # --8<-- [end:client]


@pytest.fixture
def client(mock_trigger_api: MockTriggerApi) -> httpx.Client:
    key = {"Authorization": f"Bearer {mock_trigger_api.secret_key}"}
    return httpx.Client(base_url=mock_trigger_api.base_url, headers=key)


# --8<-- [start:tests]
@pytest.mark.trigger_api(clock=lambda: NOW)
def test_a_429_waits_until_the_bucket_refills(
    client: httpx.Client,
    mock_trigger_api: MockTriggerApi,
    trigger_batch_factory: BatchFactory,
) -> None:
    batch = trigger_batch_factory("COMPLETED")
    mock_trigger_api.add_batch(batch)
    mock_trigger_api.fail_next("rate_limit", reset_after=2.5)
    waits: list[float] = []

    body = get_batch(client, batch.id, sleep=waits.append, now=lambda: NOW)

    assert body["id"] == batch.id
    assert waits == [2.5]  # x-ratelimit-reset, not a backoff of its own
    answers = [call.status_code for call in mock_trigger_api.retrievals(batch)]
    assert answers == [429, 200]


def test_a_5xx_and_a_timeout_are_retried(
    client: httpx.Client,
    mock_trigger_api: MockTriggerApi,
    trigger_batch_factory: BatchFactory,
) -> None:
    batch = trigger_batch_factory("COMPLETED")
    mock_trigger_api.add_batch(batch)
    mock_trigger_api.fail_next("server_error", status_code=503)
    mock_trigger_api.fail_next("timeout")

    get_batch(client, batch.id, sleep=lambda seconds: None)

    outcomes = [(c.outcome, c.status_code) for c in mock_trigger_api.retrievals(batch)]
    assert outcomes == [("answered", 503), ("timeout", None), ("answered", 200)]


def test_x_should_retry_false_is_not_retried(
    client: httpx.Client,
    mock_trigger_api: MockTriggerApi,
    trigger_batch_factory: BatchFactory,
) -> None:
    batch = trigger_batch_factory("COMPLETED")
    mock_trigger_api.add_batch(batch)
    mock_trigger_api.fail_next("server_error", headers={"x-should-retry": "false"})

    with pytest.raises(httpx.HTTPStatusError):
        get_batch(client, batch.id, sleep=lambda seconds: None)
    mock_trigger_api.assert_retrieved(batch, times=1)


def test_a_missing_batch_is_retried_as_the_platform_asks(
    client: httpx.Client, mock_trigger_api: MockTriggerApi
) -> None:
    # 404 says x-should-retry: true (a replica may lag): the client tries again.
    with pytest.raises(httpx.HTTPStatusError, match="404"):
        get_batch(client, "batch_cmissingmissingmissingmis", sleep=lambda seconds: None)
    assert len(mock_trigger_api.calls) == 3
    # --8<-- [end:tests]
