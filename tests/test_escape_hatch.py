"""Endpoints the mock does not serve yet: the test answers them itself, through respx or
`add_route`; and pytest-httpx next to the mock. Run as a user's suite would, in pytester."""

from __future__ import annotations

import re

import pytest
from wire import Wire

from pytest_trigger_batches import UnexpectedTriggerRequest

INNER = ("-p", "no:randomly", "-p", "no:hypothesispytest")
HEADER = """
import httpx
import pytest

AUTH = {"Authorization": "Bearer tr_dev_" + "e" * 24}
"""


def test_a_respx_route_answers_what_the_mock_does_not_serve_and_is_recorded(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        HEADER
        + """
def test_app(mock_trigger_api, respx_mock, trigger_batch_factory):
    route = respx_mock.post("https://api.trigger.dev/api/v1/schedules").respond(
        202, json={"id": "batch_cmx0ugyuv00004a7d2bda9ln4", "isCached": False, "runs": []}
    )
    shadow = respx_mock.get(url__regex=r"https://api.trigger.dev/api/v1/batches/.*").respond(500)
    batch = trigger_batch_factory("COMPLETED")
    mock_trigger_api.add_batch(batch)

    created = httpx.post(
        "https://api.trigger.dev/api/v1/schedules", headers=AUTH, json={"items": []}
    )
    served = httpx.get(f"https://api.trigger.dev/api/v1/batches/{batch.id}", headers=AUTH)

    assert created.status_code == 202 and route.call_count == 1
    assert served.status_code == 200 and shadow.call_count == 0  # the mock serves it first
    post, get = mock_trigger_api.calls
    assert (post.method, post.status_code, post.stubbed) == ("POST", 202, True)
    assert post.body == {"items": []}
    assert (get.route, get.stubbed) == ("GET /api/v1/batches/{batchId}", False)
"""
    )
    pytester.runpytest(*INNER).assert_outcomes(passed=1)


def test_without_a_route_the_request_fails_and_says_how_to_answer_it(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        HEADER
        + """
def test_app(mock_trigger_api, respx_mock):
    respx_mock.get("https://elsewhere.example/").respond(200)
    httpx.post("https://api.trigger.dev/api/v1/schedules", headers=AUTH, json={})
"""
    )
    result = pytester.runpytest(*INNER)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*UnexpectedTriggerRequest: mock_trigger_api does not serve POST "
            "https://api.trigger.dev/api/v1/schedules",
            "*If the real API has this endpoint, the mock does not serve it yet: answer it in the "
            "test with mock_trigger_api.add_route('POST', ...) or a respx_mock route for "
            "https://api.trigger.dev.*",
        ]
    )
    assert "your code is wrong" not in result.stdout.str()


def test_add_route_works_over_the_server_too(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        HEADER
        + """
def test_app(trigger_api_server):
    route = "/api/v1/schedules/{scheduleId}/deactivate"
    trigger_api_server.add_route("POST", route, json={"id": "run_1"})
    url = trigger_api_server.base_url + "/api/v1/schedules/emails/deactivate"
    answer = httpx.post(url, headers=AUTH, json={"payload": {}})
    assert answer.json() == {"id": "run_1"}
    assert trigger_api_server.calls[-1].params == {"scheduleId": "emails"}
"""
    )
    pytester.runpytest(*INNER).assert_outcomes(passed=1)


def test_an_unserved_request_to_the_server_is_501_without_retries(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        HEADER
        + """
def test_app(trigger_api_server):
    answer = httpx.post(trigger_api_server.base_url + "/api/v1/schedules", headers=AUTH)
    assert answer.status_code == 501
    assert answer.headers["x-should-retry"] == "false"
    assert "does not serve POST" in answer.json()["error"]
"""
    )
    result = pytester.runpytest(*INNER)
    result.assert_outcomes(passed=1, errors=1)  # the body passed; teardown fails the test
    result.stdout.fnmatch_lines(["*trigger_api_server received 1 request(s) it does not serve*"])


def test_httpx_mock_next_to_the_mock_without_should_mock_fails_and_says_why(
    pytester: pytest.Pytester,
) -> None:
    pytest.importorskip("pytest_httpx")
    pytester.makepyfile(
        HEADER
        + """
def test_app(httpx_mock, mock_trigger_api):
    pass
"""
    )
    result = pytester.runpytest(*INNER)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*mock_trigger_api and pytest-httpx's httpx_mock are both used in this test*",
            "*@pytest.mark.httpx_mock(should_mock=lambda request: request.url.host != "
            '"api.trigger.dev")*',
        ]
    )


def test_a_should_mock_that_keeps_the_configured_origin_fails_naming_that_host(
    pytester: pytest.Pytester,
) -> None:
    pytest.importorskip("pytest_httpx")
    pytester.makepyfile(
        HEADER
        + """
@pytest.mark.trigger_api(base_url="https://trigger.internal/base")
@pytest.mark.httpx_mock(should_mock=lambda request: request.url.host != "api.trigger.dev")
def test_app(httpx_mock, mock_trigger_api):
    pass
"""
    )
    result = pytester.runpytest(*INNER)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(['*request.url.host != "trigger.internal")*'])


def test_httpx_mock_with_should_mock_leaves_trigger_dev_to_the_mock(
    pytester: pytest.Pytester,
) -> None:
    pytest.importorskip("pytest_httpx")
    pytester.makepyfile(
        HEADER
        + """
@pytest.mark.httpx_mock(should_mock=lambda request: request.url.host != "api.trigger.dev")
def test_app(httpx_mock, mock_trigger_api, trigger_batch_factory):
    httpx_mock.add_response(url="https://hooks.example/notify", json={"ok": True})
    batch = trigger_batch_factory("COMPLETED")
    mock_trigger_api.add_batch(batch)
    got = httpx.get(f"https://api.trigger.dev/api/v2/batches/{batch.id}", headers=AUTH)
    assert got.json()["status"] == "COMPLETED"
    assert httpx.post("https://hooks.example/notify").json() == {"ok": True}
"""
    )
    pytester.runpytest(*INNER).assert_outcomes(passed=1)


def test_a_seed_and_a_fixed_clock_give_byte_identical_answers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        HEADER
        + """
import hashlib


@pytest.mark.trigger_api(clock=lambda: 1_780_000_000.0)
@pytest.mark.trigger_batch("PARTIAL_FAILED", run_count=20)
def test_app(mock_trigger_api, trigger_batch):
    key = {"Authorization": "Bearer " + mock_trigger_api.secret_key}
    answers = [
        httpx.get(f"https://api.trigger.dev/api/v{v}/batches/{trigger_batch.id}", headers=key)
        for v in (1, 2)
    ]
    token = mock_trigger_api.public_token(scopes=["read:all"])
    seen = b"".join(a.content + repr(sorted(a.headers.items())).encode() for a in answers)
    print("DIGEST", hashlib.sha256(seen + token.encode()).hexdigest())
"""
    )
    digests = []
    for _ in range(2):
        result = pytester.runpytest(*INNER, "-s", "--trigger-seed=42")
        result.assert_outcomes(passed=1)
        digests += re.findall(r"DIGEST (\w+)", result.stdout.str())
    other = pytester.runpytest(*INNER, "-s", "--trigger-seed=43")
    digests += re.findall(r"DIGEST (\w+)", other.stdout.str())
    assert len(digests) == 3
    assert digests[0] == digests[1] != digests[2]


# -- the transports' side stays off the user's API; one place records every call ----------

_TRANSPORT_HOOKS = (
    "handle",
    "owns",
    "leftovers",
    "record_unserved",
    "explain_unserved",
    "refuse_other_origin",
    "trim_calls",
    "api",
)


def test_the_fixtures_carry_no_transport_hooks() -> None:
    from pytest_trigger_batches import MockTriggerApi, TriggerApi, TriggerApiServer

    for kind in (TriggerApi, MockTriggerApi, TriggerApiServer):
        assert [name for name in _TRANSPORT_HOOKS if hasattr(kind, name)] == [], kind


@pytest.mark.parametrize(
    ("method", "template"),
    [
        ("GET", "/api/v3/runs/{id}"),  # another parameter name, the same requests
        ("GET", "/api/v1/batches/batch_x"),  # a concrete path of a served template
        ("POST", "/api/v1/tasks/{task}/trigger"),
        ("POST", "/api/v2/runs/{runId}/cancel"),
    ],
)
def test_add_route_refuses_a_template_that_overlaps_a_served_route(
    method: str, template: str
) -> None:
    from pytest_trigger_batches.api import TriggerApi

    with pytest.raises(ValueError, match=r"serves .* itself"):
        TriggerApi().add_route(method, template)


@pytest.mark.parametrize(
    ("method", "template"),
    [
        ("GET", "/api/v3/runs/{runId}/result"),  # one segment more
        ("PUT", "/api/v3/runs/{runId}"),  # another method
        ("GET", "/api/v1/batches/{batchId}/results"),
    ],
)
def test_add_route_takes_a_template_no_served_route_answers(method: str, template: str) -> None:
    from pytest_trigger_batches.api import TriggerApi

    api = TriggerApi()
    api.add_route(method, template, json={"ok": True})
    assert api.calls_to(f"{method} {template}") == []


@pytest.mark.parametrize("status", [204, 304])
def test_add_route_answers_a_status_without_a_body_without_one(wire: Wire, status: int) -> None:
    wire.api.add_route("DELETE", "/api/v1/things/{thingId}", status_code=status)
    answer = wire.send("DELETE", "/api/v1/things/1")
    assert (answer.status_code, answer.content) == (status, b"")
    assert "content-length" not in answer.headers
    assert wire.send("GET", "/api/v1/batches/batch_x").status_code == 404  # still in step


def test_add_route_answers_with_the_headers_it_was_given(wire: Wire) -> None:
    wire.api.add_route("GET", "/api/v1/timezones", headers={"Retry-After": "3", "x-a": "b\tc"})
    answer = wire.send("GET", "/api/v1/timezones")
    assert (answer.headers["retry-after"], answer.headers["x-a"]) == ("3", "b\tc")


def test_every_request_is_recorded_once_whatever_became_of_it(wire: Wire) -> None:
    wire.api.add_route("GET", "/api/v1/timezones", json={"data": []})
    served = wire.send("GET", "/api/v3/runs/run_cmx0ugyuv00004a7d2bda9ln4")
    stubbed = wire.send("GET", "/api/v1/timezones")
    if wire.transport == "server":
        unserved = wire.send("GET", "/api/v1/schedules")
        assert unserved.status_code == 501
    else:
        with pytest.raises(UnexpectedTriggerRequest):
            wire.send("GET", "/api/v1/schedules")
    assert (served.status_code, stubbed.status_code) == (404, 200)
    assert [(c.path, c.outcome, c.stubbed) for c in wire.api.calls] == [
        ("/api/v3/runs/run_cmx0ugyuv00004a7d2bda9ln4", "answered", False),
        ("/api/v1/timezones", "answered", True),
        ("/api/v1/schedules", "unexpected", False),
    ]
