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
- `tests/sdk/read_runs.mjs` reads the runs behind a triggered batch: `runs.retrieve`
  (RetrieveRunResponse), `runs.list` page by page (ListRunResponseItem), `runs.cancel`
  and `runs.replay`; it keeps the raw answers too, so the test compares what the SDK's
  schemas kept with what the server sent.
- `tests/sdk/realtime.mjs` subscribes: `runs.subscribeToRun` (the loop ends once the run
  finished), `runs.subscribeToBatch`, `runs.subscribeToRunsWithTag`, and a subscription
  to a run that does not exist (one 404, never retried).
- `tests/sdk/tokens.mjs` mints each kind of public access token (`auth.createPublicToken`,
  `createTriggerPublicToken`, `createBatchTriggerPublicToken`), with a root key and with
  an additional key, and uses them (`TestTokens`).
- `tests/sdk/waitpoints.mjs` asks for approval as a service does: `wait.createToken`
  (with an idempotency key, again: cached), `wait.listTokens` (filtered, and page by
  page), `wait.retrieveToken`, `wait.completeToken` (with a secret key and with the
  token's own public token), a POST to a token's callback URL, and a timed-out token.
- `tests/sdk/every_function.mjs` calls every function an application calls from outside
  a task once, in a batch backend's order (`test_every_sdk_function_a_service_calls_works`).

Needs Node and the pinned packages: `npm ci --prefix tests/sdk` (`.ci/run` does it).
Without them the tests are skipped, except under `CI=true`, where they fail.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qs, urlsplit

import pytest

from pytest_trigger_batches import BatchFactory, RecordedCall, TriggerApiServer
from pytest_trigger_batches.redact import mask_key

SDK_DIR = Path(__file__).parent / "sdk"
SCRIPT = SDK_DIR / "retrieve_batches.mjs"
TRIGGER_SCRIPT = SDK_DIR / "trigger_tasks.mjs"
RUNS_SCRIPT = SDK_DIR / "read_runs.mjs"
REALTIME_SCRIPT = SDK_DIR / "realtime.mjs"
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


def run_sdk(
    node: str, server: TriggerApiServer, script: Path, *args: str, secret_key: str | None = None
) -> dict[str, Any]:
    """Run `script` with `args` against `server` (with `secret_key`, if given, instead of
    the server's own); what it printed, parsed."""
    key = {} if secret_key is None else {"TRIGGER_SECRET_KEY": secret_key}
    done = subprocess.run(
        [node, str(script), *args],
        cwd=SDK_DIR,
        # Only what the SDK needs: a stray TRIGGER_PREVIEW_BRANCH or VERCEL_GIT_COMMIT_REF
        # would add headers, a stray TRIGGER_API_URL point it elsewhere.
        env={"PATH": os.environ.get("PATH", ""), **server.env, **key},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"node exited {done.returncode}:\n{done.stderr}"
    output: dict[str, Any] = json.loads(done.stdout)
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


def test_the_sdk_retrieves_every_kind_of_batch(
    node: str, trigger_api_server: TriggerApiServer, trigger_batch_factory: BatchFactory
) -> None:
    batches = {
        name: trigger_batch_factory(status, **options)
        for name, (status, options) in FLAVOURS.items()
    }
    for batch in batches.values():
        trigger_api_server.add_batch(batch)
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

    calls = trigger_api_server.calls
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
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return decoded


def test_the_sdk_batch_triggers_through_the_server(
    node: str, trigger_api_server: TriggerApiServer
) -> None:
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


def test_the_sdk_triggers_one_task(node: str, trigger_api_server: TriggerApiServer) -> None:
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


def test_the_sdk_with_an_additional_key_triggers_twice_with_one_idempotency_key(
    node: str, trigger_api_server: TriggerApiServer
) -> None:
    # An additional key (`tr_<env>_sk_`) cannot sign public tokens itself: the SDK takes
    # the handle's token from `x-trigger-jwt`, and throws when an answer has none.
    additional = "tr_dev_sk_" + "Add1t10naLk3y" + "x" * 11
    keyed = {"call": "tasks.trigger", "task": "send-email", "payload": {"to": "ada@example.com"}}
    plan = {"steps": [{**keyed, "options": {"idempotencyKey": "welcome-ada"}}] * 2}
    output = run_sdk(
        node, trigger_api_server, TRIGGER_SCRIPT, json.dumps(plan), secret_key=additional
    )
    assert all(result["ok"] for result in output["results"]), output["results"]
    first, again = (result["handle"] for result in output["results"])
    assert (again["id"], first["isCached"], again["isCached"]) == (first["id"], False, True)
    for handle in (first, again):
        assert jwt_claims(handle["publicAccessToken"])["scopes"] == [
            f"read:runs:{first['id']}",
            f"write:inputStreams:{first['id']}",
        ]


# -- runs ------------------------------------------------------------------------------

# The keys @trigger.dev/core 4.8.3 declares (schemas/api.ts): `z.object` strips the rest.
COMMON_RUN_KEYS = frozenset(
    {
        "id",
        "status",
        "taskIdentifier",
        "idempotencyKey",
        "version",
        "isQueued",
        "isExecuting",
        "isWaiting",
        "isCompleted",
        "isSuccess",
        "isFailed",
        "isCancelled",
        "isTest",
        "createdAt",
        "updatedAt",
        "startedAt",
        "finishedAt",
        "delayedUntil",
        "ttl",
        "expiredAt",
        "tags",
        "costInCents",
        "baseCostInCents",
        "durationMs",
        "metadata",
        "taskKind",
        "region",
    }
)  # CommonRunFields
RELATED_RUN_KEYS = COMMON_RUN_KEYS | {"depth", "triggerFunction", "batchId"}
RETRIEVE_RUN_KEYS = RELATED_RUN_KEYS | {
    "payload",
    "payloadPresignedUrl",
    "output",
    "outputPresignedUrl",
    "error",
    "schedule",
    "relatedRuns",
    "attemptCount",
}  # RetrieveRunResponse
LIST_RUN_KEYS = COMMON_RUN_KEYS | {"env"}  # ListRunResponseItem
RUN_DATES = ("createdAt", "updatedAt", "startedAt", "finishedAt", "delayedUntil", "expiredAt")
FLAG_NAMES = (
    "isQueued",
    "isExecuting",
    "isWaiting",
    "isCompleted",
    "isSuccess",
    "isFailed",
    "isCancelled",
)


def kept_run(body: dict[str, Any], keys: frozenset[str]) -> dict[str, Any]:
    """A run body as the SDK's schema keeps it: declared keys only, timestamps as Dates."""
    kept = {key: value for key, value in body.items() if key in keys}
    for key in RUN_DATES:
        if key in kept:
            kept[key] = {"$date": kept[key]}
    if "error" in kept:  # SerializedError
        keep = ("message", "name", "stackTrace", "causes")
        kept["error"] = {k: v for k, v in kept["error"].items() if k in keep}
    if "env" in kept:  # RunEnvironmentDetails
        kept["env"] = {k: v for k, v in kept["env"].items() if k in ("id", "name", "user")}
    if "relatedRuns" in kept:
        kept["relatedRuns"] = {
            key: (
                [kept_run(r, RELATED_RUN_KEYS) for r in value]
                if key == "children"
                else kept_run(value, RELATED_RUN_KEYS)
            )
            for key, value in kept["relatedRuns"].items()
            if key in ("root", "parent", "children")
        }
    if keys is RETRIEVE_RUN_KEYS:
        kept.setdefault("attemptCount", 0)  # `.default(0)`
    return kept


def only_answer(result: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    """The one answer a step got (no retries: every answer was a 200), as it arrived."""
    assert result["ok"], f"the SDK refused the server's answer: {result['error']}"
    (response,) = result["responses"]
    assert (response["method"], urlsplit(response["url"]).path) == (method, path), response
    assert response["status"] == 200, response
    body: dict[str, Any] = response["body"]
    return body


def cursor_place(cursor: str) -> dict[str, Any]:
    """What a runs-list cursor carries (base64url JSON, unpadded)."""
    place: dict[str, Any] = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    return place


def run_place(run: dict[str, Any]) -> dict[str, Any]:
    """The place of a run the SDK listed: its creation in ms and its id less `run_`."""
    created = datetime.fromisoformat(run["createdAt"]["$date"].replace("Z", "+00:00"))
    return {"c": int(created.timestamp() * 1000), "r": run["id"].removeprefix("run_")}


def shown_flags(*on: str) -> dict[str, bool]:
    return {name: name in on for name in FLAG_NAMES}


# One batch, one item an outcome: (item, on_run outcome and details, what the SDK shows).
RUN_ITEMS: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    (
        {"id": "send-email", "payload": {"to": "ada@example.com"}},
        {"outcome": "COMPLETED", "output": {"sent": True, "id": "msg_1"}},
        {"status": "COMPLETED", "flags": ("isCompleted", "isSuccess"), "attemptCount": 1},
    ),
    (
        {"id": "resize-image", "payload": {"width": 640}, "options": {"maxAttempts": 3}},
        {"outcome": "FAILED", "error": {"message": "Image too large"}},
        # Every attempt allowed was made.
        {"status": "FAILED", "flags": ("isCompleted", "isFailed"), "attemptCount": 3},
    ),
    (
        {
            "id": "send-email",
            "payload": "plain text",
            "options": {
                "tags": ["vip", "eu"],
                "metadata": {"source": "signup"},
                "ttl": "1h",
                "idempotencyKey": "welcome-bob",
            },
        },
        {"outcome": "COMPLETED", "output": "done"},
        {"status": "COMPLETED", "flags": ("isCompleted", "isSuccess"), "attemptCount": 1},
    ),
    (
        {"id": "resize-image", "payload": 42},
        {"outcome": "TIMED_OUT"},  # final, yet not isCompleted (docs/platform.md §7.2)
        {"status": "TIMED_OUT", "flags": (), "attemptCount": 1},
    ),
    (
        {"id": "send-email", "payload": [1, 2]},
        {"outcome": "CRASHED"},
        {"status": "CRASHED", "flags": ("isCompleted", "isFailed"), "attemptCount": 1},
    ),
    (
        {"id": "resize-image", "payload": {"width": 1}},
        {
            "outcome": "SYSTEM_FAILURE",
            "error": {"message": "Disk full", "name": "SystemError", "stackTrace": "at disk"},
        },
        {"status": "SYSTEM_FAILURE", "flags": ("isCompleted", "isFailed"), "attemptCount": 1},
    ),
]
DEFAULT_ERRORS = {
    "FAILED": {"message": "Image too large"},
    "TIMED_OUT": {"message": "Run exceeded maximum compute time (maxDuration)", "name": "Error"},
    "CRASHED": {"message": "Worker crashed", "name": "Error"},
}


def test_the_sdk_reads_lists_cancels_and_replays_runs(
    node: str, trigger_api_server: TriggerApiServer
) -> None:
    """`runs.retrieve`, `runs.list`, `runs.cancel`, `runs.replay` on a settled batch.

    Every body passes the SDK's zod schemas; they strip `attempts` from a retrieved run
    and `depth` from a listed one, and nothing else.
    """
    for index, (_, rule, _) in enumerate(RUN_ITEMS):
        trigger_api_server.on_run(index=index, **rule)
    single = {
        "task": "send-email",
        "payload": {"to": "cy@example.com"},
        "options": {"idempotencyKey": "welcome-cy", "tags": "solo"},
    }
    failed_index = 1
    plan = {
        "items": [item for item, _, _ in RUN_ITEMS],
        "polls": 10,
        "pageSize": 4,
        "single": single,
        "replay": failed_index,
    }
    output = run_sdk(node, trigger_api_server, RUNS_SCRIPT, json.dumps(plan))
    results = output["results"]
    assert all(result["ok"] for result in results.values()), {
        name: result["error"] for name, result in results.items() if not result["ok"]
    }

    # Settled by polling the batch: one step a GET (progression "per_poll").
    batch_id = results["batch.trigger"]["data"]["batchId"]
    polls = [results[name]["data"] for name in results if name.startswith("batch.retrieve")]
    assert [poll["status"] for poll in polls] == ["PROCESSING", "PENDING", "PENDING", "COMPLETED"]
    run_ids = polls[-1]["runs"]
    assert len(run_ids) == len(RUN_ITEMS)

    # runs.retrieve: the schema accepted every body; what it kept is the server's body
    # less `attempts` (not in RetrieveRunResponse), its timestamps as Dates.
    retrieved = {}
    for index, run_id in enumerate(run_ids):
        result = results[f"runs.retrieve {run_id}"]
        body = only_answer(result, "GET", f"/api/v3/runs/{run_id}")
        assert body == trigger_api_server.run(run_id), run_id  # final: nothing moves it
        data = result["data"]
        assert data == kept_run(body, RETRIEVE_RUN_KEYS), run_id
        assert set(body) - set(data) == {"attempts"}, run_id
        assert body["attempts"] == []
        retrieved[index] = data

    # Field by field, what an application reads.
    for index, (item, rule, shown) in enumerate(RUN_ITEMS):
        data = retrieved[index]
        run_id = run_ids[index]
        assert data["id"] == run_id
        assert data["taskIdentifier"] == item["id"]
        assert data["status"] == shown["status"], index
        assert {name: data[name] for name in FLAG_NAMES} == shown_flags(*shown["flags"]), index
        assert data["attemptCount"] == shown["attemptCount"], index
        assert (data["triggerFunction"], data["batchId"]) == ("batchTrigger", batch_id)
        assert data["payload"] == item["payload"], index  # parsed from the superjson sent
        if shown["status"] == "COMPLETED":
            assert data["output"] == rule["output"], index
            assert "error" not in data, index
        else:
            assert "output" not in data, index
            assert data["error"] == rule.get("error", DEFAULT_ERRORS.get(shown["status"])), index
        # Timestamps: Dates, in order.
        moments = [data[key] for key in ("createdAt", "startedAt", "finishedAt", "updatedAt")]
        assert all(set(moment) == {"$date"} for moment in moments), index
        created, started, finished, updated = (moment["$date"] for moment in moments)
        assert created <= started <= finished <= updated, index
        assert min(data["durationMs"], data["costInCents"], data["baseCostInCents"]) >= 0
        assert (data["depth"], data["isTest"], data["relatedRuns"]) == (0, False, {"children": []})
        # A dev run's region is its worker queue, the environment's id; locked once started.
        assert data["region"] == trigger_api_server.environment_id(), index
        assert re.fullmatch(r"[0-9]{8}\.1", data["version"]), index
    tagged = retrieved[2]
    # A batch item's key reaches the server hashed (sha256, "run" scope, no run) and
    # without idempotencyKeyOptions, so the platform too shows the hash.
    assert tagged["idempotencyKey"] == hashlib.sha256(b"welcome-bob").hexdigest()
    assert (tagged["tags"], tagged["metadata"], tagged["ttl"]) == (
        ["eu", "vip"],  # sorted
        {"source": "signup"},
        "1h",
    )
    assert all("idempotencyKey" not in retrieved[i] for i in (0, 1, 3, 4, 5))

    # runs.list: newest first, page by page; the schema drops each item's `depth`.
    pages = [results[f"runs.list {n}"] for n in range(2)]
    assert "runs.list 2" not in results
    listed = []
    for page in pages:
        body = only_answer(page, "GET", "/api/v1/runs")
        assert page["data"]["pagination"] == body["pagination"]
        for sent, kept in zip(body["data"], page["data"]["data"], strict=True):
            assert kept == kept_run(sent, LIST_RUN_KEYS), sent["id"]
            assert set(sent) - set(kept) == {"depth"}, sent["id"]
            # What the list shows is what the retrieval showed, less its own fields.
            index = run_ids.index(sent["id"])
            in_both = COMMON_RUN_KEYS - {"taskKind"}
            assert {k: v for k, v in kept.items() if k in in_both} == {
                k: v for k, v in retrieved[index].items() if k in in_both
            }, sent["id"]
            assert kept["env"] == {
                "id": trigger_api_server.environment_id(),
                "name": "dev",
            }
            assert kept["taskKind"] == "STANDARD"
            listed.append(sent["id"])
    assert sorted(listed) == sorted(run_ids)  # every run once
    newest_first = sorted(
        run_ids, key=lambda r: (retrieved[run_ids.index(r)]["createdAt"]["$date"], r), reverse=True
    )
    assert listed == newest_first
    first, second = (page["data"] for page in pages)
    assert [len(first["data"]), len(second["data"])] == [4, 2]
    # Opaque cursors: base64url of {"c": createdAt in ms, "r": the internal run id}.
    assert list(first["pagination"]) == ["next"]
    assert cursor_place(first["pagination"]["next"]) == run_place(first["data"][-1])
    assert list(second["pagination"]) == ["previous"]
    assert cursor_place(second["pagination"]["previous"]) == run_place(second["data"][0])
    # CursorPage.getNextPage() asks for the same second page.
    assert results["runs.list getNextPage"]["data"] == second
    failed = results["runs.list failed"]
    only_answer(failed, "GET", "/api/v1/runs")
    assert [run["id"] for run in failed["data"]["data"]] == [run_ids[failed_index]]
    assert failed["data"]["pagination"] == {}

    # runs.cancel: `{id}`, recorded; the run shows CANCELED (completed, failed, cancelled).
    handle = results["tasks.trigger"]["data"]
    single_id = handle["id"]
    assert only_answer(results["runs.cancel"], "POST", f"/api/v2/runs/{single_id}/cancel") == {
        "id": single_id
    }
    assert results["runs.cancel"]["data"] == {"id": single_id}
    trigger_api_server.assert_cancelled(single_id)
    cancelled_result = results["runs.retrieve cancelled"]
    body = only_answer(cancelled_result, "GET", f"/api/v3/runs/{single_id}")
    cancelled = cancelled_result["data"]
    assert cancelled == kept_run(body, RETRIEVE_RUN_KEYS)
    assert cancelled["status"] == "CANCELED"
    assert {name: cancelled[name] for name in FLAG_NAMES} == shown_flags(
        "isCompleted", "isFailed", "isCancelled"
    )
    assert (cancelled["triggerFunction"], cancelled["attemptCount"]) == ("trigger", 0)
    assert not {"batchId", "startedAt", "output"} & set(cancelled)
    # Cancelled while queued by the API: the engine's error, and no completedAt.
    assert cancelled["error"] == {"message": "Canceled by user"}
    assert "finishedAt" not in cancelled
    assert (cancelled["payload"], cancelled["tags"]) == (single["payload"], ["solo"])
    # tasks.trigger sends the hash *and* idempotencyKeyOptions {key, scope}; the run
    # shows the key the user gave, as the platform does (getUserProvidedIdempotencyKey).
    assert cancelled["idempotencyKey"] == "welcome-cy"

    # runs.replay: `{id}` of a new run, recorded; same task and payload, no batch.
    failed_id = run_ids[failed_index]
    new_id = results["runs.replay"]["data"]["id"]
    assert only_answer(results["runs.replay"], "POST", f"/api/v1/runs/{failed_id}/replay") == {
        "id": new_id
    }
    assert RUN_ID_RE.fullmatch(new_id)
    assert new_id not in run_ids
    assert trigger_api_server.assert_replayed(failed_id) == new_id
    replays = [results[f"runs.retrieve replayed {n}"] for n in range(2)]
    for replay in replays:
        body = only_answer(replay, "GET", f"/api/v3/runs/{new_id}")
        assert replay["data"] == kept_run(body, RETRIEVE_RUN_KEYS)
    queued, executing = (replay["data"] for replay in replays)
    for run in (queued, executing):
        assert (run["id"], run["taskIdentifier"], run["payload"]) == (
            new_id,
            "resize-image",
            RUN_ITEMS[failed_index][0]["payload"],
        )
        assert run["triggerFunction"] == "trigger"
        assert not {"batchId", "output", "error", "finishedAt"} & set(run)
    # Not part of a batch: each GET of it moves it one step.
    assert (queued["status"], queued["attemptCount"]) == ("QUEUED", 0)
    assert {name: queued[name] for name in FLAG_NAMES} == shown_flags("isQueued")
    assert "startedAt" not in queued
    assert (executing["status"], executing["attemptCount"]) == ("EXECUTING", 1)
    assert {name: executing[name] for name in FLAG_NAMES} == shown_flags("isExecuting")
    assert "startedAt" in executing

    # What the server recorded, request by request, query strings included.
    calls = trigger_api_server.calls
    batch_query = {"filter[batch]": [batch_id], "page[size]": ["4"]}
    after = {**batch_query, "page[after]": [first["pagination"]["next"]]}
    expected = [
        ("POST", "/api/v3/batches", {}),
        ("POST", f"/api/v3/batches/{batch_id}/items", {}),
        *[("GET", f"/api/v2/batches/{batch_id}", {})] * len(polls),
        *[("GET", f"/api/v3/runs/{run_id}", {}) for run_id in run_ids],
        ("GET", "/api/v1/runs", batch_query),
        ("GET", "/api/v1/runs", after),
        ("GET", "/api/v1/runs", batch_query),  # getNextPage: the same query, `after` added
        ("GET", "/api/v1/runs", after),
        (
            "GET",
            "/api/v1/runs",
            {
                "filter[status]": ["FAILED"],
                "filter[taskIdentifier]": ["send-email,resize-image"],
                "filter[batch]": [batch_id],
            },
        ),
        ("POST", "/api/v1/tasks/send-email/trigger", {}),
        ("POST", f"/api/v2/runs/{single_id}/cancel", {}),
        ("GET", f"/api/v3/runs/{single_id}", {}),
        ("POST", f"/api/v1/runs/{failed_id}/replay", {}),
        *[("GET", f"/api/v3/runs/{new_id}", {})] * 2,
    ]
    assert [(c.method, c.path, parse_qs(urlsplit(c.url).query)) for c in calls] == expected
    assert all(c.status_code == 200 or c.route == "POST /api/v3/batches" for c in calls)
    # Cancel and replay send no body (replay without options: nothing to override).
    assert [c.body for c in calls if c.route and "/runs/{runId}/" in c.route] == [None, None]
    assert_sdk_headers(trigger_api_server, calls)


class TestRealtime:
    """`runs.subscribeTo*` read the shape streams of `/realtime/v1/...` to their end."""

    def test_the_sdk_subscribes_to_a_run_a_batch_and_a_tag(
        self, node: str, trigger_api_server: TriggerApiServer
    ) -> None:
        trigger_api_server.on_run(outcome="COMPLETED", task="send-email", output={"sent": True})
        missing = "run_cmx0ugyuv00014a7da3uz70rc"
        plan = {
            "task": "send-email",
            "payload": {"to": "a@example.com"},
            "tag": "user_42",
            "items": [{"id": "resize", "payload": {"n": n}} for n in range(3)],
            "missing": missing,
            "timeoutMs": 15_000,  # a bug shows as a timed-out step, never a hung test
            "missingWaitMs": 800,
        }
        output = run_sdk(node, trigger_api_server, REALTIME_SCRIPT, json.dumps(plan))
        results = output["results"]

        run = results["run"]
        assert (run["ended"], run["timedOut"], run["error"]) == (True, False, None)
        assert [r["status"] for r in run["runs"]] == ["QUEUED", "EXECUTING", "COMPLETED"]
        done = run["runs"][-1]
        assert (done["id"], done["isCompleted"], done["output"]) == (
            run["id"],
            True,
            {"sent": True},
        )
        assert (done["payload"], done["tags"]) == ({"to": "a@example.com"}, ["user_42"])
        assert done["finishedAt"] is not None

        batch = results["batch"]
        assert (batch["broke"], batch["timedOut"], batch["error"]) == (True, False, None)
        last = {r["id"]: r for r in batch["runs"]}
        assert len(last) == 3
        assert all(r["status"] == "COMPLETED" for r in last.values())
        assert sorted(r["payload"]["n"] for r in last.values()) == [0, 1, 2]

        tagged = results["tagged"]
        assert (tagged["broke"], tagged["timedOut"]) == (True, False)
        assert [r["id"] for r in tagged["runs"]] == [run["id"]]

        # An unknown run: the platform's 404, which the SDK does not retry (it used to
        # retry a 501 forever); the loop then waits until the caller aborts it.
        gone = results["missing"]
        assert (gone["runs"], gone["ended"], gone["timedOut"]) == ([], False, True)
        realtime = [c for c in trigger_api_server.calls if c.path.startswith("/realtime/")]
        assert [c.status_code for c in realtime if c.path.endswith(missing)] == [404]
        assert all(c.status_code == 200 for c in realtime if not c.path.endswith(missing))
        run_calls = [c for c in realtime if c.path == f"/realtime/v1/runs/{run['id']}"]
        assert [parse_qs(urlsplit(c.url).query).get("live") for c in run_calls] == [
            None,
            ["true"],
            ["true"],
        ]
        assert all(c.headers.get("x-trigger-electric-version") for c in realtime)
        # The run and the batch were read with the public tokens their triggers answered.
        used = {(c["path"], c["auth"]) for c in output["credentials"]}
        assert used == {
            (f"/realtime/v1/runs/{run['id']}", "jwt"),
            (f"/realtime/v1/batches/{batch['id']}", "jwt"),
            ("/realtime/v1/runs", "key"),
            (f"/realtime/v1/runs/{missing}", "key"),
        }


# --- bulkqueues: queues and bulk actions ---------------------------------------------------

BULKQUEUES_SCRIPT = SDK_DIR / "bulkqueues.mjs"


class TestBulkQueues:
    """`tests/sdk/bulkqueues.mjs`: `queues.*` and `runs.bulk.*` end to end, one scenario."""

    def test_the_sdk_pauses_a_queue_and_cancels_and_replays_runs_in_bulk(
        self, node: str, trigger_api_server: TriggerApiServer
    ) -> None:
        results = run_sdk(node, trigger_api_server, BULKQUEUES_SCRIPT)["results"]
        assert all(result["ok"] for result in results.values()), {
            name: result["error"] for name, result in results.items() if not result["ok"]
        }
        data = {name: result["data"] for name, result in results.items()}
        emails = [data[f"tasks.trigger {n}"]["id"] for n in range(3)]

        # Queues: the environment's runs' queues, parsed by QueueItem (the SDK reads an
        # answer without `version` as a V1 queue).
        images, email = data["queues.list"]["data"]
        assert (images["name"], images["type"], images["queued"]) == ("images", "custom", 1)
        assert (email["name"], email["type"], email["queued"]) == ("send-email", "task", 3)
        assert email["version"] == "V1"
        assert data["queues.list"]["pagination"] == {"currentPage": 1, "totalPages": 1, "count": 2}
        pages = data["queues.list pages"]
        assert [q["name"] for q in pages["first"]["data"] + pages["second"]["data"]] == [
            "images",
            "send-email",
        ]
        assert pages["more"] is False
        assert data["queues.retrieve id"] == data["queues.retrieve task"] == email
        assert data["queues.retrieve custom"] == images
        assert data["queues.pause"]["paused"] is True
        statuses = [data[f"runs.retrieve paused {n}"]["status"] for n in range(2)]
        assert statuses == ["QUEUED", "QUEUED"]  # a paused queue starts nothing
        assert data["queues.resume"]["paused"] is False
        statuses = [data[f"runs.retrieve resumed {n}"]["status"] for n in range(2)]
        assert statuses == ["QUEUED", "EXECUTING"]
        overridden = data["queues.overrideConcurrencyLimit"]
        assert (overridden["concurrencyLimit"], overridden["concurrency"]["override"]) == (3, 3)
        assert data["queues.resetConcurrencyLimit"]["concurrency"]["current"] is None

        # Bulk actions: the cancel works through the send-email runs (one had finished).
        polled = data["runs.bulk.poll"]
        cancel_id = data["runs.bulk.cancel"]["id"]
        assert (polled["id"], polled["name"], polled["type"], polled["status"]) == (
            cancel_id,
            "stop emails",
            "CANCEL",
            "COMPLETED",
        )
        assert polled["counts"] == {"total": 3, "success": 2, "failure": 1}
        assert data["runs.retrieve cancelled"]["status"] == "CANCELED"
        trigger_api_server.assert_cancelled(emails[1])
        replay_id = data["runs.bulk.replay"]["id"]
        assert data["runs.bulk.abort"] == {"id": replay_id}
        assert data["runs.bulk.retrieve aborted"]["status"] == "ABORTED"
        assert [b["id"] for b in data["runs.bulk.list"]["data"]] == [replay_id, cancel_id]

        calls = [c for c in trigger_api_server.calls if "/queues/" in c.path]
        assert [c.body for c in calls if c.path.endswith("/pause")] == [
            {"type": "task", "action": "pause"},
            {"type": "task", "action": "resume"},
        ]
        assert {c.status_code for c in trigger_api_server.calls} == {200, 202}
        assert_sdk_headers(trigger_api_server, trigger_api_server.calls)


RUNOPS_SCRIPT = SDK_DIR / "runops.mjs"


class TestRunOps:
    """`tests/sdk/runops.mjs`: `idempotencyKeys.reset`, `runs.reschedule`,
    `ApiClient.addTags`, `ApiClient.updateRunMetadata` / `getRunMetadata` through the
    server, then `runs.retrieve` and `runs.list` show what they changed."""

    def test_the_sdk_resets_a_key_reschedules_tags_and_writes_metadata(
        self, node: str, trigger_api_server: TriggerApiServer
    ) -> None:
        plan = {
            "task": "nightly-report",
            "key": "report-2026-12-04",
            "payload": {"day": "2026-12-04"},
            "tags": ["urgent", "nightly"],
            "metadata": {"step": "queued"},
            "operations": [
                {"type": "set", "key": "step", "value": "sent"},
                {"type": "increment", "key": "tries", "value": 1},
                {"type": "append", "key": "log", "value": "rescheduled"},
            ],
        }
        results = run_sdk(node, trigger_api_server, RUNOPS_SCRIPT, json.dumps(plan))["results"]
        first = results["tasks.trigger"]["data"]["id"]
        key = hashlib.sha256(b"report-2026-12-04").hexdigest()  # "global": no scope added

        # A reset key makes a new run; the old one keeps its data.
        assert results["tasks.trigger again"]["data"]["id"] == first
        assert results["idempotencyKeys.reset"]["data"] == {"id": key}
        fresh = results["tasks.trigger after reset"]["data"]
        assert fresh["id"] != first
        assert fresh["isCached"] is False
        unknown = results["idempotencyKeys.reset unknown"]["error"]
        assert unknown["status"] == 404
        assert unknown["message"] == (
            f"No runs found with idempotency key: {'f' * 64} and task: nightly-report"
        )

        # The reschedule answers the run as runs.retrieve shows it, three hours on.
        rescheduled = results["runs.reschedule"]["data"]
        assert rescheduled == results["runs.retrieve rescheduled"]["data"]
        assert rescheduled["status"] == "DELAYED"
        created = datetime.fromisoformat(rescheduled["createdAt"]["$date"])
        until = datetime.fromisoformat(rescheduled["delayedUntil"]["$date"])
        assert 3 * 3600 - 5 < (until - created).total_seconds() <= 3 * 3600 + 5
        refused = results["runs.reschedule not delayed"]["error"]
        assert (refused["status"], refused["message"]) == (
            400,
            "Cannot reschedule a run that is not delayed",
        )

        # Tags: added once, a list by tag finds the run.
        assert results["addTags"]["data"] == {"message": "Successfully set 2 new tags."}
        assert results["addTags again"]["data"] == {"message": "No new tags to add"}
        assert results["runs.list tag"]["data"] == [first]

        # Metadata: the operations' result, then shown by runs.retrieve. The platform's GET
        # answers the stored JSON text, which the SDK's schema (a record) refuses.
        written = {"step": "sent", "tries": 1, "log": ["rescheduled"]}
        assert results["updateRunMetadata"]["data"] == {"metadata": written}
        assert results["getRunMetadata"]["ok"] is False
        assert 'received string at "metadata"' in results["getRunMetadata"]["error"]["message"]
        [read] = trigger_api_server.calls_to("GET /api/v1/runs/{runId}/metadata")
        assert read.status_code == 200
        final = results["runs.retrieve at the end"]["data"]
        assert final["metadata"] == written
        assert final["tags"] == ["nightly", "urgent"]
        assert final["idempotencyKey"] == "report-2026-12-04"
        assert final["delayedUntil"] == rescheduled["delayedUntil"]


# -- public access tokens ----------------------------------------------------------------

TOKENS_SCRIPT = SDK_DIR / "tokens.mjs"


class TestTokens:
    """`tests/sdk/tokens.mjs`: each kind of token the SDK mints, minted and used."""

    def test_the_sdks_tokens_read_and_trigger_what_their_scopes_allow(
        self, node: str, trigger_api_server: TriggerApiServer
    ) -> None:
        additional = "tr_dev_sk_" + "T0k3nM1nt3r" * 2 + "xx"
        output = run_sdk(node, trigger_api_server, TOKENS_SCRIPT, additional)
        ids, minted, steps = output["ids"], output["tokens"], dict(output["steps"])

        def ok(value: object) -> dict[str, Any]:
            return {"ok": True, "value": value}

        def refused(status: int, message: str) -> dict[str, Any]:
            return {"ok": False, "status": status, "message": message}

        forbidden = refused(403, "Unauthorized")
        run_used = (
            "Cannot trigger send-email with a one-time use token as it has already been used."
        )
        assert steps["readRun: its run"] == ok({"id": ids["run"], "status": "QUEUED"})
        assert steps["readRun: another run"] == forbidden
        assert steps["readRun: the batch"] == forbidden
        assert steps["readBatch: the batch"]["value"]["id"] == ids["batch"]
        assert steps["readBatch: a run outside it"] == forbidden
        assert RUN_ID_RE.fullmatch(steps["trigger: once"]["value"])
        assert steps["trigger: twice"] == refused(422, run_used)
        assert steps["trigger: another task"] == forbidden
        assert [steps[f"triggerMany: {n}"]["ok"] for n in (1, 2)] == [True, True]
        assert steps["batchTrigger: 1"]["value"]["runCount"] == 1
        # The SDK wraps the create's 422 in an error of its own, without a status.
        assert steps["batchTrigger: 2"] == {
            "ok": False,
            "message": "Failed to create batch with 1 items: Cannot create batch with a "
            "one-time use token as it has already been used.",
        }
        assert steps["expired: runs.list"] == refused(401, "Public Access Token is invalid")
        assert steps["serverRead: its run"] == ok({"id": ids["other"], "status": "QUEUED"})
        assert steps["serverRead: another run"] == forbidden
        # The environment's one-time mark for runs was spent by "trigger: once".
        assert steps["serverTrigger: once"] == refused(422, run_used)

        # What the SDK signed (root key) or the server minted (additional key).
        sub = trigger_api_server.environment_id()
        expected = {
            "readRun": ([f"read:runs:{ids['run']}"], None, 3600),
            "readBatch": ([f"read:batch:{ids['batch']}"], None, 900),
            "trigger": (["trigger:tasks:send-email"], True, 900),
            "triggerMany": (["trigger:tasks:send-email"], False, 900),
            "batchTrigger": (["batchTrigger:tasks:send-email"], True, 900),
            "serverRead": ([f"read:runs:{ids['other']}"], None, 600),
            "serverTrigger": (["trigger:tasks:send-email"], True, 900),
        }
        for name, (scopes, otu, lifetime) in expected.items():
            claims = jwt_claims(minted[name])
            assert (claims["sub"], claims["pub"], claims["scopes"]) == (sub, True, scopes), name
            assert claims.get("otu") == otu, name
            assert claims["exp"] - claims["iat"] == lifetime, name
        secret = trigger_api_server.secret_key
        for name in expected:  # the platform, too, signs with the environment's root key
            head, body, signature = minted[name].split(".")
            digest = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256)
            assert base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode() == signature

        # What the server saw: the claims route once a root-key token, the minting route
        # for the additional key's, with the bodies the SDK sends.
        calls = trigger_api_server.calls
        assert [c.route for c in calls].count("POST /api/v1/auth/jwt/claims") == 6
        minting = [c for c in calls if c.route == "POST /api/v1/auth/public-tokens"]
        assert [(c.status_code, c.body) for c in minting] == [
            (200, {"scopes": [f"read:runs:{ids['other']}"], "expirationTime": "10m"}),
            (200, {"scopes": ["trigger:tasks:send-email"], "oneTimeUse": True}),
        ]
        statuses = [(c.route, c.status_code) for c in calls if c.route and "/auth/" not in c.route]
        assert statuses[4:] == [
            ("GET /api/v3/runs/{runId}", 200),
            ("GET /api/v3/runs/{runId}", 403),
            ("GET /api/v2/batches/{batchId}", 403),
            ("GET /api/v2/batches/{batchId}", 200),
            ("GET /api/v3/runs/{runId}", 403),
            ("POST /api/v1/tasks/{taskId}/trigger", 200),
            ("POST /api/v1/tasks/{taskId}/trigger", 422),
            ("POST /api/v1/tasks/{taskId}/trigger", 403),
            ("POST /api/v1/tasks/{taskId}/trigger", 200),
            ("POST /api/v1/tasks/{taskId}/trigger", 200),
            ("POST /api/v3/batches", 202),
            ("POST /api/v3/batches/{batchId}/items", 200),
            ("POST /api/v3/batches", 422),
            ("GET /api/v1/runs", 401),
            ("GET /api/v3/runs/{runId}", 200),
            ("GET /api/v3/runs/{runId}", 403),
            ("POST /api/v1/tasks/{taskId}/trigger", 422),
        ]


# -- results and large payloads (tests/sdk/results.mjs) -------------------------------------

RESULTS_SCRIPT = SDK_DIR / "results.mjs"
BIG_PAYLOAD = 600_000  # characters of `blob`: over the SDK's 128 KiB and the platform's 512 KiB
BIG_OUTPUT = 200_000  # over the 128 KiB the worker's SDK offloads an output at
PACKET_URL_RE = re.compile(
    r"http://127\.0\.0\.1:\d+/packets/proj_pytesttriggerbatches/dev/(?P<path>[^?]+)"
    r"\?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=\d{8}T\d{6}Z&X-Amz-Expires=300"
    r"&X-Amz-SignedHeaders=host&X-Amz-Signature=[0-9a-f]{64}"
)


class TestResults:
    """`getRunResult`, `getBatchResults`, and a payload too large to send inline, through
    the SDK against `trigger_api_server` (one node process for the whole scenario)."""

    def test_results_of_a_batchs_runs_and_a_large_payload_and_output_come_back_through_the_sdk(
        self, node: str, trigger_api_server: TriggerApiServer
    ) -> None:
        trigger_api_server.on_run(
            outcome="COMPLETED", task="big-task", output={"blob": "y" * BIG_OUTPUT}
        )
        items = [{"id": "send-email", "payload": {"to": f"u{n}@example.com"}} for n in range(3)]
        plan = {
            "items": items,
            "cancel": 1,
            "polls": 8,
            "big": {"task": "big-task", "size": BIG_PAYLOAD},
        }
        results = run_sdk(node, trigger_api_server, RESULTS_SCRIPT, json.dumps(plan))["results"]

        # A completed batch's runs: the cancelled one has a result, the others none (the
        # platform builds results from attempt records engine-V2 runs do not have), and a
        # streaming batch has no item records, so no results.
        polls = [results[name] for name in results if name.startswith("batch.retrieve ")]
        assert polls[-1]["data"]["status"] == "COMPLETED"
        run_ids = polls[-1]["data"]["runs"]
        assert len(run_ids) == 3
        batch_id = results["batch.trigger"]["data"]["batchId"]
        cancelled = run_ids[1]
        assert results["runs.cancel"]["data"] == {"id": cancelled}
        for run_id in run_ids:
            step = results[f"getRunResult {run_id}"]
            (response,) = step["responses"]
            assert urlsplit(response["url"]).path == f"/api/v1/runs/{run_id}/result"
            if run_id == cancelled:
                error = {"type": "INTERNAL_ERROR", "code": "TASK_RUN_CANCELLED"}
                body = {"ok": False, "id": run_id, "taskIdentifier": "send-email", "error": error}
                assert (response["status"], response["body"]) == (200, body)
                assert step["data"] == body
            else:
                missing = {"error": "Run either doesn't exist or is not finished"}
                assert (response["status"], response["body"]) == (404, missing)
                assert step["data"] is None  # the SDK's answer for a 404
        answer = only_answer(
            results["getBatchResults"], "GET", f"/api/v1/batches/{batch_id}/results"
        )
        assert answer == results["getBatchResults"]["data"] == {"id": batch_id, "items": []}

        # The large payload: the SDK asked for an upload URL, PUT the payload there, and
        # triggered with the reference; the run shows a URL the mock serves.
        upload, put, trigger = results["tasks.trigger big"]["responses"]
        path = urlsplit(upload["url"]).path
        assert re.fullmatch(r"/api/v2/packets/trigger%2Fpacket_[0-9a-z]{21}%2Fpayload\.json", path)
        storage_path = upload["body"]["storagePath"]
        assert storage_path == path.removeprefix("/api/v2/packets/").replace("%2F", "/")
        assert set(upload["body"]) == {"presignedUrl", "storagePath"}
        assert (put["method"], put["url"], put["status"]) == (
            "PUT",
            upload["body"]["presignedUrl"],
            200,
        )
        stored = PACKET_URL_RE.fullmatch(put["url"])
        assert stored is not None
        assert stored["path"] == storage_path
        assert put["sent"] > BIG_PAYLOAD  # the payload went to the object store...
        assert trigger["sent"] < 200  # ...and the trigger carried the reference only
        (sent,) = [
            c for c in trigger_api_server.calls if c.route == "POST /api/v1/tasks/{taskId}/trigger"
        ]
        assert isinstance(sent.body, dict)
        assert sent.body["payload"] == storage_path
        assert sent.body["options"]["payloadType"] == "application/store"

        retrievals = [results[name] for name in results if name.startswith("runs.retrieve big ")]
        assert [r["data"]["status"] for r in retrievals] == ["QUEUED", "EXECUTING", "COMPLETED"]
        for retrieval in retrievals:
            run = retrieval["data"]
            assert run["payload"] == {"blobLength": BIG_PAYLOAD, "head": "xxxxxxxx"}
            payload_url = PACKET_URL_RE.fullmatch(run["payloadPresignedUrl"])
            assert payload_url is not None
            assert payload_url["path"] == storage_path
            # The SDK downloads the payload (and the output) in parallel: found by URL.
            (download,) = [
                r for r in retrieval["responses"] if r["url"] == run["payloadPresignedUrl"]
            ]
            assert download["status"] == 200
            assert download["contentType"] == "application/super+json"  # as the SDK stored it
        done = retrievals[-1]
        output_url = PACKET_URL_RE.fullmatch(done["data"]["outputPresignedUrl"])
        assert output_url is not None
        assert output_url["path"] == f"{done['data']['id']}-1/output.json"
        assert done["data"]["output"] == {"blobLength": BIG_OUTPUT, "head": "yyyyyyyy"}
        assert [r["data"]["outputPresignedUrl"] for r in retrievals[:2]] == [None, None]


# --- waitpoints: wait.createToken, listTokens, retrieveToken, completeToken -----------------

WAITPOINT_SCRIPT = SDK_DIR / "waitpoints.mjs"
WAITPOINT_ID_RE = re.compile(r"waitpoint_c[0-9a-z]{24}")


class TestWaitpoints:
    """`tests/sdk/waitpoints.mjs`: a service asking a person for approval, end to end."""

    def test_the_sdk_creates_lists_retrieves_and_completes_tokens(
        self, node: str, trigger_api_server: TriggerApiServer
    ) -> None:
        import httpx

        server = trigger_api_server
        timed_out = httpx.post(
            f"{server.base_url}/api/v1/waitpoints/tokens",
            headers={"Authorization": f"Bearer {server.secret_key}"},
            json={"timeout": 1},  # a date (1 ms after the epoch): timed out at once
        ).json()["id"]
        results = run_sdk(node, server, WAITPOINT_SCRIPT, timed_out)["results"]
        assert all(result["ok"] for result in results.values()), results
        data = {name: result["data"] for name, result in results.items()}

        a, b, c = (data[f"createToken {name}"] for name in "ABC")
        assert all(WAITPOINT_ID_RE.fullmatch(token["id"]) for token in (a, b, c))
        assert (a["isCached"], b["isCached"]) == (False, False)
        again = data["createToken A again"]
        assert (again["id"], again["isCached"], again["url"]) == (a["id"], True, a["url"])
        assert a["url"].startswith(
            f"{server.base_url}/api/v1/waitpoints/tokens/{a['id']}/callback/"
        )
        jwt = a["publicAccessToken"].split(".")[1]
        scopes = json.loads(base64.urlsafe_b64decode(jwt + "=" * (-len(jwt) % 4)))["scopes"]
        assert scopes == [f"write:waitpoints:{a['id']}"]

        assert [t["id"] for t in data["listTokens waiting order:7"]] == [a["id"]]
        one_by_one = data["listTokens one by one"]
        assert [t["id"] for t in one_by_one] == [c["id"], b["id"], a["id"], timed_out]
        assert [t["status"] for t in one_by_one] == ["WAITING"] * 3 + ["TIMED_OUT"]
        assert one_by_one[2]["tags"] == ["order:7", "user:42"]
        assert one_by_one[2]["idempotencyKey"] == "approve-order-7"

        assert data["retrieveToken A"]["status"] == "WAITING"
        assert data["completeToken A"] == {"success": True}
        done = data["retrieveToken A completed"]
        assert (done["status"], done["output"]) == (
            "COMPLETED",
            {"status": "approved", "by": "ana"},
        )
        assert "error" not in done
        assert data["callback B"] == {"status": 200, "body": {"success": True}}
        assert data["retrieveToken B completed"]["output"] == {"approved": False}
        assert data["completeToken C with its public token"] == {"success": True}
        assert data["retrieveToken C completed"]["output"] == "ok"
        late = data["retrieveToken timed out"]
        assert late["status"] == "TIMED_OUT"
        assert late["error"] == {
            "$error": "WaitpointTimeoutError",
            "message": "Waitpoint timed out at 1970-01-01T00:00:00.001Z",
        }

        for token in (a, b, c):
            server.assert_waitpoint_completed(token["id"])
        assert [t["status"] for t in server.waitpoint_tokens] == ["TIMED_OUT"] + ["COMPLETED"] * 3
        calls = [(call.method, call.route, call.status_code) for call in server.calls]
        assert (
            "POST",
            "POST /api/v1/waitpoints/tokens/{waitpointFriendlyId}/callback/{hash}",
            200,
        ) in calls
        assert all(status == 200 for _, _, status in calls)


# -- every function a service calls, once -------------------------------------------------

EVERY_FUNCTION_SCRIPT = SDK_DIR / "every_function.mjs"

# The platform's metadata GET answers the stored JSON text as a string, which SDK 4.8.3's
# schema refuses: against the platform too (docs/platform.md §7.10).
FAILS_ON_THE_PLATFORM_TOO = {"ApiClient.getRunMetadata": "expected record, received string"}


def test_every_sdk_function_a_service_calls_works(
    node: str, trigger_api_server: TriggerApiServer
) -> None:
    """44 functions of SDK 4.8.3, the ones an application calls outside a task: each
    answers as the platform would, none is left unserved or retried until it times out."""
    results = run_sdk(node, trigger_api_server, EVERY_FUNCTION_SCRIPT)["results"]
    assert len(results) == 44
    failed = {name: r["error"]["message"] for name, r in results.items() if not r["ok"]}
    assert failed.keys() == FAILS_ON_THE_PLATFORM_TOO.keys(), failed
    for name, message in FAILS_ON_THE_PLATFORM_TOO.items():
        assert message in failed[name]
    # The run subscription ended by itself, on the run's last state.
    assert list(results["runs.subscribeToRun"]["data"].values()) == ["COMPLETED"]
    assert results["tasks.trigger (a payload the SDK uploads)"]["data"] == 600_000
    assert not [call for call in trigger_api_server.calls if call.outcome == "unexpected"]
