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
import re
from collections.abc import Iterable

import httpx
import pytest
from inner_runs import inner_addopts

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
        server.accept_key(KEY)
        with httpx.Client() as client:
            answer = client.get(f"{server.base_url}/api/v9/{KEY}?key={KEY}", headers={"x": KEY})
        assert answer.status_code == 501
        places += [answer.text, repr(server), repr(server), repr(server.calls)]
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


# -- issue 13: the leak cases, tried adversarially -------------------------------------
#
# Each inner test below is one way a key used to leak. The suite runs under several
# output settings; every line printed, the JUnit XML and the log file are searched for
# every 8-character fragment of every key involved: the pinned key, the keys the
# fixtures generated, TRIGGER_SECRET_KEY, a personal access token and a public token.

OTHER_PARTS = ("tr_prod_", "Hh4Jj5Kk6L", "l7Mm8Nn9Pp")  # never given to the plugin
PAT_PARTS = ("tr_pat_", "Qq1Rr2Ss3T", "t4Uu5Vv6Ww7Xx8")
ENV_PARTS = ("tr_stg_", "Ee1Ff2Gg3H", "h4Ii5Jj6Kk")  # the environment's TRIGGER_SECRET_KEY
OTHER, PAT, ENV_KEY = ("".join(p) for p in (OTHER_PARTS, PAT_PARTS, ENV_PARTS))

LEAK_SUITE = f"""
import logging, os, warnings
import httpx, pytest
from pytest_trigger_batches.api import TriggerApi
from pytest_trigger_batches.server import TriggerApiServer

KEY = {KEY_PARTS[0]!r} + {KEY_PARTS[1]!r} + {KEY_PARTS[2]!r}
OTHER = {OTHER_PARTS[0]!r} + {OTHER_PARTS[1]!r} + {OTHER_PARTS[2]!r}
PAT = {PAT_PARTS[0]!r} + {PAT_PARTS[1]!r} + {PAT_PARTS[2]!r}
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
"""
LEAK_CASES = 18  # inner test items above: 17 functions, the parametrized one once per key
LEAK_CONFIGS: dict[str, tuple[str, ...]] = {
    "default": (),
    "verbose": ("-v",),
    "very-verbose-all": ("-vv", "-rA", "-l"),
    "tb-line": ("--tb=line", "-ra"),
    "logs-junit": ("--log-cli-level=INFO", "--log-file=run.log", "--junitxml=run.xml", "-rs"),
}


def fragments(key: str) -> set[str]:
    """Every 8-character piece of a key's secret part (or of a token's signed parts)."""
    secret = key.split(".", 1)[1] if key.startswith("eyJ") else key.split("_", 2)[2]
    secret = secret.lstrip("sk_")
    return {secret[i : i + 8] for i in range(len(secret) - 7)}


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
    pytester.makepyfile(test_app=LEAK_SUITE)
    result = pytester.runpytest(*INNER, "-W", "always::UserWarning", *LEAK_CONFIGS[config])
    output = "\n".join(result.outlines + result.errlines)
    for extra in ("run.log", "run.xml"):
        if (pytester.path / extra).exists():
            output += "\n" + (pytester.path / extra).read_text()
    keys = {KEY, OTHER, PAT, ENV_KEY, *keys_file.read_text().split()}
    return result, output, keys


def _leaks(output: str, keys: set[str]) -> list[str]:
    found = []
    for key in sorted(keys):
        found += [f"{key[:8]}...: {piece!r}" for piece in sorted(fragments(key)) if piece in output]
    return found


def _check_leak_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, config: str
) -> None:
    result, output, keys = _run_leak_suite(pytester, monkeypatch, config)
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) >= 12, output[-3000:]
    assert outcomes.get("skipped") == 1, outcomes
    assert outcomes.get("xfailed") == 2, outcomes
    assert len(keys) >= 8, "the generated keys and the public tokens were kept"
    leaks = _leaks(output, keys)
    print(
        f"{config}: {LEAK_CASES} cases, {len(keys)} keys, {len(output)} chars: {len(leaks)} leaks"
    )
    assert leaks == [], "\n".join(leaks)
    assert "INTERNALERROR" not in output
    assert "Traceback (most recent call last)" not in output
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
    if config in ("default", "verbose"):
        assert output.count("-- trigger-batches --") >= 10
    # two different keys stay distinguishable: each masked with its own fingerprint
    assert len(set(re.findall(r"tr_prod_\*\*\*\*[0-9a-f]{4}", output))) >= 2


def test_no_leak_at_default_verbosity(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _check_leak_run(pytester, monkeypatch, "default")


@pytest.mark.slow
@pytest.mark.parametrize("config", [c for c in LEAK_CONFIGS if c != "default"])
def test_no_leak_under_other_output_settings(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, config: str
) -> None:
    _check_leak_run(pytester, monkeypatch, config)
