"""Tests never see each other's batches, faults, keys, calls or patches, in any order.

A generated suite of 300 tests registers batches, injects faults it leaves pending,
pins keys, drains the rate-limit bucket, and first checks that the mock it was given
is empty and that nothing else is patched. It passes in two random orders
(pytest-randomly) and under xdist, and with the same --trigger-seed every test builds
byte-identical payloads whatever ran before it: each test writes its payload to a
file named after its node id, and the files are compared across the runs.
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow  # inner pytest runs of 300 tests: `pytest -m slow`

PER_FILE = 100  # 3 files: 300 tests
SEED = "--trigger-seed=1234"
INNER = ("-p", "no:hypothesispytest")  # hypothesis' plugin costs ~1 s per in-process run

CONFTEST = '''
import json, os, pathlib
import httpx, pytest

@pytest.fixture(scope="session")
def client():
    with httpx.Client() as client:  # one client: building one per request is slow
        yield client

@pytest.fixture
def record(request):
    """Keep this test's payload, and the order tests ran in."""
    out = pathlib.Path(os.environ["ISOLATION_OUT"])
    def record(payload):
        name = request.node.nodeid.replace("/", "~").replace(":", "~")
        (out / "payloads").mkdir(parents=True, exist_ok=True)
        (out / "payloads" / f"{name}.json").write_text(json.dumps(payload, sort_keys=True))
    yield record
    with open(out / "order.txt", "a") as order:
        order.write(request.node.nodeid + "\\n")
'''

SUITE = '''
import httpx, pytest
from respx.mocks import Mocker

STATUSES = ["PENDING", "PROCESSING", "COMPLETED", "PARTIAL_FAILED", "ABORTED"]
UNPATCHED = (httpx.HTTPTransport.handle_request, httpx.AsyncHTTPTransport.handle_async_request)
K = {k}


def routers():
    return sum(len(mocker.routers) for mocker in Mocker.registry.values())


def auth(key):
    return {{"Authorization": "Bearer " + key}}


def assert_clean_start(api, client):
    """Nothing from an earlier test: no batch, call, pinned key, fault or spent token."""
    assert api.batches == []
    assert api.calls == []
    assert routers() == 1, "a respx router of an earlier test is still registered"
    stranger = "tr_prod_" + "Stranger" * 2 + "0000"
    probe = client.get(
        api.base_url + "/api/v1/batches/batch_cmx0ugyuv00004a7d2bda9ln4", headers=auth(stranger)
    )
    # 401: a pinned key leaked; 5xx, 429 or a timeout: a fault leaked; 749: a fresh bucket
    assert (probe.status_code, probe.json()) == (404, {{"error": "Not found"}})
    assert probe.headers["x-ratelimit-remaining"] == "749"
    api.calls.clear()


@pytest.mark.parametrize("n", range({batches}))
def test_batch(mock_trigger_api, trigger_batch_factory, client, record, n):
    assert_clean_start(mock_trigger_api, client)
    status = STATUSES[(n + K) % 5]
    batch = trigger_batch_factory(status, run_count=2 + n % 9)
    record(batch.to_payload())
    mock_trigger_api.add_batch(batch, progress_after=n % 3, environment="prod" if n % 2 else None)
    key = f"tr_prod_{{K}}{{n:04d}}" + "x" * 19
    mock_trigger_api.accept_key(key)
    mock_trigger_api.rate_limit(limit=5, refill=1, interval=3600)  # faulted ones spend too
    mock_trigger_api.fail_next("server_error", times=2, status_code=503)
    url = f"{{mock_trigger_api.base_url}}/api/v1/batches/{{batch.id}}"
    assert [client.get(url, headers=auth(key)).status_code for _ in range(6)] == [
        503, 503, 200, 200, 200, 429
    ]
    assert client.get(url, headers=auth("tr_prod_" + "y" * 24)).status_code == 401
    assert len(mock_trigger_api.calls) == 7
    mock_trigger_api.fail_next("timeout", times=3, required=False)  # left pending on purpose
    mock_trigger_api.add_batch(trigger_batch_factory("COMPLETED"))  # never retrieved


@pytest.mark.trigger_batch("PARTIAL_FAILED", run_count=12)
@pytest.mark.parametrize("n", range({marked}))
def test_marked(mock_trigger_api, trigger_batch, client, record, n):
    (handle,) = mock_trigger_api.batches
    assert handle.final == trigger_batch
    assert mock_trigger_api.calls == []
    assert routers() == 1
    record(trigger_batch.to_payload(version=2))
    response = client.get(
        f"{{mock_trigger_api.base_url}}/api/v2/batches/{{trigger_batch.id}}",
        headers=auth(mock_trigger_api.secret_key),
    )
    assert response.json() == trigger_batch.to_payload(version=2)
    mock_trigger_api.fail_next("connect_error", times=5, required=False)  # left pending on purpose


@pytest.mark.parametrize("n", range({untouched}))
def test_untouched(record, n):
    """A test without the mock finds httpx unpatched and no router left behind."""
    assert routers() == 0
    assert (
        httpx.HTTPTransport.handle_request, httpx.AsyncHTTPTransport.handle_async_request
    ) == UNPATCHED
    record(None)
'''


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    for k in range(3):
        source = SUITE.format(k=k, batches=60, marked=30, untouched=PER_FILE - 90)
        pytester.makepyfile(**{f"test_suite_{k}": source})
    return pytester


def run(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, name: str, *args: str
) -> tuple[dict[str, object], list[str]]:
    """Run the suite; return {nodeid-ish: payload} and the order the tests ran in."""
    out = suite.path.parent / f"{suite.path.name}-{name}"
    out.mkdir()
    monkeypatch.setenv("ISOLATION_OUT", str(out))
    result = suite.runpytest(*INNER, *args)
    result.assert_outcomes(passed=3 * PER_FILE)
    payloads = {
        path.stem: json.loads(path.read_text()) for path in (out / "payloads").glob("*.json")
    }
    order = (out / "order.txt").read_text().split()
    assert len(payloads) == len(order) == 3 * PER_FILE
    return payloads, order


def test_random_orders_pass_and_build_the_same_payloads(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, first_order = run(suite, monkeypatch, "a", "-p", "randomly", SEED, "--randomly-seed=1")
    second, second_order = run(suite, monkeypatch, "b", "-p", "randomly", SEED, "--randomly-seed=2")
    assert first_order != second_order, "pytest-randomly did not reorder the tests"
    assert sorted(first_order) == sorted(second_order)
    assert first == second
    distinct = {json.dumps(p, sort_keys=True) for p in first.values() if p is not None}
    assert len(distinct) == 270, "every test builds its own batch"


def test_xdist_and_in_order_runs_build_the_same_payloads_and_the_seed_matters(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_order, _ = run(suite, monkeypatch, "serial", "-p", "no:randomly", SEED)
    distributed, _ = run(suite, monkeypatch, "xdist", "-n", "2", "-p", "randomly", SEED)
    assert distributed == in_order
    # The comparisons can fail: another seed changes every batch.
    other, _ = run(suite, monkeypatch, "other", "-p", "no:randomly", "--trigger-seed=99")
    assert other.keys() == in_order.keys()
    built = [name for name, payload in in_order.items() if payload is not None]
    assert len(built) == 270
    assert all(in_order[name]["id"] != other[name]["id"] for name in built)  # type: ignore[index]
