"""Realtime subscriptions: the shape streams of `/realtime/v1/...` (docs/platform.md §14)."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from wire import TRANSPORTS, Wire, wire

from pytest_trigger_batches import tokens
from pytest_trigger_batches.handlers import realtime as realtime_handlers

NOW = 1_780_000_000.0
MOMENT = "2026-05-28T20:26:40.000"  # NOW as a timestamp row value (no zone)
MODERN = {"x-trigger-electric-version": "1.0.0-beta.1"}
HANDLE_RE = re.compile(r"[0-9]+-[0-9]+")
CUID_RE = re.compile(r"c[0-9a-z]{24}")
UP_TO_DATE = {"headers": {"control": "up-to-date"}}
SCHEMA = {
    "id": {"type": "text"},
    "taskIdentifier": {"type": "text"},
    "createdAt": {"type": "timestamp"},
    "updatedAt": {"type": "timestamp"},
    "startedAt": {"type": "timestamp"},
    "delayUntil": {"type": "timestamp"},
    "queuedAt": {"type": "timestamp"},
    "expiredAt": {"type": "timestamp"},
    "completedAt": {"type": "timestamp"},
    "friendlyId": {"type": "text"},
    "number": {"type": "int4"},
    "isTest": {"type": "bool"},
    "status": {"type": "text"},
    "usageDurationMs": {"type": "int4"},
    "costInCents": {"type": "float8"},
    "baseCostInCents": {"type": "float8"},
    "ttl": {"type": "text"},
    "payload": {"type": "text"},
    "payloadType": {"type": "text"},
    "metadata": {"type": "text"},
    "metadataType": {"type": "text"},
    "output": {"type": "text"},
    "outputType": {"type": "text"},
    "runTags": {"type": "text", "dims": 1},
    "error": {"type": "jsonb"},
    "realtimeStreams": {"type": "text", "dims": 1},
}
_WIRE_NOISE = {"date", "server", "content-length", "connection"}


@pytest.fixture(autouse=True)
def quick_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    """A held live request waits 0.05 s here, not 1 s (the hold's own tests set theirs)."""
    monkeypatch.setattr(realtime_handlers, "LIVE_HOLD_S", 0.05)


@pytest.fixture(params=TRANSPORTS)
def w(request: pytest.FixtureRequest) -> Iterator[Wire]:
    """The API over each transport, on a clock that stands still at NOW."""
    with wire(request.param, clock=lambda: NOW) as served:
        yield served


def post(w: Wire, path: str, body: object, **options: Any) -> httpx.Response:
    return w.send("POST", path, content=json.dumps(body).encode(), **options)


def trigger(w: Wire, task: str = "send-email", **options: object) -> str:
    answer = post(w, f"/api/v1/tasks/{task}/trigger", {"payload": {"to": "a"}, "options": options})
    assert answer.status_code == 200, answer.text
    run_id: str = answer.json()["id"]
    return run_id


def one_shot(w: Wire, count: int) -> tuple[str, list[str]]:
    items = [{"task": "resize", "payload": {"n": n}} for n in range(count)]
    answer = post(w, "/api/v1/tasks/batch", {"items": items}).json()
    return answer["id"], [run["id"] for run in answer["runs"]]


def subscribe(
    w: Wire,
    path: str,
    *,
    offset: str = "-1",
    handle: str | None = None,
    live: bool = False,
    headers: dict[str, str] | None = None,
    **options: Any,
) -> httpx.Response:
    query = f"log=full&offset={offset}"
    if handle is not None:
        query += f"&handle={handle}"
    if live:
        query += "&live=true"
    separator = "&" if "?" in path else "?"
    return w.send("GET", f"{path}{separator}{query}", headers=headers or MODERN, **options)


def shown_headers(answer: httpx.Response) -> dict[str, str]:
    return {
        name: value
        for name, value in answer.headers.items()
        if name not in _WIRE_NOISE and not name.startswith("x-ratelimit-")
    }


def rows(answer: httpx.Response) -> list[dict[str, Any]]:
    """The change messages of an answer, checked to end with `up-to-date`."""
    messages: list[dict[str, Any]] = answer.json()
    assert messages[-1] == UP_TO_DATE
    return messages[:-1]


def test_a_run_subscription_is_a_snapshot_then_each_change_until_the_run_finishes(
    w: Wire,
) -> None:
    w.api.on_run(outcome="COMPLETED", task="send-email", output={"sent": True})
    run_id = trigger(w, tags=["user_1"])
    path = f"/realtime/v1/runs/{run_id}"
    snapshot = subscribe(w, path)
    assert snapshot.status_code == 200
    handle, offset = snapshot.headers["electric-handle"], snapshot.headers["electric-offset"]
    assert HANDLE_RE.fullmatch(handle)
    assert re.fullmatch(r"[0-9]+_0", offset)
    assert shown_headers(snapshot) == {
        "content-type": "application/json",
        "cache-control": "no-store",
        "access-control-allow-origin": "*",
        "access-control-expose-headers": "*",
        "electric-offset": offset,
        "electric-handle": handle,
        "electric-up-to-date": "",
        "electric-schema": json.dumps(SCHEMA, separators=(",", ":")),
    }
    [insert] = rows(snapshot)
    internal = insert["value"]["id"]
    assert CUID_RE.fullmatch(internal)
    assert insert == {
        "key": f'"public"."TaskRun"/"{internal}"',
        "value": {
            "id": internal,
            "taskIdentifier": "send-email",
            "createdAt": MOMENT,
            "updatedAt": MOMENT,
            "startedAt": None,
            "delayUntil": None,
            "queuedAt": MOMENT,
            "expiredAt": None,
            "completedAt": None,
            "friendlyId": run_id,
            "number": "1",
            "isTest": "f",
            "status": "PENDING",
            "usageDurationMs": "0",
            "costInCents": "0",
            "baseCostInCents": "0",
            "ttl": "10m",
            "payload": '{"to":"a"}',
            "payloadType": "application/json",
            "metadata": None,
            "metadataType": "application/json",
            "output": None,
            "outputType": "application/json",
            "runTags": '{"user_1"}',
            "error": None,
            "realtimeStreams": "{}",
        },
        "headers": {"operation": "insert"},
    }
    # Each request moves the run as a retrieval does: EXECUTING, then COMPLETED.
    executing = subscribe(w, path, offset=offset, handle=handle, live=True)
    [update] = rows(executing)
    assert update["headers"] == {"operation": "update"}
    assert (update["value"]["status"], update["value"]["startedAt"]) == ("EXECUTING", MOMENT)
    assert "electric-schema" not in executing.headers
    cursor = executing.headers["electric-cursor"]
    assert executing.headers["electric-offset"] == f"{cursor}_0" != offset
    completed = subscribe(
        w, path, offset=executing.headers["electric-offset"], handle=handle, live=True
    )
    [done] = rows(completed)
    assert (done["value"]["status"], done["value"]["output"]) == (
        "COMPLETED_SUCCESSFULLY",
        '{"sent":true}',
    )
    assert done["value"]["completedAt"] == MOMENT
    assert done["value"]["baseCostInCents"] == "0.0025"
    # Nothing moves a finished run: a bare up-to-date at the same offset.
    last = completed.headers["electric-offset"]
    quiet = subscribe(w, path, offset=last, handle=handle, live=True)
    assert quiet.json() == [UP_TO_DATE]
    assert quiet.headers["electric-offset"] == last
    assert quiet.headers["electric-handle"] == handle


def test_a_failed_run_carries_its_error_as_the_sdk_parses_it(w: Wire) -> None:
    w.api.on_run(outcome="FAILED", error={"message": "SMTP refused", "name": "SmtpError"})
    run_id = trigger(w)
    path = f"/realtime/v1/runs/{run_id}"
    subscribe(w, path)
    subscribe(w, path)
    [failed] = rows(subscribe(w, path))
    assert failed["value"]["status"] == "COMPLETED_WITH_ERRORS"
    assert json.loads(failed["value"]["error"]) == {
        "type": "BUILT_IN_ERROR",
        "name": "SmtpError",
        "message": "SMTP refused",
        "stackTrace": "",
    }


def test_a_batch_subscription_inserts_the_batchs_runs_then_updates_them(w: Wire) -> None:
    batch_id, run_ids = one_shot(w, 2)
    path = f"/realtime/v1/batches/{batch_id}"
    snapshot = subscribe(w, path)
    inserted = rows(snapshot)
    assert [(m["value"]["friendlyId"], m["headers"]["operation"]) for m in inserted] == [
        (run_ids[0], "insert"),
        (run_ids[1], "insert"),
    ]
    assert [m["value"]["status"] for m in inserted] == ["PENDING", "PENDING"]
    handle = snapshot.headers["electric-handle"]
    offset = snapshot.headers["electric-offset"]
    statuses = []
    for _ in range(3):
        answer = subscribe(w, path, offset=offset, handle=handle, live=True)
        offset = answer.headers["electric-offset"]
        statuses.append([m["value"]["status"] for m in rows(answer)])
    assert statuses == [
        ["EXECUTING", "EXECUTING"],
        ["COMPLETED_SUCCESSFULLY", "COMPLETED_SUCCESSFULLY"],
        [],
    ]
    assert w.get_batch(batch_id).json()["status"] == "COMPLETED"


def test_a_streaming_batchs_runs_are_inserted_as_they_are_made(w: Wire) -> None:
    w.api.progression = "held"
    created = post(w, "/api/v3/batches", {"runCount": 1}).json()
    batch_id = created["id"]
    path = f"/realtime/v1/batches/{batch_id}"
    snapshot = subscribe(w, path)
    assert snapshot.json() == [UP_TO_DATE]
    item = json.dumps({"index": 0, "task": "resize", "payload": "{}"}).encode() + b"\n"
    sent = w.send(
        "POST",
        f"/api/v3/batches/{batch_id}/items",
        headers={"content-type": "application/x-ndjson"},
        content=item,
    )
    assert sent.status_code == 200, sent.text
    w.api.advance(batch_id)
    handle, offset = snapshot.headers["electric-handle"], snapshot.headers["electric-offset"]
    made = rows(subscribe(w, path, offset=offset, handle=handle, live=True))
    assert [m["headers"]["operation"] for m in made] == ["insert"]


def test_a_tag_subscription_shows_the_runs_with_every_tag(w: Wire) -> None:
    both = trigger(w, tags=["org_1", "user_2"])
    trigger(w, tags=["org_1"])
    trigger(w)
    answer = w.send("GET", "/realtime/v1/runs?tags=org_1,user_2&log=full&offset=-1", headers=MODERN)
    assert [m["value"]["friendlyId"] for m in rows(answer)] == [both]
    everyone = w.send("GET", "/realtime/v1/runs?tags=org_1&log=full&offset=-1", headers=MODERN)
    assert len(rows(everyone)) == 2


def test_a_tag_subscription_looks_back_24_hours_on_the_mocks_clock(w: Wire) -> None:
    now = [NOW]
    w.api.clock = lambda: now[0]
    trigger(w, tags=["old"])
    now[0] += 25 * 3600
    fresh = trigger(w, tags=["old"])
    answer = w.send("GET", "/realtime/v1/runs?tags=old&log=full&offset=-1", headers=MODERN)
    assert [m["value"]["friendlyId"] for m in rows(answer)] == [fresh]
    hour = w.send(
        "GET", "/realtime/v1/runs?tags=old&createdAt=1h&log=full&offset=-1", headers=MODERN
    )
    assert [m["value"]["friendlyId"] for m in rows(hour)] == [fresh]


def test_skip_columns_drops_columns_but_never_the_reserved_ones(w: Wire) -> None:
    run_id = trigger(w)
    answer = w.send(
        "GET",
        f"/realtime/v1/runs/{run_id}?skipColumns=payload,status,output&log=full&offset=-1",
        headers=MODERN,
    )
    [insert] = rows(answer)
    assert "payload" not in insert["value"]
    assert "output" not in insert["value"]
    assert insert["value"]["status"] == "PENDING"
    schema = json.loads(answer.headers["electric-schema"])
    assert list(schema) == list(insert["value"])


def test_a_client_without_the_electric_version_header_gets_the_legacy_names(w: Wire) -> None:
    run_id = trigger(w)
    path = f"/realtime/v1/runs/{run_id}"
    first = w.send("GET", f"{path}?offset=-1")
    assert "electric-handle" not in first.headers
    shape_id = first.headers["electric-shape-id"]
    offset = first.headers["electric-chunk-last-offset"]
    live = w.send("GET", f"{path}?offset={offset}&shape_id={shape_id}&live=true")
    assert live.status_code == 200
    assert [m["value"]["status"] for m in rows(live)] == ["EXECUTING"]


def test_an_empty_electric_version_header_is_read_as_no_version(w: Wire) -> None:
    run_id = trigger(w)
    answer = w.send(
        "GET",
        f"/realtime/v1/runs/{run_id}?offset=-1",
        headers={"x-trigger-electric-version": ""},
    )
    assert "electric-handle" not in answer.headers
    assert "electric-shape-id" in answer.headers


def test_a_handle_the_shape_never_gave_must_refetch(w: Wire) -> None:
    run_id = trigger(w)
    path = f"/realtime/v1/runs/{run_id}"
    handle = subscribe(w, path).headers["electric-handle"]
    answer = subscribe(w, path, offset="3_0", handle="123-456", live=True)
    assert (answer.status_code, answer.json()) == (409, [{"headers": {"control": "must-refetch"}}])
    assert answer.headers["electric-handle"] == handle


def test_an_unknown_run_or_batch_is_the_route_builders_404(w: Wire) -> None:
    run = subscribe(w, "/realtime/v1/runs/run_cmx0ugyuv00014a7da3uz70rc")
    assert (run.status_code, run.json(), run.headers["x-should-retry"]) == (
        404,
        {"error": "Not found"},
        "false",
    )
    batch = subscribe(w, "/realtime/v1/batches/batch_cmx0ugyuv00014a7da3uz70rc")
    assert (batch.status_code, batch.json(), batch.headers["x-should-retry"]) == (
        404,
        {"error": "Not found"},
        "true",
    )


FORBIDDEN = {
    "error": "Unauthorized",
    "code": "unauthorized",
    "param": "access_token",
    "type": "authorization",
}


def test_public_tokens_subscribe_with_the_platforms_scopes(w: Wire) -> None:
    batch_id, [run_id] = one_shot(w, 1)
    tagged = trigger(w, tags=["vip"])

    def status(path: str, *scopes: str) -> int:
        token = w.api.public_token(scopes=list(scopes))
        answer = subscribe(w, path, key=token)
        if answer.status_code == 403:
            assert answer.json() == FORBIDDEN
        return answer.status_code

    run_path = f"/realtime/v1/runs/{run_id}"
    assert status(run_path, f"read:runs:{run_id}") == 200
    assert status(run_path, f"read:batch:{batch_id}") == 200
    assert status(run_path, "read:tasks:resize") == 200
    assert status(f"/realtime/v1/runs/{tagged}", "read:tags:vip") == 200
    assert status(run_path, "read:runs:run_other") == 403
    batch_path = f"/realtime/v1/batches/{batch_id}"
    assert status(batch_path, f"read:batch:{batch_id}") == 200
    assert status(batch_path, "read:runs") == 200
    assert status(batch_path, f"read:runs:{run_id}") == 403
    assert status("/realtime/v1/runs?tags=vip", "read:tags:vip") == 200
    assert status("/realtime/v1/runs?tags=vip", "read:tags") == 200
    assert status("/realtime/v1/runs?tags=vip", "read:tags:other") == 403
    assert status("/realtime/v1/runs", "read:tags:vip") == 403


def invalid(**errors: list[str]) -> dict[str, Any]:
    return {"message": "Invalid request", "errors": errors}


@pytest.mark.parametrize(
    ("query", "body"),
    [
        ("offset=abc", invalid(offset=["has invalid format"])),
        ("offset=1_2_3", invalid(offset=["has invalid format"])),
        ("offset=", invalid(offset=["can't be blank"])),
        ("log=full", invalid(offset=["can't be blank"])),
        ("offset=4_0", invalid(handle=["can't be blank when offset != -1"])),
        ("offset=4_0&handle=", invalid(handle=["can't be blank when offset != -1"])),
        ("offset=-1&live=true", invalid(live=["can't be true when offset == -1"])),
        ("offset=-1&live=maybe", invalid(live=["is invalid"])),
        ("live=yes", invalid(live=["is invalid"], offset=["can't be blank"])),
        ("offset=-1&log=all", invalid(log=["is invalid"])),
        ("offset=-2_0&handle=1-2", invalid(offset=["has invalid format"])),
        ("offset=7", invalid(offset=["has invalid format"])),
    ],
)
def test_a_malformed_stream_query_is_the_stream_servers_400(
    w: Wire, query: str, body: dict[str, Any]
) -> None:
    run_id = trigger(w)
    answer = w.send("GET", f"/realtime/v1/runs/{run_id}?{query}", headers=MODERN)
    assert (answer.status_code, answer.json()) == (400, body)
    assert answer.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    ("tags", "shown"),
    [("a,,b", '""'), ('a"b', '"a\\"b"'), ("a\\b", '"a\\\\b"'), ("a%09b", '"a\\tb"')],
)
def test_an_unsafe_or_empty_tag_is_a_query_error(w: Wire, tags: str, shown: str) -> None:
    answer = w.send("GET", f"/realtime/v1/runs?tags={tags}&offset=-1", headers=MODERN)
    issue = {"code": "custom", "message": f"Invalid tag: {shown}", "path": ["tags"]}
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "Query Error", "details": [issue]},
    )


def test_a_tag_with_a_quote_or_spaces_is_accepted(w: Wire) -> None:
    run_id = trigger(w, tags=["o'brien"])
    answer = w.send("GET", "/realtime/v1/runs?tags=o'brien&offset=-1", headers=MODERN)
    assert [m["value"]["friendlyId"] for m in rows(answer)] == [run_id]


# -- a live request with nothing new: held over HTTP, answered at once in-process ------


@pytest.fixture
def short_hold(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(realtime_handlers, "LIVE_HOLD_S", 0.3)
    return 0.3


def held_subscription(w: Wire) -> tuple[str, str, str]:
    """A run held in its queue, subscribed: (path, handle, offset)."""
    w.api.progression = "held"
    run_id = trigger(w)
    path = f"/realtime/v1/runs/{run_id}"
    snapshot = subscribe(w, path)
    return path, snapshot.headers["electric-handle"], snapshot.headers["electric-offset"]


def test_over_http_a_live_request_with_nothing_new_is_held_then_up_to_date(
    short_hold: float,
) -> None:
    with wire("server", clock=lambda: NOW) as w:
        path, handle, offset = held_subscription(w)
        started = time.monotonic()
        answer = subscribe(w, path, offset=offset, handle=handle, live=True)
        waited = time.monotonic() - started
        assert answer.json() == [UP_TO_DATE]
        assert answer.headers["electric-offset"] == offset
        assert short_hold * 0.9 <= waited < short_hold + 2


def test_over_http_a_held_live_request_answers_as_soon_as_the_run_changes(
    short_hold: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(realtime_handlers, "LIVE_HOLD_S", 5.0)
    with wire("server", clock=lambda: NOW) as w:
        path, handle, offset = held_subscription(w)
        run_id = path.rsplit("/", 1)[1]
        answers: list[httpx.Response] = []
        waiting = threading.Thread(
            target=lambda: answers.append(
                subscribe(w, path, offset=offset, handle=handle, live=True)
            )
        )
        started = time.monotonic()
        waiting.start()
        time.sleep(0.3)
        # The server answers other requests meanwhile; the cancel wakes the held one.
        cancelled = w.send("POST", f"/api/v2/runs/{run_id}/cancel")
        assert cancelled.status_code == 200
        waiting.join(10)
        assert time.monotonic() - started < 3
        assert answers[0].json() == [UP_TO_DATE]  # the stale answer; the next one has it
        after = subscribe(w, path, offset=offset, handle=handle, live=True)
        [update] = rows(after)
        assert update["value"]["status"] == "CANCELED"
        assert json.loads(update["value"]["error"]) == {
            "type": "STRING_ERROR",
            "raw": "Canceled by user",
        }


@pytest.mark.parametrize("transport", ["respx-sync", "respx-async"])
def test_in_process_a_live_request_with_nothing_new_answers_at_once(transport: str) -> None:
    with wire(transport, clock=lambda: NOW) as w:
        path, handle, offset = held_subscription(w)
        started = time.monotonic()
        answer = subscribe(w, path, offset=offset, handle=handle, live=True)
        assert answer.json() == [UP_TO_DATE]
        assert time.monotonic() - started < 0.5


def test_a_head_request_moves_nothing(w: Wire) -> None:
    run_id = trigger(w)
    path = f"/realtime/v1/runs/{run_id}?log=full&offset=-1"
    assert w.send("HEAD", path, headers=MODERN).status_code == 200
    [insert] = rows(w.send("GET", path, headers=MODERN))
    assert insert["value"]["status"] == "PENDING"


def test_an_empty_live_or_log_is_as_if_absent(w: Wire) -> None:
    run_id = trigger(w)
    answer = w.send("GET", f"/realtime/v1/runs/{run_id}?offset=-1&live=&log=", headers=MODERN)
    assert answer.status_code == 200
    assert [m["headers"]["operation"] for m in rows(answer)] == ["insert"]


def test_a_public_tokens_realtime_claim_chooses_the_skipped_columns(w: Wire) -> None:
    run_id = trigger(w)
    token = tokens.mint(
        w.api.secret_key,
        environment_id=w.api.environment_id(),
        scopes=[f"read:runs:{run_id}"],
        issued_at=int(NOW),
        expires_at=int(NOW) + 60,
        realtime={"skipColumns": ["payload", "id"]},
    )
    path = f"/realtime/v1/runs/{run_id}?skipColumns=output&log=full&offset=-1"
    [insert] = rows(w.send("GET", path, headers=MODERN, key=token))
    assert "payload" not in insert["value"]
    assert "output" in insert["value"]
    assert "id" in insert["value"]  # reserved


def test_the_realtime_routes_are_not_behind_the_api_rate_limiter(w: Wire) -> None:
    run_id = trigger(w)
    w.api.rate_limit(limit=1, refill=1, interval=60)
    path = f"/realtime/v1/runs/{run_id}"
    answers = [subscribe(w, path) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert not any(name.startswith("x-ratelimit-") for name in answers[0].headers)
    missing = w.send("GET", f"{path}?offset=-1", key=None)
    assert (missing.status_code, missing.json()) == (401, {"error": "Invalid or Missing API key"})


def test_a_rate_limit_fault_on_a_realtime_route_is_a_429(w: Wire) -> None:
    run_id = trigger(w)
    w.api.fail_next("rate_limit", route="GET /realtime/v1/runs/{runId}")
    assert subscribe(w, f"/realtime/v1/runs/{run_id}").status_code == 429


def test_tags_and_metadata_another_route_sets_reach_a_live_subscription(w: Wire) -> None:
    path, handle, offset = held_subscription(w)
    run_id = path.rsplit("/", 1)[1]
    put = w.send(
        "PUT",
        f"/api/v1/runs/{run_id}/metadata",
        content=json.dumps({"metadata": {"progress": 0.5}}).encode(),
    )
    assert put.status_code == 200, put.text
    assert post(w, f"/api/v1/runs/{run_id}/tags", {"tags": ["vip"]}).status_code == 200
    [update] = rows(subscribe(w, path, offset=offset, handle=handle, live=True))
    assert update["headers"] == {"operation": "update"}
    assert (update["value"]["metadata"], update["value"]["runTags"]) == (
        '{"progress":0.5}',
        '{"vip"}',
    )
