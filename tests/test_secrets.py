"""The secret key never leaks: failure output, reprs, recorded calls, captured logs.

A suite fails in every way the plugin can fail (unexpected requests, assertion
helpers, faults, a bad key, the HTTP server's 501) and passes in others with the key
in URLs and headers, run with `--log-level=DEBUG -rA -vv -l` so every captured log,
output section and local variable is printed; every line is searched for each key
(whole, and its random part alone). Then every repr, exception message and recorded
call field is searched the same way. The count of leaks must be 0.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

import httpx
import pytest

from pytest_trigger_batches import BatchFactory, assert_batch_errors, assert_run_counts
from pytest_trigger_batches.api import TriggerApi, UnexpectedTriggerRequest
from pytest_trigger_batches.mock import MockTriggerApi
from pytest_trigger_batches.server import TriggerApiServer

INNER = ("-p", "no:randomly", "-p", "no:hypothesispytest")
# Split so that the source pytest prints never holds the whole key or its random part.
KEY_PARTS = ("tr_prod_", "Zq8XwV3nM5", "kP2rT7yB4c")
KEY = "".join(KEY_PARTS)


def secrets_in(text: str, keys: Iterable[str]) -> list[str]:
    """The keys (or their random parts, 20+ chars) that appear in `text`."""
    found = []
    for key in keys:
        secret = key.split("_", 2)[2]
        if key in text or secret in text:
            found.append(key)
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
    keep(trigger_api_server.api.secret_key)
    trigger_api_server.api.accept_key(KEY)
    url = trigger_api_server.base_url + "/api/v1/batches/x?key=" + KEY
    response = httpx.post(url, headers=AUTH)
    assert response.status_code == 501
    print(response.text)
    assert False, response.text

def test_server_verbose_log(trigger_batch_factory, capfd):
    from pytest_trigger_batches.server import TriggerApiServer
    with TriggerApiServer(verbose=True) as server:
        server.api.accept_key(KEY)
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
    for shown in (
        "Captured log call",
        "PASSED test_app.py::test_passing_with_key_in_logs",
        "tr_prod_****",
        "does not serve",
        "501",
    ):
        assert shown in output, shown


# -- reprs, messages and recorded calls, directly -------------------------------------


def test_no_repr_message_or_recorded_call_holds_a_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    factory = BatchFactory(seed=7)
    batch = factory("PARTIAL_FAILED", run_count=6)
    places: list[str] = []

    def messages_of(*calls: object) -> None:
        for call in calls:
            try:
                call()  # type: ignore[operator]
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
                    for method in ("DELETE",):
                        try:
                            client.request(method, url, headers=headers)
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
        server.api.accept_key(KEY)
        with httpx.Client() as client:
            answer = client.get(f"{server.base_url}/api/v9/{KEY}?key={KEY}", headers={"x": KEY})
        assert answer.status_code == 501
        places += [answer.text, repr(server), repr(server.api), repr(server.api.calls)]
    # httpx itself logs request URLs (a key in a query string too); what pytest prints of
    # those logs is redacted (the suite above). The plugin's own loggers must be clean.
    ours = [r for r in caplog.records if r.name.startswith("pytest_trigger_batches")]
    places += [record.getMessage() for record in ours]

    leaks = [place for place in places if secrets_in(place, [KEY])]
    print(
        f"\nsearched {len(places)} reprs, messages, call fields and log records: {len(leaks)} leaks"
    )
    assert len(api.calls) >= 25
    assert len(places) > 200
    assert leaks == [], "\n---\n".join(leaks)
