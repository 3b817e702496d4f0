"""Triggering through the mock (docs/platform.md §5, §6): what the app sends decides what
it later retrieves. Every test runs over respx (sync and async) and the HTTP server."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from wire import Wire
from wire import wire as serve

from pytest_trigger_batches import BatchFactory

NOW = 1_780_000_000.0
NDJSON = {"content-type": "application/x-ndjson"}


def ndjson(items: list[dict[str, Any]]) -> bytes:
    return "\n".join(json.dumps(item) for item in items).encode()


def items(count: int, task: str = "send-email", start: int = 0) -> list[dict[str, Any]]:
    return [{"index": i, "task": task, "payload": {"n": i}} for i in range(start, start + count)]


def create(
    w: Wire, run_count: int, *, key: str | None = "default", headers: Any = None, **body: Any
) -> httpx.Response:
    content = json.dumps({"runCount": run_count, **body}).encode()
    return w.send("POST", "/api/v3/batches", content=content, key=key, headers=headers)


def stream(w: Wire, batch_id: str, lines: list[dict[str, Any]], **options: Any) -> httpx.Response:
    headers = {**NDJSON, **options.pop("headers", {})}
    return w.send(
        "POST",
        f"/api/v3/batches/{batch_id}/items",
        content=ndjson(lines),
        headers=headers,
        **options,
    )


def post(w: Wire, path: str, body: object, **options: Any) -> httpx.Response:
    return w.send("POST", path, content=json.dumps(body).encode(), **options)


def statuses(w: Wire, batch_id: str, polls: int, version: int = 1) -> list[str]:
    return [w.get_batch(batch_id, version=version).json()["status"] for _ in range(polls)]


def zod_issues(*issues: dict[str, Any]) -> str:
    """zod's issues as its error message holds them (`JSON.stringify(issues, null, 2)`)."""
    return json.dumps(list(issues), indent=2)


REQUIRED_TASK = {
    "code": "invalid_type",
    "expected": "string",
    "received": "undefined",
    "path": ["task"],
    "message": "Required",
}
NEGATIVE = {
    "code": "too_small",
    "minimum": 0,
    "type": "number",
    "inclusive": True,
    "exact": False,
    "message": "Number must be greater than or equal to 0",
    "path": ["index"],
}


def claims_of(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return claims


# -- POST /api/v3/batches + items: the streaming batch -----------------------------------


def test_a_streaming_batch_is_pending_until_its_items_seal_it(wire: Wire) -> None:
    created = create(wire, 3, idempotencyKey="k-1")
    assert created.status_code == 202
    body = created.json()
    assert body == {"id": body["id"], "runCount": 3, "isCached": False, "idempotencyKey": "k-1"}
    assert statuses(wire, body["id"], 3) == ["PENDING"] * 3  # polls never seal it
    assert wire.get_batch(body["id"]).json()["runs"] == []


def test_items_are_deduplicated_by_index_and_seal_the_batch_when_all_arrived(wire: Wire) -> None:
    batch_id = create(wire, 3).json()["id"]
    partial = stream(wire, batch_id, items(2))
    assert partial.json() == {
        "id": batch_id,
        "itemsAccepted": 2,
        "itemsDeduplicated": 0,
        "sealed": False,
        "enqueuedCount": 2,
        "expectedCount": 3,
        "runCount": 3,
    }
    sealed = stream(wire, batch_id, items(3))
    assert sealed.json() == {
        "id": batch_id,
        "itemsAccepted": 1,
        "itemsDeduplicated": 2,
        "sealed": True,
        "runCount": 3,
    }
    again = stream(wire, batch_id, items(3))
    assert (again.json()["sealed"], again.json()["itemsAccepted"]) == (True, 0)


def test_a_sealed_batch_moves_one_step_per_poll_until_completed(wire: Wire) -> None:
    batch_id = create(wire, 2).json()["id"]
    stream(wire, batch_id, items(2))
    seen = [wire.get_batch(batch_id).json() for _ in range(5)]
    assert [b["status"] for b in seen] == [
        "PROCESSING",
        "PENDING",
        "PENDING",
        "COMPLETED",
        "COMPLETED",
    ]
    assert seen[0]["runs"] == []
    assert "successfulRunCount" not in seen[0]
    assert (seen[1]["successfulRunCount"], seen[1]["failedRunCount"]) == (2, 0)
    assert len(seen[1]["runs"]) == 2
    assert seen[1]["runs"] == seen[4]["runs"]
    v2 = wire.get_batch(batch_id, version=2).json()
    assert v2["processingCompletedAt"] == v2["processing"]["completedAt"]


def test_queue_limit_failures_collapse_into_one_entry_with_the_senders_index_and_task(
    wire: Wire,
) -> None:
    wire.api.on_item(task="resize-image", outcome="queue_limit")
    batch_id = create(wire, 4).json()["id"]
    stream(wire, batch_id, items(2) + items(2, task="resize-image", start=2))
    wire.get_batch(batch_id)
    body = wire.get_batch(batch_id).json()
    assert body["status"] == "PARTIAL_FAILED"
    assert (body["successfulRunCount"], body["failedRunCount"], len(body["runs"])) == (2, 2, 2)
    [entry] = body["errors"]
    assert (entry["index"], entry["taskIdentifier"], entry["errorCode"]) == (
        2,
        "resize-image",
        "QUEUE_SIZE_LIMIT_EXCEEDED",
    )
    assert entry["error"] == (
        "Cannot trigger resize-image as the queue size limit for this environment has been "
        "reached. The maximum size is 10000 (2 items in this batch failed with the same error)"
    )
    assert statuses(wire, batch_id, 3)[-1] == "COMPLETED"  # keeps its failures
    assert wire.get_batch(batch_id).json()["failedRunCount"] == 2


def test_every_item_failing_aborts_the_batch(wire: Wire) -> None:
    wire.api.on_item(outcome="queue_limit")
    batch_id = create(wire, 2).json()["id"]
    stream(wire, batch_id, items(2))
    assert statuses(wire, batch_id, 4) == ["PROCESSING", "ABORTED", "ABORTED", "ABORTED"]
    again = stream(wire, batch_id, items(2))
    assert again.status_code == 422
    assert again.json() == {
        "error": f"Batch {batch_id} is not in PENDING status (current: ABORTED)"
    }


@pytest.mark.parametrize("outcome", ["trigger_failure", "too_large"])
def test_items_that_cannot_trigger_become_pre_failed_runs_counted_as_created(
    wire: Wire, outcome: str
) -> None:
    wire.api.on_item(index=1, outcome=outcome)  # type: ignore[arg-type]
    batch_id = create(wire, 2).json()["id"]
    stream(wire, batch_id, items(2))
    wire.get_batch(batch_id)
    body = wire.get_batch(batch_id).json()
    assert (body["status"], body["successfulRunCount"], body["failedRunCount"]) == ("PENDING", 2, 0)
    assert "errors" not in body


def test_too_large_error_is_a_payload_too_large_entry(wire: Wire) -> None:
    wire.api.on_item(index=0, outcome="too_large_error")
    batch_id = create(wire, 2).json()["id"]
    stream(wire, batch_id, items(2))
    wire.get_batch(batch_id)
    [entry] = wire.get_batch(batch_id).json()["errors"]
    assert entry["errorCode"] == "PAYLOAD_TOO_LARGE"
    assert entry["error"].startswith("Batch item payload is too large (3072.0 KB)")
    assert "Maximum allowed size is 3072.0 KB." in entry["error"]


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        ('{"to":"a@b.c"}', "application/json"),
        ('{"json":{"to":"a@b.c"}}', "application/super+json"),  # what SDK 4.8.3 sends
    ],
)
def test_the_sdks_text_payloads_are_parsed(wire: Wire, payload: str, kind: str) -> None:
    batch_id = create(wire, 1).json()["id"]
    line = {"index": 0, "task": "t", "payload": payload, "options": {"payloadType": kind}}
    stream(wire, batch_id, [line])
    [item] = wire.api.triggered
    assert (item.task, item.index, item.payload, item.batch_id) == (
        "t",
        0,
        {"to": "a@b.c"},
        batch_id,
    )


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b"not json\n", 400, "Invalid JSON at line 1: Expecting value"),
        (
            b'{"index": 0, "task": "t"}\n{oops\n',
            400,
            "Invalid JSON at line 2: Expecting property name enclosed in double quotes",
        ),
        (b'{"index": 5, "task": "t"}', 422, "Item index 5 exceeds batch runCount 2"),
        (b'{"index": 0}', 422, "Invalid item at index 0: " + zod_issues(REQUIRED_TASK)),
        (b'{"index": -1, "task": "t"}', 422, "Invalid item at index -1: " + zod_issues(NEGATIVE)),
    ],
    ids=["invalid-json", "invalid-json-line-2", "index-out-of-range", "no-task", "negative-index"],
)
def test_bad_items_are_refused_as_the_platform_refuses_them(
    wire: Wire, body: bytes, status: int, error: str
) -> None:
    batch_id = create(wire, 2).json()["id"]
    answer = wire.send("POST", f"/api/v3/batches/{batch_id}/items", content=body, headers=NDJSON)
    assert (answer.status_code, answer.json()) == (status, {"error": error})


def test_items_for_an_unknown_or_foreign_batch_are_422(wire: Wire) -> None:
    batch_id = create(wire, 1).json()["id"]
    foreign = stream(wire, batch_id, items(1), key="tr_prod_" + "p" * 24)
    assert (foreign.status_code, foreign.json()) == (422, {"error": f"Batch {batch_id} not found"})
    assert "access-control-expose-headers" not in foreign.headers  # the items route has no CORS


def test_the_items_route_wants_ndjson_before_it_checks_the_key(wire: Wire) -> None:
    answer = wire.send(
        "POST",
        "/api/v3/batches/batch_x/items",
        content=b"{}",
        headers={"content-type": "application/json"},
        key="tr_dev_unknown",
    )
    assert answer.status_code == 415
    assert answer.json() == {
        "error": "Content-Type must be application/x-ndjson or application/ndjson"
    }
    got = wire.send("GET", "/api/v3/batches/batch_x/items")
    assert (got.status_code, got.json()) == (
        405,
        {"error": "Method not allowed. Use POST to stream batch items."},
    )


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", "Request body is empty"),
        (b"{", "Invalid JSON"),
        (b"{}", 'Validation error: Required at "runCount"'),
        (b'{"runCount": "3"}', 'Validation error: Expected number, received string at "runCount"'),
        (b'{"runCount": 0}', 'Validation error: Number must be greater than 0 at "runCount"'),
        (b'{"runCount": 1.5}', 'Validation error: Expected integer, received float at "runCount"'),
        (b'{"runCount": 1001}', "Batch runCount of 1001 exceeds maximum allowed of 1000."),
    ],
)
def test_a_bad_create_body_is_400_naming_the_field(wire: Wire, body: bytes, error: str) -> None:
    answer = wire.send("POST", "/api/v3/batches", content=body)
    assert (answer.status_code, answer.json()) == (400, {"error": error})


def test_a_body_over_the_routes_limit_is_413(wire: Wire) -> None:
    answer = create(wire, 1, taskIdentifiers=["t" * 140_000])
    assert (answer.status_code, answer.json()) == (413, {"error": "Request body too large"})


def test_the_batch_idempotency_key_returns_the_same_batch_for_24_hours_then_422(wire: Wire) -> None:
    now = [NOW]
    wire.api.clock = lambda: now[0]
    first = create(wire, 2, idempotencyKey="nightly")
    again = create(wire, 2, idempotencyKey="nightly")
    assert again.status_code == 200
    assert again.json() == {"id": first.json()["id"], "runCount": 2, "isCached": True}
    other_tasks = create(wire, 2, idempotencyKey="nightly", taskIdentifiers=["t"])
    assert other_tasks.status_code == 422  # the key is unique in the environment
    now[0] += 24 * 3600 + 1
    late = create(wire, 2, idempotencyKey="nightly")
    assert (late.status_code, late.json()) == (
        422,
        {
            "error": "Cannot create batch as it has already been created with the same "
            "idempotency key."
        },
    )


def test_the_batch_rate_limiter_costs_run_count_and_answers_in_seconds(wire: Wire) -> None:
    wire.api.clock = lambda: NOW
    assert create(wire, 1000).status_code == 202
    refused = create(wire, 300)
    assert refused.status_code == 429
    assert refused.json() == {
        "error": "Batch rate limit exceeded. Limit resets at 2026-05-28T20:26:50.000Z"
    }
    assert refused.headers["x-ratelimit-reset"] == str(int(NOW) + 10)  # seconds, not ms
    assert refused.headers["retry-after"] == "10"
    assert create(wire, 200).status_code == 202  # 200 tokens were left


def test_the_answer_carries_a_public_token_for_the_batch(wire: Wire) -> None:
    created = create(wire, 1)
    batch_id = created.json()["id"]
    token = created.headers["x-trigger-jwt"]
    assert claims_of(token)["scopes"] == [f"read:batch:{batch_id}"]
    assert json.loads(created.headers["x-trigger-jwt-claims"])["pub"] is True
    assert wire.get_batch(batch_id, key=token).status_code == 200


@pytest.mark.parametrize("scope", ["write:tasks:send-email", "write:tasks"])
def test_a_write_tasks_scope_neither_triggers_nor_creates_a_batch(wire: Wire, scope: str) -> None:
    writer = wire.api.public_token(scopes=[scope])
    one = {"items": [{"task": "send-email"}]}
    refused = [
        post(wire, "/api/v1/tasks/send-email/trigger", {"payload": 1}, key=writer),
        create(wire, 1, taskIdentifiers=["send-email"], key=writer),
        create(wire, 1, key=writer),
        post(wire, "/api/v2/tasks/batch", one, key=writer),
        post(wire, "/api/v1/tasks/batch", one, key=writer),
    ]
    assert [(r.status_code, r.json()) for r in refused] == [
        (
            403,
            {
                "error": "Unauthorized",
                "code": "unauthorized",
                "param": "access_token",
                "type": "authorization",
            },
        )
    ] * 5
    wire.api.assert_nothing_triggered()


def test_only_the_exact_action_grants_a_public_token_a_trigger(wire: Wire) -> None:
    trigger = wire.api.public_token(scopes=["trigger:tasks:send-email"])
    assert (
        post(wire, "/api/v1/tasks/send-email/trigger", {"payload": 1}, key=trigger).status_code
        == 200
    )
    assert create(wire, 1, taskIdentifiers=["send-email"], key=trigger).status_code == 403
    batcher = wire.api.public_token(scopes=["batchTrigger:tasks:send-email"])
    assert create(wire, 1, taskIdentifiers=["send-email"], key=batcher).status_code == 202
    assert create(wire, 1, taskIdentifiers=["resize"], key=batcher).status_code == 403
    one = {"items": [{"task": "send-email"}]}
    assert post(wire, "/api/v2/tasks/batch", one, key=batcher).status_code == 202
    assert post(wire, "/api/v1/tasks/send-email/trigger", {}, key=batcher).status_code == 403
    # a grant on every batch stands for every task of a declared list
    whole = wire.api.public_token(scopes=["batchTrigger:batch"])
    assert create(wire, 2, taskIdentifiers=["a", "b"], key=whole).status_code == 202
    reader = wire.api.public_token(scopes=["read:all"])
    assert (
        post(wire, "/api/v1/tasks/send-email/trigger", {"payload": 1}, key=reader).status_code
        == 403
    )


# -- the one-shot endpoints -----------------------------------------------------------


def test_v2_tasks_batch_creates_runs_at_once_and_has_no_counts(wire: Wire) -> None:
    answer = post(
        wire, "/api/v2/tasks/batch", {"items": [{"task": "a", "payload": 1}, {"task": "b"}]}
    )
    assert answer.status_code == 202
    batch_id = answer.json()["id"]
    assert answer.json() == {"id": batch_id, "isCached": False, "runCount": 2}
    seen = [wire.get_batch(batch_id).json() for _ in range(4)]
    assert [b["status"] for b in seen] == ["PENDING", "PENDING", "COMPLETED", "COMPLETED"]
    assert len(seen[0]["runs"]) == 2
    assert "successfulRunCount" not in seen[-1]
    assert "errors" not in seen[-1]


@pytest.mark.parametrize(
    "path", ["/api/v2/tasks/batch", "/api/v1/tasks/batch", "/api/v1/tasks/t/batch"]
)
def test_one_shot_batches_never_get_counts_or_error_entries(wire: Wire, path: str) -> None:
    wire.api.on_item(index=1, outcome="trigger_failure")  # a pre-failed run, not an entry
    per_task = path.endswith("/t/batch")
    body = [{"payload": n} if per_task else {"task": "t", "payload": n} for n in range(21)]
    answer = post(wire, path, {"items": body}).json()  # 21: v1 takes them all, then fails one
    batch_id = answer["batchId" if per_task else "id"]
    counted = {"successfulRunCount", "failedRunCount", "errors", "processingCompletedAt"}
    seen = []
    for _ in range(4):
        v1, v2 = wire.get_batch(batch_id).json(), wire.get_batch(batch_id, version=2).json()
        assert not counted & set(v1), v1
        assert "processingCompletedAt" not in v2
        assert v2["processing"] == {"errors": []}
        seen.append(v1["status"])
    assert seen[0] == "PENDING"
    assert seen[-1] == "COMPLETED"
    prefailed = wire.send("GET", f"/api/v3/runs/{v1['runs'][1]}").json()
    assert prefailed["status"] == "SYSTEM_FAILURE"  # the failed item shows on its run only


@pytest.mark.parametrize("path", ["/api/v2/tasks/batch", "/api/v1/tasks/batch"])
def test_one_shot_batch_limits(wire: Wire, path: str) -> None:
    big = post(wire, path, {"items": [{"task": "t"}] * 501})
    assert big.json() == {
        "error": "Batch size of 501 is too large. Maximum allowed batch size is 500."
    }
    missing = post(wire, path, {"items": [{"payload": 1}]})
    assert missing.json() == {"error": 'Validation error: Required at "items[0].task"'}
    wire.api.on_item(task="t", outcome="too_large")
    assert post(wire, path, {"items": [{"task": "t"}]}).status_code == 413


def test_v1_tasks_batch_answers_the_run_ids_and_honours_its_idempotency_key(wire: Wire) -> None:
    now = [NOW]
    wire.api.clock = lambda: now[0]
    body = {"items": [{"task": "a", "payload": 1}, {"task": "b", "payload": 2}]}
    keyed = {"idempotency-key": "import-7", "idempotency-key-ttl": "1h"}
    first = post(wire, "/api/v1/tasks/batch", body, headers=keyed)
    assert first.status_code == 202
    answer = first.json()
    assert answer["isCached"] is False
    assert answer["idempotencyKey"] == "import-7"
    assert [r["taskIdentifier"] for r in answer["runs"]] == ["a", "b"]
    assert wire.get_batch(answer["id"]).json()["runs"] == [r["id"] for r in answer["runs"]]
    again = post(wire, "/api/v1/tasks/batch", body, headers=keyed).json()
    assert again["id"] == answer["id"]
    assert again["isCached"] is True
    assert all(r["isCached"] for r in again["runs"])
    now[0] += 3601  # the key expired: a new batch, and the old one loses its key
    fresh = post(wire, "/api/v1/tasks/batch", body, headers=keyed).json()
    assert fresh["id"] != answer["id"]
    assert "idempotencyKey" not in wire.get_batch(answer["id"]).json()


def test_v1_task_batch_is_the_oldest_shape(wire: Wire) -> None:
    answer = post(
        wire, "/api/v1/tasks/send-email/batch", {"items": [{"payload": 1}, {"payload": 2}]}
    )
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"batchId", "runs"}
    assert len(body["runs"]) == 2
    assert wire.get_batch(body["batchId"]).json()["runs"] == body["runs"]
    assert post(wire, "/api/v1/tasks/t/batch", {"items": []}).json() == {
        "error": "No items to trigger"
    }
    many = post(wire, "/api/v1/tasks/t/batch", {"items": [{"payload": 1}] * 101})
    assert many.json() == {"error": "Too many items. Maximum allowed batch size is 100."}
    wire.api.on_item(task="full", outcome="queue_limit")
    full = post(wire, "/api/v1/tasks/full/batch", {"items": [{"payload": 1}]})
    assert (full.status_code, full.json()) == (
        400,
        {
            "error": "Cannot trigger 1 tasks as the queue size limit for this environment has "
            "been reached. The maximum size is 10000"
        },
    )
    token = wire.api.public_token(scopes=["admin"])
    refused = post(wire, "/api/v1/tasks/send-email/batch", {"items": [{"payload": 1}]}, key=token)
    assert refused.json() == {"error": "Invalid API key"}  # secret keys only


# -- one task -------------------------------------------------------------------------


def test_triggering_one_task_creates_a_run_with_a_token_for_it(wire: Wire) -> None:
    answer = post(wire, "/api/v1/tasks/send-email/trigger", {"payload": {"to": "a@b.c"}})
    assert answer.status_code == 200
    run_id = answer.json()["id"]
    assert answer.json() == {"id": run_id, "isCached": False}
    assert run_id.startswith("run_c")
    assert claims_of(answer.headers["x-trigger-jwt"])["scopes"] == [
        f"read:runs:{run_id}",
        f"write:inputStreams:{run_id}",
    ]
    wire.api.assert_triggered("send-email", payloads=[{"to": "a@b.c"}])


def test_a_number_past_a_double_is_shown_as_null_as_json_stringify_writes_it(wire: Wire) -> None:
    # JSON.parse reads 1e999 as Infinity; JSON.stringify writes Infinity as null.
    body = b'{"payload": {"big": 1e999, "small": [-1e999]}, "options": {"metadata": {"m": 1e999}}}'
    answer = wire.send("POST", "/api/v1/tasks/send-email/trigger", content=body)
    run = wire.send("GET", f"/api/v3/runs/{answer.json()['id']}")

    def no_constant(name: str) -> object:
        raise AssertionError(f"{name} is not JSON")

    shown = json.loads(run.content, parse_constant=no_constant)
    assert (shown["payload"], shown["metadata"]) == ({"big": None, "small": [None]}, {"m": None})


@pytest.mark.parametrize(
    ("outcome", "status", "error"),
    [
        ("trigger_failure", 500, "Something went wrong"),
        ("too_large", 413, "Request body too large"),
        (
            "queue_limit",
            422,
            "Cannot trigger t as the queue size limit for this environment has been reached. "
            "The maximum size is 10000",
        ),
    ],
)
def test_a_single_trigger_answers_each_outcome(
    wire: Wire, outcome: str, status: int, error: str
) -> None:
    wire.api.on_item(task="t", outcome=outcome)  # type: ignore[arg-type]
    answer = post(wire, "/api/v1/tasks/t/trigger", {"payload": 1})
    assert (answer.status_code, answer.json()) == (status, {"error": error})


def test_an_item_idempotency_key_reuses_the_earlier_run(wire: Wire) -> None:
    first = post(
        wire, "/api/v1/tasks/t/trigger", {"payload": 1}, headers={"idempotency-key": "u-1"}
    )
    again = post(
        wire, "/api/v1/tasks/t/trigger", {"payload": 2, "options": {"idempotencyKey": "u-1"}}
    )
    assert again.json() == {"id": first.json()["id"], "isCached": True}
    batch_id = create(wire, 2).json()["id"]
    lines = items(2, task="t")
    lines[1]["options"] = {"idempotencyKey": "u-1"}
    stream(wire, batch_id, lines)
    wire.get_batch(batch_id)
    runs = wire.get_batch(batch_id).json()["runs"]
    assert runs[1] == first.json()["id"]  # the reused run is listed, not linked
    assert statuses(wire, batch_id, 3)[-1] == "COMPLETED"


# -- what the mock adds ---------------------------------------------------------------


def test_a_request_idempotency_key_replays_what_it_made_for_24_hours(wire: Wire) -> None:
    now = [NOW]
    wire.api.clock = lambda: now[0]
    headers = {"x-trigger-request-idempotency-key": "req-1"}
    body = {"items": [{"task": "a"}]}
    first = post(wire, "/api/v2/tasks/batch", body, headers=headers)
    again = post(wire, "/api/v2/tasks/batch", body, headers=headers)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json() == {"id": first.json()["id"], "runCount": 1}  # the platform's replay
    assert [item.answer for item in wire.api.triggered] == ["created", "cached"]
    wire.api.assert_triggered(count=1)  # created once
    other = post(wire, "/api/v2/tasks/batch", {"items": [{"task": "b"}]}, headers=headers)
    assert other.status_code == 202  # scoped by the tasks: another batch
    now[0] += 24 * 3600
    assert post(wire, "/api/v2/tasks/batch", body, headers=headers).status_code == 202
    run = post(wire, "/api/v1/tasks/t/trigger", {"payload": 1}, headers=headers).json()
    replay = post(wire, "/api/v1/tasks/t/trigger", {"payload": 1}, headers=headers)
    assert replay.json() == {"id": run["id"], "isCached": False}


def test_a_lost_create_answer_is_recovered_through_the_batch_idempotency_key(wire: Wire) -> None:
    wire.api.fail_next("timeout", route="POST /api/v3/batches", when="after")
    with pytest.raises((httpx.ReadTimeout, httpx.RemoteProtocolError)):
        create(wire, 2, idempotencyKey="nightly-7")
    retried = create(wire, 2, idempotencyKey="nightly-7")
    assert retried.status_code == 200
    assert retried.json()["isCached"] is True  # the batch created before the answer was lost
    batch_id = retried.json()["id"]
    assert wire.get_batch(batch_id).json()["status"] == "PENDING"
    assert [c.status_code for c in wire.api.calls if c.route == "POST /api/v3/batches"] == [
        None,
        200,
    ]


def test_the_request_idempotency_header_does_not_dedupe_creating_a_streaming_batch(
    wire: Wire,
) -> None:
    # The platform reads only the body's idempotencyKey on this route.
    headers = {"x-trigger-request-idempotency-key": "req-3"}
    first = create(wire, 1, headers=headers).json()["id"]
    assert create(wire, 1, headers=headers).json()["id"] != first


def test_held_batches_move_only_when_the_test_says(wire: Wire) -> None:
    wire.api.progression = "held"
    batch_id = create(wire, 1).json()["id"]
    stream(wire, batch_id, items(1))
    assert statuses(wire, batch_id, 3) == ["PROCESSING"] * 3
    assert wire.api.advance(batch_id).status == "PENDING"
    assert wire.api.advance(batch_id, to="COMPLETED").status == "COMPLETED"
    assert wire.get_batch(batch_id).json()["status"] == "COMPLETED"
    with pytest.raises(ValueError, match="progression must be one of per_poll, held, immediate"):
        wire.api.progression = "fast"  # type: ignore[assignment]


def test_immediate_batches_settle_once_sealed(wire: Wire) -> None:
    wire.api.progression = "immediate"
    batch_id = create(wire, 2).json()["id"]
    assert wire.get_batch(batch_id).json()["status"] == "PENDING"  # not sealed yet
    stream(wire, batch_id, items(2))
    body = wire.get_batch(batch_id).json()
    assert (body["status"], body["successfulRunCount"]) == ("COMPLETED", 2)
    one_shot = post(wire, "/api/v2/tasks/batch", {"items": [{"task": "a"}]}).json()["id"]
    assert wire.get_batch(one_shot).json()["status"] == "COMPLETED"


def test_a_registered_batch_shows_its_current_state_until_advanced_unless_polls_move_it(
    wire: Wire, trigger_batch_factory: BatchFactory
) -> None:
    handle = wire.api.add_batch(trigger_batch_factory("COMPLETED"), progress_after=2)
    first, second, final = (state.status.value for state in handle.states)
    for mode in ("immediate", "held"):
        wire.api.progression = mode
        assert statuses(wire, handle.id, 2) == [first, first], mode
    assert wire.api.advance(handle).status == second
    wire.api.progression = "per_poll"
    assert statuses(wire, handle.id, 3) == [second, final, final]
    assert handle.served == 7


def test_a_batch_the_app_triggered_is_not_a_registered_batch_to_retrieve(
    wire: Wire, trigger_batch_factory: BatchFactory
) -> None:
    triggered = post(wire, "/api/v1/tasks/batch", {"items": [{"task": "a"}]}).json()["id"]
    assert wire.api.batches == []
    wire.api.assert_all_retrieved()  # nothing registered: nothing to retrieve
    handle = wire.api.add_batch(trigger_batch_factory("PENDING"))
    assert wire.api.batches == [handle]
    with pytest.raises(
        AssertionError, match=f"1 of 1 registered batches were never retrieved: {handle.id}\n"
    ):
        wire.api.assert_all_retrieved()
    wire.get_batch(handle.id)
    wire.api.assert_all_retrieved()
    assert wire.api.retrievals(triggered) == []  # still a batch the assertions know


def test_polling_batches_does_not_change_the_ids_the_mock_makes_next() -> None:
    def next_run_id(polls: int) -> str:
        with serve("respx-sync", clock=lambda: NOW) as w:
            one_shot = post(w, "/api/v2/tasks/batch", {"items": [{"task": "a"}] * 5}).json()["id"]
            waiting = create(w, 5).json()["id"]
            stream(w, waiting, items(2))  # not sealed: nothing to process yet
            for _ in range(polls):
                w.get_batch(one_shot)
                w.get_batch(waiting)
            answer = post(w, "/api/v1/tasks/t/trigger", {"payload": 1}).json()
            return str(answer["id"])

    assert next_run_id(polls=0) == next_run_id(polls=3)


def test_recorded_calls_keep_the_parsed_bodies(wire: Wire) -> None:
    batch_id = create(wire, 1).json()["id"]
    stream(wire, batch_id, items(1))
    create_call, items_call = wire.api.calls
    assert create_call.body == {"runCount": 1}
    assert items_call.body == [{"index": 0, "task": "send-email", "payload": {"n": 0}}]
    assert (items_call.route, items_call.params) == (
        "POST /api/v3/batches/{batchId}/items",
        {"batchId": batch_id},
    )


def test_assert_triggered_lists_what_was_sent(wire: Wire) -> None:
    wire.api.assert_nothing_triggered()
    post(
        wire, "/api/v1/tasks/batch", {"items": [{"task": "a", "payload": {"n": 1}}, {"task": "b"}]}
    )
    [sent] = wire.api.assert_triggered("a", count=1, payloads=[{"n": 1}])
    assert sent.index == 0
    with pytest.raises(
        AssertionError, match=r"expected 2 items of 'a' to be triggered, got 1"
    ) as caught:
        wire.api.assert_triggered("a", count=2)
    assert "1. a batch_" in str(caught.value)
    assert '[0]: {"n": 1}' in str(caught.value)
    with pytest.raises(AssertionError, match=r"expected nothing to be triggered, 2 item\(s\) were"):
        wire.api.assert_nothing_triggered()


# -- found in review: each a rule the mock must keep -----------------------------------


def test_an_empty_batch_key_is_no_key(wire: Wire) -> None:
    batch_id = create(wire, 1, idempotencyKey="").json()["id"]
    assert "idempotencyKey" not in wire.get_batch(batch_id).json()


def test_an_item_key_repeated_within_one_batch_never_repeats_a_run(wire: Wire) -> None:
    same = {"task": "t", "options": {"idempotencyKey": "k"}}
    batch_id = post(wire, "/api/v2/tasks/batch", {"items": [same, same]}).json()["id"]
    runs = wire.get_batch(batch_id).json()["runs"]
    assert len(set(runs)) == 2


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("idempotency-key", "k" * 2049),
    ],
)
def test_bad_idempotency_headers_are_a_headers_error(wire: Wire, name: str, value: str) -> None:
    answer = post(wire, "/api/v1/tasks/batch", {"items": [{"task": "t"}]}, headers={name: value})
    assert answer.status_code == 400
    assert answer.json()["error"] == "Headers Error"
    assert answer.json()["details"][0]["path"] == [name]


def test_the_batch_limiter_refuses_once_drained(wire: Wire) -> None:
    wire.api.clock = lambda: NOW
    assert create(wire, 1000).status_code == 202
    assert create(wire, 200).status_code == 202
    assert create(wire, 1).status_code == 429  # nothing left, however small the batch


def test_a_token_must_be_granted_every_task_of_a_streaming_batch(wire: Wire) -> None:
    token = wire.api.public_token(scopes=["batchTrigger:tasks:a"])
    assert create(wire, 1, taskIdentifiers=["a"], key=token).status_code == 202
    assert create(wire, 2, taskIdentifiers=["a", "b"], key=token).status_code == 403


def test_a_lost_answer_fault_waits_for_a_request_that_succeeds(wire: Wire) -> None:
    wire.api.fail_next("timeout", route="POST /api/v3/batches", when="after")
    assert create(wire, 0).status_code == 400  # refused: nothing was made, nothing lost
    with pytest.raises((httpx.ReadTimeout, httpx.RemoteProtocolError)):
        create(wire, 1)


def test_the_items_route_is_rate_limited_before_its_content_type_is_checked(wire: Wire) -> None:
    answer = wire.send(
        "POST",
        "/api/v3/batches/batch_x/items",
        content=b"{}",
        headers={"content-type": "application/json"},
        key=None,
    )
    assert answer.status_code == 401  # the limiter's: no Authorization header


def test_items_stop_at_the_first_bad_line_and_keep_the_ones_before(wire: Wire) -> None:
    batch_id = create(wire, 3).json()["id"]
    body = ndjson(items(1)) + b"\n{oops\n" + ndjson(items(1, start=1))
    answer = wire.send("POST", f"/api/v3/batches/{batch_id}/items", content=body, headers=NDJSON)
    assert answer.status_code == 400
    assert [item.index for item in wire.api.triggered] == [0]
    resent = stream(wire, batch_id, items(3))
    assert (resent.json()["itemsAccepted"], resent.json()["itemsDeduplicated"]) == (2, 1)


def test_a_sealed_batch_leaves_a_resent_upload_unread(wire: Wire) -> None:
    batch_id = create(wire, 1).json()["id"]
    stream(wire, batch_id, items(1))
    garbage = wire.send("POST", f"/api/v3/batches/{batch_id}/items", content=b"{", headers=NDJSON)
    assert (garbage.status_code, garbage.json()["sealed"]) == (200, True)
    unknown = wire.send(
        "POST",
        "/api/v3/batches/batch_cmx0ugyuv00004a7d2bda9ln4/items",
        content=b"{",
        headers=NDJSON,
    )
    assert unknown.status_code == 422  # looked up before it is read


def test_a_single_triggers_idempotency_key_ttl_is_honoured(wire: Wire) -> None:
    now = [NOW]
    wire.api.clock = lambda: now[0]
    headers = {"idempotency-key": "once", "idempotency-key-ttl": "1s"}
    first = post(wire, "/api/v1/tasks/t/trigger", {"payload": 1}, headers=headers).json()
    now[0] += 2
    later = post(wire, "/api/v1/tasks/t/trigger", {"payload": 1}, headers=headers).json()
    assert later == {"id": later["id"], "isCached": False}
    assert later["id"] != first["id"]


def test_odd_tokens_are_401_never_a_crash(wire: Wire) -> None:
    def part(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()

    deep = (
        part('{"alg":"HS256"}')
        + "."
        + part('{"pub":true,"x":' + "[" * 1500 + "]" * 1500 + "}")
        + ".x"
    )
    nan = part('{"alg":"HS256"}') + "." + part('{"pub":true,"sub":"c","exp":NaN}') + ".x"
    for token in (deep, nan):
        answer = wire.get_batch("batch_cmx0ugyuv00004a7d2bda9ln4", key=token)
        assert answer.status_code == 401, token[:40]


def test_keys_in_encoded_paths_and_escaped_bodies_are_redacted_in_records(wire: Wire) -> None:
    key = "tr_prod_" + "Q7" * 12
    wire.send("GET", "/api/v1/batches/" + key.replace("_", "%5F"))
    escaped = json.dumps({"note": "\\u0074r" + key[2:]}).replace("\\\\", "\\").encode()
    wire.send("POST", "/api/v1/tasks/t/trigger", content=escaped)
    text = repr(wire.api.calls)
    assert key not in text
    assert key[8:20] not in text


def test_a_bug_in_a_handler_is_a_500_that_fails_the_test(wire: Wire) -> None:
    from pytest_trigger_batches.handlers import triggers

    def broken(context: object, store: object) -> None:
        raise RuntimeError("a bug")

    route = next(
        r
        for r in wire.api._pipeline.table.routes
        if r.name == "POST /api/v1/tasks/{taskId}/trigger"
    )
    object.__setattr__(route, "handler", broken)  # a frozen dataclass: patched in place
    try:
        answer = post(wire, "/api/v1/tasks/t/trigger", {"payload": 1})
    finally:
        object.__setattr__(route, "handler", triggers.trigger_task)
    assert (answer.status_code, answer.json()) == (500, {"error": "Internal Server Error"})
    crashes = wire.api._gateway.leftovers()[2]
    assert crashes == ["POST /api/v1/tasks/{taskId}/trigger: RuntimeError: a bug"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (True, "Expected object, received boolean"),
        (3, "Expected object, received number"),
        ("x", "Expected object, received string"),
        ([], "Expected object, received array"),
        ({"payload": 1, "options": []}, 'Expected object, received array at "options"'),
        (
            {"options": {"tags": [1]}},
            'Expected string, received array at "options.tags", '
            'or Expected string, received number at "options.tags[0]"',
        ),
        (
            {"options": {"tags": ["t" * 129]}},
            'Tags must be less than 128 characters at "options.ta',
        ),
        (
            {"options": {"idempotencyKey": 7}},
            'Expected string, received number at "options.idempotencyKey"',
        ),
        (
            {"options": {"maxAttempts": True}},
            'Expected number, received boolean at "options.maxAttempts"',
        ),
        ({"options": {"queue": {}}}, 'Required at "options.queue.name"'),
        ({"options": {"queue": "q"}}, 'Expected object, received string at "options.queue"'),
    ],
)
def test_a_bad_trigger_body_is_400_naming_the_field(wire: Wire, body: object, error: str) -> None:
    answer = post(wire, "/api/v1/tasks/t/trigger", body)
    assert answer.status_code == 400
    assert error in answer.json()["error"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"items": "x"}, 'Expected array, received string at "items"'),
        ({}, 'Required at "items"'),
        ({"items": [1]}, 'Expected object, received number at "items[0]"'),
    ],
)
def test_a_bad_batch_body_is_400_naming_the_field(wire: Wire, body: object, error: str) -> None:
    answer = post(wire, "/api/v2/tasks/batch", body)
    assert answer.status_code == 400
    assert error in answer.json()["error"]


# -- the platform's behaviour, audit rows A3 A5 A6 A31 A32 B3 B9 B13 C2 C3 C6 C7 C8 --------

FORBIDDEN = {
    "error": "Unauthorized",
    "code": "unauthorized",
    "param": "access_token",
    "type": "authorization",
}


def get_run(w: Wire, run_id: str, **options: Any) -> dict[str, Any]:
    body: dict[str, Any] = w.send("GET", f"/api/v3/runs/{run_id}", **options).json()
    return body


def trigger(w: Wire, task: str = "t", **options: Any) -> httpx.Response:
    return post(w, f"/api/v1/tasks/{task}/trigger", {"payload": 1, "options": options})


def test_the_single_triggers_claims_header_lists_the_runs_scopes(wire: Wire) -> None:
    answer = trigger(wire)
    run_id = answer.json()["id"]
    scopes = [f"read:runs:{run_id}", f"write:inputStreams:{run_id}"]
    sub = claims_of(answer.headers["x-trigger-jwt"])["sub"]
    assert json.loads(answer.headers["x-trigger-jwt-claims"]) == {
        "sub": sub,
        "pub": True,
        "scopes": scopes,
    }
    # a public token's `realtime` claim is passed on, in the header and the new token
    from pytest_trigger_batches import tokens

    realtime = {"skipColumns": ["payload"]}
    caller = tokens.mint(
        wire.api.secret_key,
        environment_id=sub,
        scopes=["trigger:tasks:t"],
        issued_at=int(NOW),
        expires_at=int(NOW) + 3600,
        realtime=realtime,
    )
    wire.api.clock = lambda: NOW
    again = post(wire, "/api/v1/tasks/t/trigger", {"payload": 2}, key=caller)
    assert json.loads(again.headers["x-trigger-jwt-claims"])["realtime"] == realtime
    assert claims_of(again.headers["x-trigger-jwt"])["realtime"] == realtime


def test_a_cached_trigger_answer_carries_a_token_for_the_run(wire: Wire) -> None:
    first = trigger(wire, idempotencyKey="welcome-ada").json()["id"]
    again = trigger(wire, idempotencyKey="welcome-ada")
    assert again.json() == {"id": first, "isCached": True}
    token = again.headers["x-trigger-jwt"]
    assert claims_of(token)["scopes"] == [f"read:runs:{first}", f"write:inputStreams:{first}"]
    assert get_run(wire, first, key=token)["id"] == first


@pytest.mark.parametrize("outcome", ["FAILED", "CRASHED", "SYSTEM_FAILURE", "TIMED_OUT"])
def test_the_key_of_a_run_that_failed_makes_a_new_run(wire: Wire, outcome: str) -> None:
    wire.api.on_run(task="t", outcome=outcome)
    failed = trigger(wire, idempotencyKey="k").json()["id"]
    assert trigger(wire, idempotencyKey="k").json() == {"id": failed, "isCached": True}
    for _ in range(2):
        get_run(wire, failed)  # queued -> executing -> final
    assert get_run(wire, failed)["status"] == outcome
    again = trigger(wire, idempotencyKey="k")
    new = again.json()["id"]
    assert again.json() == {"id": new, "isCached": False}
    assert new != failed
    assert "idempotencyKey" not in get_run(wire, failed)  # the key was taken from it
    assert get_run(wire, new)["idempotencyKey"] == "k"
    assert trigger(wire, idempotencyKey="k").json() == {"id": new, "isCached": True}


def test_the_key_of_a_run_that_expired_makes_a_new_run(wire: Wire) -> None:
    now = [NOW]
    wire.api.clock = lambda: now[0]
    expired = trigger(wire, idempotencyKey="k", ttl="1m").json()["id"]
    now[0] += 61
    again = trigger(wire, idempotencyKey="k").json()
    assert again["id"] != expired
    assert again["isCached"] is False
    assert get_run(wire, expired)["status"] == "EXPIRED"


def test_the_key_of_a_cancelled_run_is_reused(wire: Wire) -> None:
    cancelled = trigger(wire, idempotencyKey="k").json()["id"]
    assert post(wire, f"/api/v2/runs/{cancelled}/cancel", {}).status_code == 200
    assert trigger(wire, idempotencyKey="k").json() == {"id": cancelled, "isCached": True}


def test_a_failed_runs_key_makes_a_new_run_in_streaming_and_v2_batches(wire: Wire) -> None:
    wire.api.on_run(task="t", outcome="FAILED")
    failed = trigger(wire, idempotencyKey="k").json()["id"]
    for _ in range(2):
        get_run(wire, failed)
    batch_id = create(wire, 1).json()["id"]
    stream(wire, batch_id, [{"index": 0, "task": "t", "options": {"idempotencyKey": "k"}}])
    wire.get_batch(batch_id)
    [streamed] = wire.get_batch(batch_id).json()["runs"]
    assert streamed != failed
    for _ in range(2):
        get_run(wire, streamed)
    assert get_run(wire, streamed)["status"] == "FAILED"
    one = {"items": [{"task": "t", "options": {"idempotencyKey": "k"}}]}
    v2 = post(wire, "/api/v2/tasks/batch", one).json()["id"]
    [from_v2] = wire.get_batch(v2).json()["runs"]
    assert from_v2 not in (failed, streamed)


def test_a_v1_batch_answers_the_earlier_run_of_an_unexpired_key_whatever_its_status(
    wire: Wire,
) -> None:
    wire.api.on_run(task="t", outcome="FAILED")
    failed = trigger(wire, idempotencyKey="k").json()["id"]
    for _ in range(2):
        get_run(wire, failed)
    one = {"items": [{"task": "t", "options": {"idempotencyKey": "k"}}]}
    [run] = post(wire, "/api/v1/tasks/batch", one).json()["runs"]
    assert (run["id"], run["isCached"]) == (failed, True)  # looked up by expiry only


def test_options_test_marks_the_run_as_a_test(wire: Wire) -> None:
    test_run = trigger(wire, test=True).json()["id"]
    plain = trigger(wire).json()["id"]
    assert (get_run(wire, test_run)["isTest"], get_run(wire, plain)["isTest"]) == (True, False)
    batch_id = create(wire, 1).json()["id"]
    stream(wire, batch_id, [{"index": 0, "task": "t", "options": {"test": True}}])
    wire.get_batch(batch_id)
    [run_id] = wire.get_batch(batch_id).json()["runs"]
    assert get_run(wire, run_id)["isTest"] is True


def test_an_undeployed_task_is_queued_and_never_starts(wire: Wire) -> None:
    now = [NOW]
    wire.api.clock = lambda: now[0]
    wire.api.on_item(task="gone", outcome="unknown_task")
    answer = trigger(wire, "gone", ttl="10m")
    assert (answer.status_code, answer.json()["isCached"]) == (200, False)
    single = answer.json()["id"]
    assert [get_run(wire, single)["status"] for _ in range(4)] == ["QUEUED"] * 4
    per_task = post(wire, "/api/v1/tasks/gone/batch", {"items": [{"payload": 1}]})
    assert per_task.status_code == 200
    [queued] = per_task.json()["runs"]
    batch_id = create(wire, 2).json()["id"]
    stream(wire, batch_id, [{"index": 0, "task": "gone"}, {"index": 1, "task": "t"}])
    seen = [wire.get_batch(batch_id).json() for _ in range(6)]
    assert [b["status"] for b in seen] == ["PROCESSING"] + ["PENDING"] * 5  # never COMPLETED
    assert (seen[-1]["successfulRunCount"], seen[-1]["failedRunCount"]) == (2, 0)
    statuses_now = [get_run(wire, r)["status"] for r in (queued, *seen[-1]["runs"])]
    assert statuses_now == ["QUEUED", "QUEUED", "COMPLETED"]
    now[0] += 601
    assert get_run(wire, single)["status"] == "EXPIRED"  # its ttl still runs out


def test_a_browser_client_may_stream_the_items_with_the_create_answers_token(wire: Wire) -> None:
    browser = {"x-trigger-client": "browser"}

    def scopes(answer: httpx.Response) -> list[str]:
        found: list[str] = claims_of(answer.headers["x-trigger-jwt"])["scopes"]
        return found

    plain = create(wire, 1)
    assert scopes(plain) == [f"read:batch:{plain.json()['id']}"]
    created = create(wire, 1, headers=browser, idempotencyKey="b-1")
    batch_id = created.json()["id"]
    assert scopes(created) == [f"read:batch:{batch_id}", f"write:batch:{batch_id}"]
    replayed = create(wire, 1, headers=browser, idempotencyKey="b-1")
    assert scopes(replayed) == [f"read:batch:{batch_id}", f"write:batch:{batch_id}"]
    every_task = wire.api.public_token(scopes=["batchTrigger:tasks"])
    broad = create(wire, 1, headers=browser, key=every_task)
    assert scopes(broad)[1] == f"write:batch:{broad.json()['id']}"
    one_task = wire.api.public_token(scopes=["batchTrigger:tasks:t"])
    narrow = create(wire, 1, headers=browser, key=one_task, taskIdentifiers=["t"])
    assert scopes(narrow) == [f"read:batch:{narrow.json()['id']}"]


def test_items_are_accepted_with_a_write_batch_token(wire: Wire) -> None:
    created = create(wire, 2, headers={"x-trigger-client": "browser"})
    batch_id = created.json()["id"]
    token = created.headers["x-trigger-jwt"]  # grants no task at all
    sealed = stream(
        wire, batch_id, [{"index": 0, "task": "a"}, {"index": 1, "task": "b"}], key=token
    )
    assert (sealed.status_code, sealed.json()["sealed"]) == (200, True)
    other = create(wire, 1).json()["id"]
    refused = stream(wire, other, [{"index": 0, "task": "a"}], key=token)  # another batch's
    assert (refused.status_code, refused.json()) == (403, {"error": "Unauthorized"})


def test_a_token_that_cannot_write_the_batch_shows_an_item_before_the_batch_is_looked_up(
    wire: Wire,
) -> None:
    token = wire.api.public_token(scopes=["batchTrigger:tasks:a"])
    unknown = "batch_" + "c" * 25
    empty = wire.send(
        "POST", f"/api/v3/batches/{unknown}/items", content=b"", headers=NDJSON, key=token
    )
    assert (empty.status_code, empty.json()) == (403, {"error": "Unauthorized"})
    wrong = stream(wire, unknown, [{"index": 0, "task": "b"}], key=token)
    assert (wrong.status_code, wrong.json()) == (403, {"error": "Unauthorized"})
    granted = stream(wire, unknown, [{"index": 0, "task": "a"}], key=token)
    assert (granted.status_code, granted.json()) == (422, {"error": f"Batch {unknown} not found"})
    secret = wire.send("POST", f"/api/v3/batches/{unknown}/items", content=b"", headers=NDJSON)
    assert secret.status_code == 422  # a secret key may write any batch: looked up first


def test_the_batch_limiters_reset_is_floored_and_retry_after_at_least_a_second(
    wire: Wire,
) -> None:
    now = [NOW + 0.456]
    wire.api.clock = lambda: now[0]
    assert create(wire, 1000).status_code == 202
    assert create(wire, 200).status_code == 202
    now[0] += 9.7  # 0.3 s before the refill at NOW + 10.456
    refused = create(wire, 1)
    assert refused.status_code == 429
    assert refused.json() == {
        "error": "Batch rate limit exceeded. Limit resets at 2026-05-28T20:26:50.456Z"
    }
    assert refused.headers["x-ratelimit-reset"] == str(int(NOW) + 10)  # floored
    assert refused.headers["retry-after"] == "1"


@pytest.mark.parametrize("path", ["/api/v2/tasks/batch", "/api/v1/tasks/batch"])
def test_an_empty_items_list_is_the_route_builders_403(wire: Wire, path: str) -> None:
    empty = post(wire, path, {"items": []})  # with the secret key: no grant on nothing
    assert (empty.status_code, empty.json()) == (403, FORBIDDEN)


def test_a_full_queue_pre_fails_the_item_on_v2_and_refuses_the_request_on_v1(
    wire: Wire,
) -> None:
    wire.api.on_item(task="full", outcome="queue_limit")
    both = {"items": [{"task": "full"}, {"task": "t"}]}
    v2 = post(wire, "/api/v2/tasks/batch", both)
    assert v2.status_code == 202
    assert v2.json()["runCount"] == 2
    prefailed, _ = wire.get_batch(v2.json()["id"]).json()["runs"]
    failed = get_run(wire, prefailed)
    assert (failed["status"], failed["taskIdentifier"]) == ("SYSTEM_FAILURE", "full")
    v1 = post(wire, "/api/v1/tasks/batch", both)
    assert (v1.status_code, v1.json()) == (
        422,
        {
            "error": "Cannot trigger 2 tasks as the queue size limit for this environment has "
            "been reached. The maximum size is 10000"
        },
    )


def test_a_repeated_v1_batch_key_answers_with_a_token_in_the_platforms_key_order(
    wire: Wire,
) -> None:
    item = {
        "task": "t",
        "options": {
            "idempotencyKey": "9f86d0",
            "idempotencyKeyOptions": {"key": "user-key", "scope": "run"},
        },
    }
    keyed = {"idempotency-key": "import-7"}
    first = post(wire, "/api/v1/tasks/batch", {"items": [item]}, headers=keyed)
    again = post(wire, "/api/v1/tasks/batch", {"items": [item]}, headers=keyed)
    batch_id = first.json()["id"]
    assert list(first.json()) == ["id", "isCached", "idempotencyKey", "runs"]
    assert list(again.json()) == ["id", "idempotencyKey", "isCached", "runs"]
    [run] = again.json()["runs"]
    assert (run["isCached"], run["idempotencyKey"]) == (True, "9f86d0")  # the key sent
    assert claims_of(again.headers["x-trigger-jwt"])["scopes"] == [f"read:batch:{batch_id}"]


def test_the_per_task_batch_answers_with_a_token(wire: Wire) -> None:
    keyed = {"idempotency-key": "k"}
    for _ in range(2):  # a repeat of its key too
        answer = post(wire, "/api/v1/tasks/t/batch", {"items": [{"payload": 1}]}, headers=keyed)
        batch_id = answer.json()["batchId"]
        assert claims_of(answer.headers["x-trigger-jwt"])["scopes"] == [f"read:batch:{batch_id}"]
        assert set(json.loads(answer.headers["x-trigger-jwt-claims"])) == {"sub", "pub"}


def test_an_item_that_cannot_trigger_aborts_a_small_v1_batch_with_a_500_not_to_retry(
    wire: Wire,
) -> None:
    wire.api.on_item(index=1, outcome="trigger_failure")
    items3 = {"items": [{"task": "t"}] * 3}
    keyed = {"idempotency-key": "import-8"}
    failed = post(wire, "/api/v1/tasks/batch", items3, headers=keyed)
    assert (failed.status_code, failed.json()) == (500, {"error": "Something went wrong"})
    assert failed.headers["x-should-retry"] == "false"
    # the batch was made, and aborted: the run before the failing item stays
    again = post(wire, "/api/v1/tasks/batch", items3, headers=keyed).json()
    assert len(again["runs"]) == 1
    assert wire.get_batch(again["id"]).json()["status"] == "ABORTED"
    # more than 20 items are processed after the answer: a pre-failed run there
    many = post(wire, "/api/v1/tasks/batch", {"items": [{"task": "t"}] * 21})
    assert many.status_code == 202
    prefailed = many.json()["runs"][1]["id"]
    assert get_run(wire, prefailed)["status"] == "SYSTEM_FAILURE"


def test_the_single_triggers_500_leaves_retrying_to_the_client(wire: Wire) -> None:
    wire.api.on_item(task="t", outcome="trigger_failure")
    answer = trigger(wire)
    assert (answer.status_code, answer.json()) == (500, {"error": "Something went wrong"})
    assert "x-should-retry" not in answer.headers  # the route sets none


def test_a_fault_answers_with_the_headers_the_test_asks_for(wire: Wire) -> None:
    route = "POST /api/v2/tasks/batch"
    wire.api.fail_next("server_error", route=route, headers={"X-Should-Retry": "false"})
    wire.api.fail_next("rate_limit", route=route, headers={"retry-after": "7"})
    one = {"items": [{"task": "t"}]}
    lost = post(wire, "/api/v2/tasks/batch", one)
    assert (lost.status_code, lost.json()) == (500, {"error": "Internal Server Error"})
    assert lost.headers["x-should-retry"] == "false"
    limited = post(wire, "/api/v2/tasks/batch", one)
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "7")
    assert "x-ratelimit-reset" in limited.headers  # the fault's own headers stay
    assert post(wire, "/api/v2/tasks/batch", one).status_code == 202


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({"bad name": "x"}, r"headers names must be HTTP header names"),
        ({"x-a:b": "x"}, r"headers names must be HTTP header names"),
        ({"x-a": "line\nbreak"}, r"headers\['x-a'\] must be a string of printable ASCII"),
        ({"x-a": " padded"}, r"headers\['x-a'\] must be a string of printable ASCII"),
        ({"x-a": 1}, r"headers\['x-a'\] must be a string of .*; got a value of type int"),
        ({"X-A": "1", "x-a": "2"}, r"headers names repeat ignoring case: 'x-a'"),
    ],
)
def test_fail_next_headers_must_be_http_header_text(headers: Any, error: str) -> None:
    from pytest_trigger_batches import MockTriggerApi

    with pytest.raises(ValueError, match=error):
        MockTriggerApi().fail_next("server_error", headers=headers)


def test_fail_next_headers_need_an_answer_and_a_mapping() -> None:
    from pytest_trigger_batches import MockTriggerApi

    api = MockTriggerApi()
    with pytest.raises(ValueError, match=r"headers applies to fault='rate_limit' or 'server_er"):
        api.fail_next("timeout", headers={"x-should-retry": "false"})
    with pytest.raises(TypeError, match=r"headers must be a mapping of header names to values"):
        api.fail_next("server_error", headers=[("x-should-retry", "false")])  # type: ignore[arg-type]


# -- durations (docs/platform.md §5.8): each option read by the platform's own grammar ----

DAY = 86_400
PROD_KEY = "tr_prod_" + "Pr0d" * 6


@pytest.mark.parametrize("ttl", ["1 week", "2w", "soon"])
def test_an_idempotency_key_ttl_the_platform_cannot_read_is_accepted_and_lasts_30_days(
    wire: Wire, ttl: str
) -> None:
    # A10: any string; one outside <digits><s|m|h|d> silently means 30 days. (A prod key:
    # a dev run would expire queued after 10 minutes, and give up its key.)
    now = [NOW]
    wire.api.clock = lambda: now[0]
    body = {"payload": 1, "options": {"idempotencyKey": "once", "idempotencyKeyTTL": ttl}}
    first = post(wire, "/api/v1/tasks/t/trigger", body, key=PROD_KEY)
    assert first.status_code == 200
    now[0] += 29 * DAY
    assert post(wire, "/api/v1/tasks/t/trigger", body, key=PROD_KEY).json() == {
        "id": first.json()["id"],
        "isCached": True,
    }
    now[0] += 2 * DAY
    later = post(wire, "/api/v1/tasks/t/trigger", body, key=PROD_KEY).json()
    assert later["id"] != first.json()["id"]


def test_an_idempotency_key_ttl_in_seconds_minutes_hours_or_days_is_honoured(wire: Wire) -> None:
    now = [NOW]
    wire.api.clock = lambda: now[0]
    body = {"payload": 1, "options": {"idempotencyKey": "once", "idempotencyKeyTTL": "2h"}}
    first = post(wire, "/api/v1/tasks/t/trigger", body, key=PROD_KEY).json()["id"]
    now[0] += 2 * 3600 - 1
    assert post(wire, "/api/v1/tasks/t/trigger", body, key=PROD_KEY).json()["id"] == first
    now[0] += 1
    assert post(wire, "/api/v1/tasks/t/trigger", body, key=PROD_KEY).json()["id"] != first


@pytest.mark.parametrize("ttl", ["1 week", "1.5h", "1y"])
def test_the_idempotency_key_ttl_header_takes_any_string_and_lasts_30_days_if_unreadable(
    wire: Wire, ttl: str
) -> None:
    # A11: the header schema is a plain string.
    now = [NOW]
    wire.api.clock = lambda: now[0]
    headers = {"idempotency-key": "import-7", "idempotency-key-ttl": ttl}
    first = post(wire, "/api/v1/tasks/batch", {"items": [{"task": "t"}]}, headers=headers)
    assert first.status_code == 202
    now[0] += 29 * DAY
    again = post(wire, "/api/v1/tasks/batch", {"items": [{"task": "t"}]}, headers=headers)
    assert (again.json()["id"], again.json()["isCached"]) == (first.json()["id"], True)
    now[0] += 2 * DAY
    later = post(wire, "/api/v1/tasks/batch", {"items": [{"task": "t"}]}, headers=headers)
    assert later.json()["id"] != first.json()["id"]
    single = post(wire, "/api/v1/tasks/t/trigger", {"payload": 1}, headers=headers)
    assert single.status_code == 200


@pytest.mark.parametrize(
    ("delay", "until"),
    [
        ("2h30m", "2026-05-28T22:56:40.000Z"),
        ("1hr", "2026-05-28T21:26:40.000Z"),
        ("30m2h", "2026-05-28T22:56:40.000Z"),
        ("1w1d", "2026-06-05T20:26:40.000Z"),
        ("2026-06-01T00:00:00Z", "2026-06-01T00:00:00.000Z"),
        ("3600", "3600-01-01T00:00:00.000Z"),  # a bare number is a year to the platform
    ],
)
def test_a_composite_delay_or_a_future_date_delays_the_run(
    wire: Wire, delay: str, until: str
) -> None:
    # A27: the natural-language grammar of duration.ts, or a date.
    wire.api.clock = lambda: NOW
    run_id = post(wire, "/api/v1/tasks/t/trigger", {"options": {"delay": delay}}).json()["id"]
    body = get_run(wire, run_id)
    assert (body["status"], body["delayedUntil"]) == ("DELAYED", until)


@pytest.mark.parametrize("delay", ["2026-01-01T00:00:00Z", "1 hour", "1.5h", "30"])
def test_a_past_date_or_an_unreadable_delay_does_not_delay_the_run(wire: Wire, delay: str) -> None:
    wire.api.clock = lambda: NOW
    run_id = post(wire, "/api/v1/tasks/t/trigger", {"options": {"delay": delay}}).json()["id"]
    body = get_run(wire, run_id)
    assert (body["status"], "delayedUntil" in body) == ("QUEUED", False)


@pytest.mark.parametrize(
    ("ttl", "shown"),
    [(3600, "1h"), (90_061, "1d1h1m1s"), (1_209_600, "2w"), ("45m", "45m"), (0, None)],
)
def test_a_numeric_ttl_is_stored_as_a_duration_and_zero_is_no_ttl(
    wire: Wire, ttl: object, shown: str | None
) -> None:
    # A29: stringifyDuration; 0 means none, even where a default would apply.
    run_id = post(wire, "/api/v1/tasks/t/trigger", {"options": {"ttl": ttl}}).json()["id"]
    assert get_run(wire, run_id).get("ttl") == shown


def test_a_development_run_without_a_ttl_gets_ten_minutes_and_expires_if_still_queued(
    wire: Wire,
) -> None:
    # A30: dev environments default to "10m"; the other environments have no ttl.
    now = [NOW]
    wire.api.clock = lambda: now[0]
    wire.api.progression = "held"
    dev = post(wire, "/api/v1/tasks/t/trigger", {"payload": 1}).json()["id"]
    prod = post(wire, "/api/v1/tasks/t/trigger", {"payload": 1}, key=PROD_KEY).json()["id"]
    assert get_run(wire, dev)["ttl"] == "10m"
    assert "ttl" not in get_run(wire, prod, key=PROD_KEY)
    now[0] += 599
    assert get_run(wire, dev)["status"] == "QUEUED"
    now[0] += 1
    assert get_run(wire, dev)["status"] == "EXPIRED"
    assert get_run(wire, prod, key=PROD_KEY)["status"] == "QUEUED"


def test_a_delayed_runs_ttl_counts_from_the_end_of_its_delay(wire: Wire) -> None:
    now = [NOW]
    wire.api.clock = lambda: now[0]
    wire.api.progression = "held"
    options = {"delay": "1h", "ttl": "10m"}
    run_id = post(wire, "/api/v1/tasks/t/trigger", {"options": options}).json()["id"]
    now[0] += 3600 + 599
    assert get_run(wire, run_id)["status"] == "QUEUED"
    now[0] += 1
    assert get_run(wire, run_id)["status"] == "EXPIRED"


# -- validation as the platform's schemas answer (audit rows A12-A26, B5, B6, B14) -------
# Texts are those zod 3 and zod-validation-error 1.x write for the platform's schemas
# (packages/core/src/v3/schemas/api.ts); docs/platform.md §1.5 and §5.6.

TRIGGER = "/api/v1/tasks/t/trigger"
ACCEPTED = {  # each trigger route, with a body it accepts
    TRIGGER: {"payload": 1},
    "/api/v1/tasks/t/batch": {"items": [{"payload": 1}]},
    "/api/v1/tasks/batch": {"items": [{"task": "t"}]},
    "/api/v2/tasks/batch": {"items": [{"task": "t"}]},
    "/api/v3/batches": {"runCount": 1},
}
MACHINES = "'micro' | 'small-1x' | 'small-2x' | 'medium-1x' | 'medium-2x' | 'large-1x' | 'large-2x'"
ELEVEN = [f"t{n}" for n in range(11)]
TOO_MANY_TAGS = "Runs can only have 10 tags, you're trying to set 11."
STORE = "payload must be a non-empty string when options.payloadType is application/store"


def too_big(maximum: int, message: str, *path: str | int) -> dict[str, Any]:
    return {
        "code": "too_big",
        "maximum": maximum,
        "type": "string",
        "inclusive": True,
        "exact": False,
        "message": message,
        "path": list(path),
    }


def run_of(w: Wire, run_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = w.send("GET", f"/api/v3/runs/{run_id}").json()
    return answer


@pytest.mark.parametrize("path", list(ACCEPTED))
def test_an_idempotency_key_header_over_2048_characters_is_a_headers_error_before_the_body(
    wire: Wire, path: str
) -> None:
    answer = wire.send("POST", path, content=b"null", headers={"idempotency-key": "k" * 2049})
    issue = too_big(2048, "idempotency-key must be 2048 characters or less", "idempotency-key")
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "Headers Error", "details": [issue]},
    )
    fine = post(wire, path, ACCEPTED[path], headers={"idempotency-key": "k" * 2048})
    assert fine.status_code in (200, 202)


@pytest.mark.parametrize(
    ("path", "headers", "details"),
    [
        (
            TRIGGER,
            {"x-trigger-engine-version": "V3"},
            [
                {
                    "received": "V3",
                    "code": "invalid_enum_value",
                    "options": ["V1", "V2"],
                    "path": ["x-trigger-engine-version"],
                    "message": "Invalid enum value. Expected 'V1' | 'V2', received 'V3'",
                }
            ],
        ),
        (
            "/api/v3/batches",
            {"x-trigger-span-parent-as-link": "yes"},
            [
                {
                    "code": "invalid_type",
                    "expected": "number",
                    "received": "nan",
                    "path": ["x-trigger-span-parent-as-link"],
                    "message": "Expected number, received nan",
                }
            ],
        ),
        (
            "/api/v2/tasks/batch",
            {"batch-processing-strategy": "fast"},
            [
                {
                    "received": "fast",
                    "code": "invalid_enum_value",
                    "options": ["sequential", "parallel"],
                    "path": ["batch-processing-strategy"],
                    "message": "Invalid enum value. Expected 'sequential' | 'parallel', "
                    "received 'fast'",
                }
            ],
        ),
    ],
    ids=["engine-version", "span-parent-as-link", "batch-processing-strategy"],
)
def test_the_other_declared_headers_are_checked_by_the_same_schema(
    wire: Wire, path: str, headers: dict[str, str], details: list[dict[str, Any]]
) -> None:
    answer = post(wire, path, ACCEPTED[path], headers=headers)
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "Headers Error", "details": details},
    )
    readable = {"x-trigger-span-parent-as-link": "0x1F", "x-trigger-engine-version": "V2"}
    assert post(wire, path, ACCEPTED[path], headers=readable).status_code in (200, 202)
    # a header only the batch routes declare is not checked on the others
    ignored = post(wire, TRIGGER, {}, headers={"batch-processing-strategy": "fast"})
    assert ignored.status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "where"),
    [
        (TRIGGER, {"options": {"idempotencyKey": "k" * 2049}}, "options.idempotencyKey"),
        (
            "/api/v1/tasks/t/batch",
            {"items": [{"options": {"idempotencyKey": "k" * 2049}}]},
            "items[0].options.idempotencyKey",
        ),
        (
            "/api/v1/tasks/batch",
            {"items": [{"task": "t", "options": {"idempotencyKey": "k" * 2049}}]},
            "items[0].options.idempotencyKey",
        ),
        (
            "/api/v2/tasks/batch",
            {"items": [{"task": "t"}, {"task": "t", "options": {"idempotencyKey": "k" * 2049}}]},
            "items[1].options.idempotencyKey",
        ),
        ("/api/v3/batches", {"runCount": 1, "idempotencyKey": "k" * 2049}, "idempotencyKey"),
    ],
    ids=["trigger", "task-batch", "v1-batch", "v2-batch", "create-batch"],
)
def test_an_idempotency_key_over_2048_characters_is_refused_with_the_schemas_own_text(
    wire: Wire, path: str, body: dict[str, Any], where: str
) -> None:
    answer = post(wire, path, body)
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": f'Validation error: idempotencyKey must be 2048 characters or less at "{where}"'},
    )


def test_lengths_are_counted_in_utf16_code_units_as_javascript_counts_them(wire: Wire) -> None:
    emoji = "\U0001f600"  # two code units
    assert post(wire, TRIGGER, {"options": {"idempotencyKey": emoji * 1024}}).status_code == 200
    longer = post(wire, TRIGGER, {"options": {"idempotencyKey": emoji * 1025}})
    assert longer.status_code == 400
    assert post(wire, TRIGGER, {"options": {"tags": [emoji * 64]}}).status_code == 200
    tag = post(wire, TRIGGER, {"options": {"tags": [emoji * 65]}})
    assert tag.json()["error"].startswith("Validation error: Tags must be less than 128")


@pytest.mark.parametrize(
    ("tags", "error"),
    [
        (
            ["short", "t" * 129],
            'Validation error: Tags must be less than 128 characters at "options.tags[1]"',
        ),
        ("t" * 129, 'Validation error: Tags must be less than 128 characters at "options.tags"'),
        (
            None,
            'Validation error: Expected string, received null at "options.tags", '
            'or Expected array, received null at "options.tags"',
        ),
    ],
    ids=["in-a-list", "alone", "null"],
)
def test_a_tag_over_128_characters_is_refused_where_it_stands(
    wire: Wire, tags: object, error: str
) -> None:
    answer = post(wire, TRIGGER, {"options": {"tags": tags}})
    assert (answer.status_code, answer.json()) == (400, {"error": error})
    assert post(wire, TRIGGER, {"options": {"tags": ["t" * 128]}}).status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "status", "kept"),
    [
        (TRIGGER, {"options": {"tags": ELEVEN}}, 422, 0),
        (
            "/api/v1/tasks/batch",
            {"items": [{"task": "t"}, {"task": "t", "options": {"tags": ELEVEN}}]},
            422,
            1,  # the run made before the item stays, as the platform's does
        ),
        (
            "/api/v1/tasks/t/batch",
            {"items": [{"payload": 1}, {"options": {"tags": ELEVEN}}]},
            400,
            0,
        ),
    ],
    ids=["trigger", "v1-batch", "task-batch"],
)
def test_more_than_ten_tags_are_refused_by_the_routes_that_trigger_within_the_request(
    wire: Wire, path: str, body: dict[str, Any], status: int, kept: int
) -> None:
    answer = post(wire, path, body)
    assert (answer.status_code, answer.json()) == (status, {"error": TOO_MANY_TAGS})
    assert len(wire.send("GET", "/api/v1/runs").json()["data"]) == kept


def test_blank_tags_count_towards_the_ten_and_a_single_string_is_one_tag(wire: Wire) -> None:
    blank = post(wire, TRIGGER, {"options": {"tags": ["a"] * 10 + [" "]}})
    assert (blank.status_code, blank.json()) == (422, {"error": TOO_MANY_TAGS})
    assert post(wire, TRIGGER, {"options": {"tags": ELEVEN[:10]}}).status_code == 200
    assert post(wire, TRIGGER, {"options": {"tags": "t" * 128}}).status_code == 200


def test_more_than_ten_tags_make_a_pre_failed_run_in_v2_and_streamed_batches(wire: Wire) -> None:
    tagged = {"task": "t", "options": {"tags": ELEVEN}}
    v2 = post(wire, "/api/v2/tasks/batch", {"items": [{"task": "t"}, tagged]})
    assert v2.status_code == 202
    runs = wire.get_batch(v2.json()["id"]).json()["runs"]
    shown = [run_of(wire, run)["status"] for run in runs]
    assert shown[1] == "SYSTEM_FAILURE"
    assert shown[0] != "SYSTEM_FAILURE"
    batch_id = create(wire, 2).json()["id"]
    lines = items(2, task="t")
    lines[1]["options"] = {"tags": ELEVEN}
    assert stream(wire, batch_id, lines).json()["itemsAccepted"] == 2
    wire.get_batch(batch_id)
    runs = wire.get_batch(batch_id).json()["runs"]
    assert run_of(wire, runs[1])["status"] == "SYSTEM_FAILURE"
    assert run_of(wire, runs[0])["status"] != "SYSTEM_FAILURE"


def test_a_v1_batch_of_more_than_20_items_is_taken_whatever_its_tags(wire: Wire) -> None:
    # Past 20 items the platform triggers them in the background: the request succeeds.
    many = [{"task": "t"}] * 20 + [{"task": "t", "options": {"tags": ELEVEN}}]
    answer = post(wire, "/api/v1/tasks/batch", {"items": many})
    assert answer.status_code == 202
    last = answer.json()["runs"][-1]["id"]
    assert run_of(wire, last)["status"] == "SYSTEM_FAILURE"


def test_blank_tags_are_dropped_and_the_rest_shown_in_locale_order(wire: Wire) -> None:
    sent = ["beta", "", "  ", "Alpha", "\u00a0", "alpha"]
    run_id = post(wire, TRIGGER, {"options": {"tags": sent}}).json()["id"]
    assert run_of(wire, run_id)["tags"] == ["alpha", "Alpha", "beta"]
    [listed] = wire.send("GET", "/api/v1/runs").json()["data"]
    assert listed["tags"] == ["alpha", "Alpha", "beta"]
    blank = post(wire, TRIGGER, {"options": {"tags": " "}}).json()["id"]
    assert run_of(wire, blank)["tags"] == []


@pytest.mark.parametrize(
    ("tags", "shown"),
    [  # as node (ICU, en-US) sorts them with localeCompare
        (["beta", "alpha", "Alpha"], ["alpha", "Alpha", "beta"]),
        (["b", "B", "a", "A", "_a", "-a", "a-"], ["_a", "-a", "a", "A", "a-", "b", "B"]),
        (
            ["tag10", "tag9", "tag-1", "tag_1", "tag 1", "Tag1"],
            ["tag 1", "tag_1", "tag-1", "Tag1", "tag10", "tag9"],
        ),
        (
            ["user:42", "user-42", "user_42", "user.42", "user42"],
            ["user_42", "user-42", "user:42", "user.42", "user42"],
        ),
        (["e", "\u00c9", "\u00e9", "E", "f"], ["e", "E", "\u00e9", "\u00c9", "f"]),
        (["\u00df", "ss", "st", "sr"], ["sr", "ss", "\u00df", "st"]),
        (["z", "~", "$", "0", "!"], ["!", "~", "$", "0", "z"]),
    ],
)
def test_tags_are_ordered_as_javascripts_locale_compare_orders_them(
    tags: list[str], shown: list[str]
) -> None:
    from pytest_trigger_batches.payloads import tags_of
    from pytest_trigger_batches.stored_run import Run

    assert tags_of(Run(id="run_x", task="t", created_ms=0, options={"tags": tags})) == shown


@pytest.mark.parametrize(
    ("machine", "error"),
    [
        ("huge", f"Invalid enum value. Expected {MACHINES}, received 'huge'"),
        ("Micro", f"Invalid enum value. Expected {MACHINES}, received 'Micro'"),
        (5, f"Expected {MACHINES}, received number"),
    ],
)
def test_a_machine_outside_the_presets_is_refused_naming_them(
    wire: Wire, machine: object, error: str
) -> None:
    answer = post(wire, TRIGGER, {"options": {"machine": machine}})
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": f'Validation error: {error} at "options.machine"'},
    )
    item = {"task": "t", "options": {"machine": machine}}
    batch = post(wire, "/api/v2/tasks/batch", {"items": [item]})
    assert batch.json() == {"error": f'Validation error: {error} at "items[0].options.machine"'}
    assert post(wire, TRIGGER, {"options": {"machine": "medium-2x"}}).status_code == 200


@pytest.mark.parametrize(
    ("ttl", "error"),
    [
        (-5, 'Number must be greater than or equal to 0 at "options.ttl"'),
        (1.5, 'Expected integer, received float at "options.ttl"'),
        (
            -1.5,
            'Number must be greater than or equal to 0 at "options.ttl"; '
            'Expected integer, received float at "options.ttl"',
        ),
        (
            True,
            'Expected string, received boolean at "options.ttl", '
            'or Expected number, received boolean at "options.ttl"',
        ),
    ],
)
def test_a_numeric_ttl_must_be_a_whole_number_of_seconds_not_below_zero(
    wire: Wire, ttl: object, error: str
) -> None:
    answer = post(wire, TRIGGER, {"options": {"ttl": ttl}})
    assert (answer.status_code, answer.json()) == (400, {"error": "Validation error: " + error})
    assert post(wire, TRIGGER, {"options": {"ttl": 0}}).status_code == 200


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"maxAttempts": 1.5}, 'Expected integer, received float at "options.maxAttempts"'),
        ({"maxAttempts": "3"}, 'Expected number, received string at "options.maxAttempts"'),
        ({"queue": {}}, 'Required at "options.queue.name"'),
        (
            {"queue": {"name": "q", "concurrencyLimit": 1.5}},
            'Expected integer, received float at "options.queue.concurrencyLimit"',
        ),
        ({"idempotencyKey": None}, 'Expected string, received null at "options.idempotencyKey"'),
        (
            {"concurrencyKey": True},
            'Expected string, received boolean at "options.concurrencyKey", '
            'or Expected number, received boolean at "options.concurrencyKey"',
        ),
        (
            {"delay": {}},
            'Expected string, received object at "options.delay", '
            'or Invalid date at "options.delay"',
        ),
        (
            {"debounce": {"key": "k" * 513, "delay": "1s", "mode": "x"}},
            'String must contain at most 512 character(s) at "options.debounce.key"; '
            "Invalid enum value. Expected 'leading' | 'trailing', received 'x' at "
            '"options.debounce.mode"',
        ),
        (
            {"externalDeploymentId": "  " + "d" * 129},
            'externalId must be at most 128 characters at "options.externalDeploymentId"',
        ),
        (
            {"idempotencyKeyOptions": {"key": "k"}},
            'Required at "options.idempotencyKeyOptions.scope"',
        ),
        (
            {"machine": "huge", "ttl": -5},
            f"Invalid enum value. Expected {MACHINES}, received 'huge' at \"options.machine\"; "
            'Number must be greater than or equal to 0 at "options.ttl"',
        ),
    ],
)
def test_trigger_options_are_refused_in_the_words_of_zod(
    wire: Wire, options: object, error: str
) -> None:
    answer = post(wire, TRIGGER, {"payload": 1, "options": options})
    assert (answer.status_code, answer.json()) == (400, {"error": "Validation error: " + error})


@pytest.mark.parametrize(
    "options",
    [{"delay": "999999999999w"}, {"idempotencyKey": "k", "idempotencyKeyTTL": "99999999999999d"}],
)
def test_a_moment_past_a_javascript_date_fails_the_trigger_as_the_platform_does(
    wire: Wire, options: dict[str, str]
) -> None:
    # The platform computes an Invalid Date, which its database refuses: the item's
    # trigger fails, as with on_item(outcome="trigger_failure").
    items = {"items": [{"task": "t", "options": options}]}
    answer = post(wire, "/api/v1/tasks/t/trigger", {"payload": 1, "options": options})
    assert (answer.status_code, answer.json()) == (500, {"error": "Something went wrong"})
    inline = post(wire, "/api/v1/tasks/batch", items)
    assert (inline.status_code, inline.headers["x-should-retry"]) == (500, "false")
    batch_id = post(wire, "/api/v2/tasks/batch", items).json()["id"]
    run = get_run(wire, wire.get_batch(batch_id).json()["runs"][0])
    assert (run["status"], run["error"]["message"]) == (
        "SYSTEM_FAILURE",
        "trigger.dev internal error (BATCH_ITEM_COULD_NOT_TRIGGER)",
    )


def test_a_huge_ttl_is_stored_as_given_and_never_expires(wire: Wire) -> None:
    now = [NOW]
    wire.api.clock = lambda: now[0]
    wire.api.progression = "held"
    options = {"ttl": "999999999999w"}
    run_id = post(wire, "/api/v1/tasks/t/trigger", {"options": options}).json()["id"]
    now[0] += 1000 * 365 * DAY
    body = get_run(wire, run_id)
    assert (body["ttl"], body["status"]) == ("999999999999w", "QUEUED")


def test_a_v1_batch_whose_key_ttl_header_ends_past_a_javascript_date_is_a_500(
    wire: Wire,
) -> None:
    headers = {"idempotency-key-ttl": "99999999999999d"}
    answer = post(wire, "/api/v1/tasks/batch", {"items": [{"task": "t"}]}, headers=headers)
    assert (answer.status_code, answer.json()) == (500, {"error": "Something went wrong"})
    assert answer.headers["x-should-retry"] == "false"


def test_a_readable_idempotency_key_ttl_header_wins_over_the_option(wire: Wire) -> None:
    now = [NOW]
    wire.api.clock = lambda: now[0]
    body = {"payload": 1, "options": {"idempotencyKey": "k", "idempotencyKeyTTL": "1d"}}

    def trigger_as_prod(task: str, ttl: str | None = None) -> str:
        headers = {"idempotency-key-ttl": ttl} if ttl else {}
        answer = post(wire, f"/api/v1/tasks/{task}/trigger", body, headers=headers, key=PROD_KEY)
        run_id: str = answer.json()["id"]
        return run_id

    first, unread = trigger_as_prod("t", "1h"), trigger_as_prod("u", "1 h")
    now[0] += 3600
    assert trigger_as_prod("t") != first
    assert trigger_as_prod("u") == unread  # the option's day


@pytest.mark.parametrize(
    "options",
    [
        {"ttl": 0},
        {"ttl": "1h"},
        {"machine": "large-2x"},
        {"concurrencyKey": 42},
        {"delay": 5},
        {"externalDeploymentId": "   "},
        {"unknown": [None, {"x": None}]},
        {"metadata": None},
    ],
)
def test_what_the_schema_allows_is_accepted(wire: Wire, options: dict[str, Any]) -> None:
    assert post(wire, TRIGGER, {"payload": None, "options": options}).status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "answer"),
    [
        (TRIGGER, {"payload": {"a": 1}}, (400, f'Validation error: {STORE} at "payload"')),
        (TRIGGER, {"payload": ""}, (400, f'Validation error: {STORE} at "payload"')),
        (TRIGGER, {}, (400, f'Validation error: {STORE} at "payload"')),
        (TRIGGER, {"payload": "payloads/run_1.json"}, (200, None)),
        (
            "/api/v1/tasks/t/batch",
            {"items": [{"payload": 1}]},
            (400, f'Validation error: {STORE} at "items[0].payload"'),
        ),
        ("/api/v2/tasks/batch", {"items": [{"task": "t", "payload": 1}]}, (202, None)),
    ],
    ids=["object", "empty", "missing", "a-reference", "task-batch-item", "v2-item-unchecked"],
)
def test_a_stored_payload_must_be_a_non_empty_string_where_the_trigger_body_is_checked(
    wire: Wire, path: str, body: dict[str, Any], answer: tuple[int, str | None]
) -> None:
    store = {"payloadType": "application/store"}
    if "items" in body:
        body = {"items": [{**item, "options": store} for item in body["items"]]}
    else:
        body = {**body, "options": store}
    got = post(wire, path, body)
    status, error = answer
    assert got.status_code == status
    if error is not None:
        assert got.json() == {"error": error}


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", "Request body is empty"),
        (b"\xef\xbb\xbf", "Request body is empty"),  # a BOM alone: nothing once decoded
        (b"null", "Invalid JSON"),
        (b"  \n", "Invalid JSON"),
        (b"false", "Invalid JSON"),
        (b"0", "Invalid JSON"),
        (b'""', "Invalid JSON"),
        (b"{", "Invalid JSON"),
        (b"NaN", "Invalid JSON"),
        (b'{"options": {"ttl": Infinity}}', "Invalid JSON"),
        (b"\xff\xfe{\x00}\x00", "Invalid JSON"),  # UTF-16 is not read as such
        (b"[]", "Validation error: Expected object, received array"),
        (b"true", "Validation error: Expected object, received boolean"),
    ],
    ids=[
        "empty",
        "bom",
        "null",
        "spaces",
        "false",
        "zero",
        "empty-string",
        "unfinished",
        "nan",
        "infinity",
        "utf-16",
        "array",
        "true",
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused_as_the_route_builder_refuses_it(
    wire: Wire, content: bytes, error: str
) -> None:
    answer = wire.send("POST", TRIGGER, content=content)
    assert (answer.status_code, answer.json()) == (400, {"error": error})
    for path in ACCEPTED:
        assert wire.send("POST", path, content=content).json() == {"error": error}


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            {"runCount": 1, "taskIdentifiers": []},
            'Array must contain at least 1 element(s) at "taskIdentifiers"',
        ),
        (
            {"runCount": 1, "taskIdentifiers": [""]},
            'String must contain at least 1 character(s) at "taskIdentifiers[0]"',
        ),
        (
            {"runCount": 1, "taskIdentifiers": None},
            'Expected array, received null at "taskIdentifiers"',
        ),
        (
            {"runCount": -1.5},
            'Expected integer, received float at "runCount"; '
            'Number must be greater than 0 at "runCount"',
        ),
        (
            {"runCount": 0, "idempotencyKey": 5},
            'Number must be greater than 0 at "runCount"; '
            'Expected string, received number at "idempotencyKey"',
        ),
    ],
    ids=["no-tasks", "blank-task", "null-tasks", "negative-float", "two-fields"],
)
def test_a_create_batch_body_is_refused_in_the_words_of_zod(
    wire: Wire, body: dict[str, Any], error: str
) -> None:
    answer = post(wire, "/api/v3/batches", body)
    assert (answer.status_code, answer.json()) == (400, {"error": "Validation error: " + error})


@pytest.mark.parametrize(
    ("line", "where", "issue"),
    [
        (
            {"index": 0, "task": 5},
            "index 0",
            {
                "code": "invalid_type",
                "expected": "string",
                "received": "number",
                "path": ["task"],
                "message": "Expected string, received number",
            },
        ),
        (
            {"index": 1.5, "task": "t"},
            "index 1.5",
            {
                "code": "invalid_type",
                "expected": "integer",
                "received": "float",
                "message": "Expected integer, received float",
                "path": ["index"],
            },
        ),
        (
            {"index": "0", "task": "t"},
            "unknown index",
            {
                "code": "invalid_type",
                "expected": "number",
                "received": "string",
                "path": ["index"],
                "message": "Expected number, received string",
            },
        ),
        (
            {"index": 0, "task": "t", "options": {"tags": ["a", "t" * 129]}},
            "index 0",
            too_big(128, "Tags must be less than 128 characters", "options", "tags", 1),
        ),
        (
            {"index": 0, "task": "t", "options": {"idempotencyKey": "k" * 2049}},
            "index 0",
            too_big(
                2048, "idempotencyKey must be 2048 characters or less", "options", "idempotencyKey"
            ),
        ),
    ],
    ids=["task-number", "index-float", "index-text", "long-tag", "long-key"],
)
def test_an_invalid_streamed_item_is_422_with_zods_issues_as_json(
    wire: Wire, line: dict[str, Any], where: str, issue: dict[str, Any]
) -> None:
    batch_id = create(wire, 2).json()["id"]
    answer = stream(wire, batch_id, [line])
    assert (answer.status_code, answer.json()) == (
        422,
        {"error": f"Invalid item at {where}: " + zod_issues(issue)},
    )


def test_an_item_that_fails_in_every_branch_of_a_union_lists_each_branch(wire: Wire) -> None:
    batch_id = create(wire, 1).json()["id"]
    answer = stream(wire, batch_id, [{"index": 0, "task": "t", "options": {"ttl": True}}])

    def wrong(expected: str) -> dict[str, Any]:
        return {
            "code": "invalid_type",
            "expected": expected,
            "received": "boolean",
            "path": ["options", "ttl"],
            "message": f"Expected {expected}, received boolean",
        }

    union = {
        "code": "invalid_union",
        "unionErrors": [
            {"issues": [wrong("string")], "name": "ZodError"},
            {"issues": [wrong("number")], "name": "ZodError"},
        ],
        "path": ["options", "ttl"],
        "message": "Invalid input",
    }
    assert answer.json() == {"error": "Invalid item at index 0: " + zod_issues(union)}


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b'{"payload": {"a": [null, {"b": null}]}, "options": {"metadata": {"x": null}}}', 200),
        (b'{"payload": ' + b"9" * 5000 + b"}", 200),
        (b'{"payload": "\xff\xfe"}', 200),  # not UTF-8: replacement characters, as in node
        (b'{"payload": "\\ud800"}', 200),
        (b'{"options": {"tags": ["\\ud800", "\\udc00x"]}}', 200),
        (b'{"options": {"idempotencyKey": "\\udfff"}}', 200),
        (b'{"options": {"ttl": 1e300}}', 200),
        (b'{"options": {"delay": true}}', 200),
        (b'{"options": {"maxAttempts": 1e400}}', 400),
        (b'{"options": {"maxAttempts": ' + b"9" * 5000 + b"}}", 400),
        (b'{"options": {"machine": "\\ud800"}}', 400),
        (b'{"options": {"ttl": NaN}}', 400),
        (b'{"options": {"ttl": -Infinity}}', 400),
        (b"[" * 5000 + b"]" * 5000, 400),
    ],
    ids=[
        "nested-nulls",
        "huge-integer-payload",
        "not-utf-8",
        "lone-surrogate-payload",
        "lone-surrogate-tags",
        "lone-surrogate-key",
        "huge-ttl",
        "boolean-delay",
        "infinite-max-attempts",
        "huge-max-attempts",
        "lone-surrogate-machine",
        "nan",
        "minus-infinity",
        "deep",
    ],
)
def test_odd_bodies_are_accepted_or_refused_never_a_500(
    wire: Wire, content: bytes, status: int
) -> None:
    answer = wire.send("POST", TRIGGER, content=content)
    assert answer.status_code == status, answer.text
    if status == 200:
        run = wire.send("GET", f"/api/v3/runs/{answer.json()['id']}")
        assert run.status_code == 200
        assert wire.send("GET", "/api/v1/runs").status_code == 200


def test_a_lone_surrogate_in_a_message_is_written_as_json_escapes_it(wire: Wire) -> None:
    answer = wire.send("POST", TRIGGER, content=b'{"options": {"machine": "\\ud800"}}')
    assert b"received '\\\\ud800'" not in answer.content
    assert b"received '\\ud800'" in answer.content
    assert answer.json()["error"].endswith("received '\ud800' at \"options.machine\"")


def test_a_streamed_line_with_nan_is_invalid_json(wire: Wire) -> None:
    batch_id = create(wire, 1).json()["id"]
    answer = wire.send(
        "POST",
        f"/api/v3/batches/{batch_id}/items",
        content=b'{"index": NaN, "task": "t"}',
        headers=NDJSON,
    )
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "Invalid JSON at line 1: Expecting value"},
    )


# -- A36: a JSON payload is stored as JSON.stringify(payload) ---------------------------


def test_a_string_payload_of_type_json_comes_back_as_that_string_unless_streamed(
    wire: Wire,
) -> None:
    text = '{"a":1}'
    options = {"payloadType": "application/json"}
    single = post(wire, "/api/v1/tasks/t/trigger", {"payload": text, "options": options})
    assert get_run(wire, single.json()["id"])["payload"] == text
    items = {"items": [{"task": "t", "payload": text, "options": options}]}
    batch_id = post(wire, "/api/v2/tasks/batch", items).json()["id"]
    [run_id] = wire.get_batch(batch_id).json()["runs"]
    assert get_run(wire, run_id)["payload"] == text
    # The batch queue parses a JSON string before it triggers a streamed item.
    streamed = create(wire, 1).json()["id"]
    stream(wire, streamed, [{"index": 0, "task": "t", "payload": text, "options": options}])
    wire.api.advance(streamed, to="COMPLETED")
    [streamed_run] = wire.get_batch(streamed).json()["runs"]
    assert get_run(wire, streamed_run)["payload"] == {"a": 1}
