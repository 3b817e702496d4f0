"""Queues (`/api/v1/queues...`) and bulk actions (`/api/v1/bulk-actions...`), over the wire
(docs/platform.md §13)."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import httpx
import pytest
from wire import Wire

CURRENT = {"x-trigger-api-version": "2025-07-16"}
NOT_FOUND_RUN = "run_cmx0ugyuv00014a7da3uz70rc"


def post(w: Wire, path: str, body: object, **options: Any) -> httpx.Response:
    return w.send("POST", path, content=json.dumps(body).encode(), **options)


def trigger(w: Wire, task: str, **options: object) -> str:
    answer = post(w, f"/api/v1/tasks/{task}/trigger", {"payload": {}, "options": options})
    assert answer.status_code == 200, answer.text
    run_id: str = answer.json()["id"]
    return run_id


def get_run(w: Wire, run_id: str) -> dict[str, Any]:
    answer = w.send("GET", f"/api/v3/runs/{run_id}", headers=CURRENT)
    assert answer.status_code == 200
    found: dict[str, Any] = answer.json()
    return found


def queue(w: Wire, param: str, kind: str = "id") -> httpx.Response:
    return w.send("GET", f"/api/v1/queues/{param}?type={kind}")


def item(
    queue_id: str, name: str, kind: str, running: int, queued: int, **more: object
) -> dict[str, Any]:
    """A queue as the platform writes it, no override."""
    return {
        "id": queue_id,
        "name": name,
        "type": kind,
        "running": running,
        "queued": queued,
        "paused": False,
        "concurrencyLimit": None,
        "concurrency": {
            "current": None,
            "base": None,
            "override": None,
            "overriddenBy": None,
            "overriddenAt": None,
        },
        "releaseConcurrencyOnWaitpoint": True,
        **more,
    }


# -- queues ----------------------------------------------------------------------------


def test_the_queues_of_an_environment_are_its_runs_queues_with_their_counts(wire: Wire) -> None:
    first = trigger(wire, "send-email")
    trigger(wire, "send-email")
    trigger(wire, "resize", queue={"name": "images"})
    get_run(wire, first)  # a run of no batch moves when it is polled: now EXECUTING
    answer = wire.send("GET", "/api/v1/queues")
    assert answer.status_code == 200
    assert "access-control-allow-origin" not in answer.headers
    body = answer.json()
    assert body["pagination"] == {"currentPage": 1, "totalPages": 1, "count": 2}
    images, email = body["data"]  # in name order: a task's queue sorts by its task id
    assert images == item(
        images["id"], "images", "custom", 0, 1, concurrencyLimitOverridePercent=None
    )
    assert email == item(
        email["id"], "send-email", "task", 1, 1, concurrencyLimitOverridePercent=None
    )
    assert images["id"].startswith("queue_")
    assert len(images["id"]) == len("queue_") + 21


def test_queues_are_listed_a_page_at_a_time(wire: Wire) -> None:
    for task in ("a", "b", "c"):
        trigger(wire, task)
    pages = [wire.send("GET", f"/api/v1/queues?perPage=2&page={n}").json() for n in (1, 2, 3)]
    assert [[q["name"] for q in page["data"]] for page in pages] == [["a", "b"], ["c"], []]
    assert [page["pagination"] for page in pages] == [
        {"currentPage": n, "totalPages": 2, "count": 3} for n in (1, 2, 3)
    ]
    capped = wire.send("GET", "/api/v1/queues?perPage=500").json()["pagination"]
    assert capped == {"currentPage": 1, "totalPages": 1, "count": 3}  # read as 100


@pytest.mark.parametrize(
    ("query", "issues"),
    [
        (
            "page=abc",
            [
                {
                    "code": "invalid_type",
                    "expected": "number",
                    "received": "nan",
                    "path": ["page"],
                    "message": "Expected number, received nan",
                }
            ],
        ),
        (
            "page=0&perPage=1.5",
            [
                {
                    "code": "too_small",
                    "minimum": 0,
                    "type": "number",
                    "inclusive": False,
                    "exact": False,
                    "message": "Number must be greater than 0",
                    "path": ["page"],
                },
                {
                    "code": "invalid_type",
                    "expected": "integer",
                    "received": "float",
                    "message": "Expected integer, received float",
                    "path": ["perPage"],
                },
            ],
        ),
    ],
)
def test_a_bad_page_or_per_page_is_a_query_error(
    wire: Wire, query: str, issues: list[dict[str, object]]
) -> None:
    answer = wire.send("GET", f"/api/v1/queues?{query}")
    assert (answer.status_code, answer.json()) == (400, {"error": "Query Error", "details": issues})


def test_a_queue_is_retrieved_by_id_or_by_type_and_name(wire: Wire) -> None:
    trigger(wire, "send-email")
    trigger(wire, "resize", queue={"name": "media/images"})
    listed = {q["name"]: q for q in wire.send("GET", "/api/v1/queues").json()["data"]}
    for param, kind, name in (
        (listed["send-email"]["id"], "id", "send-email"),
        ("send-email", "task", "send-email"),
        ("task%252Fsend-email", "task", "send-email"),  # the SDK's encoding of task/...
        ("media%252Fimages", "custom", "media/images"),
    ):
        answer = queue(wire, param, kind)
        assert (answer.status_code, answer.json()) == (200, listed[name]), param
    for param, kind in (("send-email", "custom"), ("images", "custom"), ("queue_x", "id")):
        missing = queue(wire, param, kind)
        assert (missing.status_code, missing.json()) == (404, {"error": "queue-not-found"})
        assert "x-should-retry" not in missing.headers


def test_a_queue_name_that_is_not_a_uri_component_fails_as_decodeuricomponent_does(
    wire: Wire,
) -> None:
    trigger(wire, "a")
    answer = queue(wire, "a%25zz", "task")  # the name `a%zz`: decoding it again throws
    assert (answer.status_code, answer.json()) == (500, {"error": "Internal Server Error"})
    by_id = queue(wire, "a%25zz", "id")  # an id is not decoded again: just not found
    assert (by_id.status_code, by_id.json()) == (404, {"error": "queue-not-found"})


def test_a_bulk_filter_reads_dates_queues_and_statuses(wire: Wire) -> None:
    queued = trigger(wire, "a", queue={"name": "mail"})
    trigger(wire, "a")
    bulk_id = bulk(
        wire,
        {
            "action": "cancel",
            "filter": {
                "from": "2000-01-01T00:00:00Z",
                "queue": [{"type": "custom", "name": "mail"}],
                "status": "QUEUED",
            },
        },
    )
    body = wire.send("GET", f"/api/v1/bulk-actions/{bulk_id}").json()
    assert body["counts"] == {"total": 1, "success": 1, "failure": 0}
    assert get_run(wire, queued)["status"] == "CANCELED"
    future = bulk(wire, {"action": "cancel", "filter": {"from": 4_102_444_800_000}})
    assert wire.send("GET", f"/api/v1/bulk-actions/{future}").json()["counts"]["total"] == 0


def test_a_bad_queue_type_is_a_query_error(wire: Wire) -> None:
    answer = queue(wire, "send-email", "named")
    assert (answer.status_code, answer.json()) == (
        400,
        {
            "error": "Query Error",
            "details": [
                {
                    "received": "named",
                    "code": "invalid_enum_value",
                    "options": ["task", "custom", "id"],
                    "path": ["type"],
                    "message": "Invalid enum value. Expected 'task' | 'custom' | 'id', "
                    "received 'named'",
                }
            ],
        },
    )


def test_public_tokens_read_a_queue_with_the_queues_scope_only(wire: Wire) -> None:
    trigger(wire, "send-email")
    for scope, status in (("read:queues", 200), ("read:all", 200), ("read:runs", 403)):
        token = wire.api.public_token(scopes=[scope])
        answer = wire.send("GET", "/api/v1/queues/send-email?type=task", key=token)
        assert answer.status_code == status, scope
    token = wire.api.public_token(scopes=["read:runs"])
    assert wire.send("GET", "/api/v1/queues/send-email?type=task", key=token).json() == {
        "error": "Unauthorized",
        "code": "unauthorized",
        "param": "access_token",
        "type": "authorization",
    }
    listed = wire.send("GET", "/api/v1/queues", key=wire.api.public_token(scopes=["admin"]))
    assert (listed.status_code, listed.json()) == (401, {"error": "Invalid API key"})


def test_a_paused_queue_keeps_its_runs_queued_until_it_is_resumed(wire: Wire) -> None:
    run_id = trigger(wire, "send-email")
    paused = post(wire, "/api/v1/queues/send-email/pause", {"type": "task", "action": "pause"})
    assert paused.status_code == 200
    assert paused.json() == {
        **item(paused.json()["id"], "send-email", "task", 0, 1),
        "paused": True,
    }
    later = trigger(wire, "send-email")
    for _ in range(3):
        assert get_run(wire, run_id)["status"] == "QUEUED"
        assert get_run(wire, later)["status"] == "QUEUED"
    assert queue(wire, "send-email", "task").json()["paused"] is True
    resumed = post(wire, f"/api/v1/queues/{paused.json()['id']}/pause", {"action": "resume"})
    assert (resumed.json()["paused"], resumed.json()["queued"]) == (False, 2)
    assert [get_run(wire, run_id)["status"] for _ in range(2)] == ["QUEUED", "EXECUTING"]


def test_pausing_an_unknown_queue_is_404(wire: Wire) -> None:
    answer = post(wire, "/api/v1/queues/nothing/pause", {"type": "custom", "action": "pause"})
    assert (answer.status_code, answer.json()) == (404, {"error": "queue-not-found"})


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"type": "task"}, 'Validation error: Required at "action"'),
        (
            {"type": None, "action": "stop"},
            "Validation error: Expected 'task' | 'custom' | 'id', received null at \"type\"; "
            "Invalid enum value. Expected 'pause' | 'resume', received 'stop' at \"action\"",
        ),
        ([], "Validation error: Expected object, received array"),
    ],
)
def test_a_bad_pause_body_is_400(wire: Wire, body: object, error: str) -> None:
    trigger(wire, "a")
    answer = post(wire, "/api/v1/queues/a/pause", body)
    assert (answer.status_code, answer.json()) == (400, {"error": error})


def test_a_queue_limit_is_overridden_and_reset_to_its_base(wire: Wire) -> None:
    trigger(wire, "a")
    path = "/api/v1/queues/a/concurrency"
    answer = post(wire, f"{path}/override", {"type": "task", "concurrencyLimit": 3})
    body = answer.json()
    assert answer.status_code == 200
    assert (body["concurrencyLimit"], body["concurrency"]["override"]) == (3, 3)
    assert body["concurrency"]["overriddenAt"].endswith("Z")
    by_percent = post(wire, f"{path}/override", {"type": "task", "percent": 12.5}).json()
    assert by_percent["concurrencyLimit"] == 12  # of the environment's 100, rounded down
    assert queue(wire, "a", "task").json()["concurrencyLimitOverridePercent"] == 12.5
    reset = post(wire, f"{path}/reset", {"type": "task"})
    assert reset.status_code == 200
    assert reset.json() == item(body["id"], "a", "task", 0, 1)
    again = post(wire, f"{path}/reset", {"type": "task"})
    assert (again.status_code, again.json()) == (400, {"error": "Queue is not overridden"})


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (
            {"type": "task"},
            400,
            "Validation error: Provide exactly one of `concurrencyLimit` or `percent`",
        ),
        (
            {"type": "task", "concurrencyLimit": 2, "percent": 5},
            400,
            "Validation error: Provide exactly one of `concurrencyLimit` or `percent`",
        ),
        (
            {"type": "task", "concurrencyLimit": -1.5},
            400,
            'Validation error: Expected integer, received float at "concurrencyLimit"; '
            'Number must be greater than or equal to 0 at "concurrencyLimit"',
        ),
        (
            {"type": "task", "percent": 101},
            400,
            'Validation error: Number must be less than or equal to 100 at "percent"',
        ),
        (
            {"type": "task", "concurrencyLimit": 101},
            400,
            "Concurrency limit (101) cannot exceed the environment limit (100)",
        ),
        ({"type": "custom", "concurrencyLimit": 1}, 404, "Queue not found"),
    ],
)
def test_a_bad_override_is_refused(wire: Wire, body: object, status: int, error: str) -> None:
    trigger(wire, "a")
    answer = post(wire, "/api/v1/queues/a/concurrency/override", body)
    assert (answer.status_code, answer.json()) == (status, {"error": error})


def test_queue_mutations_take_secret_keys_only_and_need_a_body(wire: Wire) -> None:
    trigger(wire, "a")
    token = wire.api.public_token(scopes=["admin"])
    answer = post(wire, "/api/v1/queues/a/pause", {"type": "task", "action": "pause"}, key=token)
    assert (answer.status_code, answer.json()) == (401, {"error": "Invalid API key"})
    empty = wire.send("POST", "/api/v1/queues/a/concurrency/reset")
    assert (empty.status_code, empty.json()) == (400, {"error": "Request body is empty"})


# -- bulk actions -------------------------------------------------------------------------


def bulk(w: Wire, body: object) -> str:
    answer = post(w, "/api/v1/bulk-actions", body)
    assert answer.status_code == 202, answer.text
    assert list(answer.json()) == ["id"]
    bulk_id: str = answer.json()["id"]
    return bulk_id


def test_a_bulk_cancel_cancels_the_runs_its_filter_selects_when_it_is_polled(wire: Wire) -> None:
    runs = [trigger(wire, "send-email") for _ in range(3)]
    other = trigger(wire, "resize")
    done = trigger(wire, "send-email")
    for _ in range(2):
        get_run(wire, done)  # now COMPLETED
    bulk_id = bulk(wire, {"action": "cancel", "filter": {"taskIdentifier": "send-email"}})
    assert bulk_id.startswith("bulk_c")
    assert len(bulk_id) == len("bulk_") + 25
    listed = wire.send("GET", "/api/v1/bulk-actions").json()
    assert listed["data"][0]["status"] == "PENDING"
    assert listed["data"][0]["counts"] == {"total": 4, "success": 0, "failure": 0}
    answer = wire.send("GET", f"/api/v1/bulk-actions/{bulk_id}")
    assert answer.status_code == 200
    body = answer.json()
    assert list(body) == ["id", "type", "status", "counts", "createdAt", "completedAt"]
    assert (body["id"], body["type"], body["status"]) == (bulk_id, "CANCEL", "COMPLETED")
    assert body["counts"] == {"total": 4, "success": 3, "failure": 1}  # one had finished
    assert [get_run(wire, run)["status"] for run in runs] == ["CANCELED"] * 3
    assert get_run(wire, other)["status"] != "CANCELED"
    wire.api.assert_cancelled(runs[0])
    members = wire.send("GET", f"/api/v1/runs?filter[bulkAction]={bulk_id}").json()["data"]
    assert {run["id"] for run in members} == {*runs, done}


def test_a_bulk_replay_of_run_ids_makes_new_runs_in_the_bulk_action(wire: Wire) -> None:
    first, second = trigger(wire, "a"), trigger(wire, "b")
    bulk_id = bulk(wire, {"action": "replay", "runIds": [first, second], "name": "again"})
    body = wire.send("GET", f"/api/v1/bulk-actions/{bulk_id}").json()
    assert (body["name"], body["type"], body["status"]) == ("again", "REPLAY", "COMPLETED")
    assert body["counts"] == {"total": 2, "success": 2, "failure": 0}
    new = wire.api.assert_replayed(first)
    members = wire.send("GET", f"/api/v1/runs?filter[bulkAction]={bulk_id}").json()["data"]
    assert new in {run["id"] for run in members}
    assert first not in {r["id"] for r in members}


def test_a_bulk_action_selects_only_runs_made_before_it(wire: Wire) -> None:
    trigger(wire, "a")
    bulk_id = bulk(wire, {"action": "cancel", "filter": {"status": ["QUEUED"]}})
    later = trigger(wire, "a")
    assert wire.send("GET", f"/api/v1/bulk-actions/{bulk_id}").json()["counts"]["total"] == 1
    assert get_run(wire, later)["status"] == "QUEUED"


def test_a_pending_bulk_action_can_be_aborted_and_then_does_nothing(wire: Wire) -> None:
    run_id = trigger(wire, "a")
    bulk_id = bulk(wire, {"action": "cancel", "runIds": [run_id]})
    assert wire.send("HEAD", f"/api/v1/bulk-actions/{bulk_id}").status_code == 200  # moves nothing
    aborted = post(wire, f"/api/v1/bulk-actions/{bulk_id}/abort", None)
    assert (aborted.status_code, aborted.json()) == (200, {"id": bulk_id})
    body = wire.send("GET", f"/api/v1/bulk-actions/{bulk_id}").json()
    assert (body["status"], body["counts"]["success"], "completedAt" in body) == (
        "ABORTED",
        0,
        False,
    )
    assert get_run(wire, run_id)["status"] == "QUEUED"
    again = post(wire, f"/api/v1/bulk-actions/{bulk_id}/abort", None)
    assert (again.status_code, again.json()) == (
        409,
        {"error": f"Bulk action group already aborted: {bulk_id}"},
    )
    done = bulk(wire, {"action": "cancel", "runIds": [run_id]})
    wire.send("GET", f"/api/v1/bulk-actions/{done}")
    finished = post(wire, f"/api/v1/bulk-actions/{done}/abort", None)
    assert finished.json() == {"error": f"Bulk action group already completed: {done}"}


def test_unknown_bulk_actions_are_the_builders_404s(wire: Wire) -> None:
    missing = wire.send("GET", "/api/v1/bulk-actions/bulk_cmx0ugyuv00014a7da3uz70rc")
    assert (missing.status_code, missing.json()) == (404, {"error": "Not found"})
    assert missing.headers["x-should-retry"] == "false"
    abort = post(wire, "/api/v1/bulk-actions/bulk_cmx0ugyuv00014a7da3uz70rc/abort", None)
    assert (abort.status_code, abort.json()) == (404, {"error": "Resource not found"})


def test_bulk_actions_are_listed_newest_first_a_page_at_a_time(wire: Wire) -> None:
    run_id = trigger(wire, "a")
    made = [bulk(wire, {"action": "cancel", "runIds": [run_id]}) for _ in range(3)]
    first = wire.send("GET", "/api/v1/bulk-actions?page[size]=2").json()
    assert [b["id"] for b in first["data"]] == made[::-1][:2]
    assert list(first["pagination"]) == ["next"]
    cursor = json.loads(base64.urlsafe_b64decode(first["pagination"]["next"] + "=="))
    assert cursor == {"createdAt": cursor["createdAt"], "id": made[1].removeprefix("bulk_")}
    second = wire.send(
        "GET", f"/api/v1/bulk-actions?page[size]=2&page[after]={first['pagination']['next']}"
    ).json()
    assert [b["id"] for b in second["data"]] == [made[0]]
    back = wire.send(
        "GET", f"/api/v1/bulk-actions?page[size]=2&page[before]={second['pagination']['previous']}"
    ).json()
    assert [b["id"] for b in back["data"]] == made[::-1][:2]
    for query in ("page[after]=x&page[before]=y", "page[after]=not-a-cursor"):
        broken = wire.send("GET", f"/api/v1/bulk-actions?{query}")
        assert (broken.status_code, broken.json()) == (500, {"error": "Internal Server Error"})
    bad = wire.send("GET", "/api/v1/bulk-actions?page[size]=101")
    assert (bad.status_code, bad.json()["error"]) == (400, "Query Error")


def test_only_three_bulk_replays_may_be_pending_at_once(wire: Wire) -> None:
    run_id = trigger(wire, "a")
    for _ in range(3):
        bulk(wire, {"action": "replay", "runIds": [run_id]})
    answer = post(wire, "/api/v1/bulk-actions", {"action": "replay", "runIds": [run_id]})
    assert answer.status_code == 429
    assert answer.headers["x-should-retry"] == "false"
    assert answer.json() == {
        "error": "You can only run 3 bulk replays at a time in this environment. Wait for an "
        "in-progress replay to finish before starting another."
    }


def test_immediate_progression_completes_a_bulk_action_as_it_is_made(wire: Wire) -> None:
    wire.api.progression = "immediate"
    run_id = trigger(wire, "a")
    bulk_id = bulk(wire, {"action": "cancel", "runIds": [run_id]})
    assert get_run(wire, run_id)["status"] == "CANCELED"
    listed = wire.send("GET", "/api/v1/bulk-actions").json()["data"]
    assert (listed[0]["id"], listed[0]["status"]) == (bulk_id, "COMPLETED")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            {"action": "delete"},
            "Invalid discriminator value. Expected 'cancel' | 'replay' at \"action\"",
        ),
        (
            {"runIds": ["x"]},
            "Invalid discriminator value. Expected 'cancel' | 'replay' at \"action\"",
        ),
        ({"action": "cancel"}, "Exactly one of filter or runIds must be provided"),
        (
            {"action": "cancel", "runIds": ["x"], "filter": {"tag": "a"}},
            "Exactly one of filter or runIds must be provided",
        ),
        (
            {"action": "cancel", "runIds": []},
            'Array must contain at least 1 element(s) at "runIds"',
        ),
        (
            {"action": "cancel", "targetRegion": "eu", "runIds": ["x"]},
            'Expected never, received string at "targetRegion"',
        ),
        (
            {"action": "replay", "filter": {"tag": " "}},
            'At least one filter must be provided at "filter"',
        ),
        (
            {"action": "replay", "filter": {"status": "DONE"}},
            "Invalid enum value. Expected 'PENDING_VERSION' | 'QUEUED' | 'DEQUEUED' | 'EXECUTING' "
            "| 'WAITING' | 'COMPLETED' | 'CANCELED' | 'FAILED' | 'CRASHED' | 'SYSTEM_FAILURE' | "
            "'DELAYED' | 'EXPIRED' | 'TIMED_OUT', received 'DONE' at \"filter.status\", "
            'or Expected array, received string at "filter.status"',  # a union: each branch
        ),
        (
            {"action": "replay", "filter": {"queue": {"type": "task"}}},
            'Required at "filter.queue.name", or Expected array, received object at "filter.queue"',
        ),
        (
            {"action": "cancel", "runIds": ["x"], "name": "n" * 256},
            'Name must be less than 255 characters at "name"',
        ),
        (
            {"action": "cancel", "filter": {"isTest": "yes", "tag": ""}},
            'Expected boolean, received string at "filter.isTest"',  # aborted: no refinement
        ),
        (
            {"action": "cancel", "filter": {"from": "last week"}},
            'Invalid date at "filter.from", or Expected number, received string at "filter.from"',
        ),
        ([1], "Expected object, received array"),
    ],
)
def test_a_bad_bulk_action_body_is_400(wire: Wire, body: object, error: str) -> None:
    answer = post(wire, "/api/v1/bulk-actions", body)
    assert (answer.status_code, answer.json()) == (400, {"error": f"Validation error: {error}"})


def test_more_than_500_run_ids_must_be_a_filter(wire: Wire) -> None:
    answer = post(wire, "/api/v1/bulk-actions", {"action": "cancel", "runIds": ["x"] * 501})
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "Too many runIds (501). Maximum is 500. Use a filter to select more runs."},
    )


def test_a_period_parse_duration_cannot_read_fails_the_bulk_action(wire: Wire) -> None:
    answer = post(wire, "/api/v1/bulk-actions", {"action": "cancel", "filter": {"period": "soon"}})
    assert (answer.status_code, answer.json()) == (500, {"error": "Internal Server Error"})


def test_bulk_actions_take_secret_keys_only(wire: Wire) -> None:
    token = wire.api.public_token(scopes=["admin"])
    answer = wire.send("GET", "/api/v1/bulk-actions", key=token)
    assert (answer.status_code, answer.json()) == (401, {"error": "Invalid API key"})


PROD = "tr_prod_" + "p" * 24


def test_queues_and_bulk_actions_belong_to_their_environment_and_reset_empties_them(
    wire: Wire,
) -> None:
    run_id = trigger(wire, "a")
    bulk_id = bulk(wire, {"action": "cancel", "runIds": [run_id]})
    assert wire.send("GET", "/api/v1/queues", key=PROD).json()["data"] == []
    assert queue(wire, "a", "task").status_code == 200
    assert wire.send("GET", "/api/v1/queues/a?type=task", key=PROD).status_code == 404
    other = wire.send("GET", f"/api/v1/bulk-actions/{bulk_id}", key=PROD)
    assert other.status_code == 404
    assert wire.send("GET", "/api/v1/bulk-actions", key=PROD).json() == {
        "data": [],
        "pagination": {},
    }
    theirs = post(wire, "/api/v1/bulk-actions", {"action": "cancel", "runIds": [run_id]}, key=PROD)
    assert wire.send("GET", f"/api/v1/bulk-actions/{theirs.json()['id']}", key=PROD).json()[
        "counts"
    ] == {"total": 0, "success": 0, "failure": 0}  # the dev run is not theirs to cancel
    wire.api.reset()
    assert wire.send("GET", "/api/v1/queues").json()["data"] == []
    assert wire.send("GET", f"/api/v1/bulk-actions/{bulk_id}").status_code == 404


def test_a_test_declares_pauses_and_reads_a_queue_with_queue(wire: Wire) -> None:
    declared = wire.api.queue("send-email", paused=True)
    assert declared == {
        **item(
            str(declared["id"]), "send-email", "task", 0, 0, concurrencyLimitOverridePercent=None
        ),
        "paused": True,
    }
    assert queue(wire, "send-email", "task").json() == declared  # the app sees it at once
    run_id = trigger(wire, "send-email")
    assert [get_run(wire, run_id)["status"] for _ in range(2)] == ["QUEUED", "QUEUED"]
    assert wire.api.queue("send-email")["queued"] == 1
    wire.api.queue("send-email", paused=False)
    assert [get_run(wire, run_id)["status"] for _ in range(2)] == ["QUEUED", "EXECUTING"]
    custom = wire.api.queue("media images", type="custom")  # as the platform sanitizes it
    assert (custom["name"], custom["type"]) == ("mediaimages", "custom")
    assert wire.api.queue("a", environment="prod")["id"] != wire.api.queue("a")["id"]


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"name": ""}, ValueError, "name must be a task id or a queue name; got ''"),
        (
            {"name": "a", "type": "named"},
            ValueError,
            "type must be one of task, custom; got 'named'",
        ),
        ({"name": "a", "paused": "yes"}, TypeError, "paused must be True, False or None"),
        ({"name": "a", "environment": "PROD"}, ValueError, "environment names are lower case"),
    ],
)
def test_queue_refuses_bad_arguments_naming_them(
    wire: Wire, arguments: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        wire.api.queue(**arguments)


def test_advance_does_not_start_a_run_whose_queue_is_paused(wire: Wire) -> None:
    wire.api.queue("a", paused=True)
    answer = post(wire, "/api/v1/tasks/batch", {"items": [{"task": "a"}, {"task": "b"}]})
    batch_id = answer.json()["id"]
    first, second = (run["id"] for run in answer.json()["runs"])
    for _ in range(3):
        wire.api.advance(batch_id)
    assert get_run(wire, first)["status"] == "QUEUED"  # its queue is paused
    assert get_run(wire, second)["status"] == "COMPLETED"


def test_advance_to_a_status_a_paused_queue_holds_back_names_the_queue(wire: Wire) -> None:
    wire.api.queue("a", paused=True)
    answer = post(wire, "/api/v1/tasks/batch", {"items": [{"task": "a"}, {"task": "b"}]})
    batch_id = answer.json()["id"]
    with pytest.raises(ValueError, match=r"runs wait in paused queue 'task/a': resume it"):
        wire.api.advance(batch_id, to="COMPLETED")
    wire.api.queue("a", paused=False)
    assert wire.api.advance(batch_id, to="COMPLETED").status == "COMPLETED"
