"""The official TypeScript SDK reads every kind of batch the factory makes from our server.

One Node process (`tests/sdk/retrieve_batches.mjs`) calls `batch.retrieve(id)` from
`@trigger.dev/sdk` 4.8.3, pinned in `tests/sdk/package.json`, for every batch at once;
the SDK parses each answer with its zod schema (`RetrieveBatchV2Response`), and the test
compares what it kept, field by field, with the body the server sent.

Needs Node and the pinned packages: `npm ci --prefix tests/sdk` (`.ci/run` does it).
Without them the test is skipped, except under `CI=true`, where it fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, NoReturn

import pytest

from pytest_trigger_batches import BatchFactory, TriggerApiServer

SDK_DIR = Path(__file__).parent / "sdk"
SCRIPT = SDK_DIR / "retrieve_batches.mjs"
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
        trigger_api_server.api.add_batch(batch)
    ids = [batch.id for batch in batches.values()]
    assert len(set(ids)) == len(ids)

    done = subprocess.run(
        [node, str(SCRIPT), *ids],
        cwd=SDK_DIR,
        # Only what the SDK needs: a stray TRIGGER_PREVIEW_BRANCH or VERCEL_GIT_COMMIT_REF
        # would add headers, a stray TRIGGER_API_URL point it elsewhere.
        env={"PATH": os.environ.get("PATH", ""), **trigger_api_server.env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"node exited {done.returncode}:\n{done.stderr}"
    output = json.loads(done.stdout)
    assert output["sdkVersion"] == SDK_VERSION

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
    masked_key = trigger_api_server.api.secret_key.rsplit("_", 1)[0] + "_****"
    keys = set()
    for call in calls:
        assert (call.method, call.status_code, call.api_version) == ("GET", 200, 2), str(call)
        headers = call.headers
        assert headers["authorization"] == f"Bearer {masked_key}"  # recorded masked
        assert headers["x-trigger-api-version"] == "2025-07-16"
        assert headers["trigger-version"] == SDK_VERSION
        assert headers["x-trigger-source"] == "sdk"
        assert headers["content-type"] == "application/json"
        assert headers["x-trigger-realtime-streams-version"] == "v2"
        assert UUID_RE.fullmatch(headers["x-trigger-request-idempotency-key"]), headers
        keys.add(headers["x-trigger-request-idempotency-key"])
        # Outside a task, without a branch: none of the worker or preview headers.
        assert not {"x-trigger-branch", "x-trigger-worker", "x-trigger-engine-version"} & set(
            headers
        )
    assert len(keys) == len(calls)  # a fresh request idempotency key per request
