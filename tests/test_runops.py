"""What changes a run after it was triggered (docs/platform.md §7.7 to §7.10), over every
transport: an idempotency key's reset, a reschedule, tags, metadata."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from wire import Wire

NOW = 1_780_000_000.0
CURRENT = {"x-trigger-api-version": "2025-07-16"}


def post(w: Wire, path: str, body: object, **options: Any) -> httpx.Response:
    return w.send("POST", path, content=json.dumps(body).encode(), **options)


def put(w: Wire, path: str, body: object, **options: Any) -> httpx.Response:
    return w.send("PUT", path, content=json.dumps(body).encode(), **options)


def trigger(w: Wire, task: str = "email", /, **options: object) -> httpx.Response:
    return post(w, f"/api/v1/tasks/{task}/trigger", {"payload": {"to": "a"}, "options": options})


def get_run(w: Wire, run_id: str) -> dict[str, Any]:
    answer = w.send("GET", f"/api/v3/runs/{run_id}", headers=CURRENT)
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


def reset(w: Wire, name: str, body: object, **options: Any) -> httpx.Response:
    return post(w, f"/api/v1/idempotencyKeys/{quote(name, safe='')}/reset", body, **options)


# -- POST /api/v1/idempotencyKeys/{key}/reset -------------------------------------------------


def test_a_reset_key_makes_a_new_run_and_the_old_run_no_longer_shows_it(wire: Wire) -> None:
    first = trigger(wire, idempotencyKey="job-7").json()["id"]
    assert trigger(wire, idempotencyKey="job-7").json() == {"id": first, "isCached": True}
    answer = reset(wire, "job-7", {"taskIdentifier": "email"})
    assert (answer.status_code, answer.json()) == (200, {"id": "job-7"})
    again = trigger(wire, idempotencyKey="job-7").json()
    assert again["id"] != first
    assert again["isCached"] is False
    assert trigger(wire, idempotencyKey="job-7").json() == {"id": again["id"], "isCached": True}
    old = get_run(wire, first)
    assert "idempotencyKey" not in old
    assert old["payload"] == {"to": "a"}
    assert get_run(wire, again["id"])["idempotencyKey"] == "job-7"


def test_a_reset_key_makes_new_runs_on_the_batch_endpoints_too(wire: Wire) -> None:
    item = {"task": "email", "payload": 1, "options": {"idempotencyKey": "k"}}
    seen = [post(wire, "/api/v1/tasks/batch", {"items": [item]}).json()["runs"][0]["id"]]
    assert reset(wire, "k", {"taskIdentifier": "email"}).status_code == 200
    v2 = post(wire, "/api/v2/tasks/batch", {"items": [item]}).json()["id"]
    seen += wire.get_batch(v2).json()["runs"]
    assert reset(wire, "k", {"taskIdentifier": "email"}).status_code == 200
    created = post(wire, "/api/v3/batches", {"runCount": 1}).json()["id"]
    line = json.dumps({"index": 0, **item}).encode() + b"\n"
    sent = wire.send(
        "POST",
        f"/api/v3/batches/{created}/items",
        headers={"content-type": "application/x-ndjson"},
        content=line,
    )
    assert sent.status_code == 200
    wire.get_batch(created)
    seen += wire.get_batch(created).json()["runs"]
    assert len(set(seen)) == 3


def test_the_old_run_keeps_the_users_key_the_sdk_sent_in_its_options(wire: Wire) -> None:
    options: dict[str, object] = {
        "idempotencyKey": "a" * 64,
        "idempotencyKeyOptions": {"key": "k", "scope": "global"},
    }
    first = trigger(wire, **options).json()["id"]
    assert reset(wire, "a" * 64, {"taskIdentifier": "email"}).status_code == 200
    assert get_run(wire, first)["idempotencyKey"] == "k"
    assert trigger(wire, **options).json()["id"] != first


def test_a_reset_of_a_key_no_run_of_the_task_holds_is_404(wire: Wire) -> None:
    trigger(wire, idempotencyKey="k")
    for key, task in (("other", "email"), ("k", "sms")):
        answer = reset(wire, key, {"taskIdentifier": task})
        assert answer.status_code == 404
        assert answer.json() == {
            "error": f"No runs found with idempotency key: {key} and task: {task}"
        }
    assert reset(wire, "k", {"taskIdentifier": "email"}).status_code == 200
    assert reset(wire, "k", {"taskIdentifier": "email"}).status_code == 404  # spent


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", "Request body is empty"),
        (b"nope", "Invalid JSON"),
        (b"{}", 'Validation error: Required at "taskIdentifier"'),
        (
            b'{"taskIdentifier": ""}',
            'Validation error: Task identifier is required at "taskIdentifier"',
        ),
        (
            b'{"taskIdentifier": 7}',
            'Validation error: Expected string, received number at "taskIdentifier"',
        ),
    ],
)
def test_a_reset_body_without_a_task_identifier_is_400(
    wire: Wire, content: bytes, error: str
) -> None:
    answer = wire.send("POST", "/api/v1/idempotencyKeys/k/reset", content=content)
    assert (answer.status_code, answer.json()) == (400, {"error": error})


def test_a_public_token_resets_a_key_with_write_runs_only(wire: Wire) -> None:
    trigger(wire, idempotencyKey="k")
    body = {"taskIdentifier": "email"}
    refused = reset(wire, "k", body, key=wire.api.public_token(scopes=["read:runs"]))
    assert refused.status_code == 403
    allowed = reset(wire, "k", body, key=wire.api.public_token(scopes=["write:runs"]))
    assert (allowed.status_code, allowed.json()) == (200, {"id": "k"})


# -- POST /api/v1/runs/{runId}/reschedule -----------------------------------------------------


def test_a_rescheduled_run_answers_as_retrieved_and_moves_when_its_new_time_comes(
    wire: Wire,
) -> None:
    now = [NOW]
    wire.api.clock = lambda: now[0]
    run_id = trigger(wire, delay="1h").json()["id"]
    answer = post(wire, f"/api/v1/runs/{run_id}/reschedule", {"delay": "2h"}, headers=CURRENT)
    assert answer.status_code == 200
    shown = answer.json()
    assert (shown["id"], shown["status"]) == (run_id, "DELAYED")
    assert shown["delayedUntil"] == "2026-05-28T22:26:40.000Z"
    assert get_run(wire, run_id) == shown
    now[0] += 3600 + 1
    assert get_run(wire, run_id)["status"] == "DELAYED"  # the old time no longer counts
    now[0] += 3600
    assert get_run(wire, run_id)["status"] == "QUEUED"


def test_a_reschedule_to_a_future_date_delays_the_run_until_then(wire: Wire) -> None:
    wire.api.clock = lambda: NOW
    run_id = trigger(wire, delay="1h").json()["id"]
    until = "2026-06-01T00:00:00.000Z"
    answer = post(wire, f"/api/v1/runs/{run_id}/reschedule", {"delay": until})
    assert answer.json()["delayedUntil"] == until


def test_only_a_delayed_run_can_be_rescheduled(wire: Wire) -> None:
    run_id = trigger(wire).json()["id"]
    answer = post(wire, f"/api/v1/runs/{run_id}/reschedule", {"delay": "1h"})
    assert (answer.status_code, answer.json()) == (
        400,
        {"error": "Cannot reschedule a run that is not delayed"},
    )


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"delay": "soon"}, 400, "Invalid delay: soon"),
        ({"delay": "2001-01-01T00:00:00Z"}, 400, "Invalid delay: 2001-01-01T00:00:00Z"),
        ({"delay": ""}, 400, "Invalid delay: "),
        ({}, 400, "Invalid request body"),
        ({"delay": {}}, 400, "Invalid request body"),
        ([], 400, "Invalid request body"),
        ({"delay": "1h"}, 404, "Run not found"),
    ],
)
def test_a_reschedule_reads_its_delay_before_it_looks_for_the_run(
    wire: Wire, body: object, status: int, error: str
) -> None:
    answer = post(wire, "/api/v1/runs/run_unknown/reschedule", body)
    assert (answer.status_code, answer.json()) == (status, {"error": error})


def test_a_reschedule_body_that_is_not_json_fails_the_route(wire: Wire) -> None:
    answer = wire.send("POST", "/api/v1/runs/run_x/reschedule", content=b"{")
    assert answer.status_code == 500


def test_reschedule_tags_and_metadata_refuse_public_tokens_in_their_own_words(
    wire: Wire,
) -> None:
    run_id = trigger(wire, delay="1h").json()["id"]
    token = wire.api.public_token(scopes=["admin"])
    missing = "Invalid or Missing API Key"  # the routes that authenticate by themselves
    for method, path, body, error in (
        ("POST", "reschedule", {"delay": "2h"}, "Invalid or missing API Key"),
        ("POST", "tags", {"tags": ["a"]}, missing),
        ("GET", "metadata", None, missing),
        ("PUT", "metadata", {"metadata": {}}, "Invalid API key"),  # the route builder's
    ):
        content = None if body is None else json.dumps(body).encode()
        answer = wire.send(method, f"/api/v1/runs/{run_id}/{path}", key=token, content=content)
        assert (answer.status_code, answer.json()) == (401, {"error": error}), path


# -- POST /api/v1/runs/{runId}/tags -----------------------------------------------------------


def tag(w: Wire, run_id: str, tags: object) -> httpx.Response:
    return post(w, f"/api/v1/runs/{run_id}/tags", {"tags": tags})


def test_added_tags_show_in_the_run_and_the_list_filter(wire: Wire) -> None:
    run_id = trigger(wire, tags=["b"]).json()["id"]
    answer = tag(wire, run_id, ["c", "a", "b"])
    assert (answer.status_code, answer.json()) == (200, {"message": "Successfully set 2 new tags."})
    assert get_run(wire, run_id)["tags"] == ["a", "b", "c"]
    listed = wire.send("GET", "/api/v1/runs?filter[tag]=c").json()["data"]
    assert [run["id"] for run in listed] == [run_id]
    assert listed[0]["tags"] == ["a", "b", "c"]
    assert tag(wire, run_id, "a").json() == {"message": "No new tags to add"}


def test_blank_tags_add_nothing_and_are_answered_before_the_run_is_looked_for(
    wire: Wire,
) -> None:
    for tags in ([" ", ""], "\u00a0"):
        answer = tag(wire, "run_unknown", tags)
        assert (answer.status_code, answer.json()) == (200, {"message": "No new tags to add"})
    missing = tag(wire, "run_unknown", ["a"])
    assert (missing.status_code, missing.json()) == (404, {"error": "Run not found"})


def test_a_run_holds_ten_tags_at_most_and_a_refused_request_sets_none(wire: Wire) -> None:
    run_id = trigger(wire, tags=[f"t{i}" for i in range(8)]).json()["id"]
    answer = tag(wire, run_id, ["t0", "x", "y", "z"])
    assert answer.status_code == 422
    assert answer.json() == {
        "error": "Runs can only have 10 tags, you're trying to set 11. "
        "These tags have not been set: 'x', 'y', 'z'."
    }
    assert len(get_run(wire, run_id)["tags"]) == 8
    assert tag(wire, run_id, ["x", "y"]).json() == {"message": "Successfully set 2 new tags."}


def test_a_tag_longer_than_128_characters_is_refused_with_zods_issue(wire: Wire) -> None:
    answer = tag(wire, "run_x", ["ok", "x" * 129])
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "Invalid request body",
        "issues": [
            {
                "code": "too_big",
                "maximum": 128,
                "type": "string",
                "inclusive": True,
                "exact": False,
                "message": "Tags must be less than 128 characters",
                "path": ["tags", 1],
            }
        ],
    }


@pytest.mark.parametrize("content", [b"", b"tags", b"{"])
def test_a_tags_body_that_is_not_json_is_the_routes_500(wire: Wire, content: bytes) -> None:
    answer = wire.send("POST", "/api/v1/runs/run_x/tags", content=content)
    assert (answer.status_code, answer.json()) == (
        500,
        {"error": "Something went wrong, please try again."},
    )


def test_tags_without_a_tags_field_are_a_400_with_the_issue(wire: Wire) -> None:
    answer = post(wire, "/api/v1/runs/run_x/tags", {"tag": "a"})
    assert answer.status_code == 400
    assert answer.json()["issues"][0]["path"] == ["tags"]


# -- GET / PUT /api/v1/runs/{runId}/metadata --------------------------------------------------


def metadata_of(w: Wire, run_id: str) -> httpx.Response:
    return w.send("GET", f"/api/v1/runs/{run_id}/metadata")


def update(w: Wire, run_id: str, body: object) -> httpx.Response:
    return put(w, f"/api/v1/runs/{run_id}/metadata", body)


def test_metadata_is_read_as_the_platform_stores_it_json_text(wire: Wire) -> None:
    bare = trigger(wire).json()["id"]
    assert metadata_of(wire, bare).json() == {"metadata": None, "metadataType": "application/json"}
    given = trigger(wire, metadata={"step": 1, "name": "é"}).json()["id"]
    assert metadata_of(wire, given).json() == {
        "metadata": '{"step":1,"name":"é"}',
        "metadataType": "application/json",
    }
    missing = metadata_of(wire, "run_unknown")
    assert (missing.status_code, missing.json()) == (404, {"error": "Run not found"})


def test_a_metadata_object_replaces_the_runs_metadata(wire: Wire) -> None:
    run_id = trigger(wire, metadata={"old": True}).json()["id"]
    answer = update(wire, run_id, {"metadata": {"progress": 0.5}})
    assert (answer.status_code, answer.json()) == (200, {"metadata": {"progress": 0.5}})
    assert get_run(wire, run_id)["metadata"] == {"progress": 0.5}
    assert update(wire, run_id, {}).json() == {"metadata": {}}  # nothing to write
    assert get_run(wire, run_id)["metadata"] == {"progress": 0.5}


def test_an_empty_metadata_object_is_not_written_to_a_run_without_metadata(wire: Wire) -> None:
    run_id = trigger(wire).json()["id"]
    assert update(wire, run_id, {"metadata": {}}).json() == {"metadata": {}}
    assert "metadata" not in get_run(wire, run_id)


def test_metadata_operations_apply_in_order(wire: Wire) -> None:
    run_id = trigger(wire, metadata={"n": 1, "log": "a", "gone": 1, "p": {"done": 1}}).json()["id"]
    operations = [
        {"type": "increment", "key": "n", "value": 2},
        {"type": "increment", "key": "n", "value": -1},  # the SDK's decrement
        {"type": "increment", "key": "fresh", "value": 5},
        {"type": "append", "key": "log", "value": "b"},
        {"type": "append", "key": "list", "value": {"x": 1}},
        {"type": "append", "key": "list", "value": {"x": 2}},
        {"type": "remove", "key": "list", "value": {"x": 1}},
        {"type": "delete", "key": "gone"},
        {"type": "set", "key": "$.p.done", "value": 2},
        {"type": "increment", "key": "$.p.count", "value": 1},
        {"type": "set", "key": "$.nowhere.deep", "value": 1},  # no parent: nothing happens
        {"type": "set", "key": "status", "value": "sending"},
    ]
    answer = update(wire, run_id, {"operations": operations})
    expected = {
        "n": 2,
        "log": ["a", "b"],
        "p": {"done": 2, "count": 1},
        "fresh": 5,
        "list": [{"x": 2}],
        "status": "sending",
    }
    assert (answer.status_code, answer.json()) == (200, {"metadata": expected})
    assert get_run(wire, run_id)["metadata"] == expected


def test_an_update_operation_replaces_the_whole_object_and_operations_win_over_metadata(
    wire: Wire,
) -> None:
    run_id = trigger(wire, metadata={"a": 1}).json()["id"]
    body = {
        "metadata": {"ignored": True},
        "operations": [
            {"type": "update", "value": {"b": 2}},
            {"type": "set", "key": "c", "value": 3},
        ],
    }
    assert update(wire, run_id, body).json() == {"metadata": {"b": 2, "c": 3}}


def test_operations_that_touch_nothing_leave_the_metadata_as_it_was(wire: Wire) -> None:
    run_id = trigger(wire, metadata={"a": 1}).json()["id"]
    operations = [
        {"type": "remove", "key": "a", "value": 1},  # not an array
        {"type": "set", "key": "__proto__", "value": 1},  # an unsafe key
    ]
    answer = update(wire, run_id, {"operations": operations})
    assert answer.status_code == 400  # the schema refuses the unsafe key first
    answer = update(wire, run_id, {"operations": operations[:1]})
    assert answer.json() == {"metadata": {"a": 1}}


def test_parent_and_root_operations_land_on_the_run_itself_after_the_answer(wire: Wire) -> None:
    run_id = trigger(wire).json()["id"]
    body = {
        "operations": [{"type": "set", "key": "own", "value": 1}],
        "parentOperations": [{"type": "increment", "key": "children", "value": 1}],
        "rootOperations": [{"type": "append", "key": "seen", "value": "x"}],
    }
    assert update(wire, run_id, body).json() == {"metadata": {"own": 1}}
    assert json.loads(metadata_of(wire, run_id).json()["metadata"]) == {
        "own": 1,
        "children": 1,
        "seen": ["x"],
    }


def test_metadata_over_256_kib_is_refused_with_413(wire: Wire) -> None:
    run_id = trigger(wire, metadata={"a": 1}).json()["id"]
    big = {"blob": "x" * 262_144}
    for body in (
        {"metadata": big},
        {"operations": [{"type": "set", "key": "blob", "value": "x" * 262_144}]},
    ):
        answer = update(wire, run_id, body)
        assert (answer.status_code, answer.json()) == (
            413,
            {"error": "Metadata exceeds maximum size of 262144 bytes"},
        )
    assert get_run(wire, run_id)["metadata"] == {"a": 1}


def test_a_run_that_finished_over_an_hour_ago_refuses_metadata(wire: Wire) -> None:
    now = [NOW]
    wire.api.clock = lambda: now[0]
    run_id = trigger(wire).json()["id"]
    while get_run(wire, run_id)["status"] != "COMPLETED":
        pass
    now[0] += 3599
    assert update(wire, run_id, {"metadata": {"late": 1}}).status_code == 200
    now[0] += 2
    answer = update(wire, run_id, {"metadata": {"later": 1}})
    assert (answer.status_code, answer.json()) == (
        422,
        {"error": "Cannot update metadata for a completed run"},
    )


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"metadata": []}, 'Expected object, received array at "metadata"'),
        ({"operations": {}}, 'Expected array, received object at "operations"'),
        (
            {"operations": [{"type": "merge"}]},
            "Invalid discriminator value. Expected 'update' | 'set' | 'delete' | 'append' | "
            "'remove' | 'increment' at \"operations[0].type\"",
        ),
        (
            {"operations": [{"type": "increment", "key": "n", "value": "1"}]},
            'Expected number, received string at "operations[0].value"',
        ),
        (
            {"rootOperations": [{"type": "delete", "key": "$.a.constructor"}]},
            "Metadata key may not reference __proto__, constructor, or prototype at "
            '"rootOperations[0].key"',
        ),
        ({"operations": [{"type": "set", "key": "a"}]}, 'Required at "operations[0].value"'),
    ],
)
def test_a_malformed_metadata_body_is_400(wire: Wire, body: object, error: str) -> None:
    run_id = trigger(wire).json()["id"]
    answer = update(wire, run_id, body)
    assert (answer.status_code, answer.json()) == (400, {"error": f"Validation error: {error}"})


def test_metadata_of_an_unknown_run_is_404(wire: Wire) -> None:
    answer = update(wire, "run_unknown", {"metadata": {"a": 1}})
    assert (answer.status_code, answer.json()) == (404, {"error": "Task Run not found"})


def test_a_reschedule_to_a_coerced_past_date_queues_the_run_at_once(wire: Wire) -> None:
    wire.api.clock = lambda: NOW
    run_id = trigger(wire, delay="1h").json()["id"]
    answer = post(wire, f"/api/v1/runs/{run_id}/reschedule", {"delay": 0}, headers=CURRENT)
    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["delayedUntil"]) == (
        "QUEUED",
        "1970-01-01T00:00:00.000Z",
    )


def test_only_the_key_reset_answers_cors_and_preflights(wire: Wire) -> None:
    origin = {"origin": "https://app.example"}
    trigger(wire, idempotencyKey="k")
    reset_answer = reset(wire, "k", {"taskIdentifier": "email"}, headers=origin)
    assert reset_answer.headers["access-control-allow-origin"] == "https://app.example"
    preflight = wire.send("OPTIONS", "/api/v1/idempotencyKeys/k/reset", headers=origin, key=None)
    assert preflight.status_code == 200
    run_id = trigger(wire).json()["id"]
    for method, path, body in (
        ("POST", "tags", {"tags": ["a"]}),
        ("GET", "metadata", None),
        ("PUT", "metadata", {"metadata": {"a": 1}}),
    ):
        content = None if body is None else json.dumps(body).encode()
        answer = wire.send(method, f"/api/v1/runs/{run_id}/{path}", headers=origin, content=content)
        assert answer.status_code == 200, path
        assert "access-control-allow-origin" not in answer.headers, path


def test_the_changes_stay_in_the_keys_environment(wire: Wire) -> None:
    run_id = trigger(wire, idempotencyKey="k", delay="1h").json()["id"]
    other = "tr_prod_" + "x" * 24
    wire.api.accept_key(wire.api.secret_key, environment="dev")
    wire.api.accept_key(other, environment="prod")
    for method, path, body in (
        ("POST", f"/api/v1/runs/{run_id}/reschedule", {"delay": "2h"}),
        ("POST", f"/api/v1/runs/{run_id}/tags", {"tags": ["a"]}),
        ("GET", f"/api/v1/runs/{run_id}/metadata", None),
        ("PUT", f"/api/v1/runs/{run_id}/metadata", {"metadata": {"a": 1}}),
        ("POST", "/api/v1/idempotencyKeys/k/reset", {"taskIdentifier": "email"}),
    ):
        content = None if body is None else json.dumps(body).encode()
        assert wire.send(method, path, key=other, content=content).status_code == 404, path
    shown = get_run(wire, run_id)
    assert (shown["tags"], shown["idempotencyKey"]) == ([], "k")
    assert "metadata" not in shown


def test_a_key_with_reserved_characters_is_reset_by_its_encoded_path(wire: Wire) -> None:
    key = "job/7 ü?"
    trigger(wire, idempotencyKey=key)
    answer = reset(wire, key, {"taskIdentifier": "email"})
    assert (answer.status_code, answer.json()) == (200, {"id": key})
    assert trigger(wire, idempotencyKey=key).json()["isCached"] is False


def test_a_metadata_body_over_2_mib_is_413_before_it_is_read(wire: Wire) -> None:
    run_id = trigger(wire).json()["id"]
    content = b'{"metadata": {"a": "' + b"x" * (2 * 1024 * 1024) + b'"}}'
    answer = wire.send("PUT", f"/api/v1/runs/{run_id}/metadata", content=content)
    assert (answer.status_code, answer.json()) == (413, {"error": "Request body too large"})
