"""Waitpoint tokens (docs/platform.md §12): create, list, retrieve, complete and the
callback URL, over every transport; bad input gets the platform's answers."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import httpx
import pytest
from wire import Wire

from pytest_trigger_batches import MockTriggerApi

NOW = 1_780_000_000.0
NOW_ISO = "2026-05-28T20:26:40.000Z"
HOUR = 3600.0
TOKENS = "/api/v1/waitpoints/tokens"
CALLBACK_RE = re.compile(
    r"/api/v1/waitpoints/tokens/(waitpoint_c[0-9a-z]{24})/callback/[0-9a-f]{64}"
)


def post(w: Wire, path: str, body: object, **options: Any) -> httpx.Response:
    return w.send("POST", path, content=json.dumps(body).encode(), **options)


def create(w: Wire, **body: object) -> dict[str, Any]:
    answer = post(w, TOKENS, body)
    assert answer.status_code == 200, answer.text
    made: dict[str, Any] = answer.json()
    return made


def retrieve(w: Wire, token_id: str) -> dict[str, Any]:
    answer = w.send("GET", f"{TOKENS}/{token_id}")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def claims(jwt: str) -> dict[str, Any]:
    part = jwt.split(".")[1]
    loaded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return loaded


def callback(w: Wire, url: str, body: bytes = b"{}") -> httpx.Response:
    return w.send("POST", url.removeprefix(w.api.base_url), key=None, content=body)


@pytest.fixture
def fixed(wire: Wire) -> Wire:
    wire.api.clock = lambda: NOW
    return wire


# -- create ------------------------------------------------------------------------------


def test_a_created_token_answers_its_id_and_a_callback_url_on_the_mocks_origin(
    wire: Wire,
) -> None:
    answer = post(wire, TOKENS, {})
    assert answer.status_code == 200
    body = answer.json()
    assert list(body) == ["id", "isCached", "url"]
    assert body["isCached"] is False
    url = body["url"]
    assert url.startswith(wire.api.base_url + "/")
    found = CALLBACK_RE.fullmatch(url.removeprefix(wire.api.base_url))
    assert found is not None
    assert found.group(1) == body["id"]
    assert "access-control-expose-headers" not in answer.headers  # no CORS on this route


def test_a_created_token_comes_with_a_public_token_that_may_complete_it_for_24_hours(
    wire: Wire,
) -> None:
    answer = post(wire, TOKENS, {})
    token_id = answer.json()["id"]
    jwt = claims(answer.headers["x-trigger-jwt"])
    assert jwt["scopes"] == [f"write:waitpoints:{token_id}"]
    assert jwt["exp"] - jwt["iat"] == 24 * 3600
    assert json.loads(answer.headers["x-trigger-jwt-claims"]) == {
        "sub": wire.api.environment_id(),
        "pub": True,
    }
    done = post(wire, f"{TOKENS}/{token_id}/complete", {}, key=answer.headers["x-trigger-jwt"])
    assert (done.status_code, done.json()) == (200, {"success": True})
    assert done.headers["access-control-expose-headers"] == "x-trigger-jwt,x-trigger-jwt-claims"


def test_a_public_token_for_another_waitpoint_may_not_complete_this_one(wire: Wire) -> None:
    token_id = create(wire)["id"]
    other = wire.api.public_token(scopes=["write:waitpoints:waitpoint_other"])
    refused = post(wire, f"{TOKENS}/{token_id}/complete", {}, key=other)
    assert refused.status_code == 403
    assert refused.json() == {
        "error": "Unauthorized",
        "code": "unauthorized",
        "param": "access_token",
        "type": "authorization",
    }
    broad = wire.api.public_token(scopes=["write:waitpoints"])
    assert post(wire, f"{TOKENS}/{token_id}/complete", {}, key=broad).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"), [("POST", TOKENS), ("GET", TOKENS), ("GET", f"{TOKENS}/waitpoint_x")]
)
def test_public_tokens_may_not_create_list_or_retrieve_tokens(
    wire: Wire, method: str, path: str
) -> None:
    token = wire.api.public_token(scopes=["admin"])
    answer = wire.send(method, path, key=token, content=b"{}" if method == "POST" else None)
    assert (answer.status_code, answer.json()) == (401, {"error": "Invalid API key"})


def test_the_same_idempotency_key_answers_the_same_token_until_its_ttl_passes(
    fixed: Wire,
) -> None:
    first = create(fixed, idempotencyKey="approve-42", idempotencyKeyTTL="1h")
    again = create(fixed, idempotencyKey="approve-42", idempotencyKeyTTL="1h")
    assert (again["id"], again["isCached"], again["url"]) == (first["id"], True, first["url"])
    fixed.api.clock = lambda: NOW + HOUR + 1
    fresh = create(fixed, idempotencyKey="approve-42")
    assert fresh["id"] != first["id"]
    assert fresh["isCached"] is False
    old = retrieve(fixed, first["id"])
    assert old["inactiveIdempotencyKey"] == "approve-42"
    assert old["idempotencyKey"] != "approve-42"
    listed = fixed.send("GET", f"{TOKENS}?filter[idempotencyKey]=approve-42").json()["data"]
    assert [t["id"] for t in listed] == [fresh["id"], first["id"]]
    assert [t["idempotencyKey"] for t in listed] == ["approve-42", "approve-42"]


def test_a_token_shows_what_it_was_created_with(fixed: Wire) -> None:
    made = create(fixed, idempotencyKey="k1", idempotencyKeyTTL="2h", timeout="1h", tags="x")
    assert retrieve(fixed, made["id"]) == {
        "id": made["id"],
        "type": "MANUAL",
        "url": made["url"],
        "status": "WAITING",
        "idempotencyKey": "k1",
        "userProvidedIdempotencyKey": True,
        "idempotencyKeyExpiresAt": "2026-05-28T22:26:40.000Z",
        "outputType": "application/json",
        "outputIsError": False,
        "timeoutAt": "2026-05-28T21:26:40.000Z",
        "completedAfter": "2026-05-28T21:26:40.000Z",
        "createdAt": NOW_ISO,
        "tags": ["x"],
    }


def test_a_token_without_a_key_holds_a_key_of_its_own_the_list_does_not_show(
    fixed: Wire,
) -> None:
    made = create(fixed)
    shown = retrieve(fixed, made["id"])
    assert shown["userProvidedIdempotencyKey"] is False
    assert re.fullmatch(r"[A-Za-z0-9_-]{24}", str(shown["idempotencyKey"]))
    [listed] = fixed.send("GET", TOKENS).json()["data"]
    assert "idempotencyKey" not in listed


@pytest.mark.parametrize(
    ("timeout", "timeout_at"),
    [
        ("2h30m", "2026-05-28T22:56:40.000Z"),
        ("2026-06-01T00:00:00Z", "2026-06-01T00:00:00.000Z"),
        (1_780_000_600_000, "2026-05-28T20:36:40.000Z"),
        ("2020-01-01T00:00:00Z", None),  # a past date: no timeout
        ("soon", None),  # not a duration: no timeout
    ],
)
def test_the_timeout_is_a_duration_or_a_date(
    fixed: Wire, timeout: object, timeout_at: str | None
) -> None:
    made = create(fixed, timeout=timeout)
    assert retrieve(fixed, made["id"]).get("timeoutAt") == timeout_at


def test_a_token_past_its_timeout_shows_timed_out_with_the_timeout_error(fixed: Wire) -> None:
    made = create(fixed, timeout="10m")
    assert retrieve(fixed, made["id"])["status"] == "WAITING"
    fixed.api.clock = lambda: NOW + 600
    shown = retrieve(fixed, made["id"])
    assert shown["status"] == "TIMED_OUT"
    assert (shown["outputIsError"], shown["outputType"]) == (True, "application/json")
    assert json.loads(shown["output"]) == {
        "code": "TRIGGER_WAITPOINT_TIMEOUT",
        "message": "Waitpoint timed out at 2026-05-28T20:36:40.000Z",
    }
    assert shown["completedAt"] == "2026-05-28T20:36:40.000Z"


def test_more_than_ten_tags_are_refused_with_the_platforms_422(wire: Wire) -> None:
    answer = post(wire, TOKENS, {"tags": [f"t{i}" for i in range(11)]})
    assert answer.status_code == 422
    assert answer.json() == {"error": "Waitpoints can only have 10 tags, you're trying to set 11."}


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", "Request body is empty"),
        (b"{nope", "Invalid JSON"),
        (b"null", "Invalid JSON"),
        (b"[]", "Validation error: Expected object, received array"),
        (
            b'{"idempotencyKey": 5}',
            'Validation error: Expected string, received number at "idempotencyKey"',
        ),
        (
            json.dumps({"idempotencyKey": "k" * 2049}).encode(),
            'Validation error: idempotencyKey must be 2048 characters or less at "idempotencyKey"',
        ),
        (
            b'{"tags": 5}',
            'Validation error: Expected string, received number at "tags", or '
            'Expected array, received number at "tags"',
        ),
        (b'{"timeout": {}}', 'Validation error: Expected string, received object at "timeout"'),
    ],
)
def test_a_malformed_create_body_gets_the_platforms_400(
    wire: Wire, body: bytes, error: str
) -> None:
    answer = wire.send("POST", TOKENS, content=body)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(error)


def test_a_create_body_over_10_kib_is_too_large(wire: Wire) -> None:
    answer = post(wire, TOKENS, {"tags": ["x" * 11_000]})
    assert (answer.status_code, answer.json()) == (413, {"error": "Request body too large"})


# -- complete ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "output", "output_type"),
    [
        ({"approved": True}, '{"json":{"approved":true}}', "application/super+json"),
        (None, '{"json":null}', "application/super+json"),
        ("yes", "yes", "text/plain"),
    ],
)
def test_complete_stores_the_data_as_the_sdk_reads_it(
    fixed: Wire, data: object, output: str, output_type: str
) -> None:
    made = create(fixed)
    done = post(fixed, f"{TOKENS}/{made['id']}/complete", {"data": data})
    assert (done.status_code, done.json()) == (200, {"success": True})
    shown = retrieve(fixed, made["id"])
    assert (shown["status"], shown["output"], shown["outputType"]) == (
        "COMPLETED",
        output,
        output_type,
    )
    assert shown["completedAt"] == NOW_ISO


def test_complete_without_data_completes_with_no_output(wire: Wire) -> None:
    made = create(wire)
    assert post(wire, f"{TOKENS}/{made['id']}/complete", {}).status_code == 200
    shown = retrieve(wire, made["id"])
    assert shown["status"] == "COMPLETED"
    assert "output" not in shown


def test_completing_twice_answers_success_and_keeps_the_first_data(wire: Wire) -> None:
    made = create(wire)
    post(wire, f"{TOKENS}/{made['id']}/complete", {"data": "first"})
    again = post(wire, f"{TOKENS}/{made['id']}/complete", {"data": "second"})
    assert (again.status_code, again.json()) == (200, {"success": True})
    assert retrieve(wire, made["id"])["output"] == "first"


def test_completing_a_timed_out_token_answers_success_and_it_stays_timed_out(
    fixed: Wire,
) -> None:
    made = create(fixed, timeout="1s")
    fixed.api.clock = lambda: NOW + 2
    done = post(fixed, f"{TOKENS}/{made['id']}/complete", {"data": "late"})
    assert (done.status_code, done.json()) == (200, {"success": True})
    shown = retrieve(fixed, made["id"])
    assert (shown["status"], shown["outputIsError"]) == ("TIMED_OUT", True)


def test_an_unknown_token_is_404_to_complete_and_the_platforms_500_to_retrieve(
    wire: Wire,
) -> None:
    missing = post(wire, f"{TOKENS}/waitpoint_cnothere/complete", {})
    assert (missing.status_code, missing.json()) == (404, {"error": "Waitpoint not found"})
    retrieved = wire.send("GET", f"{TOKENS}/waitpoint_cnothere")
    assert (retrieved.status_code, retrieved.json()) == (500, {"error": "Internal Server Error"})
    malformed = post(wire, f"{TOKENS}/waitpoint_a_b/complete", {})
    assert (malformed.status_code, malformed.json()) == (500, {"error": "Internal Server Error"})


def test_another_environments_token_is_not_found(wire: Wire) -> None:
    made = create(wire)
    prod = "tr_prod_" + "P" * 24
    refused = post(wire, f"{TOKENS}/{made['id']}/complete", {}, key=prod)
    assert refused.status_code == 404
    assert wire.send("GET", TOKENS, key=prod).json() == {"data": [], "pagination": {}}


def test_a_token_is_found_by_its_internal_id_too(wire: Wire) -> None:
    made = create(wire)
    assert retrieve(wire, made["id"].removeprefix("waitpoint_"))["id"] == made["id"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", "Request body is empty"),
        (b"[1]", "Validation error: Expected object, received array"),
        (b"nope", "Invalid JSON"),
    ],
)
def test_a_malformed_complete_body_gets_the_platforms_400(
    wire: Wire, body: bytes, error: str
) -> None:
    made = create(wire)
    answer = wire.send("POST", f"{TOKENS}/{made['id']}/complete", content=body)
    assert (answer.status_code, answer.json()) == (400, {"error": error})


# -- the callback URL --------------------------------------------------------------------


def test_the_callback_url_completes_the_token_with_its_body_and_needs_no_key(
    fixed: Wire,
) -> None:
    made = create(fixed)
    done = callback(fixed, made["url"], b'{"approved": true}')
    assert (done.status_code, done.json()) == (200, {"success": True})
    assert "x-ratelimit-limit" not in done.headers  # not behind the API's rate limiter
    shown = retrieve(fixed, made["id"])
    assert (shown["status"], shown["output"]) == ("COMPLETED", '{"json":{"approved":true}}')
    assert callback(fixed, made["url"], b'"again"').json() == {"success": True}
    assert retrieve(fixed, made["id"])["output"] == '{"json":{"approved":true}}'


def test_a_callback_body_that_is_not_json_completes_with_an_empty_object(wire: Wire) -> None:
    made = create(wire)
    assert callback(wire, made["url"], b"approved!").status_code == 200
    assert retrieve(wire, made["id"])["output"] == '{"json":{}}'


def test_a_callback_with_a_wrong_hash_is_refused(wire: Wire) -> None:
    made = create(wire)
    base, _, good = made["url"].rpartition("/")
    wrong = callback(wire, f"{base}/{'0' * 64}")
    assert (wrong.status_code, wrong.json()) == (401, {"error": "Invalid URL, hash doesn't match"})
    short = callback(wire, f"{base}/abc")
    assert short.status_code == 401
    upper = callback(wire, f"{base}/{good.upper()}")  # Node reads hex in either case
    assert (upper.status_code, upper.json()) == (200, {"success": True})


def test_a_callback_hash_of_the_right_length_that_is_not_hex_is_the_platforms_500(
    wire: Wire,
) -> None:
    made = create(wire)
    base, _, good = made["url"].rpartition("/")
    answer = callback(wire, f"{base}/{good[:-2]}zz")
    assert (answer.status_code, answer.json()) == (
        500,
        {"error": "Failed to complete HTTP callback"},
    )
    assert retrieve(wire, made["id"])["status"] == "WAITING"


def test_a_callback_for_an_unknown_token_is_404(wire: Wire) -> None:
    answer = callback(wire, f"{wire.api.base_url}{TOKENS}/waitpoint_cnothere/callback/{'a' * 64}")
    assert (answer.status_code, answer.json()) == (404, {"error": "Waitpoint not found"})


def test_a_callback_without_a_content_length_is_411() -> None:
    def chunks() -> Any:
        yield b"{}"

    with MockTriggerApi() as mock, httpx.Client() as client:
        made = client.post(
            mock.base_url + TOKENS,
            headers={"Authorization": f"Bearer {mock.secret_key}"},
            content=b"{}",
        ).json()
        answer = client.post(made["url"], content=chunks())
    assert (answer.status_code, answer.json()) == (
        411,
        {"error": "Content-Length header is required"},
    )


# -- list --------------------------------------------------------------------------------


def listed(w: Wire, query: str = "") -> dict[str, Any]:
    answer = w.send("GET", f"{TOKENS}{query}")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_the_list_shows_tokens_newest_first_with_sorted_tags(fixed: Wire) -> None:
    first = create(fixed, tags=["b", "a"])
    second = create(fixed, timeout="1h")
    body = listed(fixed)
    assert body["pagination"] == {}
    assert body["data"] == [
        {
            "id": second["id"],
            "url": second["url"],
            "status": "WAITING",
            "timeoutAt": "2026-05-28T21:26:40.000Z",
            "completedAfter": "2026-05-28T21:26:40.000Z",
            "tags": [],
            "createdAt": NOW_ISO,
        },
        {
            "id": first["id"],
            "url": first["url"],
            "status": "WAITING",
            "tags": ["a", "b"],
            "createdAt": NOW_ISO,
        },
    ]


def test_the_list_filters_by_status(fixed: Wire) -> None:
    waiting = create(fixed)["id"]
    done = create(fixed)["id"]
    timed_out = create(fixed, timeout="1s")["id"]
    post(fixed, f"{TOKENS}/{done}/complete", {})
    fixed.api.clock = lambda: NOW + 5

    def ids(status: str) -> list[str]:
        return [t["id"] for t in listed(fixed, f"?filter[status]={status}")["data"]]

    assert ids("WAITING") == [waiting]
    assert ids("COMPLETED") == [done]
    assert ids("TIMED_OUT") == [timed_out]
    assert ids("COMPLETED,TIMED_OUT") == [timed_out, done]
    # The platform matches stored statuses: COMPLETED with another one takes timed-out ones too.
    assert ids("WAITING,COMPLETED") == [timed_out, done, waiting]


def test_the_list_filters_by_tags_key_and_creation_time(fixed: Wire) -> None:
    early = create(fixed, tags=["user:1"], idempotencyKey="a")["id"]
    fixed.api.clock = lambda: NOW + 2 * HOUR
    late = create(fixed, tags=["user:2", "org:9"])["id"]

    def ids(query: str) -> list[str]:
        return [t["id"] for t in listed(fixed, query)["data"]]

    assert ids("?filter[tags]=user:1,org:9") == [late, early]
    assert ids("?filter[tags]=user:2") == [late]
    assert ids("?filter[idempotencyKey]=a") == [early]
    assert ids("?filter[createdAt][period]=1h") == [late]
    assert ids("?filter[createdAt][period]=whenever") == [late, early]  # unreadable: no filter
    assert ids(f"?filter[createdAt][to]={int(NOW * 1000) + 1000}") == [early]
    assert ids(f"?filter[createdAt][from]={int(NOW * 1000) + 1000}") == [late]
    assert ids("?filter[createdAt][to]=0") == []


def test_the_list_pages_with_internal_ids_as_cursors(wire: Wire) -> None:
    made = [create(wire)["id"] for _ in range(5)]
    newest = made[::-1]
    first = listed(wire, "?page[size]=2")
    assert [t["id"] for t in first["data"]] == newest[:2]
    cursor = first["pagination"]["next"]
    assert first["pagination"] == {"next": newest[1].removeprefix("waitpoint_")}
    second = listed(wire, f"?page[size]=2&page[after]={cursor}")
    assert [t["id"] for t in second["data"]] == newest[2:4]
    assert second["pagination"] == {
        "next": newest[3].removeprefix("waitpoint_"),
        "previous": newest[2].removeprefix("waitpoint_"),
    }
    last = listed(wire, f"?page[size]=2&page[after]={second['pagination']['next']}")
    assert [t["id"] for t in last["data"]] == newest[4:]
    assert last["pagination"] == {"previous": newest[4].removeprefix("waitpoint_")}
    back = listed(wire, f"?page[size]=2&page[before]={second['pagination']['previous']}")
    assert [t["id"] for t in back["data"]] == newest[:2]


@pytest.mark.parametrize(
    ("query", "details"),
    [
        (
            "?filter[status]=DONE,WAITING,NOPE",
            [
                {
                    "code": "custom",
                    "message": "Invalid status values: DONE, NOPE",
                    "path": ["filter[status]"],
                }
            ],
        ),
        (
            "?page[size]=101",
            [
                {
                    "code": "too_big",
                    "maximum": 100,
                    "type": "number",
                    "inclusive": True,
                    "exact": False,
                    "message": "Number must be less than or equal to 100",
                    "path": ["page[size]"],
                }
            ],
        ),
        (
            "?filter[createdAt][from]=yesterday",
            [
                {
                    "code": "invalid_date",
                    "path": ["filter[createdAt][from]"],
                    "message": "Invalid date",
                }
            ],
        ),
    ],
)
def test_a_malformed_list_query_gets_the_platforms_400(
    wire: Wire, query: str, details: list[dict[str, object]]
) -> None:
    answer = wire.send("GET", f"{TOKENS}{query}")
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "Query Error", "details": details},
    )


# -- the facade ----------------------------------------------------------------------------


def test_waitpoint_tokens_shows_what_the_app_created(fixed: Wire) -> None:
    made = create(fixed, tags=["order:7"])
    [token] = fixed.api.waitpoint_tokens
    assert token == retrieve(fixed, made["id"])


def test_a_test_completes_a_token_as_a_person_would_and_asserts_it(fixed: Wire) -> None:
    made = create(fixed)
    with pytest.raises(
        AssertionError, match=rf"expected {made['id']} to be completed, it is WAITING"
    ):
        fixed.api.assert_waitpoint_completed(made["id"])
    fixed.api.complete_waitpoint_token(made["id"], data={"approved": True})
    fixed.api.assert_waitpoint_completed(made["id"])
    assert retrieve(fixed, made["id"])["output"] == '{"json":{"approved":true}}'


def test_the_assertion_names_a_timed_out_token_and_lists_the_tokens(fixed: Wire) -> None:
    made = create(fixed, timeout="1s", tags="t")
    fixed.api.clock = lambda: NOW + 2
    with pytest.raises(AssertionError) as raised:
        fixed.api.assert_waitpoint_completed(made["id"])
    assert str(raised.value) == (
        f"expected {made['id']} to be completed, it is TIMED_OUT, its timeout "
        f"2026-05-28T20:26:41.000Z.\nWaitpoint tokens, oldest first:\n"
        f"  {made['id']}: TIMED_OUT (tags ['t'])"
    )


def test_completing_an_unknown_token_from_a_test_names_the_parameter_and_the_tokens() -> None:
    with MockTriggerApi() as mock:
        with pytest.raises(
            ValueError,
            match=r"token must be the id of a waitpoint token the app "
            r"created \(none yet\); got 'waitpoint_x'",
        ):
            mock.complete_waitpoint_token("waitpoint_x")
        with pytest.raises(TypeError, match="token must be a waitpoint token's id"):
            mock.complete_waitpoint_token(5)  # type: ignore[arg-type]
        with pytest.raises(AssertionError, match="The app created no waitpoint token"):
            mock.assert_waitpoint_completed("waitpoint_x")


def test_reset_forgets_the_tokens_and_their_keys(wire: Wire) -> None:
    first = create(wire, idempotencyKey="once")
    wire.api.reset()
    assert wire.api.waitpoint_tokens == []
    assert listed(wire)["data"] == []
    assert callback(wire, first["url"]).status_code == 404
    assert create(wire, idempotencyKey="once")["isCached"] is False


def test_the_callback_url_follows_a_base_url_with_a_path_prefix() -> None:
    with (
        MockTriggerApi(base_url="https://trigger.example.com/proxy") as mock,
        httpx.Client() as client,
    ):
        made = client.post(
            mock.base_url + TOKENS,
            headers={"Authorization": f"Bearer {mock.secret_key}"},
            content=b"{}",
        ).json()
        assert made["url"].startswith(f"https://trigger.example.com/proxy{TOKENS}/{made['id']}/")
        assert client.post(made["url"], json={"ok": 1}).json() == {"success": True}
        mock.assert_waitpoint_completed(made["id"])


def test_an_empty_idempotency_key_answers_the_first_token_but_never_as_cached(
    fixed: Wire,
) -> None:
    first = create(fixed, idempotencyKey="", idempotencyKeyTTL="1s")
    fixed.api.clock = lambda: NOW + 5  # past its TTL: the upsert ignores it
    again = create(fixed, idempotencyKey="")
    assert (again["id"], again["isCached"]) == (first["id"], False)
    assert retrieve(fixed, first["id"])["userProvidedIdempotencyKey"] is False


def test_a_fault_on_the_callback_route_is_answered_before_the_token_is_completed(
    wire: Wire,
) -> None:
    made = create(wire)
    route = "POST /api/v1/waitpoints/tokens/{waitpointFriendlyId}/callback/{hash}"
    wire.api.fail_next("server_error", route=route)
    failed = callback(wire, made["url"])
    assert (failed.status_code, failed.json()) == (500, {"error": "Internal Server Error"})
    assert retrieve(wire, made["id"])["status"] == "WAITING"
    assert callback(wire, made["url"]).status_code == 200


def test_the_assertion_checks_its_argument() -> None:
    with MockTriggerApi() as mock, pytest.raises(TypeError, match="token must be a waitpoint"):
        mock.assert_waitpoint_completed(None)  # type: ignore[arg-type]


def test_data_is_stored_with_javascripts_numbers_and_key_order(wire: Wire) -> None:
    made = create(wire)
    body = b'{"data": {"b": 1.0, "2": 12345678901234567890, "1": [1e21, 0.5, 1e-7]}}'
    assert wire.send("POST", f"{TOKENS}/{made['id']}/complete", content=body).status_code == 200
    assert retrieve(wire, made["id"])["output"] == (
        '{"json":{"1":[1e+21,0.5,1e-7],"2":12345678901234567000,"b":1}}'
    )


@pytest.mark.parametrize("key", ["__proto__", "constructor", "prototype"])
def test_data_with_a_key_superjson_refuses_is_the_platforms_500(wire: Wire, key: str) -> None:
    made = create(wire)
    data = {"ok": [{key: 1}]}
    answer = post(wire, f"{TOKENS}/{made['id']}/complete", {"data": data})
    assert (answer.status_code, answer.json()) == (
        500,
        {"error": "Failed to complete waitpoint token"},
    )
    clicked = callback(wire, made["url"], json.dumps(data).encode())
    assert (clicked.status_code, clicked.json()) == (
        500,
        {"error": "Failed to complete HTTP callback"},
    )
    assert retrieve(wire, made["id"])["status"] == "WAITING"
    with pytest.raises(ValueError, match="data cannot be stored as the platform stores it"):
        wire.api.complete_waitpoint_token(made["id"], data=data)


def test_complete_reads_the_body_before_the_scope_and_the_scope_before_the_token(
    wire: Wire,
) -> None:
    other = wire.api.public_token(scopes=["write:waitpoints:waitpoint_other"])
    path = f"{TOKENS}/waitpoint_cnothere/complete"
    bad = wire.send("POST", path, key=other, content=b"[]")
    assert (bad.status_code, bad.json()) == (
        400,
        {"error": "Validation error: Expected object, received array"},
    )
    assert post(wire, path, {}, key=other).status_code == 403  # no token, no scope: 403 first


def test_a_callback_body_over_3_mib_is_too_large(wire: Wire) -> None:
    made = create(wire)
    answer = callback(wire, made["url"], b'"' + b"x" * (3 * 1024 * 1024) + b'"')
    assert (answer.status_code, answer.json()) == (413, {"error": "Request body too large"})
    assert retrieve(wire, made["id"])["status"] == "WAITING"
