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

import inspect
import json
import ssl
import string
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pytest_trigger_batches import BatchFactory, BatchHandle, TriggerBatch
from pytest_trigger_batches.api import TriggerApi, UnexpectedTriggerRequest
from pytest_trigger_batches.mock import MockTriggerApi
from pytest_trigger_batches.pipeline import ApiResponse, Disconnect, Request, Unserved

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
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
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
