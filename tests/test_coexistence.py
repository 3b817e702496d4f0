"""Next to the plugins users already have: each combination that matters, in a user's run.

Each test runs a small user suite with the other plugin active (pytester). A plugin that
is not installed skips its test, except where `.ci/run` installs the `compat` group
(its 3.11 run sets `TRIGGER_BATCHES_COMPAT=required`): there a missing plugin fails.
Covered elsewhere, with one home each: pytest-httpx (tests/test_escape_hatch.py),
pytest-xdist and pytest-randomly (tests/test_plugin_core.py, tests/test_isolation.py).
"""

from __future__ import annotations

import importlib.util
import os

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
