"""The runs behind triggered batches (docs/platform.md §7), over every transport."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from wire import Wire

from pytest_trigger_batches.model import RUN_STATUSES

NOW = 1_780_000_000.0
CURRENT = {"x-trigger-api-version": "2025-07-16"}


def post(w: Wire, path: str, body: object, **options: Any) -> httpx.Response:
    return w.send("POST", path, content=json.dumps(body).encode(), **options)


def one_shot(w: Wire, *items: dict[str, Any]) -> tuple[str, list[str]]:
    answer = post(w, "/api/v1/tasks/batch", {"items": list(items)}).json()
    return answer["id"], [run["id"] for run in answer["runs"]]


def get_run(w: Wire, run_id: str, **options: Any) -> httpx.Response:
    return w.send("GET", f"/api/v3/runs/{run_id}", **options)


def test_a_run_moves_queued_executing_completed_as_its_batch_is_polled(wire: Wire) -> None:
    wire.api.on_run(task="a", outcome="COMPLETED", output={"sent": True})
    batch_id, [run_id] = one_shot(wire, {"task": "a", "payload": {"to": "x"}})
    seen = [get_run(wire, run_id).json() for _ in range(3)]
    assert [r["status"] for r in seen] == ["QUEUED", "EXECUTING", "COMPLETED"]
    done = seen[-1]
    assert (done["isCompleted"], done["isSuccess"], done["isFailed"]) == (True, True, False)
    assert done["output"] == {"sent": True}
    assert "output" not in seen[1]
    assert (done["payload"], done["batchId"], done["triggerFunction"]) == (
        {"to": "x"},
        batch_id,
        "batchTrigger",
    )
    assert done["attemptCount"] == 1
    assert wire.get_batch(batch_id).json()["status"] == "COMPLETED"  # polling the run settled it


def test_polling_the_batch_moves_its_runs(wire: Wire) -> None:
    batch_id, [run_id] = one_shot(wire, {"task": "a"})
    assert [wire.get_batch(batch_id).json()["status"] for _ in range(3)] == [
        "PENDING",
        "PENDING",
        "COMPLETED",
    ]
    assert get_run(wire, run_id).json()["status"] == "COMPLETED"


@pytest.mark.parametrize(
    ("header", "executing", "failed"),
    [({}, "EXECUTING", "FAILED"), (CURRENT, "EXECUTING", "FAILED")],
    ids=["old-names", "2025-07-16"],
)
def test_a_failed_run_has_an_error_and_no_output(
    wire: Wire, header: dict[str, str], executing: str, failed: str
) -> None:
    wire.api.on_run(outcome="FAILED", error={"message": "SMTP refused", "name": "Error"})
    _, [run_id] = one_shot(wire, {"task": "a", "options": {"maxAttempts": 3}})
    get_run(wire, run_id)
    assert get_run(wire, run_id, headers=header).json()["status"] == executing
    body = get_run(wire, run_id, headers=header).json()
    assert body["status"] == failed
    assert body["error"] == {"message": "SMTP refused", "name": "Error"}
    assert (body["isFailed"], body["isCompleted"], body["attemptCount"]) == (True, True, 3)
    assert "output" not in body


@pytest.mark.parametrize(
    ("stored", "old", "current"),
    [
        ("PENDING", "QUEUED", "QUEUED"),
        ("DEQUEUED", "EXECUTING", "DEQUEUED"),
        ("RETRYING_AFTER_FAILURE", "REATTEMPTING", "EXECUTING"),
        ("WAITING_TO_RESUME", "FROZEN", "WAITING"),
        ("WAITING_FOR_DEPLOY", "WAITING_FOR_DEPLOY", "PENDING_VERSION"),
        ("COMPLETED_SUCCESSFULLY", "COMPLETED", "COMPLETED"),
        ("COMPLETED_WITH_ERRORS", "FAILED", "FAILED"),
        ("INTERRUPTED", "INTERRUPTED", "FAILED"),
        ("EXPIRED", "EXPIRED", "EXPIRED"),
    ],
)
def test_the_status_names_follow_x_trigger_api_version(stored: str, old: str, current: str) -> None:
    from pytest_trigger_batches.payloads import flags, shown_status

    assert shown_status(stored, None) == old
    assert shown_status(stored, "2024-01-01") == old  # only the exact 2025-07-16 is current
    assert shown_status(stored, "2025-07-16") == current
    assert flags("FROZEN")["isExecuting"]
    assert flags("WAITING")["isWaiting"]
    assert not any(flags("EXPIRED").values())


@pytest.mark.parametrize("outcome", ["TIMED_OUT"])
def test_timed_out_runs_are_final_but_not_completed(wire: Wire, outcome: str) -> None:
    wire.api.on_run(outcome=outcome)
    batch_id, [run_id] = one_shot(wire, {"task": "a"})
    for _ in range(2):
        get_run(wire, run_id)
    body = get_run(wire, run_id).json()
    assert body["status"] == outcome
    assert not any(body[flag] for flag in ("isCompleted", "isFailed", "isSuccess", "isQueued"))
    assert wire.get_batch(batch_id).json()["status"] == "COMPLETED"  # still final for the batch


def test_a_pre_failed_item_is_a_system_failure_run(wire: Wire) -> None:
    wire.api.on_item(index=0, outcome="trigger_failure")
    _, [run_id] = one_shot(wire, {"task": "a"})
    body = get_run(wire, run_id).json()
    assert body["status"] == "SYSTEM_FAILURE"
    assert body["error"] == {"message": "trigger.dev internal error (BATCH_ITEM_COULD_NOT_TRIGGER)"}
    assert (body["attemptCount"], "startedAt" in body, "finishedAt" in body) == (0, False, True)


def test_what_the_app_sent_shows_on_the_run(wire: Wire) -> None:
    wire.api.clock = lambda: NOW
    options = {"tags": ["b", "a"], "metadata": {"user": 7}, "idempotencyKey": "k", "ttl": "1h"}
    run_id = post(wire, "/api/v1/tasks/t/trigger", {"payload": 1, "options": options}).json()["id"]
    body = get_run(wire, run_id).json()
    assert (body["tags"], body["metadata"], body["idempotencyKey"], body["ttl"]) == (
        ["a", "b"],
        {"user": 7},
        "k",
        "1h",
    )
    assert (body["triggerFunction"], "batchId" in body) == ("trigger", False)


def test_a_delayed_run_waits_for_its_time_and_a_ttl_expires_a_queued_run(wire: Wire) -> None:
    now = [NOW]
    wire.api.clock = lambda: now[0]
    delayed = post(wire, "/api/v1/tasks/t/trigger", {"payload": 1, "options": {"delay": "1h"}})
    run_id = delayed.json()["id"]
    first = get_run(wire, run_id).json()
    assert (first["status"], first["isQueued"]) == ("DELAYED", True)
    assert first["delayedUntil"] == "2026-05-28T21:26:40.000Z"
    assert get_run(wire, run_id).json()["status"] == "DELAYED"  # polls do not move it
    now[0] += 3600
    assert get_run(wire, run_id).json()["status"] == "QUEUED"
    wire.api.progression = "held"
    expiring = post(wire, "/api/v1/tasks/t/trigger", {"payload": 1, "options": {"ttl": "10m"}})
    now[0] += 601
    body = get_run(wire, expiring.json()["id"]).json()
    assert body["status"] == "EXPIRED"
    assert "expiredAt" in body


def test_an_unknown_run_is_404_with_x_should_retry(wire: Wire) -> None:
    answer = get_run(wire, "run_cmx0ugyuv00014a7da3uz70rc")
    assert (answer.status_code, answer.json()) == (404, {"error": "Not found"})
    assert answer.headers["x-should-retry"] == "true"


def test_public_tokens_read_runs_with_the_run_scopes(wire: Wire) -> None:
    batch_id, [run_id] = one_shot(wire, {"task": "send", "options": {"tags": ["vip"]}})
    for scope in (
        f"read:runs:{run_id}",
        "read:tasks:send",
        "read:tags:vip",
        f"read:batch:{batch_id}",
    ):
        token = wire.api.public_token(scopes=[scope])
        assert get_run(wire, run_id, key=token).status_code == 200, scope
    other = wire.api.public_token(scopes=["read:tasks:other"])
    assert get_run(wire, run_id, key=other).status_code == 403


def test_cancel_stops_a_run_and_replay_makes_a_new_one(wire: Wire) -> None:
    _, [first, second] = one_shot(wire, {"task": "a", "payload": 1}, {"task": "b"})
    cancelled = post(wire, f"/api/v2/runs/{first}/cancel", None)
    assert (cancelled.status_code, cancelled.json()) == (200, {"id": first})
    assert get_run(wire, first).json()["status"] == "CANCELED"
    assert get_run(wire, first).json()["isCancelled"] is True
    wire.api.assert_cancelled(first)
    replayed = post(wire, f"/api/v1/runs/{first}/replay", None).json()["id"]
    assert replayed != first
    assert wire.api.assert_replayed(first) == replayed
    new = get_run(wire, replayed).json()
    assert (new["taskIdentifier"], new["payload"], "batchId" in new) == ("a", 1, False)
    missing = post(wire, "/api/v2/runs/run_cmx0ugyuv00014a7da3uz70rc/cancel", None)
    assert (missing.status_code, missing.json()) == (404, {"error": "Resource not found"})
    with pytest.raises(AssertionError, match=r"expected .* to be replayed; replayed runs: run_"):
        wire.api.assert_replayed(second)


def test_list_runs_pages_newest_first_and_visits_every_run_once(wire: Wire) -> None:
    batch_id = post(wire, "/api/v2/tasks/batch", {"items": [{"task": "t"}] * 7}).json()["id"]
    seen: list[str] = []
    page = wire.send("GET", f"/api/v1/runs?page[size]=3&filter[batch]={batch_id}").json()
    while True:
        seen += [run["id"] for run in page["data"]]
        if "next" not in page["pagination"]:
            break
        cursor = page["pagination"]["next"]
        page = wire.send("GET", f"/api/v1/runs?page[size]=3&page[after]={cursor}").json()
    runs = wire.get_batch(batch_id).json()["runs"]
    assert sorted(seen) == sorted(runs)
    assert seen == sorted(runs, reverse=True)  # cuids sort by creation: newest first
    assert "payload" not in page["data"][0]
    assert page["data"][0]["env"]["name"] == "dev"


def test_list_runs_filters(wire: Wire) -> None:
    one_shot(wire, {"task": "a", "options": {"tags": ["x"]}}, {"task": "b"})
    listed = wire.send("GET", "/api/v1/runs?filter[taskIdentifier]=a").json()["data"]
    assert [r["taskIdentifier"] for r in listed] == ["a"]
    assert len(wire.send("GET", "/api/v1/runs?filter[tag]=x").json()["data"]) == 1
    assert len(wire.send("GET", "/api/v1/runs?filter[status]=QUEUED").json()["data"]) == 2
    assert wire.send("GET", "/api/v1/runs?filter[status]=COMPLETED").json()["data"] == []
    bad = wire.send("GET", "/api/v1/runs?filter[status]=DONE")
    assert (bad.status_code, bad.json()["error"]) == (400, "Query Error")
    size = wire.send("GET", "/api/v1/runs?page[size]=101")
    assert (size.status_code, size.json()["details"][0]["path"]) == (400, ["page[size]"])


def test_list_runs_looks_back_seven_days_on_the_mocks_clock(wire: Wire) -> None:
    now = [NOW]
    wire.api.clock = lambda: now[0]
    one_shot(wire, {"task": "a"})
    now[0] += 8 * 86_400
    assert wire.send("GET", "/api/v1/runs").json()["data"] == []
    period = wire.send("GET", "/api/v1/runs?filter[createdAt][period]=30d").json()["data"]
    assert len(period) == 1


def test_a_reused_run_is_not_listed_under_the_new_batch(wire: Wire) -> None:
    post(wire, "/api/v1/tasks/a/trigger", {"payload": 1}, headers={"idempotency-key": "k"})
    batch_id, runs = one_shot(
        wire, {"task": "a", "options": {"idempotencyKey": "k"}}, {"task": "a"}
    )
    listed = wire.send("GET", f"/api/v1/runs?filter[batch]={batch_id}").json()["data"]
    assert [r["id"] for r in listed] == [runs[1]]


# -- runs the factory builds -----------------------------------------------------------


@pytest.mark.parametrize("status", RUN_STATUSES)
def test_the_factory_builds_a_run_for_every_status(status: str) -> None:
    from pytest_trigger_batches import BatchFactory

    run = BatchFactory(seed=11).run(status, task_identifier="send-email")
    body = run.to_payload()
    assert body["status"] == status
    assert ("output" in body) == (status == "COMPLETED")
    # The engine writes an error for every end but success (a cancel and an expiry too).
    assert ("error" in body) == (status not in ("QUEUED", "DELAYED", "EXECUTING", "COMPLETED"))
    assert ("finishedAt" in body) == (status not in ("QUEUED", "DELAYED", "EXECUTING"))
    assert BatchFactory(seed=11).run(status, task_identifier="send-email") == run  # the seed


def test_an_impossible_run_is_refused_naming_the_rule() -> None:
    from pytest_trigger_batches import BatchFactory

    run = BatchFactory(seed=1).run("COMPLETED")
    with pytest.raises(ValueError, match="output is shown only for a COMPLETED run"):
        type(run)(
            **{
                **{f: getattr(run, f) for f in run.__dataclass_fields__},
                "status": "FAILED",
                "error": {"message": "x"},
            }
        )
    with pytest.raises(ValueError, match="status must be one of QUEUED, DELAYED"):
        BatchFactory(seed=1).run("DONE")


def test_a_registered_batch_is_served_with_its_runs(wire: Wire) -> None:
    from pytest_trigger_batches import BatchFactory

    factory = BatchFactory(seed=5)
    batch = factory("COMPLETED", run_count=3, created_at="2026-01-05T10:00:00Z")
    runs = factory.runs_of(batch, task_identifier="send-email")
    wire.api.add_batch(batch, runs=runs)
    body = get_run(wire, batch.runs[0]).json()
    assert body == runs[0].to_payload()  # as built, and it does not move
    assert get_run(wire, batch.runs[0]).json()["status"] == "COMPLETED"
    listed = wire.send("GET", f"/api/v1/runs?filter[batch]={batch.id}").json()["data"]
    assert sorted(r["id"] for r in listed) == sorted(batch.runs)  # months back, still listed
    with pytest.raises(
        ValueError, match=r"runs\[0\] must be a TriggerRun of a run the batch lists"
    ):
        wire.api.add_batch(factory("COMPLETED"), runs=runs)


def test_a_cursor_keeps_its_place_when_its_run_leaves_the_list(wire: Wire) -> None:
    post(wire, "/api/v2/tasks/batch", {"items": [{"task": "t"}] * 4})
    first = wire.send("GET", "/api/v1/runs?filter[status]=QUEUED&page[size]=2").json()
    cursor = first["pagination"]["next"]
    last = first["data"][-1]["id"]
    assert post(wire, f"/api/v2/runs/{last}/cancel", None).status_code == 200  # not QUEUED now
    second = wire.send(
        "GET", f"/api/v1/runs?filter[status]=QUEUED&page[size]=2&page[after]={cursor}"
    ).json()
    seen = [r["id"] for r in first["data"]] + [r["id"] for r in second["data"]]
    assert len(seen) == len(set(seen)) == 4


def test_a_system_failure_the_test_chose_has_an_error(wire: Wire) -> None:
    wire.api.on_run(outcome="SYSTEM_FAILURE")
    _, [run_id] = one_shot(wire, {"task": "a"})
    for _ in range(2):
        get_run(wire, run_id)
    body = get_run(wire, run_id).json()
    assert body["status"] == "SYSTEM_FAILURE"
    assert body["error"]["message"].startswith("trigger.dev internal error")


@pytest.mark.parametrize(
    "query",
    [
        "filter[createdAt][from]=yesterday",
        "filter[createdAt][to]=soon",
        "filter[createdAt][period]=forever",
        "page[size]=0",
        "page[size]=many",
    ],
)
def test_a_bad_run_query_is_a_query_error(wire: Wire, query: str) -> None:
    answer = wire.send("GET", f"/api/v1/runs?{query}")
    assert (answer.status_code, answer.json()["error"]) == (400, "Query Error")
    assert answer.json()["details"][0]["path"] == [query.split("=")[0]]


def test_list_runs_from_to_and_before(wire: Wire) -> None:
    wire.api.clock = lambda: NOW
    post(wire, "/api/v2/tasks/batch", {"items": [{"task": "t"}] * 3})
    start = "2026-05-28T00:00:00Z"
    listed = wire.send(
        "GET",
        f"/api/v1/runs?filter[createdAt][from]={start}&filter[createdAt][to]={int(NOW * 1000)}",
    ).json()["data"]
    assert len(listed) == 3
    newest, middle, _oldest = (r["id"] for r in listed)
    first = wire.send("GET", "/api/v1/runs?page[size]=2").json()
    back = first["pagination"]["next"]  # after the middle run
    assert [r["id"] for r in first["data"]] == [newest, middle]
    before = wire.send("GET", f"/api/v1/runs?page[size]=1&page[before]={back}").json()
    assert [r["id"] for r in before["data"]] == [newest]
    assert list(before["pagination"]) == ["next"]  # nothing newer: no previous


def test_public_tokens_list_runs_with_read_runs_or_every_task(wire: Wire) -> None:
    one_shot(wire, {"task": "a"}, {"task": "b"})
    broad = wire.api.public_token(scopes=["read:runs"])
    assert len(wire.send("GET", "/api/v1/runs", key=broad).json()["data"]) == 2
    only_a = wire.api.public_token(scopes=["read:tasks:a"])
    assert wire.send("GET", "/api/v1/runs?filter[taskIdentifier]=a", key=only_a).status_code == 200
    assert (
        wire.send("GET", "/api/v1/runs?filter[taskIdentifier]=a,b", key=only_a).status_code == 403
    )
    assert wire.send("GET", "/api/v1/runs", key=only_a).status_code == 403
