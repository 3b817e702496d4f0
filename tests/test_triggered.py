"""What the application sent, as the records show it: `triggered` (every item, with how
the platform took it), `assert_triggered`, `assert_nothing_triggered` and
`triggered_batches`. Every test runs over respx (sync and async) and the HTTP server."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from wire import Wire

from pytest_trigger_batches import BatchStatus
from pytest_trigger_batches.calls import TriggeredItem

NDJSON = {"content-type": "application/x-ndjson"}
ITEMS = "POST /api/v3/batches/{batchId}/items"


def post(w: Wire, path: str, body: object, **options: Any) -> httpx.Response:
    return w.send("POST", path, content=json.dumps(body).encode(), **options)


def create(w: Wire, run_count: int, **body: Any) -> str:
    answer = post(w, "/api/v3/batches", {"runCount": run_count, **body})
    assert answer.status_code in (200, 202), answer.text
    return str(answer.json()["id"])


def stream(w: Wire, batch_id: str, indices: list[int], task: str = "t", **options: Any) -> None:
    lines = [{"index": i, "task": task, "payload": {"n": i}, **options} for i in indices]
    content = "\n".join(json.dumps(line) for line in lines).encode()
    answer = w.send("POST", f"/api/v3/batches/{batch_id}/items", content=content, headers=NDJSON)
    assert answer.status_code == 200, answer.text


def answers(w: Wire) -> list[tuple[str, int, str]]:
    return [(item.task, item.index, item.answer) for item in w.api.triggered]


# -- triggered: every item sent, and how it was taken ------------------------------------


def test_a_resent_streaming_item_is_listed_as_deduplicated(wire: Wire) -> None:
    batch_id = create(wire, 2)
    stream(wire, batch_id, [0])
    stream(wire, batch_id, [0, 1])  # the client resends every item; index 0 is kept once
    assert answers(wire) == [("t", 0, "created"), ("t", 0, "deduplicated"), ("t", 1, "created")]
    assert {item.batch_id for item in wire.api.triggered} == {batch_id}
    assert [item.index for item in wire.api.assert_triggered(count=2)] == [0, 1]
    [resent] = wire.api.assert_triggered(answer="deduplicated")
    assert resent.route == ITEMS


def test_a_repeated_batch_key_or_request_key_is_listed_as_cached(wire: Wire) -> None:
    body = {"items": [{"task": "a", "payload": 1}, {"task": "b"}]}
    keyed = {"idempotency-key": "import-1"}
    first = post(wire, "/api/v1/tasks/batch", body, headers=keyed).json()["id"]
    assert post(wire, "/api/v1/tasks/batch", body, headers=keyed).json()["isCached"] is True
    request = {"x-trigger-request-idempotency-key": "req-1"}
    run_id = post(wire, "/api/v1/tasks/c/trigger", {"payload": 2}, headers=request).json()["id"]
    assert post(wire, "/api/v1/tasks/c/trigger", {"payload": 2}, headers=request).json() == {
        "id": run_id,
        "isCached": False,  # the platform answers a replayed request as new
    }
    assert answers(wire) == [
        ("a", 0, "created"),
        ("b", 1, "created"),
        ("a", 0, "cached"),
        ("b", 1, "cached"),
        ("c", 0, "created"),
        ("c", 0, "cached"),
    ]
    assert [item.batch_id for item in wire.api.triggered[:4]] == [first] * 4
    wire.api.assert_triggered(count=3)
    wire.api.assert_triggered(count=6, answer=None)


def test_an_item_whose_key_reuses_an_earlier_run_is_cached(wire: Wire) -> None:
    keyed = {"payload": 1, "options": {"idempotencyKey": "u-1"}}
    post(wire, "/api/v1/tasks/t/trigger", keyed)
    post(wire, "/api/v2/tasks/batch", {"items": [{"task": "t", **keyed}, {"task": "t"}]})
    batch_id = create(wire, 1)
    stream(wire, batch_id, [0], options={"idempotencyKey": "u-1"})
    assert answers(wire)[1:] == [("t", 0, "cached"), ("t", 1, "created"), ("t", 0, "created")]
    wire.get_batch(batch_id)  # processed: the platform finds the key's run only now
    assert answers(wire)[-1] == ("t", 0, "cached")


def test_items_of_a_refused_request_are_listed_as_refused(wire: Wire) -> None:
    wire.api.on_item(task="full", outcome="queue_limit")
    assert post(wire, "/api/v1/tasks/full/trigger", {"payload": 1}).status_code == 422
    body = {"items": [{"task": "t"}, {"task": "full"}]}
    assert post(wire, "/api/v1/tasks/batch", body).status_code == 422  # the whole request
    wire.api.on_item(task="big", outcome="too_large")
    assert post(wire, "/api/v2/tasks/batch", {"items": [{"task": "big"}]}).status_code == 413
    assert answers(wire) == [
        ("full", 0, "refused"),
        ("t", 0, "refused"),
        ("full", 1, "refused"),
        ("big", 0, "refused"),
    ]
    assert {item.batch_id for item in wire.api.triggered} == {None}
    assert wire.api.triggered_batches == []
    wire.api.assert_nothing_triggered()  # nothing was taken as new work
    wire.api.assert_triggered("full", count=2, answer="refused")


def test_an_aborted_v1_batch_keeps_the_items_before_the_failure_as_created(wire: Wire) -> None:
    wire.api.on_item(index=1, outcome="trigger_failure")
    failed = post(wire, "/api/v1/tasks/batch", {"items": [{"task": "t"}] * 3})
    assert failed.status_code == 500
    assert answers(wire) == [("t", 0, "created"), ("t", 1, "refused"), ("t", 2, "refused")]
    [aborted] = wire.api.triggered_batches
    assert {item.batch_id for item in wire.api.triggered} == {aborted.id}
    assert aborted.batch.status == BatchStatus.ABORTED
    assert len(aborted.batch.runs) == 1  # the run before the failing item exists, and runs
    with pytest.raises(AssertionError, match=r"expected nothing to be triggered, 1 item\(s\)"):
        wire.api.assert_nothing_triggered()


def test_requests_refused_before_their_items_are_read_list_nothing(wire: Wire) -> None:
    assert post(wire, "/api/v1/tasks/batch", {"items": [{"payload": 1}]}).status_code == 400
    assert (
        post(wire, "/api/v1/tasks/batch", {"items": [{"task": "t"}]}, key=None).status_code == 401
    )
    batch_id = create(wire, 1)
    stream(wire, batch_id, [0])
    stream(wire, batch_id, [0])  # sealed: the platform does not read the upload
    assert answers(wire) == [("t", 0, "created")]
    assert wire.api.calls_to(ITEMS)[-1].body == [{"index": 0, "task": "t", "payload": {"n": 0}}]


def test_assertion_failures_list_every_item_with_its_answer(wire: Wire) -> None:
    batch_id = create(wire, 1)
    stream(wire, batch_id, [0])
    wire.api.on_item(task="full", outcome="queue_limit")
    post(wire, "/api/v1/tasks/batch", {"items": [{"task": "full", "payload": {"n": 9}}]})
    with pytest.raises(AssertionError) as caught:
        wire.api.assert_triggered("full")
    assert str(caught.value) == (
        "expected items of 'full' to be triggered, none were\n"
        "Triggered, in order:\n"
        f'  1. t {batch_id}[0]: {{"n": 0}}\n'
        '  2. full item 0: {"n": 9} (refused)'
    )
    with pytest.raises(AssertionError, match=r"expected 2 items answered 'refused' to be"):
        wire.api.assert_triggered(count=2, answer="refused")


def test_a_triggered_item_made_by_position_is_created() -> None:
    item = TriggeredItem("POST /api/v1/tasks/{taskId}/trigger", "t", 0, None, {}, None)
    assert (item.answer, str(item)) == ("created", "t single trigger: null")


# -- triggered_batches: the batches the app created ----------------------------------------


def test_triggered_batches_are_the_batches_the_app_created_newest_last(wire: Wire) -> None:
    streaming = create(wire, 1, idempotencyKey="nightly")
    create(wire, 1, idempotencyKey="nightly")  # the same batch again: none created
    v2 = post(wire, "/api/v2/tasks/batch", {"items": [{"task": "a"}]}).json()["id"]
    v1 = post(wire, "/api/v1/tasks/batch", {"items": [{"task": "a"}]}).json()["id"]
    per_task = post(wire, "/api/v1/tasks/a/batch", {"items": [{"payload": 1}]}).json()["batchId"]
    post(wire, "/api/v1/tasks/a/trigger", {"payload": 1})  # a run in no batch
    made = wire.api.triggered_batches
    assert [(handle.id, handle.route) for handle in made] == [
        (streaming, "POST /api/v3/batches"),
        (v2, "POST /api/v2/tasks/batch"),
        (v1, "POST /api/v1/tasks/batch"),
        (per_task, "POST /api/v1/tasks/{taskId}/batch"),
    ]
    assert made == wire.api.triggered_batches  # the same batches, whenever asked
    assert wire.api.batches == []  # registered batches only
    assert {handle.environment for handle in made} == {"dev"}
    assert made[-1].batch.runs == tuple(wire.get_batch(per_task).json()["runs"])


def test_a_triggered_batch_handle_is_live_and_names_its_batch(wire: Wire) -> None:
    wire.api.progression = "held"
    batch_id = create(wire, 2)
    [handle] = wire.api.triggered_batches
    assert (handle.batch.status, handle.batch.runs) == (BatchStatus.PENDING, ())
    stream(wire, batch_id, [0, 1])
    assert handle.batch.status == BatchStatus.PROCESSING  # read again: the sealed batch
    assert wire.api.advance(handle).status == BatchStatus.PENDING  # runs created
    assert len(handle.batch.runs) == 2
    assert (wire.get_batch(batch_id).status_code, handle.served) == (200, 1)
    wire.api.assert_retrieved(handle, times=1)
    assert [call.status_code for call in wire.api.retrievals(handle)] == [200]
    assert repr(handle) == f"<TriggeredBatchHandle {batch_id} POST /api/v3/batches PENDING>"
    assert handle.created_at == handle.batch.created_at


def test_reset_forgets_the_triggered_batches_and_items(wire: Wire) -> None:
    post(wire, "/api/v2/tasks/batch", {"items": [{"task": "a"}]})
    wire.api.reset()
    assert (wire.api.triggered_batches, wire.api.triggered) == ([], [])
