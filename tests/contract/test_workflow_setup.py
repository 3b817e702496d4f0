"""The set-up methods of triggering and runs: `on_item`, `on_run`, `advance`, tokens, routes."""

from __future__ import annotations

import re

import pytest

from contract.cases import KEY, STATUSES, WELL_FORMED_ID, Call, Ctx, Error, case, refused
from pytest_trigger_batches.progress import PROGRESSIONS
from pytest_trigger_batches.records import OUTCOMES
from pytest_trigger_batches.statuses import RUN_OUTCOMES

ITEM_OUTCOMES = re.escape(", ".join(OUTCOMES))
ENDINGS = re.escape(", ".join(RUN_OUTCOMES))
PROGRESSION_CHOICES = re.escape(", ".join(PROGRESSIONS))

WORKFLOW = [
    case(
        "on_item-outcome",
        lambda c: c.api.on_item(outcome="fails"),  # type: ignore[arg-type]
        ValueError,
        rf"outcome must be one of {ITEM_OUTCOMES}; got 'fails'",
    ),
    case(
        "on_item-task",
        lambda c: c.api.on_item(outcome="created", task=""),
        ValueError,
        r"task must be a task identifier or None",
    ),
    case(
        "on_item-index",
        lambda c: c.api.on_item(outcome="created", index=-1),
        ValueError,
        r"index must be a whole number >= 0",
    ),
    case(
        "on_run-outcome",
        lambda c: c.api.on_run(outcome="DONE"),
        ValueError,
        rf"outcome must be one of {ENDINGS}; got 'DONE'",
    ),
    case(
        "on_run-task",
        lambda c: c.api.on_run(outcome="FAILED", task=3),  # type: ignore[arg-type]
        ValueError,
        r"task must be a task identifier or None",
    ),
    case(
        "on_run-index",
        lambda c: c.api.on_run(outcome="FAILED", index=True),
        TypeError,
        r"index must be a whole number",
    ),
    case(
        "on_run-error",
        lambda c: c.api.on_run(outcome="FAILED", error={"msg": 1}),
        TypeError,
        r'error must be \{"message": str, \.\.\.\} or None',
    ),
    case(
        "on_run-output-not-completed",
        lambda c: c.api.on_run(outcome="FAILED", output=1),
        ValueError,
        r"output applies to outcome='COMPLETED' only",
    ),
    case(
        "on_run-output-json",
        lambda c: c.api.on_run(outcome="COMPLETED", output={1, 2}),
        TypeError,
        r"output must be JSON-serializable",
    ),
    case(
        "on_run-nothing",
        lambda c: c.api.on_run(index=1),
        ValueError,
        rf"on_run needs outcome= \(one of {ENDINGS}\), hold= \(one of queued, executing\) "
        r"or both",
    ),
    case(
        "on_run-hold",
        lambda c: c.api.on_run(hold="started"),  # type: ignore[arg-type]
        ValueError,
        r"hold must be one of queued, executing, or None; got 'started'",
    ),
    case(
        "on_run-output-without-outcome",
        lambda c: c.api.on_run(hold="queued", output=1),
        ValueError,
        r"output and error go with an outcome: give outcome= too",
    ),
    case(
        "on_run-output-infinity",
        lambda c: c.api.on_run(outcome="COMPLETED", output=[float("inf")]),
        TypeError,
        r"output must be JSON-serializable \(JSON has no NaN or Infinity\)",
    ),
    case(
        "progression",
        lambda c: setattr(c.api, "progression", "later"),
        ValueError,
        rf"progression must be one of {PROGRESSION_CHOICES}; got 'later'",
    ),
    case(
        "advance-unknown",
        lambda c: c.api.advance(WELL_FORMED_ID),
        ValueError,
        r"batch must be a registered or triggered batch",
    ),
    case(
        "advance-to",
        lambda c: c.api.advance(c.api.add_batch(c.batch), to="done"),
        ValueError,
        rf"to must be one of {STATUSES}; got 'done'",
    ),
    case(
        "advance-unreachable",
        lambda c: c.api.advance(c.api.add_batch(c.batch), to="PENDING"),
        ValueError,
        r"to='PENDING' is not a state batch_\w+ reaches from COMPLETED",
    ),
    case(
        "run-unknown",
        lambda c: c.api.run("run_nope"),
        ValueError,
        r"run_id must be the id of a run the mock created",
    ),
    case(
        "public_token-scopes-str",
        lambda c: c.api.public_token(scopes="read:all"),
        TypeError,
        r"scopes must be a list of scope strings",
    ),
    case(
        "public_token-scopes-empty",
        lambda c: c.api.public_token(scopes=[""]),
        ValueError,
        r"scopes must be non-empty strings such as 'read:runs'",
    ),
    case(
        "public_token-expires_in",
        lambda c: c.api.public_token(scopes=["admin"], expires_in=0),
        ValueError,
        r"expires_in must be a number of seconds > 0",
    ),
    case(
        "public_token-key",
        lambda c: c.api.public_token(scopes=["admin"], secret_key="sk_x"),
        ValueError,
        r"secret_key must be a key the API accepts",
    ),
    case(
        "add_route-method",
        lambda c: c.api.add_route("TRACE", "/api/v1/x"),
        ValueError,
        r"method must be one of GET, POST, PUT, PATCH, DELETE",
    ),
    case(
        "add_route-path",
        lambda c: c.api.add_route("GET", "v1/x"),
        ValueError,
        r"path must be a path template under /api/",
    ),
    case(
        "add_route-status",
        lambda c: c.api.add_route("GET", "/api/v1/x", status_code=700),
        ValueError,
        r"status_code must be a final HTTP status, 200 to 599 .*; got 700",
    ),
    case(
        "add_route-status-interim",
        lambda c: c.api.add_route("GET", "/api/v1/x", status_code=103),
        ValueError,
        r"status_code must be a final HTTP status, 200 to 599 \(after a 1xx a client waits",
    ),
    case(
        "add_route-json",
        lambda c: c.api.add_route("GET", "/api/v1/x", json={1, 2}),
        TypeError,
        r"json must be JSON-serializable",
    ),
    case(
        "add_route-json-nan",
        lambda c: c.api.add_route("GET", "/api/v1/x", json={"ratio": float("nan")}),
        TypeError,
        r"json must be JSON-serializable \(JSON has no NaN or Infinity\)",
    ),
    case(
        "add_route-json-with-204",
        lambda c: c.api.add_route("DELETE", "/api/v1/x", status_code=204, json={}),
        ValueError,
        r"json must be None with status_code=204: a 204 answer has no body",
    ),
    case(
        "add_route-headers-type",
        lambda c: c.api.add_route("GET", "/api/v1/x", headers=[("x-a", "1")]),  # type: ignore[arg-type]
        TypeError,
        r"headers must be a mapping of header names to str values, or None; got list",
    ),
    case(
        "add_route-headers-name",
        lambda c: c.api.add_route("GET", "/api/v1/x", headers={"x a": "1"}),
        ValueError,
        r"headers: 'x a' is not a header name",
    ),
    case(
        "add_route-headers-value-type",
        lambda c: c.api.add_route("GET", "/api/v1/x", headers={"retry-after": 5}),  # type: ignore[dict-item]
        TypeError,
        r"headers\['retry-after'\] must be a str; got int",
    ),
    case(
        "add_route-headers-value-line-break",
        lambda c: c.api.add_route("GET", "/api/v1/x", headers={"x-key": f"{KEY}\r\nx-b: 1"}),
        ValueError,
        r"headers\['x-key'\] must be printable ASCII on one line: its value \(not shown\)",
    ),
    case(
        "add_route-headers-value-non-ascii",
        lambda c: c.api.add_route("GET", "/api/v1/x", headers={"x-name": "café"}),
        ValueError,
        r"headers\['x-name'\] must be printable ASCII on one line",
    ),
    case(
        "add_route-headers-framing",
        lambda c: c.api.add_route("GET", "/api/v1/x", headers={"Content-Length": "3"}),
        ValueError,
        r"headers\['Content-Length'\]: the transport writes content-length from the body",
    ),
    case(
        "add_route-headers-twice",
        lambda c: c.api.add_route("GET", "/api/v1/x", headers={"X-A": "1", "x-a": "2"}),
        ValueError,
        r"headers: 'x-a' is named twice",
    ),
    case(
        "clock",
        lambda c: setattr(c.api, "clock", 3),
        TypeError,
        r"clock must be a callable returning seconds since the epoch",
    ),
]


@pytest.mark.parametrize(("call", "error", "match"), WORKFLOW)
def test_a_set_up_method_refuses_a_bad_argument_naming_it(
    ctx: Ctx, call: Call, error: Error, match: str
) -> None:
    refused(ctx, call, error, match)
