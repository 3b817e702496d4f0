"""What the clients do when the API is busy, failing or out of reach."""

from __future__ import annotations

import httpx
import pytest
from batch_app.client import RetryPolicy, TriggerApiError, TriggerClient


@pytest.fixture
def served(mock_trigger_api, trigger_batch_factory):
    return mock_trigger_api.add_batch(trigger_batch_factory("COMPLETED"))


def test_a_429_waits_until_the_rate_limit_resets(client, mock_trigger_api, served, retry_waits):
    mock_trigger_api.fail_next("rate_limit", reset_after=2.5)

    assert client.retrieve(served.id).status == "COMPLETED"

    # x-ratelimit-reset is 2.5 s away: not the backoff, not secondsUntilReset (3)
    assert retry_waits == [pytest.approx(2.5 + client.retry.reset_margin, abs=0.1)]
    assert [call.status_code for call in mock_trigger_api.retrievals(served)] == [429, 200]


@pytest.mark.anyio
async def test_the_async_client_waits_for_the_reset_too(
    async_client, mock_trigger_api, served, retry_waits
):
    mock_trigger_api.fail_next("rate_limit", times=2, reset_after=4)

    assert (await async_client.retrieve(served.id)).status == "COMPLETED"

    assert retry_waits == [pytest.approx(4 + async_client.retry.reset_margin, abs=0.1)] * 2
    mock_trigger_api.assert_retrieved(served, times=3)


@pytest.mark.parametrize("status_code", [500, 502, 503])
def test_server_errors_are_retried_with_backoff(
    client, mock_trigger_api, served, retry_waits, status_code
):
    mock_trigger_api.fail_next("server_error", times=2, status_code=status_code)

    assert client.retrieve(served.id).id == served.id

    assert retry_waits == [0.5, 1.0]
    assert [c.status_code for c in mock_trigger_api.retrievals(served)] == [status_code] * 2 + [200]


@pytest.mark.parametrize("fault", ["timeout", "connect_error"])
def test_timeouts_and_connection_errors_are_retried(
    client, mock_trigger_api, served, retry_waits, fault
):
    mock_trigger_api.fail_next(fault, batch_id=served.id)

    assert client.retrieve(served.id).id == served.id

    assert [call.outcome for call in mock_trigger_api.retrievals(served)] == [fault, "answered"]
    assert retry_waits == [0.5]


@pytest.mark.anyio
@pytest.mark.parametrize("fault", ["timeout", "connect_error"])
async def test_the_async_client_retries_transport_errors(
    async_client, mock_trigger_api, served, fault
):
    mock_trigger_api.fail_next(fault, times=3)

    assert (await async_client.retrieve(served.id)).id == served.id

    mock_trigger_api.assert_retrieved(served, times=4)


def test_gives_up_after_max_attempts(client, mock_trigger_api, served, retry_waits):
    # more faults than attempts: the rest stay unused, which required=False allows
    mock_trigger_api.fail_next("server_error", times=10, status_code=503, required=False)

    with pytest.raises(TriggerApiError, match=r"answered 503.*\(4 attempt\(s\)\)") as caught:
        client.retrieve(served.id)

    assert (caught.value.status_code, caught.value.attempts) == (503, 4)
    mock_trigger_api.assert_retrieved(served, times=4)
    assert retry_waits == [0.5, 1.0, 2.0]


def test_an_unreachable_api_is_reported_with_its_cause(client, mock_trigger_api, served):
    mock_trigger_api.fail_next("timeout", times=4)

    with pytest.raises(TriggerApiError, match="could not reach") as caught:
        client.retrieve(served.id)

    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
    mock_trigger_api.assert_retrieved(served, times=4)


def test_a_fault_for_one_batch_leaves_the_others_alone(
    client, mock_trigger_api, trigger_batch_factory, retry_waits
):
    flaky = mock_trigger_api.add_batch(trigger_batch_factory("PENDING"))
    steady = mock_trigger_api.add_batch(trigger_batch_factory("PROCESSING"))
    mock_trigger_api.fail_next("server_error", batch_id=flaky.id)

    assert client.retrieve(steady.id).status == "PROCESSING"
    assert client.retrieve(flaky.id).status == "PENDING"

    mock_trigger_api.assert_retrieved(steady, times=1)
    mock_trigger_api.assert_retrieved(flaky, times=2)
    assert retry_waits == [0.5]


def test_a_small_token_bucket_is_waited_out(mock_trigger_api, trigger_batch_factory):
    """With the real clock and sleep: the client waits until x-ratelimit-reset, no longer."""
    mock_trigger_api.rate_limit(limit=2, refill=2, interval=0.1)
    served = [mock_trigger_api.add_batch(trigger_batch_factory()) for _ in range(4)]

    with TriggerClient(
        base_url=mock_trigger_api.base_url, secret_key=mock_trigger_api.secret_key
    ) as client:
        for handle in served:
            client.retrieve(handle.id)

    codes = [call.status_code for call in mock_trigger_api.calls]
    assert codes.count(200) == 4
    assert 429 in codes
    mock_trigger_api.assert_all_retrieved()


@pytest.mark.parametrize(
    ("status_code", "should_retry", "expected"),
    [
        (404, "false", False),
        (404, "true", True),
        (503, "false", False),
        (503, None, True),
        (409, None, True),
        (400, None, False),
    ],
)
def test_x_should_retry_beats_the_status_code(status_code, should_retry, expected):
    headers = {} if should_retry is None else {"x-should-retry": should_retry}
    response = httpx.Response(status_code, headers=headers)

    assert RetryPolicy.should_retry(response) is expected
