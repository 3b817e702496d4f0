"""The runs behind triggered batches (docs/platform.md §7), over every transport."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from wire import Wire

from pytest_trigger_batches.statuses import RUN_STATUSES, flags, shown_status

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
    batch_id = post(wire, "/api/v2/tasks/batch", {"items": [{"task": "a"}]}).json()["id"]
    [run_id] = wire.get_batch(batch_id).json()["runs"]
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


@pytest.mark.parametrize(
    ("period", "listed"),
    [
        ("2 days", ["b"]),
        ("1 week", ["b", "a"]),
        ("30days", ["b", "a", "old"]),
        ("2h30m", ["b"]),
        ("1h30", ["b"]),  # a bare number after a unit takes the next smaller unit
        ("3.5d", ["b", "a"]),
        ("forever", ["b", "a", "old"]),  # unreadable: no time filter, not the 7 days
        ("0s", ["b", "a", "old"]),  # nothing: no time filter either
        ("-1h", []),  # from an hour ahead
    ],
)
def test_a_period_is_read_as_parse_duration_reads_it(
    wire: Wire, period: str, listed: list[str]
) -> None:
    # E10: filter[createdAt][period] goes through the npm package parse-duration.
    now = [NOW]
    wire.api.clock = lambda: now[0]
    for task, age_days in (("old", 13), ("a", 3), ("b", 0)):
        now[0] = NOW - age_days * 86_400
        post(wire, f"/api/v1/tasks/{task}/trigger", {"payload": 1})
    now[0] = NOW + 60
    answer = wire.send("GET", f"/api/v1/runs?filter[createdAt][period]={period}")
    assert [run["taskIdentifier"] for run in answer.json()["data"]] == listed


def test_a_period_replaces_from_and_to(wire: Wire) -> None:
    wire.api.clock = lambda: NOW
    post(wire, "/api/v1/tasks/t/trigger", {"payload": 1})
    far = "filter[createdAt][from]=2030-01-01T00:00:00Z&filter[createdAt][to]=2030-01-02"
    assert wire.send("GET", f"/api/v1/runs?{far}").json()["data"] == []
    both = wire.send("GET", f"/api/v1/runs?{far}&filter[createdAt][period]=1d").json()["data"]
    assert len(both) == 1


def test_a_period_reaching_past_a_javascript_date_fails_the_query(wire: Wire) -> None:
    answer = wire.send("GET", "/api/v1/runs?filter[createdAt][period]=999999999999w")
    assert (answer.status_code, answer.json()) == (500, {"error": "Internal Server Error"})


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


def test_a_run_that_was_delayed_shows_its_delayed_until_in_every_later_state(
    wire: Wire,
) -> None:
    now = [NOW]
    wire.api.clock = lambda: now[0]
    until = iso(NOW + 3600)
    ran = trigger(wire, delay="1h")
    cancelled = trigger(wire, delay="1h")
    post(wire, f"/api/v2/runs/{cancelled}/cancel", None)
    now[0] += 3600
    queued = get_run(wire, ran).json()
    assert (queued["status"], queued["delayedUntil"]) == ("QUEUED", until)
    assert get_run(wire, ran).json()["status"] == "EXECUTING"  # moves from the queue on
    done = get_run(wire, ran).json()
    assert (done["status"], done["delayedUntil"]) == ("COMPLETED", until)
    assert get_run(wire, cancelled).json()["delayedUntil"] == until
    listed = wire.send("GET", "/api/v1/runs").json()["data"]
    assert {run["delayedUntil"] for run in listed} == {until}


def test_a_factory_run_carries_an_idempotency_key_and_a_delay(wire: Wire) -> None:
    from pytest_trigger_batches import BatchFactory

    factory = BatchFactory(seed=3)
    keyed = factory.run("COMPLETED", idempotency_key="ledger-2026-01-05")
    assert keyed.to_payload()["idempotencyKey"] == "ledger-2026-01-05"
    hashed = factory.run("QUEUED", idempotency_key=True).idempotency_key
    assert len(hashed or "") == 64  # a SHA-256 in hex, as the SDK sends
    delayed = factory.run(
        "DELAYED", created_at="2026-01-05T10:00:00Z", delayed_until="2026-01-05T12:00:00Z"
    )
    assert delayed.to_payload()["delayedUntil"] == "2026-01-05T12:00:00.000Z"
    assert (
        factory.run("DELAYED", created_at="2026-01-05T10:00:00Z").to_payload()["delayedUntil"]
        == "2026-01-05T11:00:00.000Z"
    )  # an hour by default
    was_delayed = factory.run(
        "COMPLETED", created_at="2026-01-05T10:00:00Z", delayed_until="2026-01-05T12:00:00Z"
    ).to_payload()
    assert was_delayed["delayedUntil"] == "2026-01-05T12:00:00.000Z"  # kept, as on the platform
    assert was_delayed["startedAt"] > "2026-01-05T12:00:00.000Z"  # queued once the delay ended
    assert "delayedUntil" not in factory.run("COMPLETED").to_payload()
    batch = factory("COMPLETED", run_count=3)
    runs = factory.runs_of(batch, idempotency_key=["a", None, "c"])
    assert [run.idempotency_key for run in runs] == ["a", None, "c"]
    assert all(run.idempotency_key for run in factory.runs_of(batch, idempotency_key=True))
    wire.api.add_batch(batch, runs=runs)
    assert get_run(wire, batch.runs[0]).json()["idempotencyKey"] == "a"
    assert "idempotencyKey" not in get_run(wire, batch.runs[1]).json()


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
        "page[size]=0",
        "page[size]=many",
        "page[size]=%C2%B9",  # a superscript one: Number() reads no digit but 0-9
        "page[size]=%D9%A1",  # an Arabic-Indic one, which Python's float() reads as 1
        "filter[createdAt][from]=%C2%B2%C2%B3",
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


# -- the runs endpoints as the platform's presenters answer (audit rows D, E, G) ----------

PROD = "tr_prod_" + "Pr0d" * 6
MS = 1000


def trigger(w: Wire, task: str = "t", *, key: str = "default", **options: object) -> str:
    answer = post(
        w, f"/api/v1/tasks/{task}/trigger", {"payload": {"n": 1}, "options": options}, key=key
    )
    assert answer.status_code == 200, answer.text
    run_id: str = answer.json()["id"]
    return run_id


def listed(w: Wire, query: str, *, key: str = "default") -> list[str]:
    answer = w.send("GET", f"/api/v1/runs?{query}", key=key)
    assert answer.status_code == 200, answer.text
    return [run["id"] for run in answer.json()["data"]]


def query_issues(w: Wire, query: str) -> list[dict[str, Any]]:
    answer = w.send("GET", f"/api/v1/runs?{query}")
    assert (answer.status_code, answer.json()["error"]) == (400, "Query Error"), answer.text
    issues: list[dict[str, Any]] = answer.json()["details"]
    return issues


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def test_every_run_shows_its_region_and_its_version_once_locked(wire: Wire) -> None:
    wire.api.clock = lambda: NOW
    run_id = trigger(wire, metadata={"step": 1})
    queued = get_run(wire, run_id).json()
    assert queued["region"] == wire.api.environment_id()  # a dev run: its worker queue
    assert "version" not in queued  # not locked before a worker dequeues it
    executing = get_run(wire, run_id).json()
    assert executing["version"] == "20260528.1"  # the worker that started it
    assert list(executing)[:4] == ["id", "taskIdentifier", "version", "status"]
    keys = list(executing)
    assert keys[keys.index("triggerFunction") :][:3] == ["triggerFunction", "metadata", "region"]
    locked = get_run(wire, trigger(wire, lockToVersion="20250101.3")).json()
    assert (locked["status"], locked["version"]) == ("QUEUED", "20250101.3")
    deployed = get_run(wire, trigger(wire, key=PROD, region="eu-central-1"), key=PROD).json()
    assert deployed["region"] == "eu-central-1"
    assert get_run(wire, trigger(wire, key=PROD), key=PROD).json()["region"] == "us-east-1"


def test_a_run_cancelled_while_queued_has_the_cancel_error_and_no_finished_at(
    wire: Wire,
) -> None:
    now = [NOW]
    wire.api.clock = lambda: now[0]
    wire.api.progression = "held"
    run_id = trigger(wire)
    now[0] += 5
    assert post(wire, f"/api/v2/runs/{run_id}/cancel", None).json() == {"id": run_id}
    for _ in range(2):  # nothing finishes it later: the API cancel passes no completedAt
        body = get_run(wire, run_id).json()
        assert (body["status"], body["isCancelled"]) == ("CANCELED", True)
        assert body["error"] == {"message": "Canceled by user"}
        assert body["updatedAt"] == iso(NOW + 5)
        assert not {"finishedAt", "startedAt"} & set(body)
    # The list shows every final run's finishedAt: completedAt, else updatedAt.
    (item,) = wire.send("GET", "/api/v1/runs").json()["data"]
    assert item["finishedAt"] == iso(NOW + 5)


def test_a_run_cancelled_while_executing_finishes_when_its_worker_stops(wire: Wire) -> None:
    now = [NOW]
    wire.api.clock = lambda: now[0]
    run_id = trigger(wire)
    get_run(wire, run_id)  # a poll moves it: a worker starts it now
    now[0] += 2
    post(wire, f"/api/v2/runs/{run_id}/cancel", None)
    pending = get_run(wire, run_id).json()  # CANCELED at once; its worker stops it next
    assert (pending["status"], pending["error"]) == ("CANCELED", {"message": "Canceled by user"})
    assert ("startedAt" in pending, "finishedAt" in pending) == (True, False)
    assert (pending["isCancelled"], pending["attemptCount"]) == (True, 1)
    now[0] += 3
    finished = get_run(wire, run_id).json()
    assert finished["finishedAt"] == iso(NOW + 2)
    assert finished["durationMs"] == 2 * MS
    assert get_run(wire, run_id).json() == finished  # final now


def test_a_queued_run_expires_at_its_ttl_with_the_engines_error(wire: Wire) -> None:
    now = [NOW]
    wire.api.clock = lambda: now[0]
    wire.api.progression = "held"
    dev = trigger(wire, ttl="10m")
    deployed = trigger(wire, key=PROD, ttl="10m")
    now[0] += 700  # noticed late: it expired at its deadline
    body = get_run(wire, dev).json()
    assert body["status"] == "EXPIRED"
    assert body["expiredAt"] == body["finishedAt"] == body["updatedAt"] == iso(NOW + 600)
    # Dev runs expire through the per-run job, which names the TTL; deployed ones do not.
    assert body["error"] == {"message": "Run expired because the TTL (10m) was reached"}
    assert not any(body[flag] for flag in ("isCompleted", "isFailed", "isQueued"))
    other = get_run(wire, deployed, key=PROD).json()
    assert other["error"] == {"message": "Run expired because the TTL was reached"}


def test_a_delayed_runs_ttl_counts_from_when_it_is_queued(wire: Wire) -> None:
    now = [NOW]
    wire.api.clock = lambda: now[0]
    wire.api.progression = "held"
    run_id = trigger(wire, delay="1h", ttl="10m")
    now[0] += 1800
    assert get_run(wire, run_id).json()["status"] == "DELAYED"
    now[0] += 1800
    queued = get_run(wire, run_id).json()
    assert (queued["status"], queued["updatedAt"]) == ("QUEUED", iso(NOW + 3600))
    now[0] += 601
    assert get_run(wire, run_id).json()["expiredAt"] == iso(NOW + 3600 + 600)


def test_page_size_errors_are_zods_issues_word_for_word(wire: Wire) -> None:
    path = ["page[size]"]
    positive = {
        "code": "too_small",
        "minimum": 0,
        "type": "number",
        "inclusive": False,
        "exact": False,
        "message": "Number must be greater than 0",
        "path": path,
    }
    at_least_one = {
        **positive,
        "minimum": 1,
        "inclusive": True,
        "message": "Number must be greater than or equal to 1",
    }
    assert json.dumps(query_issues(wire, "page[size]=0")) == json.dumps([positive, at_least_one])
    too_big = {
        "code": "too_big",
        "maximum": 100,
        "type": "number",
        "inclusive": True,
        "exact": False,
        "message": "Number must be less than or equal to 100",
        "path": path,
    }
    assert json.dumps(query_issues(wire, "page[size]=101")) == json.dumps([too_big])
    nan = {
        "code": "invalid_type",
        "expected": "number",
        "received": "nan",
        "path": path,
        "message": "Expected number, received nan",
    }
    assert json.dumps(query_issues(wire, "page[size]=abc")) == json.dumps([nan])
    float_issue = query_issues(wire, "page[size]=1.5")
    assert float_issue == [
        {
            "code": "invalid_type",
            "expected": "integer",
            "received": "float",
            "message": "Expected integer, received float",
            "path": path,
        }
    ]
    assert query_issues(wire, "page[size]=") == [positive, at_least_one]  # Number("") is 0
    trigger(wire)
    assert len(listed(wire, "page[size]=%201e0")) == 1  # Number(" 1e0") is 1


def test_status_filters_are_case_and_space_sensitive(wire: Wire) -> None:
    def issue(message: str) -> list[dict[str, Any]]:
        return [{"code": "custom", "message": message, "path": ["filter[status]"]}]

    assert query_issues(wire, "filter[status]=completed") == issue(
        "Invalid status values: completed"
    )
    assert query_issues(wire, "filter[status]=COMPLETED,%20FAILED") == issue(
        "Invalid status values:  FAILED"
    )
    assert query_issues(wire, "filter[status]=QUEUED,") == issue("Invalid status values: ")
    run_id = trigger(wire)
    assert listed(wire, "filter[status]=COMPLETED,QUEUED") == [run_id]
    assert listed(wire, "filter[status]=") == [run_id]  # empty: no filter


def test_the_is_test_filter_takes_true_or_false_only(wire: Wire) -> None:
    tested = trigger(wire, test=True)
    real = trigger(wire)
    assert listed(wire, "filter[isTest]=true") == [tested]
    assert listed(wire, "filter[isTest]=false") == [real]
    assert query_issues(wire, "filter[isTest]=yes") == [
        {"code": "custom", "message": "Invalid value for isTest: yes", "path": ["filter[isTest]"]}
    ]
    assert query_issues(wire, "filter[isTest]=True")[0]["message"] == (
        "Invalid value for isTest: True"
    )


def test_the_machine_filter_takes_preset_names_only(wire: Wire) -> None:
    large = trigger(wire, "a", machine="large-1x")
    plain = trigger(wire, "b")
    assert listed(wire, "filter[machine]=large-1x") == [large]
    assert listed(wire, "filter[machine]=small-1x") == []  # no preset until it starts
    get_run(wire, plain)
    get_run(wire, plain)  # started on the default preset
    assert listed(wire, "filter[machine]=small-1x,micro") == [plain]
    assert query_issues(wire, "filter[machine]=huge") == [
        {"code": "custom", "message": "Invalid machine values: huge", "path": ["filter[machine]"]}
    ]
    assert query_issues(wire, "filter[machine]=large-1x,huge,")[0]["message"] == (
        "Invalid machine values: huge, "
    )


def test_queue_version_region_schedule_bulk_action_and_error_filters_apply(wire: Wire) -> None:
    default_queue = trigger(wire, "send-email")
    named = trigger(wire, "b", queue={"name": "emails"})
    locked = trigger(wire, "c", lockToVersion="20250101.2")
    bulk = trigger(wire, "d", bulkActionId="abc")
    assert listed(wire, "filter[queue]=task/send-email") == [default_queue]
    assert listed(wire, "filter[queue]=emails") == [named]
    assert listed(wire, "filter[queue]=task/b") == []
    assert listed(wire, "filter[version]=20250101.2") == [locked]
    everyone = [bulk, locked, named, default_queue]
    assert listed(wire, f"filter[region]={wire.api.environment_id()}") == everyone
    assert listed(wire, "filter[region]=us-east-1") == []
    assert listed(wire, "filter[bulkAction]=bulk_abc") == [bulk]  # the friendly id's
    assert listed(wire, "filter[schedule]=sched_x") == []  # no run of the mock's is scheduled
    assert listed(wire, "filter[error]=error_x") == []  # nor has an error fingerprint
    assert listed(wire, "filter[schedule]=&filter[error]=") == everyone  # empty: no filter
    broken = wire.send("GET", "/api/v1/runs?filter[bulkAction]=bulk_a_b")
    assert (broken.status_code, broken.json()) == (500, {"error": "Internal Server Error"})


def test_a_created_at_that_is_no_date_is_zods_invalid_date_issue(wire: Wire) -> None:
    def invalid(name: str) -> dict[str, Any]:
        return {
            "code": "invalid_date",
            "path": [f"filter[createdAt][{name}]"],
            "message": "Invalid date",
        }

    assert json.dumps(query_issues(wire, "filter[createdAt][from]=garbage")) == json.dumps(
        [invalid("from")]
    )
    # Every issue, in the order the schema declares its keys.
    issues = query_issues(
        wire, "filter[createdAt][to]=soon&filter[createdAt][from]=x&page[size]=101"
    )
    assert [i["code"] for i in issues] == ["too_big", "invalid_date", "invalid_date"]
    assert issues[1:] == [invalid("from"), invalid("to")]
    trigger(wire)
    assert len(listed(wire, "filter[createdAt][from]=0")) == 1  # epoch 0: no filter


def test_list_cursors_are_opaque_and_a_bare_internal_id_still_works(wire: Wire) -> None:
    now = [NOW]
    wire.api.clock = lambda: now[0]
    runs = []
    for _ in range(3):
        runs.append(trigger(wire))
        now[0] += 1
    newest, middle, oldest = runs[::-1]
    page = wire.send("GET", "/api/v1/runs?page[size]=1").json()
    cursor = page["pagination"]["next"]
    assert "=" not in cursor
    place = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    assert place == {"c": int(NOW * MS) + 2 * MS, "r": newest.removeprefix("run_")}
    second = wire.send("GET", f"/api/v1/runs?page[size]=1&page[after]={cursor}").json()
    assert [r["id"] for r in second["data"]] == [middle]
    assert set(second["pagination"]) == {"next", "previous"}
    # The platform's older cursor, the internal id, is still read (on the id alone).
    assert listed(wire, f"page[after]={newest.removeprefix('run_')}") == [middle, oldest]
    # A friendly id is no cursor: every internal id sorts below `run_`, so page one again.
    assert listed(wire, f"page[size]=2&page[after]={middle}") == [newest, middle]


def test_a_listed_run_shows_the_stored_idempotency_key(wire: Wire) -> None:
    stored = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    options: dict[str, Any] = {
        "idempotencyKey": stored,
        "idempotencyKeyOptions": {"key": "welcome", "scope": "global"},
    }
    run_id = trigger(wire, **options)
    assert get_run(wire, run_id).json()["idempotencyKey"] == "welcome"  # the user's key
    (item,) = wire.send("GET", "/api/v1/runs").json()["data"]
    assert (item["id"], item["idempotencyKey"]) == (run_id, stored)


def test_a_listed_run_without_metadata_has_no_metadata_key(wire: Wire) -> None:
    with_metadata = trigger(wire, metadata={"step": 1})
    without = trigger(wire)
    items = {r["id"]: r for r in wire.send("GET", "/api/v1/runs").json()["data"]}
    assert items[with_metadata]["metadata"] == {"step": 1}
    assert "metadata" not in items[without]


def test_a_listed_run_has_the_presenters_key_order(wire: Wire) -> None:
    options: dict[str, Any] = {
        "idempotencyKey": "k",
        "lockToVersion": "20250101.1",
        "delay": "1h",
        "ttl": "2h",
        "metadata": {"a": 1},
        "tags": ["x"],
    }
    trigger(wire, **options)
    (item,) = wire.send("GET", "/api/v1/runs").json()["data"]
    assert list(item) == [
        "id",
        "status",
        "taskIdentifier",
        "idempotencyKey",
        "version",
        "createdAt",
        "updatedAt",
        "delayedUntil",
        "isTest",
        "ttl",
        "env",
        "tags",
        "costInCents",
        "baseCostInCents",
        "durationMs",
        "depth",
        "metadata",
        "taskKind",
        "region",
        "isQueued",
        "isExecuting",
        "isCompleted",
        "isFailed",
        "isSuccess",
        "isCancelled",
        "isWaiting",
    ]


def test_a_replay_copies_the_runs_options_but_not_its_delay_ttl_attempts_lock_or_key(
    wire: Wire,
) -> None:
    options = {
        "tags": ["vip"],
        "metadata": {"step": 1},
        "queue": {"name": "emails"},
        "concurrencyKey": "user-1",
        "machine": "large-1x",
        "region": "eu-central-1",
        "test": True,
        "delay": "1h",
        "ttl": "5m",
        "maxAttempts": 5,
        "idempotencyKey": "once",
        "lockToVersion": "20250101.1",
    }
    original = trigger(wire, "send-email", key=PROD, **options)
    replayed = post(wire, f"/api/v1/runs/{original}/replay", None, key=PROD).json()["id"]
    body = get_run(wire, replayed, key=PROD).json()
    assert body["status"] == "QUEUED"  # no delay
    assert not {"ttl", "delayedUntil", "idempotencyKey", "version"} & set(body)
    assert (body["payload"], body["tags"], body["metadata"], body["region"]) == (
        {"n": 1},
        ["vip"],
        {"step": 1},
        "eu-central-1",
    )
    both = [replayed, original]
    query = "filter[queue]=emails&filter[machine]=large-1x&filter[isTest]=true"
    assert listed(wire, f"{query}&filter[region]=eu-central-1", key=PROD) == both


# -- a batch completes when its last run is cancelled; runs held at a stage ---------------


@pytest.mark.parametrize("progression", ["held", "per_poll"])
def test_a_batch_completes_when_its_last_unfinished_run_is_cancelled(
    wire: Wire, progression: str
) -> None:
    now = [NOW]
    wire.api.clock = lambda: now[0]
    wire.api.progression = progression  # type: ignore[assignment]
    wire.api.on_run(hold="queued")  # per poll too: the runs wait in the queue
    batch_id, runs = one_shot(wire, {"task": "a"}, {"task": "b"})
    assert wire.get_batch(batch_id).json()["status"] == "PENDING"
    now[0] += 3
    post(wire, f"/api/v2/runs/{runs[0]}/cancel", None)
    assert wire.get_batch(batch_id).json()["status"] == "PENDING"  # one run still queued
    now[0] += 4
    post(wire, f"/api/v2/runs/{runs[1]}/cancel", None)
    # The platform looks at the batch as each run finishes: no advance(), no poll needed.
    [handle] = wire.api.triggered_batches
    assert handle.batch.status == "COMPLETED"
    body = wire.get_batch(batch_id).json()
    assert (body["status"], body["updatedAt"]) == ("COMPLETED", iso(NOW + 7))


def test_a_run_cancelled_while_executing_completes_its_batch_when_its_worker_stops(
    wire: Wire,
) -> None:
    wire.api.progression = "held"
    batch_id, [run_id] = one_shot(wire, {"task": "a"})
    wire.api.advance(batch_id)  # the run starts
    post(wire, f"/api/v2/runs/{run_id}/cancel", None)
    assert wire.get_batch(batch_id).json()["status"] == "PENDING"  # its worker has not stopped
    assert wire.api.advance(batch_id).status == "PENDING"  # now it has: the run is final
    assert wire.api.advance(batch_id).status == "COMPLETED"


def test_held_runs_stop_at_their_stage_until_advanced(wire: Wire) -> None:
    wire.api.on_run(index=0, hold="queued")
    wire.api.on_run(index=1, hold="executing", outcome="FAILED")
    wire.api.on_run(index=1, outcome="FAILED", error={"message": "late"})  # the hold stays
    batch_id, runs = one_shot(wire, {"task": "a"}, {"task": "a"}, {"task": "a"})
    for _ in range(5):  # per poll, the free run finishes; the held ones wait
        assert wire.get_batch(batch_id).json()["status"] == "PENDING"
    assert [get_run(wire, r).json()["status"] for r in runs] == ["QUEUED", "EXECUTING", "COMPLETED"]
    assert wire.api.advance(batch_id).status == "PENDING"  # advance moves held runs one step
    assert [wire.api.run(r)["status"] for r in runs[:2]] == ["EXECUTING", "FAILED"]
    assert wire.api.run(runs[1])["error"] == {"message": "late"}
    assert wire.api.advance(batch_id, to="COMPLETED").status == "COMPLETED"


def test_a_held_queued_run_still_expires_at_its_ttl(wire: Wire) -> None:
    now = [NOW]
    wire.api.clock = lambda: now[0]
    wire.api.on_run(hold="queued")
    run_id = trigger(wire, ttl="1m")
    assert get_run(wire, run_id).json()["status"] == "QUEUED"
    now[0] += 61
    assert get_run(wire, run_id).json()["status"] == "EXPIRED"


def test_a_deadline_finds_some_runs_queued_and_others_executing(wire: Wire) -> None:
    """A batch misses its deadline: the app cancels what is still queued or executing,
    then waits for the batch to settle (the example app's deadline, over the wire)."""
    wire.api.on_run(index=0, hold="queued")
    wire.api.on_run(index=1, hold="executing")
    wire.api.on_run(index=2, hold="executing")
    batch_id, runs = one_shot(wire, *({"task": "sync-ledger", "payload": n} for n in range(4)))
    for _ in range(3):  # the polls before the deadline
        assert wire.get_batch(batch_id).json()["status"] == "PENDING"
    unfinished = {
        run["id"]: run["status"]
        for run in wire.send(
            "GET", f"/api/v1/runs?filter[batch]={batch_id}&filter[status]=QUEUED,EXECUTING"
        ).json()["data"]
    }
    assert unfinished == {runs[0]: "QUEUED", runs[1]: "EXECUTING", runs[2]: "EXECUTING"}
    for run_id in unfinished:
        post(wire, f"/api/v2/runs/{run_id}/cancel", None)
    seen = [wire.get_batch(batch_id).json()["status"] for _ in range(3)]
    assert seen == ["PENDING", "COMPLETED", "COMPLETED"]  # the workers stop at the next poll
    shown = [get_run(wire, r).json() for r in runs]
    assert [run["status"] for run in shown] == ["CANCELED"] * 3 + ["COMPLETED"]
    assert ["startedAt" in run for run in shown] == [False, True, True, True]
    assert ["finishedAt" in run for run in shown] == [False, True, True, True]


# -- advance_run: a held run of no batch, and a batch's run, moved by the test -------------


def test_advance_run_moves_a_held_single_run_a_step_at_a_time(wire: Wire) -> None:
    wire.api.on_run(hold="queued")
    run_id = trigger(wire)
    for _ in range(3):  # held: polls do not move it
        assert get_run(wire, run_id).json()["status"] == "QUEUED"
    assert wire.api.advance_run(run_id)["status"] == "EXECUTING"
    assert wire.api.advance_run(run_id)["status"] == "COMPLETED"
    assert get_run(wire, run_id).json()["status"] == "COMPLETED"
    assert wire.api.advance_run(run_id)["status"] == "COMPLETED"  # a final run stays


def test_advance_run_to_a_status_steps_until_the_run_shows_it(wire: Wire) -> None:
    wire.api.progression = "held"
    wire.api.on_run(outcome="FAILED", error={"message": "boom"})
    run_id = trigger(wire)
    assert wire.api.advance_run(run_id, to="EXECUTING")["status"] == "EXECUTING"
    shown = wire.api.advance_run(run_id, to="FAILED")
    assert (shown["status"], shown["error"]) == ("FAILED", {"message": "boom"})


def test_advance_run_completes_the_batch_whose_last_run_it_finishes(wire: Wire) -> None:
    wire.api.progression = "held"
    batch_id, [first, second] = one_shot(wire, {"task": "a"}, {"task": "b"})
    wire.api.advance_run(first, to="COMPLETED")
    assert wire.get_batch(batch_id).json()["status"] == "PENDING"  # one run still queued
    wire.api.advance_run(second, to="COMPLETED")
    assert wire.get_batch(batch_id).json()["status"] == "COMPLETED"


def test_advance_run_says_why_a_run_does_not_reach_a_status(wire: Wire) -> None:
    wire.api.on_run(hold="queued")
    delayed = trigger(wire, delay="1h")
    with pytest.raises(
        ValueError,
        match=r"to='COMPLETED' is not a status .* reaches from "
        r"DELAYED \(it is delayed: move the clock past its delay\)",
    ):
        wire.api.advance_run(delayed, to="COMPLETED")
    done = trigger(wire)
    wire.api.advance_run(done, to="COMPLETED")
    with pytest.raises(ValueError, match=r"reaches from COMPLETED \(a run only moves forward"):
        wire.api.advance_run(done, to="EXECUTING")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"to": "DONE"}, "to must be one of QUEUED, DELAYED, EXECUTING, COMPLETED, FAILED"),
        ({"to": "completed"}, "to must be one of QUEUED"),
        ({"to": 3}, "to must be one of QUEUED"),
    ],
)
def test_advance_run_refuses_a_status_naming_the_choices(
    wire: Wire, arguments: dict[str, Any], message: str
) -> None:
    run_id = trigger(wire)
    with pytest.raises(ValueError, match=re.escape(message)):
        wire.api.advance_run(run_id, **arguments)


def test_advance_run_refuses_a_run_the_mock_did_not_create(wire: Wire) -> None:
    with pytest.raises(ValueError, match="run_id must be the id of a run the mock created"):
        wire.api.advance_run("run_cnotmadebythemock000000000")


def test_advance_given_a_run_id_points_to_advance_run(wire: Wire) -> None:
    run_id = trigger(wire)
    with pytest.raises(
        ValueError,
        match=r"batch must be a registered or triggered batch; "
        r"got .* \(a run: advance_run\(run_id\)\)",
    ):
        wire.api.advance(run_id)
