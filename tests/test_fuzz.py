"""Fuzzing: whatever comes in, the plugin fails only in the ways it documents.

Each target runs 50 inputs in the default run and 500 under `-m slow`. Hypothesis
throws arbitrary request paths (unicode, percent-escapes, dots, slashes),
methods and headers (any `Authorization` text) at the API and the respx mock, arbitrary
option values at the factory, and arbitrary JSON values into payload dicts given to
`add_batch`. The only exceptions allowed out of the plugin:

- `ValueError` / `TypeError` with a message naming a parameter (factory, add_batch);
- `Unserved` (`UnexpectedTriggerRequest` through httpx) for a request the API does not serve;
- `httpx.ReadTimeout` / `httpx.ConnectError` for injected faults.

Nothing else (KeyError, IndexError, AttributeError, UnicodeError, OverflowError...).
Answers are always one of the real API's (200, 401, 404, 429, 5xx) with a JSON body.
"""

from __future__ import annotations

import base64
import contextlib
import inspect
import json
import ssl
import string
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pytest_trigger_batches import BatchFactory, BatchHandle, TriggerBatch
from pytest_trigger_batches.api import TriggerApi, UnexpectedTriggerRequest
from pytest_trigger_batches.mock import MockTriggerApi
from pytest_trigger_batches.pipeline import ApiResponse, Disconnect, Request, Unserved
from pytest_trigger_batches.server import TriggerApiServer
from pytest_trigger_batches.table import TABLE

TRIED: Counter[str] = Counter()
SSL = ssl.create_default_context()  # one for every client: building one takes ~25 ms
KEY = "tr_dev_" + "F" * 24
FACTORY = BatchFactory(seed=99)
BATCH = FACTORY("COMPLETED", run_count=8, failed_count=3)
PAYLOADS = {
    "v1": BATCH.to_payload(),
    "v2": BATCH.to_payload(version=2),
    "queue": FACTORY("ABORTED", run_count=4, error_code="QUEUE_SIZE_LIMIT_EXCEEDED").to_payload(),
    "pending": FACTORY("PENDING").to_payload(),
}
OPTIONS = [name for name in inspect.signature(BatchFactory.__call__).parameters if name != "self"]
FUZZ = settings(
    deadline=None,
    derandomize=True,  # the same inputs every run: a failure here is one to reproduce
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)


QUICK, FULL = 50, 500


def fuzz_target(**strategies: Any) -> Callable[[Callable[..., None]], dict[int, Any]]:
    """`@given(**strategies)` at each size: {size: the hypothesis test}."""

    def sized(body: Callable[..., None]) -> dict[int, Any]:
        return {n: settings(FUZZ, max_examples=n)(given(**strategies)(body)) for n in (QUICK, FULL)}

    return sized


def fuzzed(target: str, runs: dict[int, Any], size: int) -> None:
    """Run a target on `size` inputs; at least 80% of them must really have been tried."""
    before = TRIED[target]
    runs[size]()
    tried = TRIED[target] - before
    print(f"\n{target}: {tried} inputs fuzzed")
    assert tried >= size * 4 // 5


# The default run fuzzes each target a little; `-m slow` at full size.
SIZES = pytest.mark.parametrize(
    "size", [pytest.param(QUICK, id="quick"), pytest.param(FULL, id="full", marks=pytest.mark.slow)]
)


# -- requests --------------------------------------------------------------------------

segment = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=string.ascii_letters + string.digits + "%._~-/?#&=+", max_size=30),
    st.sampled_from(["batches", "api", "v1", "v2", "v3", "..", ".", "", "%2F", "%00", BATCH.id]),
)
paths = st.one_of(
    st.lists(segment, max_size=6).map(lambda parts: "/" + "/".join(parts)),
    st.sampled_from(["v1", "v2", "V1", "v0", "v12"]).flatmap(
        lambda version: segment.map(lambda tail: f"/api/{version}/batches/{tail}")
    ),
)
methods = st.one_of(
    st.sampled_from(["GET", "HEAD", "OPTIONS", "POST", "PUT", "DELETE", "PATCH", "get"]),
    st.text(alphabet=string.ascii_letters, min_size=1, max_size=10),
)
authorizations = st.one_of(
    st.none(),
    st.text(max_size=60),
    st.text(max_size=40).map(lambda t: "Bearer " + t),
    st.sampled_from([f"Bearer {KEY}", KEY, f"bearer {KEY}", f"Bearer  {KEY} ", "Bearer"]),
)
header_names = st.text(alphabet=string.ascii_letters + "-", min_size=1, max_size=20)


def check_answer(answer: ApiResponse | Disconnect, method: str) -> None:
    assert isinstance(answer, ApiResponse | Disconnect)
    if isinstance(answer, Disconnect):
        assert answer.kind in ("timeout", "connect_error")
        return
    assert answer.status_code in (200, 301, 401, 403, 404, 429) or 500 <= answer.status_code < 600
    if answer.status_code != 301 and method.upper() != "HEAD":
        json.loads(answer.body)


@fuzz_target(
    method=methods,
    path=paths,
    authorization=authorizations,
    extra=st.lists(st.tuples(header_names, st.text(max_size=40)), max_size=4),
    fault=st.sampled_from([None, "timeout", "connect_error", "server_error", "rate_limit"]),
)
def _fuzz_api(
    method: str,
    path: str,
    authorization: str | None,
    extra: list[tuple[str, str]],
    fault: Any,
) -> None:
    TRIED["gateway.exchange"] += 1
    api = TriggerApi()
    api.add_batch(BATCH, progress_after=2)
    if fault:
        api.fail_next(fault)
    headers = [*extra, *([("Authorization", authorization)] if authorization is not None else [])]
    request = Request.make(method, f"https://api.trigger.dev{path}", headers)
    with api._gateway.exchange(request) as exchange:
        answer = exchange.answer
    assert len(api.calls) == 1  # every exchange is recorded, whatever its outcome
    if isinstance(answer, Unserved):
        assert "does not serve" in api._gateway.explain_unserved(request)
        assert api.calls[0].outcome == "unexpected"
    else:
        check_answer(answer, method)


@fuzz_target(
    method=st.sampled_from(["GET", "HEAD", "POST", "DELETE", "PUT", "PATCH", "OPTIONS"]),
    path=st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=40),
    query=st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=3),
    authorization=st.one_of(
        st.none(),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
        st.just(f"Bearer {KEY}"),
    ),
    version=st.sampled_from([1, 2]),
    fault=st.sampled_from([None, "timeout", "connect_error", "server_error"]),
)
def _fuzz_mock(
    method: str,
    path: str,
    query: dict[str, str],
    authorization: str | None,
    version: int,
    fault: Any,
) -> None:
    target = f"/api/v{version}/batches/{BATCH.id}" if path == "" else "/" + path
    try:  # text httpx itself refuses as a URL never reaches the plugin
        url = httpx.URL("https://api.trigger.dev" + target, params=query)
    except httpx.InvalidURL:
        assume(False)
    TRIED["mock over httpx"] += 1
    headers = {} if authorization is None else {"Authorization": authorization}
    with MockTriggerApi() as api, httpx.Client(verify=SSL) as client:
        api.add_batch(BATCH)
        if fault:
            api.fail_next(fault)
        try:
            outcome: httpx.Response | Exception = client.request(method, url, headers=headers)
        except (UnexpectedTriggerRequest, httpx.ReadTimeout, httpx.ConnectError) as problem:
            outcome = problem
    if isinstance(outcome, UnexpectedTriggerRequest):
        assert f"does not serve {method}" in str(outcome)
    elif isinstance(outcome, httpx.TransportError):
        assert fault in ("timeout", "connect_error")
        assert "mock_trigger_api: injected" in str(outcome)
    else:
        assert isinstance(outcome, httpx.Response)
        check_answer(
            ApiResponse(outcome.status_code, dict(outcome.headers), outcome.content), method
        )
    assert len(api.calls) <= 1


# -- the factory -----------------------------------------------------------------------

anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.binary(max_size=10),
    st.lists(st.one_of(st.text(max_size=10), st.integers()), max_size=4),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.datetimes(),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
    st.sampled_from(
        [
            "COMPLETED",
            "PARTIAL_FAILED",
            "QUEUE_SIZE_LIMIT_EXCEEDED",
            "ITEM_ERROR",
            "batch_cmx0ugyuv00004a7d2bda9ln4",
            datetime.max,
            datetime.min,
            "9999-12-31T23:59:59.999Z",
            "0001-01-01T00:00:00Z",
            10**6,
        ]
    ),
)
status = st.one_of(
    st.sampled_from(["PENDING", "PROCESSING", "COMPLETED", "PARTIAL_FAILED", "ABORTED"]), anything
)
small_counts = st.integers(min_value=0, max_value=12)


@fuzz_target(
    status=status,
    options=st.dictionaries(
        st.sampled_from([o for o in OPTIONS if o != "status"]),
        st.one_of(anything, small_counts),
        max_size=5,
    ),
)
def _fuzz_factory(status: Any, options: dict[str, Any]) -> None:
    TRIED["factory"] += 1
    try:
        batch: TriggerBatch | Exception = BatchFactory(seed=3)(status, **options)
    except (ValueError, TypeError) as problem:
        batch = problem
    if isinstance(batch, Exception):
        assert any(name in str(batch) for name in OPTIONS), str(batch)
    else:
        assert isinstance(batch, TriggerBatch)
        assert TriggerBatch.from_payload(batch.to_payload()) == batch  # valid, round-trips


zones: st.SearchStrategy[Any] = st.sampled_from(
    [None, UTC, timezone(timedelta(hours=14)), timezone(-timedelta(hours=12))]
)
moments = st.one_of(
    st.datetimes(timezones=zones),
    st.datetimes(min_value=datetime(9999, 12, 31, 23), timezones=zones),  # the edges of time
    st.datetimes(max_value=datetime(1, 1, 1, 12), timezones=zones),
    st.datetimes(min_value=datetime(1969, 12, 31), max_value=datetime(1970, 1, 2), timezones=zones),
)
timestamps = st.one_of(moments, moments.map(lambda m: m.isoformat()))


@fuzz_target(
    status=st.sampled_from(["PENDING", "PROCESSING", "COMPLETED", "PARTIAL_FAILED", "ABORTED"]),
    created_at=timestamps,
    legacy=st.booleans(),
    field=st.sampled_from(["createdAt", "updatedAt"]),
)
def _fuzz_timestamps(status: str, created_at: Any, legacy: bool, field: str) -> None:
    """Any moment from year 1 to 9999, in any time zone, as created_at or in a payload."""
    TRIED["timestamps"] += 1
    options: dict[str, Any] = {"created_at": created_at, "legacy": legacy}
    if status == "PARTIAL_FAILED" or (legacy and status == "PROCESSING"):
        options["legacy"] = False
    try:
        outcome: TriggerBatch | Exception = BatchFactory(seed=5)(status, **options)
    except ValueError as problem:
        outcome = problem
    if isinstance(outcome, Exception):
        assert "created_at must be" in str(outcome), str(outcome)
    else:
        assert outcome.updated_at >= outcome.created_at
    when = created_at if isinstance(created_at, str) else created_at.isoformat()
    payload = {**PAYLOADS["pending"], field: when}
    try:
        served: BatchHandle | Exception = TriggerApi().add_batch(payload)
    except ValueError as problem:
        served = problem
    if isinstance(served, Exception):
        assert field in str(served), str(served)


# -- payload dicts ---------------------------------------------------------------------

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**40), max_value=2**40),
        st.floats(allow_nan=False),
        st.text(max_size=20),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
FIELDS = sorted({*PAYLOADS["v1"], *PAYLOADS["v2"], "errorCode", "index", "error", "nope"})


@fuzz_target(
    base=st.sampled_from(sorted(PAYLOADS)),
    changes=st.lists(
        st.tuples(
            st.sampled_from(["set", "delete", "set-in-error"]),
            st.sampled_from(FIELDS),
            json_values,
        ),
        min_size=1,
        max_size=3,
    ),
)
def _fuzz_payloads(base: str, changes: list[Any]) -> None:
    TRIED["add_batch payloads"] += 1
    payload = json.loads(json.dumps(PAYLOADS[base]))
    for action, field, value in changes:
        if action == "set":
            payload[field] = value
        elif action == "delete":
            payload.pop(field, None)
        else:
            processing = payload.get("processing")
            errors = payload.get("errors")
            if isinstance(processing, dict):
                errors = processing.get("errors")
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                errors[0][field] = value
    api = TriggerApi()
    try:
        handle: BatchHandle | Exception = api.add_batch(payload)
    except (ValueError, TypeError) as problem:
        handle = problem
    if isinstance(handle, Exception):
        assert str(handle).startswith("batch "), str(handle)
        assert api.batches == []
    else:
        # Accepted: what the mock serves is a batch the platform could return.
        served = handle.final.to_payload(version=2 if "processing" in payload else 1)
        assert TriggerBatch.from_payload(served) == handle.final


# -- every served route, over both transports -------------------------------------------

ROUTES = {route.name: route for route in TABLE.routes}
FIELDS_OF_BODIES = [
    *("payload", "options", "items", "task", "index", "runCount", "context", "metadata"),
    *("delay", "ttl", "idempotencyKey", "idempotencyKeyTTL", "tags", "queue", "name"),
    *("concurrencyKey", "machine", "payloadType", "metadataType", "maxAttempts"),
    *("maxDuration", "priority", "test", "lockToVersion", "region", "parentRunId"),
    *("resumeParentOnCompletion", "taskIdentifiers", "dependentAttempt", "parentBatch"),
    *("bulkActionId", "debounce", "key", "concurrencyLimit", "mode", "__proto__"),
]
TRICKY_TEXTS = [
    *("999999999999w", "1h", "-1s", "1.5h", "0", "-0", "1e3", "0x10", "Infinity", "NaN"),
    *("2024-01-01T00:00:00Z", "+275760-09-13T00:00:00.000Z", "9999-12-31", "1970-01-01"),
    *("\u00b9", "\u00b2\u00b3", "\u0661\u0662", "\ud800", "\udfff", "\ufeff", "\u2028"),
    *("micro", "small-1x", "send-email", "application/super+json", "application/json"),
    *("bulk_a_b", "error_", "run_", "batch_", "x" * 300, "tr_dev_" + "F" * 24, ""),
]
OPTIONS_SEED = {
    "delay": "1h",
    "ttl": "10m",  # no idempotencyKey: a cached answer would read no other option
    "tags": ["a"],
    "queue": {"name": "q"},
    "concurrencyKey": "c",
    "machine": "micro",
    "metadata": {"a": 1},
    "maxAttempts": 3,
    "maxDuration": 10,
    "priority": 1,
    "test": True,
}
ITEM_SEED = {"task": "send-email", "payload": {"to": "a@b.c"}, "options": OPTIONS_SEED}
SEED_BODIES: dict[str, Any] = {
    "POST /api/v3/batches": {"runCount": 2, "taskIdentifiers": ["t"]},
    "POST /api/v3/batches/{batchId}/items": [{"index": 0, **ITEM_SEED}, {"index": 1, **ITEM_SEED}],
    "POST /api/v2/tasks/batch": {"items": [ITEM_SEED, ITEM_SEED], "parentRunId": "run_x"},
    "POST /api/v1/tasks/batch": {"items": [ITEM_SEED]},
    "POST /api/v1/tasks/{taskId}/batch": {"items": [{"payload": 1, "options": OPTIONS_SEED}]},
    "POST /api/v1/tasks/{taskId}/trigger": {"payload": {"a": 1}, "options": OPTIONS_SEED},
}
# --- bulkqueues: queues and bulk actions
SEED_BODIES.update(
    {
        "POST /api/v1/queues/{queueParam}/pause": {"type": "task", "action": "pause"},
        "POST /api/v1/queues/{queueParam}/concurrency/override": {"concurrencyLimit": 2},
        "POST /api/v1/queues/{queueParam}/concurrency/reset": {"type": "custom"},
        "POST /api/v1/bulk-actions": {
            "action": "replay",
            "filter": {"status": ["QUEUED"], "queue": {"type": "task", "name": "send-email"}},
            "name": "n",
        },
    }
)
QUERY_KEYS = [
    *("page[size]", "page[after]", "page[before]", "filter[status]", "filter[isTest]"),
    *("filter[createdAt][from]", "filter[createdAt][to]", "filter[createdAt][period]"),
    *("filter[taskIdentifier]", "filter[tag]", "filter[batch]", "filter[machine]"),
    *("filter[bulkAction]", "filter[error]", "filter[version]", "filter[queue]"),
    *("page", "perPage", "type"),
]
HEADER_NAMES = [
    *("idempotency-key", "idempotency-key-ttl", "x-trigger-api-version", "content-type"),
    *("x-trigger-client", "x-trigger-worker", "trigger-version", "x-trigger-engine-version"),
    *("x-trigger-branch", "x-trigger-realtime-streams-version", "x-trigger-batch-id"),
]
# Values that have broken a field before, or are at the edge of what it reads.
DURATIONS = [
    *("999999999999w", "99999999999999d", "1e9999y", "-300000 years", "8640000000000001ms"),
    *("1h", "-1s", "0s", "1.5h", "1y", "10", "", " 1h ", "1h1h", "\u00b9h", "\u0661h"),
]
MOMENTS = [
    *("+275760-09-13T00:00:00.000Z", "+275760-09-13T00:00:00.001Z", "-271821-04-20T00:00:00Z"),
    *("9999-12-31T23:59:59Z", "0000-01-01", "2024-02-30T00:00:00Z", "1970-01-01T00:00:00Z"),
    *("8640000000000001", "-8640000000000001", "2024-01-01T00:00:00+25:00", "2024"),
]
NUMBERS: list[Any] = [0, -1, 1.5, -0.0, 2**53 + 1, 10**30, 1e308, 10**400, True, "1", None]
NUMBER_TEXTS = [
    *("\u00b9", "\u00b2\u00b3", "\u0661", "\uff11", "1e3", "0x10", "0b11", "0o7"),
    *("Infinity", "-0", " 5 ", "1_000", "99999999999999999999", "1e400", "0", "101", "1.5"),
]
TEXTS = [
    *("\ud800", "\udfff", "\ud800\udc00", "x" * 300, "", " ", "\u2028", "\ufeff", "a,b"),
    *("micro", "small-1x", "send-email", "__proto__", "tr_dev_" + "F" * 24),
]
FIELD_VALUES: dict[str, list[Any]] = {
    **dict.fromkeys(["delay"], DURATIONS + MOMENTS + NUMBERS),
    **dict.fromkeys(["ttl", "idempotencyKeyTTL"], DURATIONS + NUMBERS),
    **dict.fromkeys(["runCount", "index", "maxAttempts", "maxDuration", "priority"], NUMBERS),
    **dict.fromkeys(["idempotencyKey", "concurrencyKey", "lockToVersion", "region"], TEXTS),
    **dict.fromkeys(["machine", "task", "parentRunId", "payloadType", "metadataType"], TEXTS),
    "tags": [*TEXTS, *([t] for t in TEXTS), ["a"] * 11, ["a", "a"], [1], {}],
    "queue": [*({"name": t} for t in TEXTS), *({"concurrencyLimit": n} for n in NUMBERS)],
    "payload": [*TEXTS, *NUMBERS, {"\ud800": 1}, [None], {"json": {}}, "{"],
    "metadata": [*TEXTS, {"\ud800": 1}, {"a": 10**400}, [1]],
    "taskIdentifiers": [[t] for t in TEXTS],
    "test": [*TEXTS, *NUMBERS],
}
QUERY_VALUES: dict[str, list[str]] = {
    **dict.fromkeys(["page[size]"], NUMBER_TEXTS),
    **dict.fromkeys(["filter[createdAt][from]", "filter[createdAt][to]"], MOMENTS + NUMBER_TEXTS),
    "filter[createdAt][period]": DURATIONS,
    "page[after]": ["eyJjIjoxZTk5OSwiciI6IngifQ", "e30", "run_x"],
    "page[before]": ["eyJjIjoxZTk5OSwiciI6IngifQ", "e30", "run_x"],
    "filter[status]": ["QUEUED", "QUEUED,", ",", "BOGUS", "COMPLETED,FAILED"],
    "filter[bulkAction]": ["bulk_a_b", "bulk_", "bulk_x"],
    "filter[error]": ["error_a_b", "error_", "error_x"],
    "filter[isTest]": ["true", "false", "TRUE", "1"],
    "filter[machine]": ["micro", "huge", ",micro"],
}
FIELD_EDITS = [(field, value) for field, values in FIELD_VALUES.items() for value in values]
QUERY_EDITS = [(key, value) for key, values in QUERY_VALUES.items() for value in values]
HEADER_VALUES = [
    *(("idempotency-key-ttl", d) for d in DURATIONS if d.isascii() and d == d.strip() and d),
    *(("x-trigger-api-version", v) for v in ("2025-07-16", "2023-09-29", "x")),
    ("idempotency-key", "k"),
]
DOCUMENTED_500 = (
    {"error": "Something went wrong"},
    {"error": "Internal Server Error"},
    {"error": "Something went wrong, please try again."},  # a tags body that is not JSON
    # A waitpoint callback's hash that is not hex, data SuperJSON refuses.
    {"error": "Failed to complete HTTP callback"},
    {"error": "Failed to complete waitpoint token"},
)
"""The 500s the platform itself answers for some inputs (docs/platform.md)."""

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),  # NaN and Infinity too: the body must be refused, never served back
    st.text(max_size=20),
    st.sampled_from(TRICKY_TEXTS),
)
any_json = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(FIELDS_OF_BODIES), st.text(max_size=8)), inner, max_size=4
        ),
    ),
    max_leaves=10,
)
raw_bodies = st.one_of(
    st.binary(max_size=40),
    st.sampled_from(
        [
            b"",
            b"null",
            b'{"payload": NaN}',
            b'{"payload": {"x": 1e999}}',
            b'{"runCount": Infinity}',
            b'{"\\ud800": 1, "payload": "\\udfff"}',
            b"[" * 3000 + b"]" * 3000,
            b'{"items": [' + b"{}," * 600 + b"{}]}",
            b"\xef\xbb\xbf{}",
        ]
    ),
)
changes = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=10**6),
        st.one_of(st.sampled_from(TRICKY_TEXTS), leaves, any_json),
        st.booleans(),
    ),
    max_size=3,  # none: the valid body as it is
)
field_edits = st.lists(
    st.one_of(
        st.sampled_from(FIELD_EDITS),
        st.tuples(st.sampled_from(sorted(FIELD_VALUES)), leaves),
    ),
    min_size=1,
    max_size=3,
)
bodies = st.one_of(
    st.tuples(st.just("value"), any_json),
    st.tuples(st.just("changed"), changes),
    st.tuples(st.just("fields"), field_edits),
    st.tuples(st.just("fields"), field_edits),  # twice as likely: these reach the handlers
    st.tuples(st.just("raw"), raw_bodies),
)
known_keys = st.sampled_from(QUERY_KEYS)
queries = st.lists(
    st.one_of(st.sampled_from(QUERY_EDITS), st.sampled_from(QUERY_EDITS)),
    max_size=4,
) | st.lists(
    st.tuples(
        st.one_of(known_keys, known_keys, known_keys, st.text(max_size=8)),
        st.one_of(
            st.sampled_from(TRICKY_TEXTS),
            st.text(max_size=16),
            st.integers(min_value=-(2**70), max_value=2**70).map(str),
            st.floats().map(str),
            st.datetimes().map(lambda moment: moment.isoformat()),
            st.binary(max_size=24).map(lambda raw: base64.urlsafe_b64encode(raw).decode()),
        ),
    ),
    max_size=4,
)
# None: an existing one. Clients resolve "." and ".." away before they send a path.
path_params = st.one_of(
    st.just(None), st.text(min_size=1, max_size=16).filter(lambda p: p not in (".", ".."))
)
header_names = st.sampled_from(HEADER_NAMES)
# h11 refuses to send a header value with white space around it
printable = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=20).map(
    str.strip
)


def _places(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value (the root too), as key paths."""
    found = [at]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _places(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _places(item, (*at, index))
    return found


def _changed(seed: Any, edits: list[tuple[int, Any, bool]]) -> Any:
    """`seed` with each edit applied: a value set (or deleted) at one of its places."""
    value = json.loads(json.dumps(seed))
    for pick, new, delete in edits:
        places = _places(value)
        place = places[pick % len(places)]
        if not place:
            value = new
            continue
        parent = value
        for key in place[:-1]:
            parent = parent[key]
        if delete:
            del parent[place[-1]]
        else:
            parent[place[-1]] = new
    return value


def _with_fields(seed: Any, edits: list[tuple[str, Any]]) -> Any:
    """`seed` with each named field set wherever it is (in `options` where it is not)."""
    value = json.loads(json.dumps(seed))
    for field, new in edits:
        holders = [place for place in _places(value) if place and place[-1] == field]
        if not holders:  # an option the seed leaves out: in every options object
            holders = [(*place, field) for place in _places(value) if place[-1:] == ("options",)]
        for place in holders or [(field,)]:
            parent = value
            for key in place[:-1]:
                parent = parent[key]
            if isinstance(parent, dict):
                parent[place[-1]] = new
    return value


def _encode(value: Any, ndjson: bool) -> bytes:
    lines = value if ndjson and isinstance(value, list) else [value]
    # Python writes NaN and Infinity as the words: bodies JSON.parse refuses.
    return b"\n".join(json.dumps(line).encode() for line in lines)


class Served:
    """The API over each transport for one fuzz run: a clock an hour on per request (so
    no limiter runs dry), an existing batch, streaming batch and run for path params."""

    def __init__(self, stack: contextlib.ExitStack) -> None:
        self.now = 1_800_000_000.0
        self.apis: dict[str, TriggerApi] = {
            "respx": stack.enter_context(MockTriggerApi(secret_key=KEY, clock=self.clock)),
            "server": stack.enter_context(TriggerApiServer(secret_key=KEY, clock=self.clock)),
        }
        self.client = stack.enter_context(httpx.Client(verify=SSL, timeout=30))
        self.statuses: Counter[str] = Counter()
        self.problems: list[str] = []  # two lines each: what was wrong, what was sent
        self.existing: dict[str, dict[str, str]] = {}
        for transport, api in self.apis.items():
            stored = api.add_batch(BATCH).id
            streaming = self.send(transport, "POST", "/api/v3/batches", b'{"runCount": 1000}')
            run = self.send(transport, "POST", "/api/v1/tasks/send-email/trigger", b'{"payload":1}')
            token = self.send(transport, "POST", "/api/v1/waitpoints/tokens", b"{}").json()
            self.existing[transport] = {
                "batchId": stored,
                "streamingId": streaming.json()["id"],
                "runId": run.json()["id"],
                "taskId": "send-email",
                "waitpointFriendlyId": token["id"],
                "hash": token["url"].rsplit("/", 1)[1],
            }

    def clock(self) -> float:
        return self.now

    def send(
        self,
        transport: str,
        method: str,
        target: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        self.now += 3600
        sent = {"authorization": f"Bearer {KEY}", "content-type": "application/json"}
        sent.update(headers or {})
        url = self.apis[transport].base_url + target
        return self.client.request(method, url, content=body, headers=sent)


ROUTE_INPUTS = {
    "name": st.sampled_from(sorted(ROUTES)),
    "transport": st.sampled_from(["respx", "server"]),
    "params": st.lists(path_params, min_size=2, max_size=2),
    "body": bodies,
    "query": queries,
    # Mostly none: a bad header is refused before the body is read.
    "headers": st.just({})
    | st.just({})
    | st.sampled_from(HEADER_VALUES).map(lambda pair: dict([pair]))
    | st.dictionaries(header_names, printable, max_size=2),
}


def _fuzz_routes(
    served: Served,
    name: str,
    transport: str,
    params: list[str | None],
    body: tuple[str, Any],
    query: list[tuple[str, str]],
    headers: dict[str, str],
) -> None:
    TRIED["routes"] += 1
    route = ROUTES[name]
    existing = served.existing[transport]
    path = route.template
    for number, param in enumerate(("batchId", "runId", "taskId", "waitpointFriendlyId", "hash")):
        if "{" + param + "}" in path:
            given = params[number % 2]
            if given is None:
                wanted = "streamingId" if name.endswith("/items") else param
                value = existing[wanted]
            else:
                value = quote(given.encode("utf-8", "surrogatepass"), safe="")
            path = path.replace("{" + param + "}", value)
    ndjson = name == "POST /api/v3/batches/{batchId}/items"
    kind, content = body
    if kind == "raw":
        sent = content
    else:
        seed = SEED_BODIES.get(name, {})
        if kind == "value":
            value = content
        elif kind == "changed":
            value = _changed(seed, content)
        else:
            value = _with_fields(seed, content)
        sent = _encode(value, ndjson)
    pairs = [
        (k.encode("utf-8", "surrogatepass"), v.encode("utf-8", "surrogatepass")) for k, v in query
    ]
    target = path + ("?" + urlencode(pairs) if pairs else "")
    sent_headers = {"content-type": "application/x-ndjson"} if ndjson else {}
    sent_headers.update(headers)
    api = served.apis[transport]
    crashes = len(api._gateway.pipeline.crashes)
    sent_body = sent if route.method == "POST" else b""
    answer = served.send(transport, route.method, target, sent_body, sent_headers)
    served.statuses[f"{transport} {answer.status_code}"] += 1
    problem = _problem(
        answer,
        api._gateway.pipeline.crashes[crashes:],
        store=route.template.startswith("/packets/"),
    )
    if not problem and route.method == "POST" and answer.status_code in (200, 202):
        # What was made is read back: a value the request slipped in must not break it.
        made = str(strict_json(answer.content).get("id", ""))
        read = {"run": "/api/v3/runs/", "batch": "/api/v2/batches/"}.get(made.split("_")[0])
        if read:
            again = served.send(transport, "GET", read + made)
            problem = _problem(again, api._gateway.pipeline.crashes[crashes:])
            problem = problem and f"{problem} (reading back {made})"
    if problem:
        served.problems.append(f"{problem}\n    {transport} {route.method} {target!r:.200}")
        served.problems.append(f"    body {sent_body!r:.300}")
    elif answer.status_code == 500:
        served.statuses["documented 500"] += 1


def _stream_servers(status: int, shown: object) -> bool:
    """The realtime stream server's own answers: `400 {"message", "errors"}` naming each
    parameter, and `409` must-refetch (docs/platform.md §14)."""
    if status == 409:
        return shown == [{"headers": {"control": "must-refetch"}}]
    if status != 400 or not isinstance(shown, dict) or shown.get("message") != "Invalid request":
        return False
    errors = shown.get("errors")
    return isinstance(errors, dict) and bool(errors)


def _problem(answer: httpx.Response, crashes: list[str], *, store: bool = False) -> str:
    """What is wrong with an answer ("" if nothing): a crash, not JSON, an unclear 4xx.

    `store`: the object store behind presigned URLs, whose refusals are S3's XML errors.
    """
    if crashes:
        return f"the mock failed and answered 500: {crashes[0]}"
    if store:
        xml = answer.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>')
        refused = answer.status_code in (403, 404) and xml
        return "" if refused or answer.status_code == 200 else f"store {answer.status_code}"
    if answer.status_code == 500 and answer.content == b"Unexpected Server Error":
        return ""  # Remix's own answer to a waitpoint callback's malformed id
    try:
        shown = strict_json(answer.content)
    except ValueError as problem:
        return f"{answer.status_code} with a body that is not JSON ({problem})"
    if answer.status_code == 500:
        return "" if shown in DOCUMENTED_500 else f"an undocumented 500: {shown!r:.200}"
    if answer.status_code >= 400 and _stream_servers(answer.status_code, shown):
        return ""
    if answer.status_code >= 400:  # the platform's form: {"error": "...", ...}
        error = shown.get("error") if isinstance(shown, dict) else None
        clear = isinstance(error, str) and error.strip()
        return "" if clear else f"a {answer.status_code} without an error: {shown!r:.200}"
    return "" if answer.status_code in (200, 202) else f"status {answer.status_code}"


def strict_json(content: bytes) -> Any:
    """`JSON.parse`: NaN and Infinity are not JSON."""

    def refuse(word: str) -> Any:
        raise ValueError(f"{word} is not JSON")

    return json.loads(content, parse_constant=refuse)


@pytest.mark.parametrize(
    "size",
    [pytest.param(300, id="quick"), pytest.param(5000, id="full", marks=pytest.mark.slow)],
)
def test_every_route_answers_any_body_and_query_in_the_platforms_form_never_a_crash(
    size: int,
) -> None:
    """Arbitrary JSON values (valid bodies changed anywhere, NaN and Infinity among them),
    raw bytes, query strings and headers, at every served route over both transports: a
    4xx with `error`, a success, or one of the 500s the platform itself answers."""
    with contextlib.ExitStack() as stack:
        served = Served(stack)
        before = TRIED["routes"]
        settings(FUZZ, max_examples=size)(given(**ROUTE_INPUTS)(_fuzz_routes))(served=served)
    tried = TRIED["routes"] - before
    documented = served.statuses.pop("documented 500", 0)
    wrong = len(served.problems) // 2
    print(f"\nroutes: {tried} inputs fuzzed, {wrong} answered unclearly or with a crash;")
    print(f"  {documented} answered a 500 the platform answers too")
    print("  " + ", ".join(f"{k}: {n}" for k, n in sorted(served.statuses.items())))
    assert served.problems == [], "\n".join(served.problems[:20])
    assert tried >= size * 4 // 5


@SIZES
def test_the_api_answers_any_request_or_says_it_does_not_serve_it(size: int) -> None:
    fuzzed("gateway.exchange", _fuzz_api, size)


@SIZES
def test_the_respx_mock_fails_only_in_documented_ways(size: int) -> None:
    fuzzed("mock over httpx", _fuzz_mock, size)


@SIZES
def test_the_factory_builds_a_valid_batch_or_names_the_bad_option(size: int) -> None:
    fuzzed("factory", _fuzz_factory, size)


@SIZES
def test_add_batch_accepts_a_valid_payload_or_explains(size: int) -> None:
    fuzzed("add_batch payloads", _fuzz_payloads, size)


@SIZES
def test_any_moment_is_a_batch_or_a_clear_error(size: int) -> None:
    fuzzed("timestamps", _fuzz_timestamps, size)
