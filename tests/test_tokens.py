"""Public access tokens (docs/platform.md §2.1 to §2.3): the claims the SDK signs, the
tokens the platform mints, and one-time-use tokens. Every test runs over respx (sync and
async) and the HTTP server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from wire import Wire

from pytest_trigger_batches import tokens
from pytest_trigger_batches.table import TABLE

NOW = 1_780_000_000
ADDITIONAL_KEY = "tr_dev_sk_" + "Add1t10naL" * 2 + "k3y5"
FORBIDDEN = {
    "error": "Unauthorized",
    "code": "unauthorized",
    "param": "access_token",
    "type": "authorization",
}


def post(w: Wire, path: str, body: object, **options: Any) -> httpx.Response:
    return w.send("POST", path, content=json.dumps(body).encode(), **options)


def mint(w: Wire, body: object, **options: Any) -> httpx.Response:
    return post(w, "/api/v1/auth/public-tokens", body, **options)


def minted(w: Wire, scopes: list[str], **body: Any) -> str:
    answer = mint(w, {"scopes": scopes, **body})
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["token"]
    return token


def claims_of(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def signed_by(token: str, key: str) -> bool:
    head, body, signature = token.split(".")
    expected = hmac.new(key.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(expected).rstrip(b"=").decode() == signature


def sdk_token(w: Wire, scopes: list[str], **claims: object) -> str:
    """A token as the SDK signs one: the claims route's `{sub, pub}`, scopes, the key."""
    answer = w.send("POST", "/api/v1/auth/jwt/claims")
    assert answer.status_code == 200, answer.text
    base = answer.json()
    return tokens.mint(
        w.api.secret_key,
        environment_id=base["sub"],
        scopes=scopes,
        issued_at=NOW,
        expires_at=NOW + 900,
        one_time_use=bool(claims.get("otu")),
    )


@pytest.fixture
def w(wire: Wire) -> Wire:
    wire.api.clock = lambda: float(NOW)
    return wire


# -- POST /api/v1/auth/jwt/claims ---------------------------------------------------


def test_the_claims_route_answers_the_keys_environment_without_limiter_headers(w: Wire) -> None:
    answer = w.send("POST", "/api/v1/auth/jwt/claims", headers={"origin": "https://app.test"})
    assert answer.status_code == 200
    assert answer.json() == {"sub": w.api.environment_id(), "pub": True}
    assert answer.headers["content-type"].startswith("application/json")
    # The limiter lets the path through; the route has no CORS wrapper.
    assert not [name for name in answer.headers if name.startswith(("x-ratelimit", "access-"))]


def test_the_claims_route_names_each_environment_by_its_own_id(w: Wire) -> None:
    prod = "tr_prod_" + "P" * 24
    answer = w.send("POST", "/api/v1/auth/jwt/claims", key=prod)
    assert answer.json() == {"sub": w.api.environment_id("prod"), "pub": True}
    assert w.api.environment_id("prod") != w.api.environment_id("dev")


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Basic {key}",
        "Bearer tr_dev_unknown",
        "Bearer  {key}",  # the route reads the header's rest as it is, untrimmed
        "Bearer {token}",  # public tokens are not accepted here
        "Bearer tr_preview_" + "V" * 24,  # a preview key without x-trigger-branch
    ],
)
def test_the_claims_route_refuses_every_bad_credential_with_its_own_401(
    w: Wire, authorization: str | None
) -> None:
    token = w.api.public_token(scopes=["read:all"])
    headers = {}
    if authorization is not None:
        headers["authorization"] = authorization.format(key=w.api.secret_key, token=token)
    answer = w.send("POST", "/api/v1/auth/jwt/claims", headers=headers, key=None)
    assert (answer.status_code, answer.json()) == (401, {"error": "Invalid or Missing API key"})
    assert answer.headers["content-type"].startswith("application/json")
    assert "x-ratelimit-limit" not in answer.headers


def test_a_rate_limit_the_test_asks_for_on_the_claims_route_is_the_limiters_429(w: Wire) -> None:
    w.api.fail_next("rate_limit", route="POST /api/v1/auth/jwt/claims", reset_after=2)
    answer = w.send("POST", "/api/v1/auth/jwt/claims")
    assert answer.status_code == 429
    assert answer.json()["limit"] == int(answer.headers["x-ratelimit-limit"]) == 750
    assert answer.json()["secondsUntilReset"] == 2


# -- POST /api/v1/auth/public-tokens ------------------------------------------------


def test_a_minted_token_carries_the_environment_scopes_and_15_minutes(w: Wire) -> None:
    answer = mint(w, {"scopes": ["read:runs", "custom:resources:value"], "extra": 1})
    assert answer.status_code == 200
    assert list(answer.json()) == ["token"]
    assert answer.headers["x-ratelimit-limit"]  # the limiter counts the path
    token = answer.json()["token"]
    assert json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "==")) == {"alg": "HS256"}
    assert claims_of(token) == {
        "sub": w.api.environment_id(),
        "pub": True,
        "scopes": ["read:runs", "custom:resources:value"],
        "iss": "https://id.trigger.dev",
        "aud": "https://api.trigger.dev",
        "exp": NOW + 900,
        "iat": NOW,
    }
    assert signed_by(token, w.api.secret_key)


def test_a_minted_token_carries_otu_only_when_true_and_realtime_as_zod_keeps_it(w: Wire) -> None:
    once = minted(w, ["trigger:tasks:t"], oneTimeUse=True, realtime={"skipColumns": ["payload"]})
    assert claims_of(once)["otu"] is True
    assert claims_of(once)["realtime"] == {"skipColumns": ["payload"]}
    many = minted(w, ["trigger:tasks:t"], oneTimeUse=False, realtime={"other": 1})
    assert "otu" not in claims_of(many)
    assert claims_of(many)["realtime"] == {}


@pytest.mark.parametrize(
    ("expiration", "exp"),
    [
        ("1h", NOW + 3600),
        ("90s", NOW + 90),
        ("1.5 Hours", NOW + 5400),
        ("2 days from now", NOW + 2 * 86_400),
        ("+1w", NOW + 7 * 86_400),
        ("0.5s", NOW + 1),  # Math.round: halves up
        (NOW + 60, NOW + 60),  # a number is the moment itself
        (NOW + 60.5, NOW + 60.5),
        (NOW + 30 * 86_400, NOW + 30 * 86_400),  # 30 days is the most
    ],
)
def test_the_expiration_time_is_a_relative_time_or_a_moment(
    w: Wire, expiration: str | float, exp: float
) -> None:
    token = minted(w, ["read:runs"], expirationTime=expiration)
    assert claims_of(token)["exp"] == exp


@pytest.mark.parametrize(
    ("expiration", "error"),
    [
        ("soon", "Invalid expiration time"),
        ("+5m ago", "Invalid expiration time"),  # a sign and a suffix
        ("5ms", "Invalid expiration time"),
        ("15m\n", "Invalid expiration time"),
        ("-5m", "Expiration time must be in the future"),
        ("5m ago", "Expiration time must be in the future"),
        ("0s", "Expiration time must be in the future"),
        (NOW, "Expiration time must be in the future"),
        ("31d", "Expiration time cannot exceed 30 days"),
        (NOW + 30 * 86_400 + 1, "Expiration time cannot exceed 30 days"),
        ("9" * 400 + "s", "Expiration time cannot exceed 30 days"),
    ],
)
def test_an_unreadable_past_or_distant_expiration_is_400(
    w: Wire, expiration: str | int, error: str
) -> None:
    answer = mint(w, {"scopes": ["read:runs"], "expirationTime": expiration})
    assert (answer.status_code, answer.json()) == (400, {"error": error})


def test_a_body_that_is_not_json_is_400_without_issues(w: Wire) -> None:
    for content in (b"", b"{scopes", b"NaN"):
        answer = w.send("POST", "/api/v1/auth/public-tokens", content=content)
        assert (answer.status_code, answer.json()) == (400, {"error": "Invalid request body"})


def _type(expected: str, received: str, path: list[str | int]) -> dict[str, Any]:
    message = "Required" if received == "undefined" else f"Expected {expected}, received {received}"
    return {
        "code": "invalid_type",
        "expected": expected,
        "received": received,
        "path": path,
        "message": message,
    }


@pytest.mark.parametrize(
    ("body", "issues"),
    [
        (None, [_type("object", "null", [])]),
        ([], [_type("object", "array", [])]),
        ({}, [_type("array", "undefined", ["scopes"])]),
        (
            {"scopes": []},
            [
                {
                    "code": "too_small",
                    "minimum": 1,
                    "type": "array",
                    "inclusive": True,
                    "exact": False,
                    "message": "Array must contain at least 1 element(s)",
                    "path": ["scopes"],
                }
            ],
        ),
        (
            {"scopes": ["read:runs", 1], "oneTimeUse": "yes"},
            [_type("string", "number", ["scopes", 1]), _type("boolean", "string", ["oneTimeUse"])],
        ),
        (
            {"scopes": ["a"], "realtime": {"skipColumns": "payload"}},
            [_type("array", "string", ["realtime", "skipColumns"])],
        ),
        (
            {"scopes": ["a"], "expirationTime": True},
            [
                {
                    "code": "invalid_union",
                    "unionErrors": [
                        {
                            "issues": [_type("string", "boolean", ["expirationTime"])],
                            "name": "ZodError",
                        },
                        {
                            "issues": [_type("number", "boolean", ["expirationTime"])],
                            "name": "ZodError",
                        },
                    ],
                    "path": ["expirationTime"],
                    "message": "Invalid input",
                }
            ],
        ),
    ],
)
def test_a_body_the_schema_refuses_is_400_with_zods_issues(
    w: Wire, body: object, issues: list[dict[str, Any]]
) -> None:
    answer = mint(w, body)
    assert answer.status_code == 400
    assert answer.json() == {"error": "Invalid request body", "issues": issues}


def test_only_secret_keys_mint_tokens(w: Wire) -> None:
    token = w.api.public_token(scopes=["admin"])
    answer = mint(w, {"scopes": ["read:runs"]}, key=token)
    assert (answer.status_code, answer.json()) == (401, {"error": "Invalid API key"})
    preview = mint(w, {"scopes": ["read:runs"]}, key="tr_preview_" + "V" * 24)
    assert preview.json() == {"error": "x-trigger-branch header required for preview env"}
    bare = mint(w, {"scopes": ["read:runs"]}, key=None)
    assert (bare.status_code, bare.json()["detail"]) == (401, "No authorization header provided")


def test_an_additional_keys_token_is_signed_with_the_environments_root_key(w: Wire) -> None:
    token = minted_with(w, ADDITIONAL_KEY, ["read:runs"])
    assert signed_by(token, w.api.secret_key)
    assert not signed_by(token, ADDITIONAL_KEY)
    assert claims_of(token)["sub"] == w.api.environment_id()
    assert w.send("GET", "/api/v1/runs", key=token).status_code == 200


def minted_with(w: Wire, key: str, scopes: list[str]) -> str:
    answer = mint(w, {"scopes": scopes}, key=key)
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["token"]
    return token


def test_a_minted_token_expires_on_the_mocks_clock(w: Wire) -> None:
    token = minted(w, ["read:runs"], expirationTime="1m")
    assert w.send("GET", "/api/v1/runs", key=token).status_code == 200
    w.api.clock = lambda: float(NOW + 60)
    expired = w.send("GET", "/api/v1/runs", key=token)
    assert (expired.status_code, expired.json()) == (
        401,
        {"error": "Public Access Token is invalid"},
    )


# -- the tokens on every route that accepts them ----------------------------------------


def _setup(w: Wire) -> dict[str, str]:
    """A run and a batch, triggered with the secret key."""
    run = post(w, "/api/v1/tasks/send-email/trigger", {"payload": {"n": 1}}).json()["id"]
    made = post(w, "/api/v2/tasks/batch", {"items": [{"task": "send-email", "payload": {}}]})
    created = post(w, "/api/v3/batches", {"runCount": 1, "taskIdentifiers": ["send-email"]})
    return {"run": run, "batch": made.json()["id"], "open": created.json()["id"]}


Use = Callable[[Wire, dict[str, str], str], httpx.Response]
ITEM = {"index": 0, "task": "send-email", "payload": {"n": 1}}
ROUTES: list[tuple[str, str, Use, int]] = [  # route, a scope that grants it, a request, status
    (
        "GET /api/v1/batches/{batchId}",
        "read:batch:{batch}",
        lambda w, ids, k: w.send("GET", f"/api/v1/batches/{ids['batch']}", key=k),
        200,
    ),
    (
        "GET /api/v2/batches/{batchId}",
        "read:batch:{batch}",
        lambda w, ids, k: w.send("GET", f"/api/v2/batches/{ids['batch']}", key=k),
        200,
    ),
    (
        "GET /api/v3/runs/{runId}",
        "read:runs:{run}",
        lambda w, ids, k: w.send("GET", f"/api/v3/runs/{ids['run']}", key=k),
        200,
    ),
    ("GET /api/v1/runs", "read:runs", lambda w, ids, k: w.send("GET", "/api/v1/runs", key=k), 200),
    (
        "POST /api/v2/runs/{runId}/cancel",
        "write:runs:{run}",
        lambda w, ids, k: w.send("POST", f"/api/v2/runs/{ids['run']}/cancel", key=k),
        200,
    ),
    (
        "POST /api/v3/batches",
        "batchTrigger:tasks:send-email",
        lambda w, ids, k: post(
            w, "/api/v3/batches", {"runCount": 1, "taskIdentifiers": ["send-email"]}, key=k
        ),
        202,
    ),
    (
        "POST /api/v3/batches/{batchId}/items",
        "write:batch:{open}",
        lambda w, ids, k: w.send(
            "POST",
            f"/api/v3/batches/{ids['open']}/items",
            content=json.dumps(ITEM).encode(),
            headers={"content-type": "application/x-ndjson"},
            key=k,
        ),
        200,
    ),
    (
        "POST /api/v2/tasks/batch",
        "batchTrigger:tasks:send-email",
        lambda w, ids, k: post(w, "/api/v2/tasks/batch", {"items": [ITEM]}, key=k),
        202,
    ),
    (
        "POST /api/v1/tasks/batch",
        "batchTrigger:tasks:send-email",
        lambda w, ids, k: post(w, "/api/v1/tasks/batch", {"items": [ITEM]}, key=k),
        202,
    ),
    (
        "POST /api/v1/tasks/{taskId}/trigger",
        "trigger:tasks:send-email",
        lambda w, ids, k: post(w, "/api/v1/tasks/send-email/trigger", {"payload": {}}, key=k),
        200,
    ),
]


def test_the_routes_checked_here_are_the_tables_routes_that_accept_tokens() -> None:
    accepting = {route.name for route in TABLE.routes if route.allow_jwt}
    checked = [row[0] for row in ROUTES]
    assert len(set(checked)) == len(checked)
    assert set(checked) <= accepting  # routes of later endpoints test their own scopes


@pytest.mark.parametrize(("route", "scope", "use", "status"), ROUTES, ids=[r[0] for r in ROUTES])
def test_sdk_and_platform_minted_tokens_work_on_a_route_that_accepts_tokens(
    w: Wire, route: str, scope: str, use: Use, status: int
) -> None:
    ids = _setup(w)
    granted = scope.format(**ids)
    for token in (sdk_token(w, [granted]), minted(w, [granted])):
        assert use(w, ids, token).status_code == status, route
        w.api.reset()
        w.api.clock = lambda: float(NOW)
        ids = _setup(w)
        granted = scope.format(**ids)
    other = minted(w, ["read:tags:nothing"])
    refused = use(w, ids, other)
    # The items route words its own per-item refusal.
    forbidden = {"error": "Unauthorized"} if route.endswith("/items") else FORBIDDEN
    assert (refused.status_code, refused.json()) == (403, forbidden), route


# -- one-time use ---------------------------------------------------------------------


def trigger(w: Wire, key: str, task: str = "send-email", **options: Any) -> httpx.Response:
    body = {"payload": {"to": "ada@example.com"}, "options": options}
    return post(w, f"/api/v1/tasks/{task}/trigger", body, key=key)


def used(task: str) -> tuple[int, dict[str, str]]:
    return 422, {
        "error": f"Cannot trigger {task} with a one-time use token as it has already been used."
    }


def test_a_one_time_token_triggers_one_run(w: Wire) -> None:
    token = minted(w, ["trigger:tasks:send-email"], oneTimeUse=True)
    first = trigger(w, token)
    assert first.status_code == 200
    assert "otu" not in claims_of(first.headers["x-trigger-jwt"])  # the run's token is not
    again = trigger(w, token)
    assert (again.status_code, again.json()) == used("send-email")
    assert len(w.api.triggered) == 2
    assert [t.answer for t in w.api.triggered] == ["created", "refused"]


def test_the_one_time_mark_is_the_environments_so_a_second_token_is_refused_too(w: Wire) -> None:
    assert trigger(w, w.api.public_token(scopes=["trigger:tasks"], one_time_use=True)).is_success
    fresh = sdk_token(w, ["trigger:tasks:other"], otu=True)
    assert (trigger(w, fresh, "other").status_code, trigger(w, fresh, "other").json()) == used(
        "other"
    )
    # A multiple-use token, and the secret key, are not one-time: they go on triggering.
    many = minted(w, ["trigger:tasks:send-email"], oneTimeUse=False)
    assert [trigger(w, many).status_code for _ in range(2)] == [200, 200]
    assert trigger(w, w.api.secret_key).status_code == 200
    # Another environment has a mark of its own.
    prod = minted_with(w, "tr_prod_" + "P" * 24, ["trigger:tasks:send-email"])
    assert claims_of(prod)["sub"] == w.api.environment_id("prod")
    once = mint(
        w, {"scopes": ["trigger:tasks:send-email"], "oneTimeUse": True}, key="tr_prod_" + "P" * 24
    )
    assert trigger(w, once.json()["token"]).status_code == 200


def test_a_run_found_by_its_key_or_a_refused_trigger_spends_no_mark(w: Wire) -> None:
    earlier = trigger(w, w.api.secret_key, idempotencyKey="welcome-ada")
    token = minted(w, ["trigger:tasks:send-email"], oneTimeUse=True)
    found = trigger(w, token, idempotencyKey="welcome-ada")
    assert (found.status_code, found.json()["id"]) == (200, earlier.json()["id"])
    assert found.json()["isCached"] is True
    tags = trigger(w, token, tags=[f"t{i}" for i in range(11)])
    assert tags.status_code == 422
    assert trigger(w, token).status_code == 200  # the mark is spent here
    assert trigger(w, token).status_code == 422


def test_a_one_time_batch_token_creates_one_batch_and_streams_its_items(w: Wire) -> None:
    token = minted(w, ["batchTrigger:tasks:send-email"], oneTimeUse=True)
    created = post(
        w, "/api/v3/batches", {"runCount": 1, "taskIdentifiers": ["send-email"]}, key=token
    )
    assert created.status_code == 202
    batch_id = created.json()["id"]
    streamed = w.send(
        "POST",
        f"/api/v3/batches/{batch_id}/items",
        content=json.dumps(ITEM).encode(),
        headers={"content-type": "application/x-ndjson"},
        key=token,
    )
    assert (streamed.status_code, streamed.json()["sealed"]) == (200, True)
    again = post(
        w, "/api/v3/batches", {"runCount": 1, "taskIdentifiers": ["send-email"]}, key=token
    )
    create_text = "Cannot create batch with a one-time use token as it has already been used."
    assert (again.status_code, again.json()) == (422, {"error": create_text})
    batch_text = "Cannot batch trigger with a one-time use token as it has already been used."
    for path in ("/api/v2/tasks/batch", "/api/v1/tasks/batch"):
        one_shot = post(w, path, {"items": [ITEM]}, key=token)
        assert (one_shot.status_code, one_shot.json()) == (422, {"error": batch_text}), path
    # Runs keep a mark of their own: a one-time trigger token still triggers once.
    runs = minted(w, ["trigger:tasks:send-email"], oneTimeUse=True)
    assert trigger(w, runs).status_code == 200


def test_reset_forgets_the_one_time_marks(w: Wire) -> None:
    token = w.api.public_token(scopes=["trigger:tasks"], one_time_use=True)
    assert trigger(w, token).status_code == 200
    w.api.reset()
    assert trigger(w, token).status_code == 200


def test_public_token_refuses_a_one_time_use_that_is_not_a_boolean(w: Wire) -> None:
    with pytest.raises(TypeError, match="one_time_use must be True or False; got 'yes'"):
        w.api.public_token(scopes=["read:runs"], one_time_use="yes")  # type: ignore[arg-type]
