"""`reset()`: one mock for many examples (hypothesis), each starting from an empty mock."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from wire import Wire

from pytest_trigger_batches.api import UnexpectedTriggerRequest
from pytest_trigger_batches.factory import BatchFactory

NOW = 1_780_000_000.0
TRIGGER = "/api/v1/tasks/send-email/trigger"


def post(w: Wire, path: str, body: object, **options: Any) -> httpx.Response:
    return w.send("POST", path, content=json.dumps(body).encode(), **options)


def test_reset_empties_what_the_test_and_the_app_did(wire: Wire) -> None:
    api = wire.api
    api.clock = lambda: NOW
    batch = BatchFactory(seed=1)("COMPLETED", run_count=3)
    api.add_batch(batch)
    api.on_item(task="send-email", outcome="queue_limit")
    api.on_run(outcome="FAILED")
    api.fail_next("server_error", route="GET /api/v3/runs/{runId}", required=False)
    key = {"idempotency-key": "welcome-42", "x-trigger-request-idempotency-key": "req-1"}
    assert post(wire, TRIGGER, {"payload": 1}, headers=key).status_code == 422  # queue limit
    api.on_item(task="send-email", outcome="created")
    first = post(wire, TRIGGER, {"payload": 2}, headers={"idempotency-key": "welcome-7"}).json()
    assert wire.get_batch(batch.id).status_code == 200

    api.reset()

    assert (api.batches, api.calls, api.triggered) == ([], [], [])
    assert wire.get_batch(batch.id).status_code == 404
    run = wire.send("GET", f"/api/v3/runs/{first['id']}")
    assert run.status_code == 404  # the fault was dropped too: not a 500
    # No rule, no idempotency key left: the same request makes a new run, COMPLETED by
    # default, whose id is the first one's (the minted ids start over).
    again = post(wire, TRIGGER, {"payload": 2}, headers={"idempotency-key": "welcome-7"}).json()
    assert again == {"id": first["id"], "isCached": False}
    replayed = post(wire, TRIGGER, {"payload": 1}, headers=key)
    assert replayed.status_code == 200  # the cached 422 was forgotten
    api.assert_triggered("send-email", payloads=[2, 1])
    assert [call.status_code for call in api.calls] == [404, 404, 200, 200]


def test_reset_keeps_the_keys_the_clock_and_the_settings(wire: Wire) -> None:
    api = wire.api
    pinned = api.secret_key
    api.accept_key(pinned, environment="prod")
    clock = lambda: NOW  # noqa: E731
    api.clock = clock
    api.progression = "held"
    api.rate_limit(limit=4, refill=1, interval=60)
    api.add_route("GET", "/api/v1/runs/{runId}/tags", json={"tags": ["a"]})
    for _ in range(4):
        wire.send("GET", "/api/v1/runs/run_1/tags")
    assert wire.send("GET", "/api/v1/runs/run_1/tags").status_code == 429
    base_url = api.base_url

    api.reset()

    assert (api.secret_key, api.clock, api.progression, api.base_url) == (
        pinned,
        clock,
        "held",
        base_url,
    )
    assert wire.get_batch("batch_x", key="tr_dev_" + "k" * 24).status_code == 401  # still pinned
    tags = wire.send("GET", "/api/v1/runs/run_1/tags")  # the route stays; the bucket is full
    assert (tags.status_code, tags.json()) == (200, {"tags": ["a"]})
    assert (tags.headers["x-ratelimit-limit"], tags.headers["x-ratelimit-remaining"]) == ("4", "3")
    created = post(wire, "/api/v2/tasks/batch", {"items": [{"task": "a"}]}).json()
    assert [wire.get_batch(created["id"]).json()["status"] for _ in range(2)] == [
        "PENDING",
        "PENDING",
    ]  # held: progression was kept


def test_what_a_reset_dropped_is_still_reported_when_the_test_ends(wire: Wire) -> None:
    api = wire.api
    api.fail_next("server_error")  # required, and no request meets it before the reset
    try:
        unserved = wire.send("GET", "/api/v1/nothing-here")
    except UnexpectedTriggerRequest:
        pass  # respx: raised in the test
    else:
        assert unserved.status_code == 501  # the server
    api.reset()
    assert api.calls == []
    unexpected, unused, crashes = api._gateway.leftovers()
    assert [call.path for call in unexpected] == ["/api/v1/nothing-here"]
    assert unused == ["'server_error' x1"]
    assert crashes == []


def test_a_fixture_reset_between_examples_keeps_the_end_of_test_check(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        def test_examples(mock_trigger_api):
            for example in range(3):
                mock_trigger_api.reset()
                if example == 1:
                    mock_trigger_api.fail_next("server_error")  # never met
        """
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*mock_trigger_api: 1 fault(s) asked for with fail_next() were never met*"]
    )
