"""The official TypeScript SDK, `@trigger.dev/sdk` 4.8.3, against our server.

Pinned in `tests/sdk/package.json`; one Node process a test:

- `tests/sdk/retrieve_batches.mjs` calls `batch.retrieve(id)` for every kind of batch the
  factory makes; the SDK parses each answer with its zod schema
  (`RetrieveBatchV2Response`), and the test compares what it kept, field by field, with
  the body the server sent.
- `tests/sdk/trigger_tasks.mjs` triggers: `tasks.batchTrigger` and `batch.trigger`
  (create a streaming batch, stream its items as NDJSON), then `batch.retrieve` until the
  batch is COMPLETED; and `tasks.trigger`. The tests check what the SDK got back and
  what the server recorded: requests, headers, bodies and `triggered`.

Needs Node and the pinned packages: `npm ci --prefix tests/sdk` (`.ci/run` does it).
Without them the tests are skipped, except under `CI=true`, where they fail.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, NoReturn

import pytest

from pytest_trigger_batches import RecordedCall, TriggerApiServer
from pytest_trigger_batches.ids import mask_key

SDK_DIR = Path(__file__).parent / "sdk"
SCRIPT = SDK_DIR / "retrieve_batches.mjs"
TRIGGER_SCRIPT = SDK_DIR / "trigger_tasks.mjs"
SDK_VERSION = "4.8.3"
INSTALL = "run `npm ci --prefix tests/sdk` from the repository root"

# Every status in each flavour the factory makes (README, "The factory"), and the
# optional fields the SDK's schema has to cope with both ways.
FLAVOURS: dict[str, tuple[str, dict[str, Any]]] = {
    "pending, just created": ("PENDING", {}),
    "pending, runs created": ("PENDING", {"runs_created": True}),
    "processing": ("PROCESSING", {}),
    "partial failure": ("PARTIAL_FAILED", {"idempotency_key": True}),
    "partial failure, no error codes": ("PARTIAL_FAILED", {"error_code": None}),
    "partial failure, queue limit": ("PARTIAL_FAILED", {"error_code": "QUEUE_SIZE_LIMIT_EXCEEDED"}),
    "completed": ("COMPLETED", {}),
    "completed with failures": ("COMPLETED", {"failed_count": 2}),
    "aborted": ("ABORTED", {}),
    "aborted, never sealed": ("ABORTED", {"runs_created": False}),
    "legacy pending": ("PENDING", {"legacy": True}),
    "legacy completed": ("COMPLETED", {"legacy": True}),
    "legacy aborted": ("ABORTED", {"legacy": True}),
}

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
BATCH_ID_RE = re.compile(r"batch_c[0-9a-z]{24}")
RUN_ID_RE = re.compile(r"run_c[0-9a-z]{24}")


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def node() -> str:
    """The node executable, with the pinned SDK installed next to the script."""
    executable = shutil.which("node")
    if executable is None:
        _unavailable(f"node is not on PATH: install Node 20 or later, then {INSTALL}")
    for package in ("core", "sdk"):
        manifest = SDK_DIR / "node_modules" / "@trigger.dev" / package / "package.json"
        if not manifest.is_file():
            _unavailable(f"@trigger.dev/{package} is not installed in tests/sdk: {INSTALL}")
        installed = json.loads(manifest.read_text(encoding="utf-8"))["version"]
        if installed != SDK_VERSION:
            _unavailable(
                f"@trigger.dev/{package} {installed} is installed in tests/sdk, "
                f"tests/sdk/package.json pins {SDK_VERSION}: {INSTALL}"
            )
    return executable


def run_sdk(node: str, server: TriggerApiServer, script: Path, *args: str) -> dict[str, Any]:
    """Run `script` with `args` against `server`; what it printed, parsed."""
    done = subprocess.run(
        [node, str(script), *args],
        cwd=SDK_DIR,
        # Only what the SDK needs: a stray TRIGGER_PREVIEW_BRANCH or VERCEL_GIT_COMMIT_REF
        # would add headers, a stray TRIGGER_API_URL point it elsewhere.
        env={"PATH": os.environ.get("PATH", ""), **server.env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"node exited {done.returncode}:\n{done.stderr}"
    output = json.loads(done.stdout)
    assert output["sdkVersion"] == SDK_VERSION
    return output


def assert_sdk_headers(server: TriggerApiServer, calls: list[RecordedCall]) -> None:
    """The headers the SDK's ApiClient sends, as the server recorded them.

    Every request made through its `zodfetch` carries a fresh
    `x-trigger-request-idempotency-key` (a UUID a call, docs/platform.md §8); the
    items upload of a streaming batch is a plain `fetch` and carries none.
    """
    masked_key = mask_key(server.secret_key)
    keys = []
    for call in calls:
        headers = call.headers
        assert headers["authorization"] == f"Bearer {masked_key}", str(call)  # recorded masked
        assert headers["x-trigger-api-version"] == "2025-07-16", str(call)
        assert headers["trigger-version"] == SDK_VERSION, str(call)
        assert headers["x-trigger-source"] == "sdk", str(call)
        assert headers["x-trigger-realtime-streams-version"] == "v2", str(call)
        # Outside a task, without a branch: none of the worker or preview headers.
        assert not {"x-trigger-branch", "x-trigger-worker", "x-trigger-engine-version"} & set(
            headers
        ), str(call)
        if call.route == "POST /api/v3/batches/{batchId}/items":
            assert headers["content-type"] == "application/x-ndjson", str(call)
            # A ReadableStream body: chunked, no length, no request idempotency key.
            assert headers["transfer-encoding"] == "chunked", str(call)
            assert "content-length" not in headers, str(call)
            assert "x-trigger-request-idempotency-key" not in headers, str(call)
            continue
        assert headers["content-type"] == "application/json", str(call)
        key = headers["x-trigger-request-idempotency-key"]
        assert UUID_RE.fullmatch(key), str(call)
        keys.append(key)
    assert len(set(keys)) == len(keys)  # a fresh request idempotency key per request


def kept_by_sdk(body: dict[str, Any]) -> dict[str, Any]:
    """`body` as the SDK's RetrieveBatchV2Response keeps it (@trigger.dev/core 4.8.3).

    The schema strips keys it does not declare (`processingCompletedAt`), and turns
    the timestamps into Dates (written back as `{"$date": toISOString()}` by the
    script): a timestamp comes back equal only if the server wrote it the way
    `toISOString()` does.
    """

    def date(value: str) -> dict[str, str]:
        return {"$date": value}

    kept: dict[str, Any] = {"id": body["id"], "status": body["status"]}
    if "idempotencyKey" in body:
        kept["idempotencyKey"] = body["idempotencyKey"]
    kept |= {
        "createdAt": date(body["createdAt"]),
        "updatedAt": date(body["updatedAt"]),
        "runCount": body["runCount"],
        "runs": body["runs"],
    }
    processing = body["processing"]
    kept["processing"] = {
        **({"completedAt": date(processing["completedAt"])} if "completedAt" in processing else {}),
        "errors": [
            {
                key: entry[key]
                for key in ("index", "taskIdentifier", "error", "errorCode")
                if key in entry
            }
            for entry in processing["errors"]
        ],
    }
    return kept


def test_the_sdk_retrieves_every_kind_of_batch(node, trigger_api_server, trigger_batch_factory):
    batches = {
        name: trigger_batch_factory(status, **options)
        for name, (status, options) in FLAVOURS.items()
    }
    for batch in batches.values():
        trigger_api_server.api.add_batch(batch)
    ids = [batch.id for batch in batches.values()]
    assert len(set(ids)) == len(ids)

    output = run_sdk(node, trigger_api_server, SCRIPT, *ids)

    for name, batch in batches.items():
        body = batch.to_payload(version=2)
        result = output["results"][batch.id]
        assert result["ok"], f"{name}: the SDK refused the server's body: {result['error']}"
        assert result["data"] == kept_by_sdk(body), name
        # Field by field, for a readable failure, and what the schema dropped.
        data = result["data"]
        assert (data["status"], data["runCount"], data["runs"]) == (
            batch.status,
            batch.run_count,
            list(batch.runs),
        ), name
        assert data["processing"]["errors"] == [e.to_payload() for e in batch.errors], name
        assert set(body) - set(data) <= {"processingCompletedAt"}, name

    calls = trigger_api_server.api.calls
    # One request per batch: every answer was a 200, so the SDK never retried.
    assert sorted(call.path for call in calls) == sorted(f"/api/v2/batches/{id}" for id in ids)
    for call in calls:
        assert (call.method, call.status_code, call.api_version) == ("GET", 200, 2), str(call)
    assert_sdk_headers(trigger_api_server, calls)


# -- triggering ------------------------------------------------------------------------

QUEUE_FULL = (
    "Cannot trigger send-email as the queue size limit for this environment has been "
    "reached. The maximum size is 10000 (1 items in this batch failed with the same error)"
)  # docs/platform.md §4.5 and §4.6: collapsed, "1 items" included
SUPERJSON = "application/super+json"  # the payloadType of a payload the SDK serialized


def superjson(value: object, meta: dict[str, Any] | None = None) -> str:
    """`value` as the SDK's `stringifyIO` writes it: superjson text (JSON.stringify)."""
    packet: dict[str, Any] = {"json": value}
    if meta is not None:
        packet["meta"] = meta
    return json.dumps(packet, separators=(",", ":"), ensure_ascii=False)


def sent_item(index: int, task: str, payload: str | None, payload_type: str) -> dict[str, Any]:
    """One NDJSON line as the SDK sends it: payload as text, its type and byte size."""
    if payload is None:  # no payload: no payload key, no payloadSize
        return {"index": index, "task": task, "options": {"payloadType": payload_type}}
    options = {"payloadType": payload_type, "payloadSize": len(payload.encode())}
    return {"index": index, "task": task, "payload": payload, "options": options}


def jwt_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT, unverified."""
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def test_the_sdk_batch_triggers_through_the_server(node, trigger_api_server):
    # The second email is refused: the queue is full (an error entry, no run).
    trigger_api_server.on_item(task="send-email", index=1, outcome="queue_limit")
    emails = [
        {"payload": {"to": "ada@example.com", "n": 1}},
        {"payload": "plain text"},
        {"payload": {"at": {"$date": "2026-01-02T03:04:05.678Z"}}},
        {},  # no payload
    ]
    images = [
        {"id": "resize-image", "payload": {"width": 640, "tags": ["a", "b"]}},
        {"id": "resize-image", "payload": 42},
        {"id": "send-email", "payload": {"to": "zoë@example.com"}},
    ]
    plan = {
        "polls": 10,
        "steps": [
            {"call": "tasks.batchTrigger", "task": "send-email", "items": emails},
            {"call": "batch.trigger", "items": images},
        ],
    }
    output = run_sdk(node, trigger_api_server, TRIGGER_SCRIPT, json.dumps(plan))
    by_task, by_id = output["results"]
    assert by_task["ok"], by_task["error"]
    assert by_id["ok"], by_id["error"]

    # What the SDK sends: each payload as text, with its type and size. Not the
    # "application/json" text of docs/platform.md §5.2: `stringifyIO` writes superjson, a
    # string as itself ("text/plain"), and no payload at all as "application/json".
    dated = superjson({"at": "2026-01-02T03:04:05.678Z"}, {"values": {"at": ["Date"]}})
    sent_emails = [
        sent_item(0, "send-email", superjson({"to": "ada@example.com", "n": 1}), SUPERJSON),
        sent_item(1, "send-email", "plain text", "text/plain"),
        sent_item(2, "send-email", dated, SUPERJSON),
        sent_item(3, "send-email", None, "application/json"),
    ]
    sent_images = [
        sent_item(0, "resize-image", superjson({"width": 640, "tags": ["a", "b"]}), SUPERJSON),
        sent_item(1, "resize-image", superjson(42), SUPERJSON),
        sent_item(2, "send-email", superjson({"to": "zoë@example.com"}), SUPERJSON),
    ]

    batches = []
    for result, sent, tasks in (
        (by_task, sent_emails, ["send-email"]),
        (by_id, sent_images, ["resize-image", "send-email"]),
    ):
        handle = result["handle"]
        batch_id = handle["batchId"]
        assert BATCH_ID_RE.fullmatch(batch_id), handle
        assert handle["runCount"] == len(sent)
        # The handle's public token (the server's x-trigger-jwt) reads the batch.
        claims = jwt_claims(handle["publicAccessToken"])
        assert claims["scopes"] == [f"read:batch:{batch_id}"]
        assert claims["sub"] == trigger_api_server.environment_id()
        batches.append((batch_id, result["polls"], sent, tasks))

    # The SDK's view, poll by poll: one step a GET (progression "per_poll").
    email_polls, image_polls = by_task["polls"], by_id["polls"]
    assert [poll["status"] for poll in email_polls] == [
        "PROCESSING",  # sealed by the items call
        "PARTIAL_FAILED",  # processed: 3 runs, 1 error entry
        "PARTIAL_FAILED",  # runs executing
        "COMPLETED",  # every run final
    ]
    assert [poll["status"] for poll in image_polls] == [
        "PROCESSING",
        "PENDING",  # processed, none failed: "runs exist, waiting"
        "PENDING",
        "COMPLETED",
    ]
    for batch_id, polls, sent, _ in batches:
        assert {poll["id"] for poll in polls} == {batch_id}
        assert polls[0]["runs"] == []
        assert "completedAt" not in polls[0]["processing"]
        final = polls[-1]
        assert final["runCount"] == len(sent)
        assert all(RUN_ID_RE.fullmatch(run) for run in final["runs"]), final["runs"]
        assert len(set(final["runs"])) == len(final["runs"])
        assert polls[1]["runs"] == final["runs"]  # every run exists once processed
        # What the SDK kept is what the server holds.
        state = trigger_api_server.advance(batch_id, to="COMPLETED")
        assert final == kept_by_sdk(state.to_payload(version=2))
    email_final, image_final = email_polls[-1], image_polls[-1]
    assert len(email_final["runs"]) == 3
    assert email_final["processing"]["errors"] == [
        {
            "index": 1,
            "taskIdentifier": "send-email",
            "error": QUEUE_FULL,
            "errorCode": "QUEUE_SIZE_LIMIT_EXCEEDED",
        }
    ]
    assert len(image_final["runs"]) == 3
    assert image_final["processing"]["errors"] == []
    assert not set(email_final["runs"]) & set(image_final["runs"])

    # What the server recorded: create, items, then the polls; per batch.
    calls = trigger_api_server.calls
    expected_routes = []
    for batch_id, polls, _, _ in batches:
        expected_routes += [
            ("POST /api/v3/batches", {}, 202),
            ("POST /api/v3/batches/{batchId}/items", {"batchId": batch_id}, 200),
        ] + [("GET /api/v2/batches/{batchId}", {"batchId": batch_id}, 200)] * len(polls)
    assert [(c.route, dict(c.params), c.status_code) for c in calls] == expected_routes
    creates = [c for c in calls if c.route == "POST /api/v3/batches"]
    uploads = [c for c in calls if c.route == "POST /api/v3/batches/{batchId}/items"]
    for create, upload, (_, _, sent, tasks) in zip(creates, uploads, batches, strict=True):
        # No batch idempotency key given: none sent (nor parentRunId outside a task).
        assert create.body == {"runCount": len(sent), "taskIdentifiers": tasks}
        assert upload.body == sent  # NDJSON, one line an item, in index order
    assert_sdk_headers(trigger_api_server, calls)

    # `triggered`: every item, in the order sent, its payload parsed from the superjson
    # text SDK 4.8.3 sends ("application/super+json"); a plain string stays as it is.
    triggered = trigger_api_server.triggered
    assert [(t.route, t.batch_id, t.task, t.index) for t in triggered] == [
        ("POST /api/v3/batches/{batchId}/items", batch_id, item["task"], item["index"])
        for batch_id, _, sent, _ in batches
        for item in sent
    ]
    assert [t.options for t in triggered] == [
        item["options"] for _, _, sent, _ in batches for item in sent
    ]
    decoded = [t.payload for t in triggered]
    assert decoded == [
        {"to": "ada@example.com", "n": 1},
        "plain text",
        {"at": "2026-01-02T03:04:05.678Z"},  # a Date: superjson's "meta" says so
        None,
        {"width": 640, "tags": ["a", "b"]},
        42,
        {"to": "zoë@example.com"},
    ]


def test_the_sdk_triggers_one_task(node, trigger_api_server):
    welcome = {"to": "ada@example.com", "template": "welcome"}
    keyed = {"call": "tasks.trigger", "task": "send-email", "payload": welcome}
    plan = {
        "steps": [
            {"call": "tasks.trigger", "task": "send-email", "payload": {"to": "bob@example.com"}},
            {**keyed, "options": {"idempotencyKey": "welcome-ada"}},
            {**keyed, "options": {"idempotencyKey": "welcome-ada"}},  # the same run again
        ]
    }
    output = run_sdk(node, trigger_api_server, TRIGGER_SCRIPT, json.dumps(plan))
    assert all(result["ok"] for result in output["results"]), output["results"]
    plain, first, again = (result["handle"] for result in output["results"])

    # Handles: runs the server created; the idempotency key found the earlier run.
    assert RUN_ID_RE.fullmatch(plain["id"]), plain
    assert RUN_ID_RE.fullmatch(first["id"]), first
    assert plain["id"] != first["id"]
    assert (plain["isCached"], first["isCached"]) == (False, False)
    assert (again["id"], again["isCached"]) == (first["id"], True)
    for handle in (plain, first, again):
        assert f"read:runs:{handle['id']}" in jwt_claims(handle["publicAccessToken"])["scopes"]

    # What the server recorded: one POST a call, the body as the SDK sends it.
    calls = trigger_api_server.calls
    assert [(c.method, c.route, dict(c.params), c.status_code) for c in calls] == [
        ("POST", "POST /api/v1/tasks/{taskId}/trigger", {"taskId": "send-email"}, 200)
    ] * 3
    # The SDK hashes the key outside a task: sha256 of the key ("run" scope, no run).
    hashed = hashlib.sha256(b"welcome-ada").hexdigest()
    bob, ada = superjson({"to": "bob@example.com"}), superjson(welcome)
    size = {bob: len(bob.encode()), ada: len(ada.encode())}
    key_options = {
        "idempotencyKey": hashed,
        "idempotencyKeyOptions": {"key": "welcome-ada", "scope": "run"},
    }
    expected_options = [
        {"payloadType": SUPERJSON, "payloadSize": size[bob]},
        {"payloadType": SUPERJSON, "payloadSize": size[ada], **key_options},
        {"payloadType": SUPERJSON, "payloadSize": size[ada], **key_options},
    ]
    assert [c.body for c in calls] == [
        {"payload": payload, "options": options}
        for payload, options in zip((bob, ada, ada), expected_options, strict=True)
    ]
    assert_sdk_headers(trigger_api_server, calls)

    # `triggered`: all three, the cached one too; the payloads parsed from superjson.
    assert [(t.route, t.task, t.index, t.batch_id) for t in trigger_api_server.triggered] == [
        ("POST /api/v1/tasks/{taskId}/trigger", "send-email", 0, None)
    ] * 3
    assert [t.payload for t in trigger_api_server.triggered] == [
        json.loads(text)["json"] for text in (bob, ada, ada)
    ]
    assert [t.options for t in trigger_api_server.triggered] == expected_options
