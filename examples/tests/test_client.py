"""Retrieving a batch: what the application reads from each answer the API gives."""

from __future__ import annotations

import asyncio

import pytest
from batch_app.client import (
    AsyncTriggerClient,
    AuthenticationError,
    Batch,
    BatchNotFound,
    MissingSecretKey,
    TriggerClient,
)

from pytest_trigger_batches import BatchStatus, TriggerBatch, assert_run_counts

PROD_KEY = "tr_prod_" + "p1" * 12
DEV_KEY = "tr_dev_" + "d2" * 12


def assert_reads(batch: Batch, served: TriggerBatch) -> None:
    """The application's view of a batch is what the API served."""
    assert (batch.id, batch.status, batch.run_count) == (served.id, served.status, served.run_count)
    assert batch.runs == served.runs
    assert batch.successful_run_count == served.successful_run_count
    assert batch.failed_run_count == served.failed_run_count
    assert [(e.index, e.task_identifier, e.code, e.message) for e in batch.errors] == [
        (e.index, e.task_identifier, e.error_code, e.error) for e in served.errors
    ]


@pytest.mark.parametrize(
    ("status", "options"),
    [
        *[pytest.param(status, {}, id=status) for status in BatchStatus],
        pytest.param("PENDING", {"runs_created": True}, id="PENDING-runs-created"),
        pytest.param("ABORTED", {"runs_created": False}, id="ABORTED-items-never-arrived"),
        pytest.param("COMPLETED", {"failed_count": 2}, id="COMPLETED-with-failures"),
        pytest.param("COMPLETED", {"legacy": True}, id="COMPLETED-legacy"),
    ],
)
def test_reads_every_status(client, mock_trigger_api, trigger_batch_factory, status, options):
    served = trigger_batch_factory(status, **options)
    mock_trigger_api.add_batch(served)

    assert_reads(client.retrieve(served.id), served)
    mock_trigger_api.assert_retrieved(served, times=1)


@pytest.mark.trigger_batch("PARTIAL_FAILED", run_count=12, failed_count=4)
@pytest.mark.parametrize("api_version", [1, 2])
def test_v1_and_v2_bodies_read_the_same(client, mock_trigger_api, trigger_batch, api_version):
    assert_run_counts(trigger_batch, total=12, successful=8, failed=4)

    batch = client.retrieve(trigger_batch.id, api_version=api_version)

    assert_reads(batch, trigger_batch)  # v2 has no counts: the client derives them
    [call] = mock_trigger_api.retrievals(trigger_batch)
    assert call.path == f"/api/v{api_version}/batches/{trigger_batch.id}"


@pytest.mark.anyio
async def test_sync_and_async_clients_read_the_same(
    client, async_client, mock_trigger_api, trigger_batch_factory
):
    served = [trigger_batch_factory(status) for status in BatchStatus]
    for batch in served:
        mock_trigger_api.add_batch(batch)

    read_sync = [client.retrieve(batch.id) for batch in served]
    read_async = await asyncio.gather(*(async_client.retrieve(batch.id) for batch in served))

    assert read_async == read_sync
    mock_trigger_api.assert_all_retrieved()
    for batch in served:
        mock_trigger_api.assert_retrieved(batch, times=2)


def test_default_base_url_is_trigger_cloud(mock_trigger_api, trigger_batch_factory):
    served = mock_trigger_api.add_batch(trigger_batch_factory())

    with TriggerClient(secret_key=mock_trigger_api.secret_key) as client:
        client.retrieve(served.id)

    assert client.base_url == mock_trigger_api.base_url == "https://api.trigger.dev"
    mock_trigger_api.assert_retrieved(served, times=1)


@pytest.fixture
def self_hosted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIGGER_API_URL", "https://trigger.example.internal/")


def test_the_mock_and_the_app_both_follow_trigger_api_url(
    self_hosted, mock_trigger_api, trigger_batch_factory, monkeypatch
):
    monkeypatch.setenv("TRIGGER_SECRET_KEY", mock_trigger_api.secret_key)
    served = mock_trigger_api.add_batch(trigger_batch_factory())

    with TriggerClient() as client:
        assert client.retrieve(served.id).id == served.id

    assert client.base_url == mock_trigger_api.base_url == "https://trigger.example.internal"
    mock_trigger_api.assert_retrieved(served, times=1)


@pytest.mark.trigger_api(base_url="https://trigger.example.internal/self-hosted")
def test_base_url_with_a_path_from_the_environment(
    mock_trigger_api, trigger_batch_factory, monkeypatch
):
    monkeypatch.setenv("TRIGGER_API_URL", "https://trigger.example.internal/self-hosted/")
    served = mock_trigger_api.add_batch(trigger_batch_factory())

    with TriggerClient(secret_key=mock_trigger_api.secret_key) as client:
        client.retrieve(served.id)

    [call] = mock_trigger_api.retrievals(served)
    assert call.url == f"https://trigger.example.internal/self-hosted/api/v1/batches/{served.id}"


@pytest.mark.parametrize("env_value", [None, ""])
def test_no_secret_key_fails_before_any_request(
    mock_trigger_api, trigger_batch_factory, monkeypatch, env_value
):
    if env_value is not None:
        monkeypatch.setenv("TRIGGER_SECRET_KEY", env_value)
    served = mock_trigger_api.add_batch(trigger_batch_factory())

    with pytest.raises(MissingSecretKey, match="TRIGGER_SECRET_KEY"):
        TriggerClient(base_url=mock_trigger_api.base_url).retrieve(served.id)

    mock_trigger_api.assert_not_retrieved(served)  # not even to collect a 401


@pytest.mark.parametrize("key", [DEV_KEY, "sk_live_not_a_trigger_key"])
def test_a_key_the_api_does_not_accept_fails_once(
    mock_trigger_api, trigger_batch_factory, retry_waits, key
):
    mock_trigger_api.accept_key(PROD_KEY)
    served = mock_trigger_api.add_batch(trigger_batch_factory())

    with (
        TriggerClient(base_url=mock_trigger_api.base_url, secret_key=key) as client,
        pytest.raises(AuthenticationError, match="Invalid API key") as caught,
    ):
        client.retrieve(served.id)

    assert caught.value.status_code == 401
    assert key not in str(caught.value)
    mock_trigger_api.assert_retrieved(served, times=1)
    assert retry_waits == []


def test_an_unknown_batch_is_retried_as_the_api_asks_then_not_found(
    client, mock_trigger_api, retry_waits
):
    missing = "batch_cmx0ugyuv00004a7d2bda9ln4"

    with pytest.raises(BatchNotFound, match="answered 404: Not found") as caught:
        client.retrieve(missing)

    # The 404 carries x-should-retry: true (a replica may not have the batch yet), so the
    # client tries as often as its policy allows before giving up.
    assert caught.value.attempts == client.retry.max_attempts
    mock_trigger_api.assert_retrieved(missing, times=client.retry.max_attempts)
    assert len(retry_waits) == client.retry.max_attempts - 1


def test_a_batch_is_visible_only_to_keys_of_its_environment(
    mock_trigger_api, trigger_batch_factory, retry_waits
):
    mock_trigger_api.accept_key(PROD_KEY)
    mock_trigger_api.accept_key(DEV_KEY)
    served = trigger_batch_factory("COMPLETED")
    mock_trigger_api.add_batch(served, environment="prod")

    url = mock_trigger_api.base_url
    with (
        TriggerClient(base_url=url, secret_key=PROD_KEY) as prod,
        TriggerClient(base_url=url, secret_key=DEV_KEY, sleep=retry_waits.append) as dev,
    ):
        assert_reads(prod.retrieve(served.id), served)
        with pytest.raises(BatchNotFound):
            dev.retrieve(served.id)

    codes = [call.status_code for call in mock_trigger_api.retrievals(served)]
    assert codes[0] == 200
    assert set(codes[1:]) == {404}


@pytest.mark.anyio
@pytest.mark.trigger_batch("COMPLETED", environment="prod")
async def test_async_client_is_scoped_to_its_environment_too(mock_trigger_api, trigger_batch):
    mock_trigger_api.accept_key(DEV_KEY)
    waits = []

    async def no_sleep(seconds):
        waits.append(seconds)

    url = mock_trigger_api.base_url
    async with AsyncTriggerClient(base_url=url, secret_key=DEV_KEY, sleep=no_sleep) as dev:
        with pytest.raises(BatchNotFound):
            await dev.retrieve(trigger_batch.id)
    mock_trigger_api.assert_retrieved(trigger_batch, times=dev.retry.max_attempts)
