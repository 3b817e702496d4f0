"""The platform's rules (docs/platform.md §1 to §4), one test each, over every transport.

Each test runs three times: respx with httpx.Client, respx with httpx.AsyncClient, and
the HTTP server (the `wire` fixture in conftest.py).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from wire import KEY, Wire, wire

from pytest_trigger_batches import BatchFactory, TriggerBatch

FACTORY = BatchFactory(seed=7)
NOW = 1_780_000_000.0  # a fixed clock: 2026-05-28


def _batch(**options: Any) -> TriggerBatch:
    return FACTORY("COMPLETED", **options)


def _served(w: Wire, **options: Any) -> TriggerBatch:
    batch = _batch(**options)
    w.api.add_batch(batch)
    return batch


def _fixed(now: float = NOW) -> Any:
    return lambda: now


# -- §1 the pipeline ------------------------------------------------------------------


def test_an_unknown_batch_is_404_with_x_should_retry_true(wire: Wire) -> None:
    response = wire.get_batch("batch_cmx0ugyuv00004a7d2bda9ln4")
    assert response.status_code == 404
    assert response.json() == {"error": "Not found"}
    assert response.headers["x-should-retry"] == "true"  # since 2026-07-19


def test_another_environments_batch_is_the_same_404(wire: Wire) -> None:
    batch = _batch()
    wire.api.add_batch(batch, environment="prod")
    assert wire.get_batch(batch.id, key="tr_prod_" + "p" * 24).status_code == 200
    assert wire.get_batch(batch.id).json() == {"error": "Not found"}  # the dev key


def test_a_trailing_slash_is_a_301_before_the_limiter(wire: Wire) -> None:
    batch = _served(wire)
    response = wire.send("GET", f"/api/v1/batches/{batch.id}/?x=1", key=None)
    assert response.status_code == 301
    assert response.headers["location"] == f"/api/v1/batches/{batch.id}?x=1"
    assert response.text == f"Moved Permanently. Redirecting to /api/v1/batches/{batch.id}?x=1"
    assert "x-ratelimit-limit" not in response.headers  # the limiter never saw it
    assert wire.api.calls[-1].route == "GET /api/v1/batches/{batchId}"


def test_percent_encoded_path_parameters_are_decoded(wire: Wire) -> None:
    batch = _served(wire)
    encoded = "batch_%63" + batch.id[len("batch_c") :]
    response = wire.get_batch(encoded)
    assert response.status_code == 200
    assert response.json()["id"] == batch.id
    assert wire.api.calls[-1].params == {"batchId": batch.id}


def test_query_strings_the_route_does_not_declare_are_ignored(wire: Wire) -> None:
    batch = _served(wire)
    assert wire.send("GET", f"/api/v2/batches/{batch.id}?include=runs").status_code == 200


def test_a_preflight_is_200_with_an_empty_object_and_reflects_the_origin(wire: Wire) -> None:
    response = wire.send(
        "OPTIONS",
        "/api/v1/batches/batch_cmx0ugyuv00004a7d2bda9ln4",
        key=None,
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization,x-trigger-client",
        },
    )
    assert response.status_code == 200
    assert response.content == b"{}"
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    assert response.headers["access-control-allow-methods"] == "GET,HEAD,PUT,PATCH,POST,DELETE"
    assert response.headers["access-control-allow-headers"] == "authorization,x-trigger-client"
    assert response.headers["access-control-max-age"] == "300"
    assert response.headers["vary"] == "Origin, Access-Control-Request-Headers"


def test_a_preflight_without_an_origin_allows_no_origin(wire: Wire) -> None:
    response = wire.send("OPTIONS", "/api/v2/batches/batch_cmx0ugyuv00004a7d2bda9ln4", key=None)
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["vary"] == "Access-Control-Request-Headers"


def test_answers_expose_the_token_headers_and_reflect_the_origin(wire: Wire) -> None:
    batch = _served(wire)
    plain = wire.get_batch(batch.id)
    assert plain.headers["access-control-expose-headers"] == "x-trigger-jwt,x-trigger-jwt-claims"
    assert "access-control-allow-origin" not in plain.headers
    cross = wire.get_batch("batch_cmx0ugyuv00004a7d2bda9ln4", headers={"Origin": "https://a.b"})
    assert cross.status_code == 404  # errors from the route carry CORS too
    assert cross.headers["access-control-allow-origin"] == "https://a.b"
    assert cross.headers["vary"] == "Origin"


# -- §1.2 the rate limiter ------------------------------------------------------------


@pytest.mark.parametrize("header", [None, ""], ids=["no-header", "empty-header"])
def test_no_authorization_is_the_limiters_401_without_limit_or_cors_headers(
    wire: Wire, header: str | None
) -> None:
    headers = {"Origin": "https://a.b"} | ({} if header is None else {"Authorization": header})
    response = wire.get_batch("batch_cmx0ugyuv00004a7d2bda9ln4", key=None, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json; charset=utf-8"
    assert response.json() == {
        "title": "Unauthorized",
        "status": 401,
        "type": "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/401",
        "detail": "No authorization header provided",
        "error": "No authorization header provided",
    }
    assert response.text.startswith('{\n  "title": "Unauthorized",')  # pretty-printed
    assert not any(name.startswith(("x-ratelimit", "access-control")) for name in response.headers)


def test_the_limiter_runs_before_auth_with_a_bucket_of_its_own_for_an_unknown_key(
    wire: Wire,
) -> None:
    wire.api.rate_limit(limit=2)
    bad = "tr_dev_short"
    assert [wire.get_batch("batch_x", key=bad).status_code for _ in range(3)] == [401, 401, 429]
    first = wire.get_batch("batch_x", key=bad + "2")  # another unknown key: another bucket
    assert first.status_code == 401
    assert first.headers["x-ratelimit-remaining"] == "1"
    assert wire.get_batch("batch_cmx0ugyuv00004a7d2bda9ln4").status_code == 404  # the env's own


def test_one_bucket_per_environment(wire: Wire) -> None:
    wire.api.rate_limit(limit=3)
    one, other = "tr_dev_" + "a" * 24, "tr_dev_" + "b" * 20
    missing = "batch_cmx0ugyuv00004a7d2bda9ln4"
    seen = [wire.get_batch(missing, key=k).status_code for k in (one, other, one, other)]
    assert seen == [404, 404, 404, 429]  # two keys of dev share one bucket
    assert wire.get_batch(missing, key="tr_prod_" + "c" * 24).status_code == 404


def test_the_429_is_pretty_problem_json_with_raw_remaining_and_seconds_as_javascript_writes_them(
    wire: Wire,
) -> None:
    now = [NOW]
    wire.api.clock = lambda: now[0]
    wire.api.rate_limit(limit=1, interval=10)
    missing = "batch_cmx0ugyuv00004a7d2bda9ln4"
    wire.get_batch(missing)
    now[0] += 3.211
    response = wire.get_batch(missing)
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/problem+json; charset=utf-8"
    reset = int(NOW * 1000) + 10_000
    message = "Rate limit exceeded 0/1 requests remaining. Retry in 6.789 seconds."
    assert response.json() == {
        "title": "Rate Limit Exceeded",
        "status": 429,
        "type": "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/429",
        "detail": message,
        "reset": reset,
        "limit": 1,
        "remaining": -1,
        "secondsUntilReset": 6.789,
        "error": message,
    }
    assert response.text.startswith('{\n  "title": "Rate Limit Exceeded",')
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert response.headers["x-ratelimit-reset"] == str(reset)
    assert "retry-after" not in response.headers
    assert not any(name.startswith("access-control") for name in response.headers)
    now[0] += 1.789  # 5 s before the reset: JavaScript writes 5, not 5.0
    assert '"secondsUntilReset": 5,' in wire.get_batch(missing).text
    assert "Retry in 5 seconds." in wire.get_batch(missing).json()["error"]


def test_public_tokens_get_a_fixed_window_of_60_a_minute(wire: Wire) -> None:
    wire.api.clock = _fixed(NOW - NOW % 60 + 1)
    batch = _served(wire)
    token = wire.api.public_token(scopes=[f"read:batch:{batch.id}"])
    answers = [wire.get_batch(batch.id, key=token) for _ in range(61)]
    assert [a.status_code for a in answers[:60]] == [200] * 60
    assert answers[0].headers["x-ratelimit-limit"] == "60"
    assert answers[60].status_code == 429
    assert answers[60].json()["remaining"] == 0


# -- §2 keys and tokens ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (f"Bearer {KEY}", 200),
        (KEY, 200),  # no scheme at all: the key still works
        (f"bearer {KEY}", 401),  # only the exact "Bearer " prefix is stripped
        (f"Basic {KEY}", 401),
        (f"Bearer  {KEY}", 200),  # the rest is trimmed
    ],
    ids=["Bearer", "bare-key", "lower-case-bearer", "Basic", "extra-spaces"],
)
def test_only_the_exact_bearer_prefix_is_stripped(
    wire: Wire, authorization: str, status: int
) -> None:
    batch = _served(wire)
    response = wire.get_batch(batch.id, headers={"Authorization": authorization})
    assert response.status_code == status
    if status == 401:
        assert response.json() == {"error": "Invalid API key"}


def test_bearer_without_a_token_is_invalid_or_missing(wire: Wire) -> None:
    response = wire.get_batch("batch_x", headers={"Authorization": "Bearer x"}, key=None)
    assert response.json() == {"error": "Invalid API key"}
    assert response.headers["x-ratelimit-limit"] == "750"  # its own bucket, spent


@pytest.mark.parametrize(
    "key",
    ["tr_prod_" + "k" * 24, "tr_prod_" + "k" * 20, "tr_prod_sk_" + "k" * 24, "tr_stg_" + "1" * 24],
    ids=["24-chars", "20-chars-before-2026-08-06", "additional-sk-key", "staging"],
)
def test_every_secret_key_format_is_accepted(wire: Wire, key: str) -> None:
    batch = _served(wire)
    assert wire.get_batch(batch.id, key=key).status_code == 200


@pytest.mark.parametrize(
    "key", ["tr_prod_" + "k" * 22, "tr_live_" + "k" * 24, "tr_prod_sk_" + "k" * 20]
)
def test_a_malformed_key_is_invalid(wire: Wire, key: str) -> None:
    response = wire.get_batch(_served(wire).id, key=key)
    assert (response.status_code, response.json()) == (401, {"error": "Invalid API key"})


def test_a_preview_key_needs_x_trigger_branch(wire: Wire) -> None:
    batch = _served(wire)
    key = "tr_preview_" + "v" * 24
    response = wire.get_batch(batch.id, key=key)
    assert response.status_code == 401
    assert response.json() == {"error": "x-trigger-branch header required for preview env"}
    branch = wire.get_batch(batch.id, key=key, headers={"x-trigger-branch": "feature-x"})
    assert branch.status_code == 200


def test_pinned_keys_reject_other_well_formed_keys(wire: Wire) -> None:
    batch = _served(wire)
    pinned = "tr_prod_" + "P" * 24
    wire.api.accept_key(pinned)
    assert wire.get_batch(batch.id, key=pinned).status_code == 200
    assert wire.get_batch(batch.id, key="tr_prod_" + "Q" * 24).status_code == 401


@pytest.mark.parametrize(
    "scope",
    ["read:batch:{id}", "read:batch", "read:runs", "read:all", "admin", "*:all"],
)
def test_a_public_token_with_a_batch_scope_reads_the_batch(wire: Wire, scope: str) -> None:
    batch = _served(wire)
    token = wire.api.public_token(scopes=[scope.format(id=batch.id)])
    response = wire.get_batch(batch.id, key=token)
    assert response.status_code == 200
    assert response.json() == batch.to_payload()


def test_a_public_token_without_the_scope_is_403_after_the_lookup(wire: Wire) -> None:
    batch = _served(wire)
    token = wire.api.public_token(scopes=["read:batch:batch_cmx0ugyuv00004a7d2bda9ln4"])
    response = wire.get_batch(batch.id, key=token)
    assert response.status_code == 403
    assert response.json() == {
        "error": "Unauthorized",
        "code": "unauthorized",
        "param": "access_token",
        "type": "authorization",
    }
    assert wire.get_batch("batch_cmx0ugyuv00004a7d2bda9ln5", key=token).status_code == 404


def test_a_bad_public_token_is_401(wire: Wire) -> None:
    batch = _served(wire)
    wire.api.clock = _fixed()
    good = wire.api.public_token(scopes=["read:all"], expires_in=60)
    header, payload, signature = good.split(".")
    forged = f"{header}.{payload}.{signature[:-2]}AA"
    assert wire.get_batch(batch.id, key=forged).json() == {
        "error": "Public Access Token is invalid"
    }
    other = wire.api.public_token(scopes=["read:all"], secret_key="tr_dev_" + "o" * 24)
    assert wire.get_batch(batch.id, key=other).status_code == 200  # a dev key seen by the API
    wire.api.clock = _fixed(NOW + 61)  # past its expiry on the mock's clock
    assert wire.get_batch(batch.id, key=good).json() == {"error": "Public Access Token is invalid"}


def test_a_token_for_an_unknown_environment_is_an_invalid_public_access_token(wire: Wire) -> None:
    import base64

    batch = _served(wire)
    token = wire.api.public_token(scopes=["read:all"])
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "cnotanenvironment000000000"
    swapped = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    response = wire.get_batch(batch.id, key=f"{header}.{swapped}.{signature}")
    assert response.json() == {"error": "Invalid Public Access Token"}


def test_a_public_tokens_sub_is_the_environment_id(wire: Wire) -> None:
    import base64

    token = wire.api.public_token(scopes=["read:runs"])
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["sub"] == wire.api.environment_id("dev")
    assert (claims["pub"], claims["iss"], claims["aud"]) == (
        True,
        "https://id.trigger.dev",
        "https://api.trigger.dev",
    )
    assert claims["scopes"] == ["read:runs"]


# -- what the mock adds: faults, records, routes of the test's own ---------------------


def test_faults_come_after_auth(wire: Wire) -> None:
    batch = _served(wire)
    wire.api.fail_next("server_error", status_code=503)
    assert wire.get_batch(batch.id, key=None).status_code == 401  # meets no fault
    failed = wire.get_batch(batch.id)
    assert failed.status_code == 503
    assert failed.json() == {"error": "Internal Server Error"}
    assert failed.headers["x-ratelimit-limit"] == "750"
    assert wire.get_batch(batch.id).status_code == 200


def test_a_fault_can_name_its_route(wire: Wire) -> None:
    batch = _served(wire)
    wire.api.fail_next("server_error", route="GET /api/v2/batches/{batchId}")
    assert wire.get_batch(batch.id, version=1).status_code == 200
    assert wire.get_batch(batch.id, version=2).status_code == 500
    with pytest.raises(ValueError, match=r"route must be one the mock serves: GET /api/v1/"):
        wire.api.fail_next("server_error", route="GET /api/v1/batch/{batchId}")


def test_recorded_calls_name_the_route_and_its_parameters(wire: Wire) -> None:
    batch = _served(wire)
    wire.get_batch(batch.id, version=2)
    [call] = wire.api.calls
    assert (call.route, dict(call.params), call.batch_id, call.api_version) == (
        "GET /api/v2/batches/{batchId}",
        {"batchId": batch.id},
        batch.id,
        2,
    )
    assert call.headers["authorization"].startswith("Bearer tr_dev_****")


def test_a_route_of_the_test_answers_an_endpoint_the_mock_does_not_serve(wire: Wire) -> None:
    wire.api.add_route(
        "POST", "/api/v1/schedules/{scheduleId}/activate", status_code=200, json={"message": "ok"}
    )
    response = wire.send(
        "POST",
        "/api/v1/schedules/sched_abc/activate",
        content=b'{"active":true}',
        headers={"content-type": "application/json"},
    )
    assert (response.status_code, response.json()) == (200, {"message": "ok"})
    assert response.headers["x-ratelimit-limit"] == "750"  # after the shared steps
    call = wire.api.calls[-1]
    assert (call.route, call.stubbed, call.body) == (
        "POST /api/v1/schedules/{scheduleId}/activate",
        True,
        {"active": True},
    )
    assert wire.send("POST", "/api/v1/schedules/sched_abc/activate", key=None).status_code == 401


def test_a_route_of_the_test_never_shadows_the_mock(wire: Wire) -> None:
    with pytest.raises(ValueError, match=r"serves GET /api/v1/batches/\{batchId\} itself"):
        wire.api.add_route("GET", "/api/v1/batches/{id}", json={})


def test_head_answers_headers_only_and_moves_nothing(wire: Wire) -> None:
    states = FACTORY.lifecycle("COMPLETED", run_count=3)
    wire.api.add_batch(states)
    head = wire.send("HEAD", f"/api/v1/batches/{states[0].id}")
    assert (head.status_code, head.content) == (200, b"")
    assert wire.get_batch(states[0].id).json()["status"] == "PENDING"


def test_the_server_offers_the_set_up_methods_itself() -> None:
    with wire("server") as served:
        batch = _batch()
        handle = served.api.add_batch(batch)  # the server *is* the API
        assert handle.id == batch.id
        assert served.get_batch(batch.id).json() == batch.to_payload()


# -- the clock ------------------------------------------------------------------------


def test_the_rate_limit_reset_comes_from_the_mocks_clock(wire: Wire) -> None:
    wire.api.clock = _fixed(NOW)
    response = wire.get_batch("batch_cmx0ugyuv00004a7d2bda9ln4")
    assert response.headers["x-ratelimit-reset"] == str(int(NOW * 1000) + 10_000)


@pytest.mark.parametrize("transport", ["respx-sync", "server"])
def test_freezegun_moves_the_default_clock(transport: str) -> None:
    freezegun = pytest.importorskip("freezegun")
    with freezegun.freeze_time("2026-03-01T12:00:00Z"), wire(transport) as served:
        response = served.get_batch("batch_cmx0ugyuv00004a7d2bda9ln4")
    assert response.headers["x-ratelimit-reset"] == str(1_772_366_400_000 + 10_000)


def test_readable_ids_are_served_only_when_asked_for(wire: Wire) -> None:
    body = _batch(run_count=2).to_payload()
    body = {**body, "id": "batch_abc", "runs": ["run_one", "run_two"]}
    with pytest.raises(ValueError, match="id must be 'batch_'"):
        wire.api.add_batch(body)
    wire.api.add_batch(body, check_ids=False)
    assert wire.get_batch("batch_abc").json() == body
    wire.api.assert_retrieved("batch_abc", times=1)


def test_calls_to_lists_the_requests_to_one_route_and_its_parameters(wire: Wire) -> None:
    first, second = _served(wire), _served(wire, run_count=3)
    wire.get_batch(first.id)
    wire.get_batch(second.id, version=2)
    wire.get_batch(first.id)
    route = "GET /api/v1/batches/{batchId}"
    assert [c.batch_id for c in wire.api.calls_to(route)] == [first.id, first.id]
    assert len(wire.api.calls_to("GET /api/v2/batches/{batchId}", batchId=second.id)) == 1
    assert wire.api.calls_to(route, batchId=second.id) == []
    with pytest.raises(ValueError, match=r"route must be one the mock serves or a test added"):
        wire.api.calls_to("GET /api/v1/batch/{batchId}")
