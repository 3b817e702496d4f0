"""mock_trigger_api answers as the real API does: one test per rule, sync and async."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import pytest

from pytest_trigger_batches import BatchFactory, TriggerBatch
from pytest_trigger_batches.mock import MockTriggerApi
from pytest_trigger_batches.redact import mask_key

BASE = "https://api.trigger.dev"
Fetch = Callable[..., httpx.Response]


@pytest.fixture(params=["sync", "async"])
def fetch(request: pytest.FixtureRequest) -> Fetch:
    """GET through an httpx.Client or an httpx.AsyncClient: every test runs with both."""

    def sync_get(url: str, *, headers: Mapping[str, str] | None = None) -> httpx.Response:
        with httpx.Client() as client:
            return client.get(url, headers=headers)

    def async_get(url: str, *, headers: Mapping[str, str] | None = None) -> httpx.Response:
        async def go() -> httpx.Response:
            async with httpx.AsyncClient() as client:
                return await client.get(url, headers=headers)

        return asyncio.run(go())

    return sync_get if request.param == "sync" else async_get


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def url(batch: TriggerBatch | str, version: int = 1) -> str:
    batch_id = batch if isinstance(batch, str) else batch.id
    return f"{BASE}/api/v{version}/batches/{batch_id}"


# -- bodies -------------------------------------------------------------------------


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize(
    "status", ["PENDING", "PROCESSING", "COMPLETED", "PARTIAL_FAILED", "ABORTED"]
)
def test_body_is_the_server_shaped_payload(
    mock_trigger_api: MockTriggerApi,
    trigger_batch_factory: BatchFactory,
    fetch: Fetch,
    status: str,
    version: int,
) -> None:
    batch = trigger_batch_factory(status)
    mock_trigger_api.add_batch(batch)
    response = fetch(url(batch, version), headers=auth(mock_trigger_api.secret_key))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == batch.to_payload(version=version)  # type: ignore[arg-type]


def test_a_payload_dict_can_be_registered(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory, fetch: Fetch
) -> None:
    payload = trigger_batch_factory("PARTIAL_FAILED").to_payload()
    handle = mock_trigger_api.add_batch(payload)
    response = fetch(url(handle.id), headers=auth(mock_trigger_api.secret_key))
    assert response.json() == payload


def test_every_response_carries_rate_limit_headers(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory, fetch: Fetch
) -> None:
    batch = trigger_batch_factory()
    mock_trigger_api.add_batch(batch)
    before_ms = time.time() * 1000
    answers = [
        fetch(url(batch), headers=auth(mock_trigger_api.secret_key)),  # 200
        fetch(url(batch), headers=auth("tr_dev_unknown")),  # 401 (a missing header has none)
        fetch(url("batch_cmx0ugyuv00004a7d2bda9ln4"), headers=auth(mock_trigger_api.secret_key)),
    ]
    for response in answers:
        assert response.headers["x-ratelimit-limit"] == "750"
        assert int(response.headers["x-ratelimit-remaining"]) >= 0
        assert int(response.headers["x-ratelimit-reset"]) > before_ms
        assert "retry-after" not in response.headers
    assert answers[0].headers["x-ratelimit-remaining"] == "749"


def test_replacing_a_batch_with_the_same_id(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory, fetch: Fetch
) -> None:
    first = trigger_batch_factory("PROCESSING")
    second = trigger_batch_factory("COMPLETED", batch_id=first.id)
    mock_trigger_api.add_batch(first)
    mock_trigger_api.add_batch(second)
    body = fetch(url(first), headers=auth(mock_trigger_api.secret_key)).json()
    assert body["status"] == "COMPLETED"
    assert len(mock_trigger_api.batches) == 1


# -- auth and errors ------------------------------------------------------------------


def test_a_pinned_key_can_belong_to_a_named_environment(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory, fetch: Fetch
) -> None:
    batch = trigger_batch_factory()
    eu, us = "tr_stg_" + "e" * 20, "tr_stg_" + "u" * 20
    with pytest.raises(ValueError, match="pin a key to it first"):
        mock_trigger_api.add_batch(batch, environment="staging-eu")  # no key belongs to it
    mock_trigger_api.accept_key(eu, environment="staging-eu")
    mock_trigger_api.accept_key(us, environment="staging-us")
    mock_trigger_api.add_batch(batch, environment="staging-eu")
    assert fetch(url(batch), headers=auth(eu)).status_code == 200
    assert fetch(url(batch), headers=auth(us)).status_code == 404


# -- lifecycle --------------------------------------------------------------------------


def statuses(fetch: Fetch, api: MockTriggerApi, batch_id: str, polls: int) -> list[str]:
    return [
        fetch(url(batch_id), headers=auth(api.secret_key)).json()["status"] for _ in range(polls)
    ]


def test_progress_after_walks_the_platform_lifecycle(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory, fetch: Fetch
) -> None:
    final = trigger_batch_factory("COMPLETED", failed_count=2)
    handle = mock_trigger_api.add_batch(final, progress_after=3)
    seen = statuses(fetch, mock_trigger_api, final.id, 5)
    assert seen == ["PENDING", "PROCESSING", "PARTIAL_FAILED", "COMPLETED", "COMPLETED"]
    assert handle.served == 5


def test_progress_after_repeats_states_over_more_polls(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory, fetch: Fetch
) -> None:
    final = trigger_batch_factory("COMPLETED")
    mock_trigger_api.add_batch(final, progress_after=6)
    seen = statuses(fetch, mock_trigger_api, final.id, 7)
    assert seen == [
        "PENDING",
        "PENDING",
        "PROCESSING",
        "PROCESSING",
        "PENDING",
        "PENDING",
        "COMPLETED",
    ]


def test_counts_and_runs_stay_consistent_at_every_step(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory, fetch: Fetch
) -> None:
    final = trigger_batch_factory("COMPLETED", run_count=8, failed_count=3)
    mock_trigger_api.add_batch(final, progress_after=3)
    bodies = [fetch(url(final), headers=auth(mock_trigger_api.secret_key)).json() for _ in range(4)]
    for body in bodies:
        assert TriggerBatch.from_payload(body).run_count == 8  # validates every invariant
    assert [len(b["runs"]) for b in bodies] == [0, 0, 5, 5]
    assert "failedRunCount" not in bodies[1]
    assert bodies[2]["failedRunCount"] == bodies[3]["failedRunCount"] == 3
    assert bodies[2]["errors"] == bodies[3]["errors"]
    updated = [b["updatedAt"] for b in bodies]
    assert updated == sorted(updated)


def test_explicit_states_are_walked_in_order(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory, fetch: Fetch
) -> None:
    pending, processing, partial, completed = trigger_batch_factory.lifecycle(
        "COMPLETED", failed_count=1
    )
    mock_trigger_api.add_batch([pending, pending, processing, partial, completed])
    seen = statuses(fetch, mock_trigger_api, pending.id, 6)
    assert seen == ["PENDING", "PENDING", "PROCESSING", "PARTIAL_FAILED", "COMPLETED", "COMPLETED"]


def test_explicit_states_must_follow_the_lifecycle(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory
) -> None:
    pending, processing, _partial, completed = trigger_batch_factory.lifecycle(
        "COMPLETED", failed_count=1
    )
    with pytest.raises(
        ValueError, match=r"states\[1\] cannot follow states\[0\].*COMPLETED is final"
    ):
        mock_trigger_api.add_batch([completed, processing])
    other = trigger_batch_factory("PROCESSING")
    with pytest.raises(ValueError, match="the batch id changed"):
        mock_trigger_api.add_batch([pending, other])


def test_failed_retrievals_do_not_advance_the_lifecycle(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory, fetch: Fetch
) -> None:
    final = trigger_batch_factory("COMPLETED")
    mock_trigger_api.add_batch(final, progress_after=2)
    mock_trigger_api.fail_next("server_error")
    assert fetch(url(final), headers=auth(mock_trigger_api.secret_key)).status_code == 500
    assert fetch(url(final)).status_code == 401
    assert statuses(fetch, mock_trigger_api, final.id, 3) == ["PROCESSING", "PENDING", "COMPLETED"]


# -- faults -------------------------------------------------------------------------------


def test_rate_limit_fault_answers_429_like_the_platform(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory, fetch: Fetch
) -> None:
    batch = trigger_batch_factory()
    mock_trigger_api.add_batch(batch)
    mock_trigger_api.fail_next("rate_limit", times=2, reset_after=3)
    now_ms = time.time() * 1000
    first = fetch(url(batch), headers=auth(mock_trigger_api.secret_key))
    assert first.status_code == 429
    assert first.headers["content-type"] == "application/problem+json; charset=utf-8"
    assert first.headers["x-ratelimit-remaining"] == "0"
    reset = int(first.headers["x-ratelimit-reset"])
    assert now_ms + 2500 < reset < now_ms + 4000
    body = first.json()
    assert body["title"] == "Rate Limit Exceeded"
    assert body["status"] == 429
    assert body["type"].endswith("/429")
    assert body["reset"] == reset
    assert body["limit"] == 750
    assert body["remaining"] == -1  # raw, as the limiter reports a refusal
    assert body["secondsUntilReset"] == 3
    assert body["error"] == "Rate limit exceeded 0/750 requests remaining. Retry in 3 seconds."
    assert body["detail"] == body["error"]
    assert fetch(url(batch), headers=auth(mock_trigger_api.secret_key)).status_code == 429
    assert fetch(url(batch), headers=auth(mock_trigger_api.secret_key)).status_code == 200


@pytest.mark.parametrize("status_code", [500, 502, 503])
def test_server_error_fault(
    mock_trigger_api: MockTriggerApi,
    trigger_batch_factory: BatchFactory,
    fetch: Fetch,
    status_code: int,
) -> None:
    batch = trigger_batch_factory()
    mock_trigger_api.add_batch(batch)
    mock_trigger_api.fail_next("server_error", status_code=status_code)
    response = fetch(url(batch), headers=auth(mock_trigger_api.secret_key))
    assert response.status_code == status_code
    assert "x-ratelimit-limit" in response.headers
    assert fetch(url(batch), headers=auth(mock_trigger_api.secret_key)).status_code == 200


@pytest.mark.parametrize(
    ("fault", "exception"),
    [("timeout", httpx.ReadTimeout), ("connect_error", httpx.ConnectError)],
)
def test_transport_faults_raise_httpx_errors(
    mock_trigger_api: MockTriggerApi,
    trigger_batch_factory: BatchFactory,
    fetch: Fetch,
    fault: Any,
    exception: type[Exception],
) -> None:
    batch = trigger_batch_factory()
    mock_trigger_api.add_batch(batch)
    mock_trigger_api.fail_next(fault)
    with pytest.raises(exception):
        fetch(url(batch), headers=auth(mock_trigger_api.secret_key))
    assert mock_trigger_api.calls[-1].outcome == fault
    assert mock_trigger_api.calls[-1].status_code is None


def test_faults_can_target_one_batch(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory, fetch: Fetch
) -> None:
    one, two = trigger_batch_factory(), trigger_batch_factory()
    mock_trigger_api.add_batch(one)
    mock_trigger_api.add_batch(two)
    mock_trigger_api.fail_next("server_error", batch_id=two.id)
    assert fetch(url(one), headers=auth(mock_trigger_api.secret_key)).status_code == 200
    assert fetch(url(two), headers=auth(mock_trigger_api.secret_key)).status_code == 500
    assert fetch(url(two), headers=auth(mock_trigger_api.secret_key)).status_code == 200


def test_a_counting_rate_limit_catches_a_client_that_ignores_reset(
    mock_trigger_api: MockTriggerApi,
    trigger_batch_factory: BatchFactory,
    fetch: Fetch,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [1_800_000_000_000]  # unix ms, moved by hand: no sleeping, no timing flakes
    mock_trigger_api.clock = lambda: clock[0] / 1000
    batch = trigger_batch_factory()
    mock_trigger_api.add_batch(batch)
    mock_trigger_api.rate_limit(limit=2, refill=1, interval=5)
    answers = [fetch(url(batch), headers=auth(mock_trigger_api.secret_key)) for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 429]
    assert [r.headers["x-ratelimit-remaining"] for r in answers] == ["1", "0", "0"]
    reset = int(answers[2].headers["x-ratelimit-reset"])
    assert reset == clock[0] + 5000
    assert answers[2].json()["secondsUntilReset"] == 5
    clock[0] = reset - 1  # a client that does not wait long enough is still refused
    assert fetch(url(batch), headers=auth(mock_trigger_api.secret_key)).status_code == 429
    clock[0] = reset  # waiting exactly until x-ratelimit-reset is enough
    refilled = fetch(url(batch), headers=auth(mock_trigger_api.secret_key))
    assert refilled.status_code == 200
    assert refilled.headers["x-ratelimit-remaining"] == "0"


# -- recording and assertions ----------------------------------------------------------


def test_every_request_is_recorded_with_the_key_redacted(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory, fetch: Fetch
) -> None:
    batch = trigger_batch_factory()
    mock_trigger_api.add_batch(batch)
    mock_trigger_api.fail_next("rate_limit")
    key = mock_trigger_api.secret_key
    fetch(url(batch), headers=auth(key))
    fetch(url(batch, 2), headers=auth(key))
    fetch(url(batch))
    calls = mock_trigger_api.calls
    assert [(c.status_code, c.api_version, c.batch_id) for c in calls] == [
        (429, 1, batch.id),
        (200, 2, batch.id),
        (401, 1, batch.id),
    ]
    assert calls[0].headers["authorization"] == "Bearer " + mask_key(key)
    assert key not in repr(calls) + repr(mock_trigger_api) + str(calls)


def test_assert_retrieved_counts_and_explains(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory, fetch: Fetch
) -> None:
    batch, other = trigger_batch_factory(), trigger_batch_factory()
    mock_trigger_api.add_batch(batch)
    mock_trigger_api.add_batch(other)
    fetch(url(batch), headers=auth(mock_trigger_api.secret_key))
    fetch(url(batch), headers=auth(mock_trigger_api.secret_key))
    mock_trigger_api.assert_retrieved(batch, times=2)
    mock_trigger_api.assert_retrieved(batch.id)
    mock_trigger_api.assert_not_retrieved(other)
    with pytest.raises(AssertionError) as failure:
        mock_trigger_api.assert_retrieved(batch, times=3)
    assert str(failure.value).startswith(
        f"expected {batch.id} to be retrieved 3 times, it was retrieved 2 times."
    )
    assert f"2. GET {url(batch)} -> 200" in str(failure.value)
    with pytest.raises(AssertionError, match=f"expected {other.id} to be retrieved at least once"):
        mock_trigger_api.assert_retrieved(other)
    with pytest.raises(
        AssertionError, match=f"1 of 2 registered batches were never retrieved: {other.id}"
    ):
        mock_trigger_api.assert_all_retrieved()
    with pytest.raises(AssertionError, match=f"expected {batch.id} not to be retrieved"):
        mock_trigger_api.assert_not_retrieved(batch)


def test_assertions_say_when_nothing_reached_the_api(mock_trigger_api: MockTriggerApi) -> None:
    with pytest.raises(AssertionError, match=r"No request reached https://api\.trigger\.dev"):
        mock_trigger_api.assert_retrieved("batch_cmx0ugyuv00004a7d2bda9ln4")


def test_head_answers_without_a_body(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory
) -> None:
    batch = trigger_batch_factory()
    mock_trigger_api.add_batch(batch)
    response = httpx.head(url(batch), headers=auth(mock_trigger_api.secret_key))
    assert response.status_code == 200
    assert response.content == b""


def test_base_url_with_a_client_base_url(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory
) -> None:
    batch = trigger_batch_factory()
    mock_trigger_api.add_batch(batch)
    with httpx.Client(base_url=BASE, headers=auth(mock_trigger_api.secret_key)) as client:
        assert client.get(f"/api/v1/batches/{batch.id}").json()["id"] == batch.id


def test_other_hosts_are_left_to_respx_mock(
    mock_trigger_api: MockTriggerApi, respx_mock: Any, trigger_batch_factory: BatchFactory
) -> None:
    route = respx_mock.get("https://hooks.example.com/notify").respond(json={"ok": True})
    batch = trigger_batch_factory()
    mock_trigger_api.add_batch(batch)
    assert httpx.get("https://hooks.example.com/notify").json() == {"ok": True}
    assert httpx.get(url(batch), headers=auth(mock_trigger_api.secret_key)).status_code == 200
    assert route.call_count == 1
    assert len(mock_trigger_api.calls) == 1


def test_respx_mock_started_first_still_leaves_trigger_to_the_mock(
    respx_mock: Any, mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory
) -> None:
    respx_mock.get("https://hooks.example.com/notify").respond(204)
    batch = trigger_batch_factory()
    mock_trigger_api.add_batch(batch)
    assert httpx.get(url(batch), headers=auth(mock_trigger_api.secret_key)).status_code == 200
    assert httpx.get("https://hooks.example.com/notify").status_code == 204


def test_other_hosts_pass_through_when_no_other_router(
    mock_trigger_api: MockTriggerApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[str] = []
    import httpcore

    def fake_handle(self: object, request: httpcore.Request) -> httpcore.Response:
        sent.append(request.url.host.decode())
        return httpcore.Response(200, content=json.dumps({"real": True}).encode())

    # Stand in for the network below respx, to prove the request was passed on.
    mock_trigger_api.stop()
    monkeypatch.setattr(httpcore.ConnectionPool, "handle_request", fake_handle)
    mock_trigger_api.start()  # respx now wraps the stand-in
    try:
        assert httpx.get("http://127.0.0.1:9/health").json() == {"real": True}
    finally:
        mock_trigger_api.stop()  # before monkeypatch restores the pool
    assert sent == ["127.0.0.1"]
    assert mock_trigger_api.calls == []


def test_mock_context_manager_outside_pytest(trigger_batch_factory: BatchFactory) -> None:
    batch = trigger_batch_factory()
    with MockTriggerApi(base_url="https://trigger.internal/self-hosted/") as api:
        api.add_batch(batch)
        response = httpx.get(
            f"https://trigger.internal/self-hosted/api/v1/batches/{batch.id}",
            headers=auth(api.secret_key),
        )
    assert response.status_code == 200
    assert api.calls[0].path == f"/api/v1/batches/{batch.id}"


def test_add_batch_rejects_what_the_platform_never_returns(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory
) -> None:
    payload = trigger_batch_factory("PARTIAL_FAILED", run_count=10, failed_count=3).to_payload()
    payload["failedRunCount"] = 4
    with pytest.raises(
        ValueError, match="successfulRunCount \\+ failedRunCount must equal runCount"
    ):
        mock_trigger_api.add_batch(payload)
    with pytest.raises(TypeError, match="batch must be a TriggerBatch, a payload dict"):
        mock_trigger_api.add_batch(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="progress_after must be a whole number"):
        mock_trigger_api.add_batch(trigger_batch_factory(), progress_after=-1)


def test_preflights_and_head_requests_are_not_retrievals(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory
) -> None:
    final = trigger_batch_factory("COMPLETED")
    handle = mock_trigger_api.add_batch(final, progress_after=1)
    httpx.options(url(final), headers={"Origin": "https://app.example"})
    head = httpx.head(url(final), headers=auth(mock_trigger_api.secret_key))
    assert head.status_code == 200
    assert handle.served == 0  # the application saw no body: the batch has not moved on
    assert [c.method for c in mock_trigger_api.calls] == ["OPTIONS", "HEAD"]
    mock_trigger_api.assert_not_retrieved(final)
    body = httpx.get(url(final), headers=auth(mock_trigger_api.secret_key)).json()
    assert body["status"] == "PENDING"
    mock_trigger_api.assert_retrieved(final, times=1)


def test_polls_may_miss_states_between_them(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory, fetch: Fetch
) -> None:
    pending, *_, completed = trigger_batch_factory.lifecycle("COMPLETED", failed_count=2)
    mock_trigger_api.add_batch([pending, completed])  # a fast batch: PENDING, then done
    assert statuses(fetch, mock_trigger_api, pending.id, 3) == ["PENDING", "COMPLETED", "COMPLETED"]


def test_head_requests_meet_no_fault(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory
) -> None:
    batch = trigger_batch_factory()
    mock_trigger_api.add_batch(batch)
    mock_trigger_api.fail_next("rate_limit")
    assert httpx.head(url(batch), headers=auth(mock_trigger_api.secret_key)).status_code == 200
    assert httpx.get(url(batch), headers=auth(mock_trigger_api.secret_key)).status_code == 429


def test_a_preflight_is_answered_only_for_a_served_route(mock_trigger_api: MockTriggerApi) -> None:
    asked = "authorization, x-trigger-client, traceparent"
    answer = httpx.options(
        url("batch_cmx0ugyuv00004a7d2bda9ln4", 2),
        headers={"Origin": "https://app.example", "Access-Control-Request-Headers": asked},
    )
    assert answer.headers["access-control-allow-headers"] == asked
    with pytest.raises(AssertionError, match="does not serve OPTIONS"):
        httpx.options(f"{BASE}/api/v3/whatever")
    mock_trigger_api.calls.clear()  # the refused preflight was this test's point


def test_two_mocks_side_by_side_leave_a_third_host_alone(
    mock_trigger_api: MockTriggerApi,
    trigger_batch_factory: BatchFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import httpcore

    sent: list[str] = []

    # Named as the method it stands in for: respx does not wrap a function of another name.
    def handle_request(self: object, request: httpcore.Request) -> httpcore.Response:
        sent.append(request.url.host.decode())
        return httpcore.Response(204)

    mock_trigger_api.stop()
    monkeypatch.setattr(httpcore.ConnectionPool, "handle_request", handle_request)
    batch = trigger_batch_factory()
    try:
        with MockTriggerApi(base_url="https://self-hosted.example") as other:
            mock_trigger_api.start()
            mock_trigger_api.add_batch(batch)
            other.add_batch(batch)
            for origin in (BASE, "https://self-hosted.example"):
                answer = httpx.get(
                    f"{origin}/api/v1/batches/{batch.id}", headers=auth(other.secret_key)
                )
                assert answer.status_code == 200
            assert httpx.get("http://127.0.0.1:9/health").status_code == 204
    finally:
        mock_trigger_api.stop()
    assert sent == ["127.0.0.1"]
    assert (len(mock_trigger_api.calls), len(other.calls)) == (1, 1)


def test_a_malformed_key_is_masked_and_other_text_left_alone(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory
) -> None:
    from pytest_trigger_batches.redact import redact

    batch = trigger_batch_factory()
    mock_trigger_api.add_batch(batch)
    typo = "tr_prd_" + "S3cret" * 4  # a real key with its prefix mistyped is still a secret
    assert httpx.get(url(batch), headers=auth(typo)).status_code == 401
    assert mock_trigger_api.calls[-1].headers["authorization"] == "Bearer " + mask_key(typo)
    # The typo was sent as a key: redacted from now on. A look-alike that is neither a
    # well-formed key nor one the plugin saw is not a credential: left as it is.
    assert redact(f"sent {typo}!") == "sent tr_prd_****!"
    look_alikes = "tr_expected_total = 3; key=tr_dev_Ab12&page=2; str_dev_notes"
    assert redact(look_alikes) == look_alikes


def test_a_recorded_call_has_every_field_and_equals_its_copy(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory, fetch: Fetch
) -> None:
    # Calls are built slot by slot, not through RecordedCall's __init__.
    batch = trigger_batch_factory()
    mock_trigger_api.add_batch(batch)
    url = f"{BASE}/api/v1/batches/{batch.id}?x=1"
    assert fetch(url, headers=auth(mock_trigger_api.secret_key)).status_code == 200
    (call,) = mock_trigger_api.calls
    fields = dataclasses.asdict(call)
    assert fields == {
        "method": "GET",
        "url": url,
        "path": f"/api/v1/batches/{batch.id}",
        "headers": call.headers,
        "status_code": 200,
        "outcome": "answered",
        "route": "GET /api/v1/batches/{batchId}",
        "params": {"batchId": batch.id},
        "body": None,
        "stubbed": False,
    }
    assert call.headers["authorization"] == "Bearer " + mask_key(mock_trigger_api.secret_key)
    assert dataclasses.replace(call) == call


def test_a_path_matched_again_gives_the_same_route_and_fresh_params() -> None:
    # The routing table remembers what it matched; each answer's params are its own.
    from pytest_trigger_batches.table import TABLE

    first = TABLE.match("GET", "/api/v1/batches/batch_a%2Fb")
    assert first is not None
    first[1]["batchId"] = "changed"
    for method in ("GET", "HEAD"):
        again = TABLE.match(method, "/api/v1/batches/batch_a%2Fb")
        assert again is not None
        assert again[0] is first[0]
        assert again[1] == {"batchId": "batch_a/b"}
    assert TABLE.match("DELETE", "/api/v1/batches/batch_a%2Fb") is None
    assert TABLE.match("DELETE", "/api/v1/batches/batch_a%2Fb") is None
