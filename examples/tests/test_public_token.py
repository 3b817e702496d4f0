"""The front end's token: it reads the batch (or run) the service triggered, and is
refused everything else. The browser is played by a client holding only the token."""

from __future__ import annotations

import pytest
from batch_app.client import AuthenticationError, TriggerApiError, TriggerClient
from batch_app.public_token import run_token, trigger_for_front_end
from batch_app.trigger import trigger_one_shot

NOW = 1_780_000_000.0


@pytest.fixture
def browser(mock_trigger_api):
    """Opens a client that holds a token instead of the secret key."""

    def open_with(token: str) -> TriggerClient:
        return TriggerClient(base_url=mock_trigger_api.base_url, secret_key=token)

    return open_with


def test_the_token_reads_the_batch_the_service_triggered_and_its_runs(client, browser, jobs):
    access = trigger_for_front_end(client, jobs)

    with browser(access.token) as front_end:
        batch = front_end.retrieve(access.batch_id, api_version=2)
        runs = [front_end.retrieve_run(run_id) for run_id in access.runs]

    assert batch.id == access.batch_id
    assert [run.id for run in runs] == list(access.runs)
    assert {run.batch_id for run in runs} == {access.batch_id}


def test_the_token_is_refused_another_batch_listing_and_triggering(client, browser, jobs):
    other = trigger_one_shot(client, jobs[:2])
    access = trigger_for_front_end(client, jobs)

    with browser(access.token) as front_end:
        for attempt in (
            lambda: front_end.retrieve(other.batch_id),
            lambda: front_end.retrieve_run(other.runs[0]),
            lambda: list(front_end.list_runs()),
            lambda: front_end.batch_trigger([{"task": "send-invoice", "payload": {}}]),
            lambda: front_end.create_public_token(["read:all"]),  # only secret keys mint
        ):
            with pytest.raises(TriggerApiError) as refused:
                attempt()
            assert refused.value.status_code in (401, 403)
            assert refused.value.attempts == 1  # a refusal is not retried


def test_a_run_token_reads_its_run_only(client, browser, jobs):
    sent = trigger_one_shot(client, jobs[:2])
    token = run_token(client, sent.runs[0])

    with browser(token) as front_end:
        assert front_end.retrieve_run(sent.runs[0]).id == sent.runs[0]
        with pytest.raises(TriggerApiError) as refused:
            front_end.retrieve_run(sent.runs[1])
        with pytest.raises(TriggerApiError) as batch_refused:
            front_end.retrieve(sent.batch_id)

    assert (refused.value.status_code, batch_refused.value.status_code) == (403, 403)


def test_the_token_expires_after_an_hour(client, browser, jobs, mock_trigger_api):
    mock_trigger_api.clock = lambda: NOW
    access = trigger_for_front_end(client, jobs)

    mock_trigger_api.clock = lambda: NOW + 3599
    with browser(access.token) as front_end:
        front_end.retrieve(access.batch_id)
        mock_trigger_api.clock = lambda: NOW + 3600
        with pytest.raises(AuthenticationError, match="Public Access Token is invalid"):
            front_end.retrieve(access.batch_id)


def test_an_additional_key_mints_the_same_token(mock_trigger_api, browser, jobs):
    additional = "tr_dev_sk_" + "FrontEnd" * 3
    with TriggerClient(base_url=mock_trigger_api.base_url, secret_key=additional) as service:
        access = trigger_for_front_end(service, jobs)

    with browser(access.token) as front_end:
        assert front_end.retrieve(access.batch_id).id == access.batch_id
