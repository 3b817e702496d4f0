"""Requests with malformed batch ids or keys: answered exactly as the real API answers them.

The bodies are the platform's own (docs/platform.md), written out here: the test checks
the mock against the platform, not against itself.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from contract.cases import KEY, WELL_FORMED_ID
from pytest_trigger_batches import BatchFactory
from pytest_trigger_batches.mock import MockTriggerApi

NOT_FOUND = {"error": "Not found"}
INVALID_KEY = {"error": "Invalid API key"}
NO_HEADER = {
    "title": "Unauthorized",
    "status": 401,
    "type": "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/401",
    "detail": "No authorization header provided",
    "error": "No authorization header provided",
}
REAL = "{real}"  # replaced by the registered batch's id


def req(name: str, path: str, headers: dict[str, str] | None, status: int, body: object) -> Any:
    return pytest.param(path, headers, status, body, id=name)


AUTH = {"Authorization": f"Bearer {KEY}"}
REQUESTS = [
    req("id-too-short", "/api/v1/batches/batch_123", AUTH, 404, NOT_FOUND),
    req("id-without-prefix", "/api/v1/batches/cmx0ugyuv00004a7d2bda9ln4", AUTH, 404, NOT_FOUND),
    req("id-well-formed-unknown", f"/api/v1/batches/{WELL_FORMED_ID}", AUTH, 404, NOT_FOUND),
    req("id-upper-case", "/api/v1/batches/{REAL_UPPER}", AUTH, 404, NOT_FOUND),
    req("id-with-suffix", "/api/v1/batches/{real}x", AUTH, 404, NOT_FOUND),
    req("id-run-id", "/api/v1/batches/run_cmx0ugyuv00014a7da3uz70rc", AUTH, 404, NOT_FOUND),
    req("id-unicode", "/api/v1/batches/batch_\u00e9t\u00e9", AUTH, 404, NOT_FOUND),
    req("id-percent-encoded-space", "/api/v1/batches/batch%20x", AUTH, 404, NOT_FOUND),
    req("id-v2-unknown", "/api/v2/batches/batch_nope", AUTH, 404, NOT_FOUND),
    req("no-authorization", "/api/v1/batches/{real}", None, 401, NO_HEADER),
    req("no-authorization-v2", "/api/v2/batches/{real}", None, 401, NO_HEADER),
    req(
        "key-too-short",
        "/api/v1/batches/{real}",
        {"Authorization": "Bearer tr_dev_abc"},
        401,
        INVALID_KEY,
    ),
    req(
        "key-unknown-env",
        "/api/v1/batches/{real}",
        {"Authorization": "Bearer tr_live_" + "a" * 22},
        401,
        INVALID_KEY,
    ),
    req(
        "key-Basic-scheme",
        "/api/v1/batches/{real}",
        {"Authorization": f"Basic {KEY}"},
        401,
        INVALID_KEY,
    ),
    req(
        "key-empty-Bearer",
        "/api/v1/batches/{real}",
        {"Authorization": "Bearer "},
        401,
        {"error": "Invalid or Missing API key"},
    ),
    req(
        "key-trailing-junk",
        "/api/v1/batches/{real}",
        {"Authorization": f"Bearer {KEY}!"},
        401,
        INVALID_KEY,
    ),
    req(
        "key-public-key",
        "/api/v1/batches/{real}",
        {"Authorization": "Bearer pk_dev_" + "a" * 22},
        401,
        INVALID_KEY,
    ),
    req(
        "key-jwt",
        "/api/v1/batches/{real}",
        {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"},
        401,
        INVALID_KEY,
    ),
    req(
        "key-not-pinned",
        "/api/v1/batches/{real}",
        {"Authorization": "Bearer tr_dev_" + "Z" * 24},
        401,
        INVALID_KEY,
    ),
]


@pytest.mark.parametrize(("path", "headers", "status", "body"), REQUESTS)
def test_a_malformed_request_is_answered_like_the_real_api(
    mock_trigger_api: MockTriggerApi,
    trigger_batch_factory: BatchFactory,
    path: str,
    headers: dict[str, str] | None,
    status: int,
    body: object,
) -> None:
    batch = mock_trigger_api.add_batch(trigger_batch_factory("COMPLETED"))
    if "tr_dev_ZZZZ" in str(headers):
        mock_trigger_api.accept_key(KEY)  # pinned: only KEY opens the door now
    path = path.replace("{real}", batch.id).replace("{REAL_UPPER}", batch.id.upper())
    with httpx.Client() as client:
        response = client.get("https://api.trigger.dev" + path, headers=headers)
    assert (response.status_code, response.json()) == (status, body)
    if body is NO_HEADER:  # the limiter's own 401: before any bucket
        assert response.headers["content-type"] == "application/problem+json; charset=utf-8"
        assert "x-ratelimit-limit" not in response.headers
    else:
        assert response.headers["x-ratelimit-limit"] == "750"
    if status == 404:
        assert response.headers["x-should-retry"] == "true"
    (call,) = mock_trigger_api.calls
    assert (call.status_code, call.outcome) == (status, "answered")
    assert batch.served == 0, "a refused request must not advance the batch's lifecycle"
