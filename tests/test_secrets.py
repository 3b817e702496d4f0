"""Keys never leak, and nothing that is not a key is ever altered.

Leaks: inner suites fail in every way the plugin can fail and in the ways pytest
reports a run (failures, collection errors, doctests, subtests, parametrize ids,
`pytest.exit`, skip and xfail reasons, captured and live logs, the warnings summary,
JUnit XML and its attributes, `--capture=tee-sys`), under several output settings;
every line printed and every file written is searched for every 8-character fragment
of every key involved. Then every argument error, repr, recorded call and record of
what was triggered is searched the same way, and the HTTP server's own refusals.

Not keys: redaction by form masks only a whole, well-formed credential (a secret key
of the platform's formats, a personal access token, a JWT) standing as a word of its
own; a look-alike (`str_dev_notes`) is left alone, and node ids are the same as with
the plugin off.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import random
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from inner_runs import inner_addopts

from pytest_trigger_batches import (
    BatchError,
    BatchFactory,
    BatchStatus,
    TriggerBatch,
    assert_batch_errors,
    assert_run_counts,
)
from pytest_trigger_batches.api import TriggerApi, UnexpectedTriggerRequest
from pytest_trigger_batches.ids import secret_key
from pytest_trigger_batches.mock import MockTriggerApi
from pytest_trigger_batches.redact import (
    MAX_SEEN_KEYS,
    redact,
    redact_many,
    remember_key,
    remember_seen_key,
)
from pytest_trigger_batches.server import TriggerApiServer
from pytest_trigger_batches.shown import shown

INNER = ("-p", "no:randomly", "-p", "no:hypothesispytest")
# Split so that the source pytest prints never holds the whole key or its random part.
KEY_PARTS = ("tr_prod_", "Zq8XwV3nM5", "kP2rT7yB4c")
KEY = "".join(KEY_PARTS)
HAS_SUBTESTS = hasattr(pytest, "Subtests")  # pytest 9


def secrets_in(text: str, keys: Iterable[str]) -> list[str]:
    """The keys (or their random parts, 20+ chars) that appear in `text`."""
    found = []
    for key in keys:
        secret = key.split("_", 2)[2]
        if key in text or secret in text:
            found.append(key)
    return found


def fragments(key: str) -> set[str]:
    """Every 8-character piece of a key's secret part (or of a token's signed parts)."""
    secret = key.split(".", 1)[1] if key.startswith("eyJ") else key.split("_", 2)[2]
    secret = secret.removeprefix("sk_")
    return {secret[i : i + 8] for i in range(len(secret) - 7)}


def leaks_in(text: str, keys: Iterable[str], names: dict[str, str] | None = None) -> list[str]:
    """`<the key's name>: fragment` for every fragment of every key that `text` holds."""
    found = []
    for key in sorted(keys):
        name = (names or {}).get(key, "a generated key or token")
        found += [f"{name}: {piece!r}" for piece in sorted(fragments(key)) if piece in text]
    return found


CONFTEST = """
import os, pathlib
import pytest

@pytest.fixture
def keep():
    '''Remember a key the plugin generated, to search the output for it.'''
    def keep(key):
        with open(os.environ["SECRETS_FILE"], "a") as keys:
            keys.write(key + "\\n")
    return keep
"""

SUITE = f"""
import asyncio, logging
import httpx, pytest
from pytest_trigger_batches import assert_run_counts, assert_batch_errors

KEY = {KEY_PARTS[0]!r} + {KEY_PARTS[1]!r} + {KEY_PARTS[2]!r}
AUTH = {{"Authorization": "Bearer " + KEY}}
log = logging.getLogger("app")


@pytest.fixture
def batch(mock_trigger_api, trigger_batch_factory, keep):
    keep(mock_trigger_api.secret_key)
    mock_trigger_api.accept_key(KEY)
    batch = trigger_batch_factory("PARTIAL_FAILED", run_count=6)
    mock_trigger_api.add_batch(batch)
    return batch


def get(batch_id, headers=AUTH, query=""):
    url = "https://api.trigger.dev/api/v1/batches/" + batch_id + query
    log.debug("GET %s with %s", url, headers)
    return httpx.get(url, headers=headers)


def test_unexpected_path_with_key_in_query(mock_trigger_api, keep):
    keep(mock_trigger_api.secret_key)
    httpx.get("https://api.trigger.dev/api/v3/runs?key=" + KEY, headers=AUTH)

def test_unexpected_method_async(mock_trigger_api, batch):
    async def go():
        async with httpx.AsyncClient(headers={{"x-api-key": KEY, **AUTH}}) as client:
            await client.delete("https://api.trigger.dev/api/v1/batches/" + batch.id)
    asyncio.run(go())

def test_unexpected_swallowed(mock_trigger_api, batch):
    try:
        url = "https://api.trigger.dev/api/v1/batches/" + batch.id
        httpx.put(url, params={{"token": "Bearer " + KEY}})
    except AssertionError:
        pass

def test_key_as_the_batch_id(mock_trigger_api, batch):
    get(KEY)
    mock_trigger_api.assert_all_retrieved()

def test_assert_retrieved(mock_trigger_api, batch):
    get(batch.id, query="?auth=Bearer%20" + KEY)
    mock_trigger_api.assert_retrieved(batch, times=5)

def test_assert_not_retrieved(mock_trigger_api, batch):
    get(batch.id)
    mock_trigger_api.assert_not_retrieved(batch)

def test_assert_all_retrieved(mock_trigger_api, batch, trigger_batch_factory):
    mock_trigger_api.add_batch(trigger_batch_factory())
    get(batch.id)
    mock_trigger_api.assert_all_retrieved()

def test_assert_run_counts(mock_trigger_api, batch):
    assert_run_counts(get(batch.id), failed=0)

def test_assert_batch_errors(mock_trigger_api, batch):
    assert_batch_errors(get(batch.id), error_code="ITEM_ERROR")

def test_counts_of_a_401(mock_trigger_api, batch):
    assert_run_counts(get(batch.id, {{"Authorization": "Bearer " + KEY + "0"}}), total=6)

def test_bad_accept_key(mock_trigger_api, keep):
    keep(mock_trigger_api.secret_key)
    mock_trigger_api.accept_key(KEY + "!")

@pytest.mark.parametrize("fault", ["timeout", "connect_error", "server_error", "rate_limit"])
def test_fault(mock_trigger_api, batch, fault):
    mock_trigger_api.fail_next(fault)
    get(batch.id, query="?key=" + KEY).raise_for_status()

def test_reprs(mock_trigger_api, batch):
    get(batch.id, query="?key=" + KEY)
    handle = mock_trigger_api.batches[0]
    print(repr(mock_trigger_api), repr(handle), mock_trigger_api.calls)
    print(str(mock_trigger_api.calls[0]))
    assert False, repr(mock_trigger_api.calls)

@pytest.mark.trigger_batch("PENDING", idempotency_key={KEY_PARTS[0]!r} + "x" * 22)
def test_marker_with_a_key_in_its_options(mock_trigger_api, keep):
    keep({KEY_PARTS[0]!r} + "x" * 22)
    assert False

def test_server_501(trigger_api_server, keep):
    keep(trigger_api_server.secret_key)
    trigger_api_server.accept_key(KEY)
    url = trigger_api_server.base_url + "/api/v1/batches/x?key=" + KEY
    response = httpx.post(url, headers=AUTH)
    assert response.status_code == 501
    print(response.text)
    assert False, response.text

def test_server_verbose_log(trigger_batch_factory, capfd):
    from pytest_trigger_batches.server import TriggerApiServer
    with TriggerApiServer(verbose=True) as server:
        server.accept_key(KEY)
        httpx.get(server.base_url + "/api/v1/batches/batch_x?key=" + KEY, headers=AUTH)
    print(repr(server))
    assert False, capfd.readouterr().err

def test_passing_with_key_in_logs(mock_trigger_api, batch):
    assert get(batch.id, query="?key=" + KEY).status_code == 200
    print("the application ran")

def test_passing_async_with_key_in_logs(mock_trigger_api, batch):
    async def go():
        async with httpx.AsyncClient() as client:
            url = "https://api.trigger.dev/api/v2/batches/" + batch.id + "?key=" + KEY
            log.info("polling %s", url)
            return await client.get(url, headers=AUTH)
    assert asyncio.run(go()).status_code == 200
"""


def test_no_failure_output_or_captured_log_holds_a_key(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys_file = pytester.path / "keys.txt"
    monkeypatch.setenv("SECRETS_FILE", str(keys_file))
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_app=SUITE)
    result = pytester.runpytest(*INNER, "--log-level=DEBUG", "-rA", "-vv", "-l")
    # 21 tests: 18 fail, 2 pass, 1 passes but errors at teardown (a swallowed request)
    assert result.parseoutcomes() == {"failed": 18, "passed": 3, "errors": 1}
    keys = {KEY, *keys_file.read_text().split()}
    assert len(keys) >= 4, "the generated keys were kept"
    lines = result.outlines + result.errlines
    leaks = [line for line in lines if secrets_in(line, keys)]
    print(f"\nsearched {len(lines)} output lines for {len(keys)} keys: {len(leaks)} leaks")
    assert leaks == [], "\n---\n".join(leaks)
    output = "\n".join(lines)
    # The places searched really were printed: captured logs, locals, redacted keys.
    for printed in (
        "Captured log call",
        "PASSED test_app.py::test_passing_with_key_in_logs",
        "tr_prod_****",
        "does not serve",
        "501",
    ):
        assert printed in output, printed


# -- reprs, messages and records, directly ----------------------------------------------


def test_no_repr_message_or_recorded_call_holds_a_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    factory = BatchFactory(seed=7)
    batch = factory("PARTIAL_FAILED", run_count=6)
    places: list[str] = []

    def messages_of(*calls: Callable[[], object]) -> None:
        for call in calls:
            try:
                call()
            except Exception as problem:
                places.append(f"{type(problem).__name__}: {problem}")
            else:
                raise AssertionError(f"{call} did not fail")

    with MockTriggerApi(secret_key=KEY) as api:
        handle = api.add_batch(batch)
        base = f"{api.base_url}/api/v1/batches"
        urls = [
            f"{base}/{batch.id}",
            f"{base}/{batch.id}?key={KEY}",
            f"{base}/{batch.id}?auth=Bearer%20{KEY}",
            f"{base}/{batch.id}?auth=Bearer+{KEY}",
            f"{base}/{KEY}",
            f"{api.base_url}/api/v1/tokens/{KEY}",
        ]
        with httpx.Client() as client:
            for url in urls:
                for headers in (
                    {"Authorization": f"Bearer {KEY}"},
                    {"Authorization": KEY, "x-trigger-key": KEY, "cookie": f"k={KEY}"},
                ):
                    try:
                        client.get(url, headers=headers)
                    except UnexpectedTriggerRequest as problem:
                        places.append(str(problem))
                    try:
                        client.request("DELETE", url, headers=headers)
                    except UnexpectedTriggerRequest as problem:
                        places.append(str(problem))

        async def async_calls() -> None:
            async with httpx.AsyncClient(headers={"Authorization": f"Bearer {KEY}"}) as client:
                await client.get(f"{base}/{batch.id}?key={KEY}")

        asyncio.run(async_calls())
        api.fail_next("rate_limit")
        with httpx.Client() as client:
            response = client.get(f"{base}/{batch.id}?k={KEY}", headers={"Authorization": KEY})
        places += [response.text, str(response.headers)]
        messages_of(
            lambda: api.accept_key(KEY + "!"),
            lambda: api.accept_key("Bearer " + KEY),
            lambda: TriggerApi(secret_key=KEY + "x" * 5),
            lambda: api.assert_retrieved(batch, times=99),
            lambda: api.assert_not_retrieved(batch),
            lambda: api.assert_not_retrieved(KEY),
            lambda: api.assert_retrieved(KEY, times=0),
            lambda: assert_run_counts(response, total=6),
            lambda: assert_batch_errors(batch, count=99),
        )
        for call in api.calls:
            places += [repr(call), str(call), call.url, call.path, str(call.batch_id)]
            places += [f"{name}: {value}" for name, value in call.headers.items()]
        places += [repr(api), str(api), repr(handle), repr(api.calls), repr(api.batches)]
    with TriggerApiServer(secret_key=KEY) as server:
        server.accept_key(KEY)
        with httpx.Client() as client:
            answer = client.get(f"{server.base_url}/api/v9/{KEY}?key={KEY}", headers={"x": KEY})
        assert answer.status_code == 501
        places += [answer.text, repr(server), repr(server), repr(server.calls)]
    # httpx itself logs request URLs (a key in a query string too); what pytest prints of
    # those logs is redacted (the suites here). The plugin's own loggers must be clean.
    ours = [r for r in caplog.records if r.name.startswith("pytest_trigger_batches")]
    places += [record.getMessage() for record in ours]

    leaks = [place for place in places if secrets_in(place, [KEY])]
    print(
        f"\nsearched {len(places)} reprs, messages, call fields and log records: {len(leaks)} leaks"
    )
    assert len(api.calls) >= 25
    assert len(places) > 200
    assert leaks == [], "\n---\n".join(leaks)


def test_triggered_records_redact_what_recorded_calls_redact() -> None:
    with MockTriggerApi(secret_key=KEY) as api, httpx.Client() as client:
        auth = {"Authorization": f"Bearer {KEY}"}
        single = client.post(
            f"{api.base_url}/api/v1/tasks/task-{KEY}x/trigger",
            json={"payload": {"token": KEY[8:]}, "options": {"idempotencyKey": KEY[8:]}},
            headers=auth,
        )
        many = client.post(
            f"{api.base_url}/api/v1/tasks/batch",
            json={
                "items": [
                    {
                        "task": f"t{KEY}",
                        "payload": json.dumps({"token": KEY[8:]}),  # as the SDK sends it
                        "options": {"payloadType": "application/json"},
                    }
                ]
            },
            headers=auth,
        )
        assert (single.status_code, many.status_code) == (200, 202)
        triggered = api.triggered
        calls = api.calls
    assert len(triggered) == 2
    assert leaks_in(repr(calls), [KEY]) == []
    assert leaks_in(repr(triggered), [KEY]) == [], repr(triggered)
    assert "****" in repr(triggered[0].payload)
    assert "****" in triggered[1].task


# -- argument errors ----------------------------------------------------------------------
# Each bad argument holds a key: whole (well-formed, never pinned) and glued to a word
# (pinned, so only the plugin's memory of it can hide it). The message names the
# parameter; it never shows the key.

UNPINNED = "tr_prod_" + "Bb7Yy4Hh2J" + "jq9Ww3Ee5R"


@dataclass
class Surfaces:
    """What a case calls: a seeded factory, an API with KEY pinned and one of its batches."""

    factory: BatchFactory
    api: TriggerApi
    batch: TriggerBatch
    payload: dict[str, object]


@pytest.fixture
def surfaces() -> Surfaces:
    factory = BatchFactory(seed=11)
    batch = factory("COMPLETED", run_count=3)
    api = TriggerApi(secret_key=KEY)
    api.add_batch(batch)
    return Surfaces(factory, api, batch, batch.to_payload())


def listed(value: Any) -> Any:
    """`[value]`, where a string is expected."""
    return [value]


Case = Callable[[Surfaces, Any], object]  # the bad value: Any, as a caller's can be
ARGUMENT_ERRORS: dict[str, Case] = {
    "factory-status": lambda s, v: s.factory(v),
    "factory-run_count": lambda s, v: s.factory(run_count=v),
    "factory-failed_count": lambda s, v: s.factory("PARTIAL_FAILED", failed_count=v),
    "factory-runs_created": lambda s, v: s.factory(runs_created=v),
    "factory-legacy": lambda s, v: s.factory(legacy=v),
    "factory-idempotency_key": lambda s, v: s.factory(idempotency_key=listed(v)),
    "factory-task_identifier": lambda s, v: s.factory(task_identifier=listed(listed(v))),
    "factory-error_code": lambda s, v: s.factory("PARTIAL_FAILED", error_code=v),
    "factory-created_at": lambda s, v: s.factory(created_at=v),
    "factory-batch_id": lambda s, v: s.factory(batch_id=v),
    "BatchFactory-seed": lambda s, v: BatchFactory(seed=v),
    "factory.run-status": lambda s, v: s.factory.run(status=v),
    "factory.lifecycle": lambda s, v: s.factory.lifecycle(v),
    "TriggerApi-secret_key": lambda s, v: TriggerApi(secret_key=v + "!"),
    "TriggerApi-base_url": lambda s, v: TriggerApi(base_url="https://api.trigger.dev/?t=" + v),
    "TriggerApi-clock": lambda s, v: TriggerApi(clock=v),
    "MockTriggerApi-base_url": lambda s, v: MockTriggerApi(base_url=v),
    "TriggerApiServer-port": lambda s, v: TriggerApiServer(port=v),
    "add_batch-batch": lambda s, v: s.api.add_batch(v),
    "add_batch-environment": lambda s, v: s.api.add_batch(s.batch, environment=v),
    "add_batch-check_ids": lambda s, v: s.api.add_batch(s.batch, check_ids=v),
    "add_batch-progress_after": lambda s, v: s.api.add_batch(s.batch, progress_after=v),
    "add_batch-runs": lambda s, v: s.api.add_batch(s.batch, runs=[v]),
    "add_batch-payload-id": lambda s, v: s.api.add_batch({**s.payload, "id": v}),
    "public_token-scopes": lambda s, v: s.api.public_token(scopes=v),
    "public_token-scopes-item": lambda s, v: s.api.public_token(scopes=[v, ""]),
    "public_token-expires_in": lambda s, v: s.api.public_token(scopes=["read:runs"], expires_in=v),
    "public_token-secret_key": lambda s, v: s.api.public_token(
        scopes=["read:runs"], secret_key=v + "x"
    ),
    "public_token-one_time_use": lambda s, v: s.api.public_token(
        scopes=["read:runs"], one_time_use=v
    ),
    "fail_next-fault": lambda s, v: s.api.fail_next(v),
    "fail_next-route": lambda s, v: s.api.fail_next("timeout", route=v),
    "fail_next-batch_id": lambda s, v: s.api.fail_next("timeout", batch_id=v),
    "fail_next-times": lambda s, v: s.api.fail_next("timeout", times=v),
    "fail_next-status_code": lambda s, v: s.api.fail_next("server_error", status_code=v),
    "fail_next-reset_after": lambda s, v: s.api.fail_next("rate_limit", reset_after=v),
    "fail_next-when": lambda s, v: s.api.fail_next("timeout", when=v),
    "fail_next-required": lambda s, v: s.api.fail_next("timeout", required=v),
    "progression": lambda s, v: setattr(s.api, "progression", v),
    "advance-batch": lambda s, v: s.api.advance(v),
    "advance-to": lambda s, v: s.api.advance(s.batch, to=v),
    "on_item-outcome": lambda s, v: s.api.on_item(outcome=v),
    "on_item-task": lambda s, v: s.api.on_item(outcome="created", task=listed(v)),
    "on_run-outcome": lambda s, v: s.api.on_run(outcome=v),
    "on_run-task": lambda s, v: s.api.on_run(outcome="COMPLETED", task=listed(v)),
    "on_run-error": lambda s, v: s.api.on_run(outcome="FAILED", error={"msg": v}),
    "on_run-output": lambda s, v: s.api.on_run(outcome="FAILED", output=v),
    "run": lambda s, v: s.api.run(v),
    "assert_cancelled": lambda s, v: s.api.assert_cancelled(v),
    "assert_replayed": lambda s, v: s.api.assert_replayed(v),
    "calls_to-route": lambda s, v: s.api.calls_to(v),
    "assert_triggered-payloads": lambda s, v: s.api.assert_triggered(payloads=v),
    "rate_limit-limit": lambda s, v: s.api.rate_limit(limit=v),
    "rate_limit-interval": lambda s, v: s.api.rate_limit(interval=v),
    "add_route-method": lambda s, v: s.api.add_route(v, "/api/v1/x"),
    "add_route-path": lambda s, v: s.api.add_route("GET", "/x/" + v),
    "add_route-status_code": lambda s, v: s.api.add_route("GET", "/api/v1/x", status_code=v),
    "retrievals": lambda s, v: s.api.retrievals(v),
    "assert_retrieved-times": lambda s, v: s.api.assert_retrieved(s.batch, times=v),
    "assert_run_counts-batch": lambda s, v: assert_run_counts(v),
    "assert_batch_errors-error_code": lambda s, v: assert_batch_errors(s.batch, error_code=v),
    "assert_batch_errors-task_identifier": lambda s, v: assert_batch_errors(
        s.batch,
        task_identifier=listed(v),
    ),
    "assert_batch_errors-indices": lambda s, v: assert_batch_errors(s.batch, indices=v),
    "TriggerBatch.from_payload": lambda s, v: TriggerBatch.from_payload({**s.payload, "status": v}),
    "BatchError.from_payload": lambda s, v: BatchError.from_payload({"index": 0, "error": [v]}),
    "BatchStatus.parse": lambda s, v: BatchStatus.parse(v),
    "clock": lambda s, v: setattr(s.api, "clock", v),
}


@pytest.mark.parametrize("form", ["whole", "glued"])
@pytest.mark.parametrize("call", ARGUMENT_ERRORS.values(), ids=ARGUMENT_ERRORS.keys())
def test_an_argument_error_never_shows_the_key_it_was_given(
    surfaces: Surfaces, call: Case, form: str
) -> None:
    value = UNPINNED if form == "whole" else "x" + KEY
    with pytest.raises((TypeError, ValueError, AssertionError)) as refused:
        call(surfaces, value)
    message = str(refused.value)
    assert message
    assert leaks_in(message, [UNPINNED, KEY]) == [], message


# -- the HTTP server's own refusals ---------------------------------------------------------

MALFORMED_REQUESTS = {
    "version": f"GET /api/v1/runs {KEY}\r\n\r\n",
    "version-of-four-words": f"GET / HTTP/1.1 {KEY}\r\n\r\n",
    "syntax": f"{KEY}\r\n\r\n",
    "method": f"{KEY} /api/v1/runs HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    "transfer-encoding": (
        f"GET /api/v1/runs HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: {KEY}\r\n\r\n"
    ),
}


@pytest.mark.parametrize("raw", MALFORMED_REQUESTS.values(), ids=MALFORMED_REQUESTS.keys())
def test_the_servers_answer_to_a_malformed_request_does_not_echo_a_key(raw: str) -> None:
    with TriggerApiServer(secret_key=KEY) as server:
        address = server.base_url.removeprefix("http://").split(":")
        with socket.create_connection((address[0], int(address[1])), timeout=5) as connection:
            connection.sendall(raw.encode())
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
    text = answer.decode("latin-1")
    assert re.search(r"\b(400|501)\b", text), text  # refused
    assert leaks_in(text, [KEY]) == [], text


# -- what the plugin remembers --------------------------------------------------------------


def _keys(count: int, rng: random.Random) -> list[str]:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return ["tr_dev_" + "".join(rng.choices(alphabet, k=24)) for _ in range(count)]


def test_the_environments_key_and_pinned_keys_are_never_forgotten(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(512)
    environment_key, pinned = _keys(2, rng)
    monkeypatch.setenv("TRIGGER_SECRET_KEY", environment_key)
    remember_key(pinned)
    assert redact("x" + environment_key) == "xtr_dev_****"  # glued: known, not by form
    for key in _keys(MAX_SEEN_KEYS + 100, rng):  # more than any bound, seen in requests
        remember_seen_key(key)
    for _ in range(600):  # and a long run's generated keys
        secret_key("dev")
    assert redact("x" + environment_key) == "xtr_dev_****"
    assert redact("x" + pinned) == "xtr_dev_****"


def test_keys_seen_only_in_requests_are_remembered_up_to_a_bound() -> None:
    seen = _keys(MAX_SEEN_KEYS + 1, random.Random(2048))
    for key in seen:
        remember_seen_key(key)
    assert redact("x" + seen[-1]) == "xtr_dev_****"
    assert redact("x" + seen[0]) == "x" + seen[0]  # the oldest went: memory stays bounded
    assert redact(seen[0]).startswith("tr_dev_****")  # standing alone, its form still shows


# -- what is not a key ------------------------------------------------------------------------


def _b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


# Drawn, not repeated letters: a key another test pinned (`"tr_dev_" + "a" * 24`) is
# redacted down to its fragments, and would reach into a run of `a`s here.
_DRAWN = "".join(
    random.Random("not keys").choices("bcdfghjkmnpqrstvwxyzBCDFGHJKMNPQRSTVWXYZ", k=40)
)
NOT_KEYS = [
    "str_dev_notes",
    "tr_expected_total = 3",
    "tr_dev_short",
    "tr_dev_" + _DRAWN[:23],  # one short of a key
    "tr_dev_" + _DRAWN[:25],  # one too many
    "tr_dev_sk_" + _DRAWN[:20],  # additional keys have 24
    "tr_stage_" + _DRAWN[:24],  # no such environment
    "tr_pat_" + _DRAWN.lower()[:39],
    "tr_pat_" + _DRAWN.upper()[:40],  # tokens are lower case
    "tr_pat_" + _DRAWN.lower()[:39] + "l",  # and have no `l`
    "eyJhbGciOiJIUzI1NiJ9",  # a JWT's header alone
    f"{_b64({'not': 'jwt'})}.{_b64({'sub': 1})}.c2ln",  # no algorithm: not a JWT
    "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
    "Bearer token",
    "2026-08-06T12:00:00.000Z",
]
CREDENTIALS = [  # (name, a credential standing alone, how it starts once masked)
    ("root-key", "tr_dev_" + _DRAWN[:24], "tr_dev_****"),
    ("root-key-before-2026-08-06", "tr_dev_" + _DRAWN[:20], "tr_dev_****"),
    ("additional-key", "tr_prod_sk_" + _DRAWN[:24], "tr_prod_****"),
    ("personal-access-token", "tr_pat_" + _DRAWN.lower()[:40], "tr_pat_****"),
    ("public-access-token", f"{_b64({'alg': 'HS256'})}.{_b64({'sub': 1})}.c2ln", "eyJ****"),
]
AT_A_WORD_BOUNDARY = [  # (name, text, its redacted start)
    ("percent-encoded", "key=tr%5Fdev%5F" + _DRAWN[:24], "key=tr_dev_****"),
    ("after-an-escape-in-a-repr", "\\ntr_dev_" + _DRAWN[:24], "\\ntr_dev_****"),
    ("after-an-ansi-colour", "\x1b[31mtr_dev_" + _DRAWN[:24], "\x1b[31mtr_dev_****"),
    ("before-an-underscore", "tr_dev_" + _DRAWN[:24] + "_x", "tr_dev_****"),
]


@pytest.mark.parametrize("value", NOT_KEYS)
def test_a_value_that_is_not_a_credential_is_never_altered(value: str) -> None:
    assert redact(value) == value
    assert shown(value) == repr(value)


@pytest.mark.parametrize(
    ("value", "masked"), [c[1:] for c in CREDENTIALS], ids=[c[0] for c in CREDENTIALS]
)
def test_a_whole_credential_is_masked_by_its_form_unless_glued_to_a_word(
    value: str, masked: str
) -> None:
    assert redact(value).startswith(masked)
    assert value[len(masked) - 4 :] not in redact(value)
    assert redact("glued" + value) == "glued" + value  # not a word of its own


@pytest.mark.parametrize(
    ("text", "masked"),
    [c[1:] for c in AT_A_WORD_BOUNDARY],
    ids=[c[0] for c in AT_A_WORD_BOUNDARY],
)
def test_a_credential_after_an_escape_or_before_an_underscore_stands_alone(
    text: str, masked: str
) -> None:
    assert redact(text).startswith(masked)
    assert _DRAWN[:20] not in redact(text)


def test_texts_redacted_together_are_redacted_as_each_alone() -> None:
    # A recorded call's texts are redacted in one pass (redact_many).
    (known,) = _keys(1, random.Random(77))  # remembered for good: seen nowhere else
    remember_key(known)
    texts = [
        *NOT_KEYS,
        *(c[1] for c in CREDENTIALS),
        *(c[1] for c in AT_A_WORD_BOUNDARY),
        *("glued" + c[1] for c in CREDENTIALS),
        "x" + known[9:25] + "y",  # a fragment of a known key
        "",
        "ends with a word " + known[7:15],
        known[12:30] + " starts with one",
    ]
    rng = random.Random(5)
    for _ in range(30):
        sample = rng.sample(texts, 6)
        assert redact_many(sample) == [redact(text) for text in sample]
    with_nul = ["a\x00tr_dev_" + _DRAWN[:24], "b"]  # the joiner itself: one by one
    assert redact_many(with_nul) == [redact(text) for text in with_nul]


def test_a_new_trigger_secret_key_is_redacted_from_the_next_text_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = ("tr_dev_" + key[7:15] + "!" + key[15:] for key in _keys(2, random.Random(9)))
    for key in (first, second):  # malformed: only the registry knows them
        monkeypatch.setenv("TRIGGER_SECRET_KEY", key)
        assert key[7:15] not in redact_many(["a", f"x{key}"])[1]
    monkeypatch.delenv("TRIGGER_SECRET_KEY")
    assert first[7:15] not in redact(f"x{first}")  # remembered for good


def test_node_ids_are_those_of_a_run_without_the_plugin_unless_they_hold_a_key(
    pytester: pytest.Pytester,
) -> None:
    values = [*NOT_KEYS, *(v.encode() for v in NOT_KEYS[:3]), KEY, KEY.encode()]
    pytester.makepyfile(
        f"import pytest\n\n@pytest.mark.parametrize('value', {values!r})\n"
        "def test_labels(value):\n    pass\n"
    )
    on = pytester.runpytest(*INNER, "--collect-only", "-q").outlines
    off = pytester.runpytest(*INNER, "--collect-only", "-q", "-p", "no:trigger_batches").outlines
    ids_on = [line for line in on if "::" in line]
    ids_off = [line for line in off if "::" in line]
    assert len(ids_on) == len(values) == len(ids_off)
    assert ids_on[:-2] == ids_off[:-2]
    assert all(KEY in line for line in ids_off[-2:])  # pytest shows it...
    assert all(redact(KEY) in line and KEY not in line for line in ids_on[-2:])  # ...not us


# -- the ways a run reports, under several output settings -----------------------------------
#
# Each inner test below is one way a key used to leak. Every line printed, the JUnit XML
# and the log file are searched for every 8-character fragment of every key involved:
# the pinned key, the keys the fixtures generated, TRIGGER_SECRET_KEY, a personal access
# token, public tokens, and keys the plugin never saw.

OTHER_PARTS = ("tr_prod_", "Hh4Jj5Kk6L", "l7Mm8Nn9Pp")  # never given to the plugin
PAT_PARTS = ("tr_pat_", "q1rr2ss3t4uu5vv6ww7x", "x8yy9zz2aa3bb4cc5dd6")
ENV_PARTS = ("tr_stg_", "Ee1Ff2Gg3H", "h4Ii5Jj6Kk")  # the environment's TRIGGER_SECRET_KEY
DOC_PARTS = ("tr_dev_", "Dd5Oo6Cc7T", "t8Ee9Ss2Tt")  # in a doctest's output
BYTES_PARTS = ("tr_prod_", "Yy3Tt4Ee5S", "s6Bb7Ii8Dd")  # a bytes parameter
ATTR_PARTS = ("tr_dev_", "Aa9Tt8Rr7I", "i6Bb5Uu4Tt")  # a JUnit attribute
OTHER, PAT, ENV_KEY, DOC_KEY, BYTES_KEY, ATTR_KEY = (
    "".join(p) for p in (OTHER_PARTS, PAT_PARTS, ENV_PARTS, DOC_PARTS, BYTES_PARTS, ATTR_PARTS)
)
KEY_NAMES = {
    KEY: "the pinned key",
    OTHER: "a key never given to the plugin",
    PAT: "a personal access token",
    ENV_KEY: "TRIGGER_SECRET_KEY",
    DOC_KEY: "a doctest's output",
    BYTES_KEY: "a bytes parameter",
    ATTR_KEY: "a JUnit attribute",
}


def _joined(name: str, parts: tuple[str, ...]) -> str:
    return f"{name} = " + " + ".join(repr(p) for p in parts)


LEAK_SUITE = f"""
import logging, os, warnings
import httpx, pytest
from pytest_trigger_batches.api import TriggerApi
from pytest_trigger_batches.server import TriggerApiServer

{_joined("KEY", KEY_PARTS)}
{_joined("OTHER", OTHER_PARTS)}
{_joined("PAT", PAT_PARTS)}
{_joined("DOC_KEY", DOC_PARTS)}
{_joined("BYTES_KEY", BYTES_PARTS)}
{_joined("ATTR_KEY", ATTR_PARTS)}
BASE = "https://api.trigger.dev"
log = logging.getLogger("app")


@pytest.fixture
def api(mock_trigger_api, keep):
    keep(mock_trigger_api.secret_key)
    mock_trigger_api.accept_key(KEY)
    return mock_trigger_api


def test_assert_equal_keys(api):
    assert api.secret_key == KEY[:-1] + "Q"

def test_assert_generated_key(mock_trigger_api, keep):
    keep(mock_trigger_api.secret_key)
    assert mock_trigger_api.secret_key == "tr_dev_" + "0" * 24

def test_assert_long_glued_key_is_truncated(api):
    assert "x" * 100 + KEY + "y" * 100 == "x" * 100

def test_key_after_escapes_in_a_repr(api):
    shown = ["\\n" + KEY, "\\t" + KEY, "\\r\\n" + KEY, "\\x1b[31m" + KEY, "Bearer" + KEY]
    assert False, repr(shown)

def test_fixture_through_getfixturevalue(request, keep):
    mock = request.getfixturevalue("mock_trigger_api")
    keep(mock.secret_key)
    print("key:", mock.secret_key)
    assert mock.secret_key == ""

def test_environment_key_without_any_fixture():
    print(os.environ["TRIGGER_SECRET_KEY"])
    assert os.environ["TRIGGER_SECRET_KEY"] == ""

def test_skip_reason_with_output(api):
    print("captured", KEY)
    pytest.skip("no service for " + KEY)

def test_xfail_reason(api):
    pytest.xfail("known bug with " + KEY)

@pytest.mark.xfail(reason="marker reason " + KEY)
def test_xfail_marker_reason(api):
    assert False, KEY

def test_live_log_and_log_file(api):
    log.warning("calling with %s and %s", KEY, PAT)
    assert False

def test_warning_summary(api):
    warnings.warn("deprecated key " + KEY)

@pytest.mark.parametrize("key", [KEY, OTHER])
def test_parametrize_id(mock_trigger_api, key):
    assert False

@pytest.mark.parametrize("raw", [BYTES_KEY.encode()])
def test_bytes_parametrize_id(raw):
    assert False, raw

def test_encoded_keys_in_a_url(api):
    httpx.get(BASE + "/api/v9/x?a=tr%5Fprod%5F" + OTHER[8:] + "&b=tr%255Fprod%255F" + OTHER[8:])

def test_tokens_in_headers_and_records(api, batch_id="batch_x"):
    jwt = api.public_token(scopes=["read:runs"])
    with open(os.environ["SECRETS_FILE"], "a") as keys:
        keys.write(jwt + "\\n")
    headers = {{"authorization": "Bearer " + KEY, "x-pat": PAT, "x-jwt": jwt, "cookie": "t=" + jwt}}
    try:
        httpx.get(BASE + "/api/v1/runs?pat=" + PAT + "&jwt=" + jwt, headers=headers)
    except AssertionError:
        pass
    assert False, repr(api.calls)

def test_server_501_and_verbose_log(trigger_api_server, keep):
    keep(trigger_api_server.secret_key)
    jwt = trigger_api_server.public_token(scopes=["read:runs"])
    with TriggerApiServer(verbose=True) as server:
        url = server.base_url + "/api/v9/x?pat=" + PAT + "&k=tr%5Fprod%5F" + OTHER[8:] + "&j=" + jwt
        answer = httpx.post(url, headers={{"x-pat": PAT, "x-jwt": jwt, "authorization": KEY}})
    assert False, answer.text

def test_argument_error_echoes_a_key():
    TriggerApi(base_url=BASE + "?token=" + KEY)

@pytest.mark.trigger_api(base_url="https://api.trigger.dev/?token=" + KEY)
def test_marker_argument_error(mock_trigger_api):
    pass

def test_junit_attributes(api, record_xml_attribute, record_testsuite_property, record_property):
    record_xml_attribute("owner", ATTR_KEY)
    record_testsuite_property("key", ATTR_KEY)
    record_property("glued", "token" + KEY)

def secret():
    return DOC_KEY

def doctested():
    '''
    >>> secret()
    'nothing'
    '''
"""
SUBTESTS_CASE = """
def test_subtests(api, subtests):
    with subtests.test(msg="with " + KEY, key=KEY):
        print("in a subtest", KEY)
        assert False, KEY
"""
# A module that fails at import, with the environment's key glued to a word: only the
# plugin's memory of TRIGGER_SECRET_KEY can hide it.
BROKEN = """
import os
raise RuntimeError("cannot start: token" + os.environ["TRIGGER_SECRET_KEY"])
"""
BASE_ARGS = ("-W", "always::UserWarning", "--doctest-modules", "--continue-on-collection-errors")
JUNIT = ("--junitxml=run.xml", "-o", "junit_family=xunit1")
LEAK_CONFIGS: dict[str, tuple[str, ...]] = {
    "default-junit": JUNIT,
    "tee-sys": ("--capture=tee-sys",),
    "verbose": ("-v",),
    "very-verbose-all": ("-vv", "-rA", "-l"),
    "tb-line": ("--tb=line", "-ra"),
    "logs-junit": ("--log-cli-level=INFO", "--log-file=run.log", *JUNIT, "-rs"),
}
# What each case leaves in the output, redacted: proof that it ran and was searched.
SHOWN_IN_EVERY_CONFIG = {
    "collection error": "RuntimeError: cannot start: tokentr_stg_****",
    "doctest": "test_app.doctested",
    "bytes id": "test_bytes_parametrize_id[tr_prod_****",
    "parametrize id": "test_parametrize_id[tr_prod_****",
}


def _run_leak_suite(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, config: str
) -> tuple[pytest.RunResult, str, set[str]]:
    keys_file = pytester.path / "keys.txt"
    keys_file.write_text("")
    monkeypatch.setenv("SECRETS_FILE", str(keys_file))
    monkeypatch.setenv("TRIGGER_SECRET_KEY", ENV_KEY)
    # assertion rewriting on: pytest's own truncated diffs are the case to try
    monkeypatch.setenv("PYTEST_ADDOPTS", inner_addopts(rewrite=True))
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        test_app=LEAK_SUITE + (SUBTESTS_CASE if HAS_SUBTESTS else ""), test_broken=BROKEN
    )
    result = pytester.runpytest(*INNER, *BASE_ARGS, *LEAK_CONFIGS[config])
    output = "\n".join(result.outlines + result.errlines)
    for extra in ("run.log", "run.xml"):
        if (pytester.path / extra).exists():
            output += "\n" + (pytester.path / extra).read_text()
    keys = {KEY, OTHER, PAT, ENV_KEY, DOC_KEY, BYTES_KEY, ATTR_KEY, *keys_file.read_text().split()}
    return result, output, keys


def _check_leak_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, config: str
) -> None:
    result, output, keys = _run_leak_suite(pytester, monkeypatch, config)
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) >= 15, output[-3000:]
    assert outcomes.get("skipped") == 1, outcomes
    assert outcomes.get("xfailed") == 2, outcomes
    assert outcomes.get("errors", 0) >= 1, outcomes  # the module that fails at import
    assert len(keys) >= 11, "the generated keys and the public tokens were kept"
    leaks = leaks_in(output, keys, KEY_NAMES)
    print(f"{config}: {len(keys)} keys, {len(output)} chars: {len(leaks)} leaks")
    assert leaks == [], "\n".join(leaks)
    assert "INTERNALERROR" not in output
    assert "Traceback (most recent call last)" not in output
    for case, printed in SHOWN_IN_EVERY_CONFIG.items():
        assert printed in output, case
    if "run.xml" in " ".join(LEAK_CONFIGS[config]):
        xml = (pytester.path / "run.xml").read_text()
        assert 'name="owner" value="tr_dev_****' in xml or 'owner="tr_dev_****' in xml
        assert '<property name="key" value="tr_dev_****' in xml
        assert "tokentr_prod_****" in xml
    if config == "tee-sys":  # printed as it was written, outside any report
        assert "captured tr_prod_****" in output
    if HAS_SUBTESTS and config != "tb-line":
        assert "with tr_prod_****" in output
        assert "in a subtest tr_prod_****" in output
    if config == "tb-line":  # redaction keeps pytest's short forms
        result.stdout.fnmatch_lines(
            [
                "*test_app.py:*: AssertionError: assert 'tr_prod_[*][*][*][*]????' == *",
                "FAILED test_app.py::test_assert_equal_keys - AssertionError: assert *",
            ]
        )
    if config == "logs-junit":
        result.stdout.fnmatch_lines(
            [
                "*live log call*",
                "*calling with tr_prod_[*][*][*][*]???? and tr_pat_[*][*][*][*]????",
                "SKIPPED [[]1[]] test_app.py:*: no service for tr_prod_[*][*][*][*]????",
            ]
        )
    # the seed note is there for a fixture asked for through getfixturevalue
    if config in ("default-junit", "verbose"):
        assert output.count("-- trigger-batches --") >= 10
    # two different keys stay distinguishable: each masked with its own fingerprint
    assert len(set(re.findall(r"tr_prod_\*\*\*\*[0-9a-f]{4}", output))) >= 2


@pytest.mark.parametrize("config", ["default-junit", "tee-sys"])
def test_no_leak_in_a_run_with_junit_or_tee_sys(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, config: str
) -> None:
    _check_leak_run(pytester, monkeypatch, config)


@pytest.mark.slow
@pytest.mark.parametrize(
    "config", [c for c in LEAK_CONFIGS if c not in ("default-junit", "tee-sys")]
)
def test_no_leak_under_other_output_settings(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, config: str
) -> None:
    _check_leak_run(pytester, monkeypatch, config)


def test_a_pytest_exit_reason_is_shown_redacted(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIGGER_SECRET_KEY", ENV_KEY)
    pytester.makepyfile(
        f"""
import os, pytest
{_joined("KEY", KEY_PARTS)}

def test_stop():
    pytest.exit("no service for " + KEY + ", token" + os.environ["TRIGGER_SECRET_KEY"])
"""
    )
    result = pytester.runpytest(*INNER)
    output = "\n".join(result.outlines + result.errlines)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert "Exit: no service for tr_prod_****" in output
    assert "tokentr_stg_****" in output
    assert leaks_in(output, [KEY, ENV_KEY]) == [], output
