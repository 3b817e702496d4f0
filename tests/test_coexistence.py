"""Next to the plugins users already have: each combination that matters, in a user's run.

Each test runs a small user suite with the other plugin active (pytester). A plugin that
is not installed skips its test, except where `.ci/run` installs the `compat` group
(its 3.11 run sets `TRIGGER_BATCHES_COMPAT=required`): there a missing plugin fails.
Covered elsewhere, with one home each: pytest-httpx with `mock_trigger_api`
(tests/test_escape_hatch.py), pytest-xdist and pytest-randomly (tests/test_plugin_core.py,
tests/test_isolation.py). Where another plugin would break a fixture, the fixture fails at
set-up saying what to do (`neighbours.py`); each such test shows that failure and the recipe
passing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
from pathlib import Path

import pytest

QUIET = ("-p", "no:randomly", "-p", "no:hypothesispytest")

APP = """
import httpx

async def fetch(base_url, key, batch_id):
    async with httpx.AsyncClient(base_url=base_url) as client:
        answer = await client.get(
            f"/api/v1/batches/{batch_id}", headers={"Authorization": f"Bearer {key}"}
        )
        return answer.json()
"""


def need(module: str) -> None:
    """Skip when `module` is missing; fail where the compat extra is meant to be installed."""
    if importlib.util.find_spec(module) is None:
        if os.environ.get("TRIGGER_BATCHES_COMPAT") == "required":
            pytest.fail(f"{module} is not installed, and TRIGGER_BATCHES_COMPAT=required")
        pytest.skip(f"{module} is not installed (pip install -e . --group compat)")


# -- asyncio: pytest-asyncio (strict and auto), anyio (asyncio and trio) ------------------

ASYNCIO_SUITE = """
import pytest
from app import fetch

{mark}
async def test_the_mock_answers_an_async_client(mock_trigger_api, trigger_batch_factory):
    batch = trigger_batch_factory("PARTIAL_FAILED")
    mock_trigger_api.add_batch(batch)
    body = await fetch(mock_trigger_api.base_url, mock_trigger_api.secret_key, batch.id)
    assert body == batch.to_payload()

{mark}
@pytest.mark.trigger_batch("COMPLETED")
async def test_the_server_answers_an_async_client(trigger_api_server, trigger_batch):
    body = await fetch(trigger_api_server.base_url, trigger_api_server.secret_key, trigger_batch.id)
    assert body["status"] == "COMPLETED"
    trigger_api_server.assert_retrieved(trigger_batch, times=1)
"""


@pytest.mark.parametrize(
    ("mode", "mark"),
    [("strict", "@pytest.mark.asyncio"), ("auto", "")],
)
def test_pytest_asyncio(pytester: pytest.Pytester, mode: str, mark: str) -> None:
    need("pytest_asyncio")
    pytester.makepyfile(app=APP, test_app=ASYNCIO_SUITE.format(mark=mark))
    pytester.syspathinsert()
    result = pytester.runpytest(*QUIET, "-p", "asyncio", "-o", f"asyncio_mode={mode}")
    result.assert_outcomes(passed=2)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_anyio(pytester: pytest.Pytester, backend: str) -> None:
    need("anyio")
    if backend == "trio":
        need("trio")
    pytester.makepyfile(
        app=APP,
        test_app=(
            "import pytest\n\n"
            "@pytest.fixture\n"
            f"def anyio_backend():\n    return {backend!r}\n"
            + ASYNCIO_SUITE.format(mark="@pytest.mark.anyio")
        ),
    )
    pytester.syspathinsert()
    result = pytester.runpytest(*QUIET)  # with pytest-asyncio too when it is installed
    result.assert_outcomes(passed=2)


# -- faker, installed by the user: its own `faker` fixture, and the plugin's seeds -----------
# faker is not a dependency (the factory's text ships as data); a project may still have it.

FAKER_SUITE = """
import json, pathlib

def test_both(faker, trigger_batch_factory):
    assert isinstance(faker.name(), str)
    batch = trigger_batch_factory("PARTIAL_FAILED", run_count=20)
    pathlib.Path("with-faker.json").write_text(json.dumps(batch.to_payload()))

def test_ours_alone(trigger_batch_factory):
    batch = trigger_batch_factory("PARTIAL_FAILED", run_count=20)
    pathlib.Path("alone.json").write_text(json.dumps(batch.to_payload()))
"""


def test_fakers_fixture_leaves_the_batches_alone(pytester: pytest.Pytester) -> None:
    """Using faker's `faker` fixture (which reseeds its instance) changes no batch."""
    need("faker")
    pytester.makepyfile(test_app=FAKER_SUITE)
    first = pytester.runpytest(*QUIET, "--trigger-seed=7", "-p", "faker")
    first.assert_outcomes(passed=2)
    with_faker = (pytester.path / "with-faker.json").read_text()
    again = pytester.runpytest(*QUIET, "--trigger-seed=7", "-p", "faker", "-p", "randomly")
    again.assert_outcomes(passed=2)
    assert (pytester.path / "with-faker.json").read_text() == with_faker
    # Without faker's plugin (`-p no:faker`) the same test gets the same batch.
    lean_suite = FAKER_SUITE.replace("(faker, trigger_batch_factory)", "(trigger_batch_factory)")
    pytester.makepyfile(test_app=lean_suite.replace("    assert isinstance(faker.name(), str)", ""))
    lean = pytester.runpytest(*QUIET, "--trigger-seed=7", "-p", "no:faker")
    lean.assert_outcomes(passed=2)
    assert (pytester.path / "with-faker.json").read_text() == with_faker


# -- pytest-rerunfailures: a rerun starts from a fresh mock --------------------------------

RERUN_SUITE = """
import httpx, pathlib

def test_flaky(mock_trigger_api, trigger_batch_factory):
    assert mock_trigger_api.batches == [] and mock_trigger_api.calls == []
    batch = trigger_batch_factory("COMPLETED")
    mock_trigger_api.add_batch(batch)
    mock_trigger_api.fail_next("server_error")
    ids = pathlib.Path("ids.txt")
    ids.write_text(ids.read_text() + batch.id + "\\n" if ids.exists() else batch.id + "\\n")
    key = {"Authorization": "Bearer " + mock_trigger_api.secret_key}
    status = httpx.get(f"{mock_trigger_api.base_url}/api/v1/batches/{batch.id}", headers=key)
    assert len(ids.read_text().split()) == 3, "fails twice, then passes"
    assert status.status_code == 500  # the fault of this attempt, not a leftover
"""


def test_pytest_rerunfailures(pytester: pytest.Pytester) -> None:
    need("pytest_rerunfailures")
    pytester.makepyfile(test_app=RERUN_SUITE)
    result = pytester.runpytest(*QUIET, "-p", "rerunfailures", "--reruns=2", "--trigger-seed=3")
    outcomes = result.parseoutcomes()
    assert (outcomes.get("passed"), outcomes.get("rerun")) == (1, 2), result.stdout.str()
    ids = (pytester.path / "ids.txt").read_text().split()
    assert len(set(ids)) == 1, "each attempt rebuilds the same batch from the test's seed"


# -- pytest-timeout: a timed-out test leaves nothing behind ---------------------------------

TIMEOUT_SUITE = """
import time, httpx, pytest

@pytest.mark.trigger_batch("PENDING")
def test_hangs(trigger_api_server, mock_trigger_api):
    mock_trigger_api.fail_next("timeout")
    time.sleep(30)

def test_next(trigger_api_server, mock_trigger_api, trigger_batch_factory):
    assert trigger_api_server.batches == [] and mock_trigger_api.batches == []
    batch = trigger_batch_factory()
    trigger_api_server.add_batch(batch)
    key = {"Authorization": "Bearer " + trigger_api_server.secret_key}
    url = f"{trigger_api_server.base_url}/api/v1/batches/{batch.id}"
    assert httpx.get(url, headers=key).status_code == 200
"""


def test_pytest_timeout(pytester: pytest.Pytester) -> None:
    """The signal method (the default on POSIX) fails the test and the run goes on clean."""
    need("pytest_timeout")
    pytester.makepyfile(test_app=TIMEOUT_SUITE)
    result = pytester.runpytest(*QUIET, "-p", "timeout", "--timeout=1", "--timeout-method=signal")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*Failed: Timeout*"])


# -- pytest-cov: the user's code is measured, the plugin is not in the way ------------------

COVERED_APP = """
import httpx

def failed_count(base_url, key, batch_id):
    answer = httpx.get(f"{base_url}/api/v1/batches/{batch_id}",
                       headers={"Authorization": f"Bearer {key}"})
    if answer.status_code != 200:
        return None
    return answer.json()["failedRunCount"]
"""

COVERED_SUITE = """
import pytest
from covered_app import failed_count

@pytest.mark.trigger_batch("PARTIAL_FAILED", run_count=10, failed_count=3)
def test_counts(mock_trigger_api, trigger_batch):
    key = mock_trigger_api.secret_key
    assert failed_count(mock_trigger_api.base_url, key, trigger_batch.id) == 3
    assert failed_count(mock_trigger_api.base_url, key, "batch_cmx0ugyuv00004a7d2bda9ln4") is None
"""


def test_pytest_cov(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    need("pytest_cov")
    pytester.makepyfile(covered_app=COVERED_APP, test_app=COVERED_SUITE)
    monkeypatch.setenv("PYTHONPATH", str(pytester.path))
    # A subprocess: coverage in this process (CI measures this suite) must not be stopped.
    result = pytester.runpytest_subprocess(
        *QUIET, "-p", "pytest_cov", "--cov=covered_app", "--cov-branch", "--cov-report=term"
    )
    result.assert_outcomes(passed=1)
    result.stdout.re_match_lines([r"covered_app\.py\s+\d+\s+0\s+\d+\s+0\s+100%"])


# -- pytest-socket and pytest-recording's --block-network: the server needs 127.0.0.1 -------

SOCKETS_SUITE = """
import httpx, pytest

def status(api, batch):
    key = {"Authorization": "Bearer " + api.secret_key}
    return httpx.get(f"{api.base_url}/api/v1/batches/{batch.id}", headers=key).json()["status"]

@pytest.mark.trigger_batch("COMPLETED")
def test_server(trigger_api_server, trigger_batch):
    assert status(trigger_api_server, trigger_batch) == "COMPLETED"

@pytest.mark.{allow}
@pytest.mark.trigger_batch("COMPLETED")
def test_server_allowed(trigger_api_server, trigger_batch):
    assert status(trigger_api_server, trigger_batch) == "COMPLETED"

@pytest.mark.trigger_batch("COMPLETED")
def test_mock(mock_trigger_api, trigger_batch):
    assert status(mock_trigger_api, trigger_batch) == "COMPLETED"
"""


@pytest.fixture
def inner_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The socket module as it is now, back after the test: the plugins below reset it."""
    import socket

    for owner, name in [
        (socket, "socket"),
        (socket, "getaddrinfo"),
        (socket, "gethostbyname"),
        (socket, "socketpair"),
        (socket.socket, "connect"),
        (socket.socket, "connect_ex"),
    ]:
        monkeypatch.setattr(owner, name, getattr(owner, name))


@pytest.mark.parametrize(
    ("options", "allow"),
    [
        (("-p", "socket", "--disable-socket"), 'allow_hosts(["127.0.0.1"])'),
        (("-p", "socket", "--allow-hosts=192.0.2.1"), "enable_socket"),
        (("-p", "socket", "--disable-socket", "--allow-hosts=127.0.0.1"), "enable_socket"),
    ],
    ids=["disable-socket", "allow-hosts-elsewhere", "allow-hosts-loopback"],
)
def test_pytest_socket_blocking_loopback_fails_the_server_saying_how_to_allow_it(
    pytester: pytest.Pytester, inner_sockets: None, options: tuple[str, ...], allow: str
) -> None:
    need("pytest_socket")
    pytester.makepyfile(test_app=SOCKETS_SUITE.replace("{allow}", allow))
    result = pytester.runpytest(*QUIET, *options)
    if "--allow-hosts=127.0.0.1" in options:  # the recipe: every test passes
        result.assert_outcomes(passed=3)
        return
    result.assert_outcomes(passed=2, errors=1)  # the marked test and the in-process mock pass
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_server*",
            "trigger_api_server listens on 127.0.0.1 *pytest-socket blocks it in this test. "
            "*@pytest.mark.allow_hosts([[]*127.0.0.1*]) or @pytest.mark.enable_socket, or "
            "run with --allow-hosts=127.0.0.1*",
        ]
    )


def test_pytest_recordings_block_network_fails_the_server_saying_how_to_allow_it(
    pytester: pytest.Pytester, inner_sockets: None
) -> None:
    need("pytest_recording")
    pytester.makepyfile(
        test_app=SOCKETS_SUITE.replace("{allow}", 'block_network(allowed_hosts=["127.0.0.1"])')
    )
    result = pytester.runpytest(*QUIET, "-p", "recording", "--block-network")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_server*",
            "trigger_api_server listens on 127.0.0.1 *pytest-recording's network blocking*"
            "--allowed-hosts=127.0.0.1*",
        ]
    )
    allowed = pytester.runpytest(
        *QUIET, "-p", "recording", "--block-network", "--allowed-hosts=127.0.0.1"
    )
    allowed.assert_outcomes(passed=3)


# -- pytest-httpx next to the server: httpx_mock would answer the loopback requests ---------

HTTPX_MOCK_SUITE = """
import httpx, pytest

def test_unset(httpx_mock, trigger_api_server):
    pass

@pytest.mark.httpx_mock(should_mock=lambda request: request.url.host != "127.0.0.1")
@pytest.mark.trigger_batch("PENDING")
def test_loopback_left_alone(httpx_mock, trigger_api_server, trigger_batch):
    httpx_mock.add_response(url="https://hooks.example/notify", json={"ok": True})
    key = {"Authorization": "Bearer " + trigger_api_server.secret_key}
    url = f"{trigger_api_server.base_url}/api/v1/batches/{trigger_batch.id}"
    assert httpx.get(url, headers=key).json()["status"] == "PENDING"
    assert httpx.post("https://hooks.example/notify").json() == {"ok": True}
    trigger_api_server.assert_retrieved(trigger_batch, times=1)
"""


def test_httpx_mock_next_to_the_server_fails_unless_it_leaves_loopback_alone(
    pytester: pytest.Pytester,
) -> None:
    need("pytest_httpx")
    pytester.makepyfile(test_app=HTTPX_MOCK_SUITE)
    result = pytester.runpytest(*QUIET, "-p", "pytest_httpx")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*trigger_api_server and pytest-httpx's httpx_mock are both used in this test, and "
            "httpx_mock would answer every httpx request to trigger_api_server (127.0.0.1)*",
            '*@pytest.mark.httpx_mock(should_mock=lambda request: request.url.host != "127.0.0.1")',
        ]
    )


# -- vcrpy and pytest-recording: cassettes leave the Trigger.dev origin to the mock ----------

RECORDED_APP = """
import httpx

def report(api, batch_id):
    key = {"Authorization": "Bearer " + api.secret_key}
    status = httpx.get(f"{api.base_url}/api/v1/batches/{batch_id}", headers=key).json()["status"]
    # The app tells another service, which it reaches with the same key.
    httpx.post("https://hooks.example/batches", json={"id": batch_id, "status": status},
               headers=key)
    return status
"""

RECORDED_SUITE = """
import pytest
from recorded_app import report

pytestmark = [pytest.mark.vcr, pytest.mark.respx(assert_all_called=False)]

@pytest.mark.trigger_batch("COMPLETED")
def test_mock(mock_trigger_api, trigger_batch, respx_mock):
    respx_mock.post("https://hooks.example/batches").respond(json={"ok": True})
    assert report(mock_trigger_api, trigger_batch.id) == "COMPLETED"
    mock_trigger_api.assert_retrieved(trigger_batch, times=1)

@pytest.mark.trigger_batch("COMPLETED")
def test_server(trigger_api_server, trigger_batch, respx_mock):
    respx_mock.route(host="127.0.0.1").pass_through()
    respx_mock.post("https://hooks.example/batches").respond(json={"ok": True})
    assert report(trigger_api_server, trigger_batch.id) == "COMPLETED"
"""

# The conftest the documentation shows (docs/recipes/other-plugins.md), run as it is.
VCR_CONFIG = (
    Path(__file__).resolve().parents[1] / "docs/examples/recipes/other_plugins/vcr_conftest.py"
).read_text(encoding="utf-8")


def test_pytest_recording_cassettes_leave_trigger_dev_to_the_mock_with_the_seed_pinned(
    pytester: pytest.Pytester,
) -> None:
    need("pytest_recording")
    import vcr  # noqa: F401 - kept loaded across the inner runs

    pytester.makepyfile(recorded_app=RECORDED_APP, test_app=RECORDED_SUITE)
    pytester.syspathinsert()
    bare = pytester.runpytest(*QUIET, "-p", "recording", "--record-mode=once")
    bare.assert_outcomes(errors=2)
    bare.stdout.fnmatch_lines(
        [
            "*mock_trigger_api and a vcr cassette are both used in this test*",
            '*pytest-recording: a vcr_config fixture that returns {"ignore_hosts": '
            '[[]"api.trigger.dev"]}',
            '*pytest-recording: a vcr_config fixture that returns {"ignore_localhost": True}',
            "*vcrpy: vcr.VCR(ignore_localhost=True)",
        ]
    )
    pytester.makeconftest(VCR_CONFIG)
    recorded = pytester.runpytest(*QUIET, "--record-mode=once", "--trigger-seed=5")
    recorded.assert_outcomes(passed=2)
    cassette = (pytester.path / "cassettes" / "test_app" / "test_mock.yaml").read_text()
    assert "hooks.example" in cassette
    assert "api.trigger.dev" not in cassette  # the mock answered Trigger.dev
    assert "tr_dev_****" in cassette
    assert not re.search(r"tr_dev_[0-9A-Za-z]{20}", cassette), "the key is redacted"
    replayed = pytester.runpytest(*QUIET, "--record-mode=none", "--trigger-seed=5")
    replayed.assert_outcomes(passed=2)
    reseeded = pytester.runpytest(*QUIET, "--record-mode=none", "--trigger-seed=6")
    reseeded.assert_outcomes(failed=2)  # other batch ids: the cassette holds no such request
    reseeded.stdout.fnmatch_lines(["*CannotOverwriteExistingCassetteException*"])


def test_redact_request_records_every_known_key_redacted_in_headers_url_and_body() -> None:
    need("vcr")
    from vcr.request import Request as VcrRequest

    from pytest_trigger_batches.ids import secret_key
    from pytest_trigger_batches.neighbours import redact_request

    key = secret_key("prod")  # a key the plugin made, so one it knows
    body = json.dumps({"key": key, "n": 1}).encode()
    recorded = redact_request(
        VcrRequest("POST", f"https://hooks.example/x?k={key}", body, {"x-key": key})
    )
    seen = f"{recorded.uri} {recorded.headers['x-key']} {recorded.body.decode()}"
    assert key not in seen
    assert key[-8:] not in seen  # not even a fragment
    assert seen.count("tr_prod_****") == 3
    binary = redact_request(VcrRequest("POST", "https://hooks.example/x", b"\xff" + b"\0", {}))
    assert binary.body == b"\xff\0"  # not text: left as it is


VCRPY_SUITE = """
import pytest, vcr

@pytest.fixture
def cassette(tmp_path):
    with vcr.VCR(record_mode="once").use_cassette(str(tmp_path / "c.yaml")) as cassette:
        yield cassette

@pytest.fixture
def ignoring(tmp_path):
    recorder = vcr.VCR(record_mode="once", ignore_hosts=["api.trigger.dev"])
    with recorder.use_cassette(str(tmp_path / "c.yaml")) as cassette:
        yield cassette

def test_cassette_first(cassette, mock_trigger_api):
    pass

def test_ignoring(ignoring, mock_trigger_api):
    pass
"""


def test_a_vcrpy_cassette_in_a_fixture_must_ignore_the_trigger_dev_host(
    pytester: pytest.Pytester,
) -> None:
    need("vcr")
    import vcr  # noqa: F401 - kept loaded across the inner runs

    pytester.makepyfile(test_app=VCRPY_SUITE)
    result = pytester.runpytest(*QUIET, "-p", "no:recording")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_cassette_first*",
            "mock_trigger_api and a vcr cassette are both used in this test*",
            '*vcrpy: vcr.VCR(ignore_hosts=[[]"api.trigger.dev"])',
        ]
    )


# -- hypothesis: the strategies, and one mock per example --------------------------------

HYPOTHESIS_SUITE = """
import httpx
from hypothesis import HealthCheck, given, settings
from pytest_trigger_batches import MockTriggerApi
from pytest_trigger_batches.strategies import batches

EXAMPLES = settings(max_examples=5, database=None, deadline=None)
REUSED = settings(EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture])

def failed_items(api, batch_id):
    key = {"Authorization": "Bearer " + api.secret_key}
    body = httpx.get(f"{api.base_url}/api/v1/batches/{batch_id}", headers=key).json()
    return body.get("failedRunCount", 0)

@EXAMPLES
@given(batch=batches())
def test_fixture(mock_trigger_api, batch):
    pass

@EXAMPLES
@given(batch=batches())
def test_one_mock_per_example(batch):
    with MockTriggerApi() as api:
        api.add_batch(batch)
        assert failed_items(api, batch.id) == (batch.failed_run_count or 0)
        assert len(api.calls) == 1

@REUSED
@given(batch=batches())
def test_fixture_reset(mock_trigger_api, batch):
    mock_trigger_api.reset()
    mock_trigger_api.add_batch(batch)
    assert failed_items(mock_trigger_api, batch.id) == (batch.failed_run_count or 0)
    assert len(mock_trigger_api.calls) == 1

@REUSED
@given(batch=batches())
def test_fixture_not_reset(mock_trigger_api, batch):
    mock_trigger_api.add_batch(batch)
    assert failed_items(mock_trigger_api, batch.id) == (batch.failed_run_count or 0)
    assert len(mock_trigger_api.calls) == 1
"""


def test_hypothesis_with_a_mock_per_example_or_a_reset_fixture(pytester: pytest.Pytester) -> None:
    need("hypothesis")
    pytester.makepyfile(test_app=HYPOTHESIS_SUITE)
    result = pytester.runpytest("-p", "no:randomly", "-p", "hypothesispytest")
    result.assert_outcomes(passed=2, failed=2)
    # The health check names the fixture and the test (its wording varies by version).
    result.stdout.fnmatch_lines(["*FailedHealthCheck: *mock_trigger_api*"])
    result.stdout.fnmatch_lines(["*FAILED test_app.py::test_fixture - *FailedHealthCheck*"])
    # Without reset() the examples' calls pile up in the one mock.
    result.stdout.fnmatch_lines(["*_ test_fixture_not_reset _*", "*AssertionError: assert * == 1"])
    result.stdout.no_fnmatch_line("*test_fixture_reset - *")


# -- syrupy: snapshots need the seed pinned (and the clock, for what the mock reads) ---------

SNAPSHOT_SUITE = """
import httpx, pytest

def test_batch(trigger_batch_factory, snapshot):
    assert trigger_batch_factory("PARTIAL_FAILED", run_count=4).to_payload() == snapshot

@pytest.mark.trigger_api(clock=lambda: 1_780_000_000.0)
def test_answer(mock_trigger_api, trigger_batch_factory, snapshot):
    batch = trigger_batch_factory("COMPLETED", run_count=2)
    mock_trigger_api.add_batch(batch)
    key = {"Authorization": "Bearer " + mock_trigger_api.secret_key}
    answer = httpx.get(f"https://api.trigger.dev/api/v1/batches/{batch.id}", headers=key)
    assert {"body": answer.json(), "reset": answer.headers["x-ratelimit-reset"]} == snapshot
"""

PINNED_BY_FIXTURE = """
import pytest

@pytest.fixture
def trigger_seed():
    return 1234

def test_batch(trigger_batch_factory, snapshot):
    assert trigger_batch_factory("ABORTED", run_count=3).to_payload() == snapshot

def test_mock(mock_trigger_api, snapshot):
    pass
"""


def test_syrupy_snapshots_need_the_seed_pinned(pytester: pytest.Pytester) -> None:
    need("syrupy")
    pytester.makepyfile(test_app=SNAPSHOT_SUITE, test_fixed=PINNED_BY_FIXTURE)
    unpinned = pytester.runpytest(*QUIET, "--snapshot-update")
    unpinned.assert_outcomes(passed=1, errors=3)  # only the factory under a fixed trigger_seed
    unpinned.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_batch*",
            "trigger_batch_factory and a snapshot fixture are both used in this test, but the "
            "seed is not pinned*--trigger-seed=N*or override the trigger_seed fixture. *"
            "pin the clock too: @pytest.mark.trigger_api(clock=*",
            "*ERROR at setup of test_answer*",
            "mock_trigger_api and a snapshot fixture are both used in this test*",
            "*ERROR at setup of test_mock*",
            "mock_trigger_api and a snapshot fixture*the trigger_seed fixture pins only the "
            "factory's batches*",
        ]
    )
    pytester.makepyfile(test_fixed=PINNED_BY_FIXTURE.split("def test_mock")[0])
    pytester.runpytest(*QUIET, "--trigger-seed=7", "--snapshot-update").assert_outcomes(passed=3)
    pytester.runpytest(*QUIET, "--trigger-seed=7").assert_outcomes(passed=3)
    other = pytester.runpytest(*QUIET, "--trigger-seed=8")  # what an unpinned seed would do
    other.assert_outcomes(passed=1, failed=2)
