"""The mock never answers a request it does not understand, and says why.

Each case is a small test run through pytest itself: an unknown path, a wrong method,
a trailing slash, another API version, a request swallowed by careless code, and
requests to another origin than the one the test set (which must reach `respx_mock`,
or the network, never the mock). The inner runs block every non-loopback connection,
so a request that escaped the mock fails instead of reaching the internet.
"""

from __future__ import annotations

import pytest

INNER = ("-p", "no:randomly", "-p", "no:hypothesispytest")

GUARD = """
import socket
import pytest

_LOOPBACK = ("127.0.0.1", "::1", "localhost")
_getaddrinfo = socket.getaddrinfo


def _guarded(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if name not in _LOOPBACK:
        raise OSError(f"socket guard: blocked a connection to {name}")
    return _getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True)
def socket_guard(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", _guarded)
"""

HEADER = """
import asyncio
import httpx, pytest

KEY = "tr_dev_" + "s" * 24
AUTH = {"Authorization": "Bearer " + KEY}


@pytest.fixture
def batch_id(mock_trigger_api, trigger_batch_factory):
    return mock_trigger_api.add_batch(trigger_batch_factory("COMPLETED")).id

"""

API = "https://api.trigger.dev"
NOT_SERVED = "*UnexpectedTriggerRequest: mock_trigger_api does not serve {method} {url}"
CLOSEST = "*closest match: GET {route}*"


def request(method: str, path: str) -> str:
    return (
        "def test_app(mock_trigger_api, batch_id):\n"
        f"    httpx.request({method!r}, f'{API}{path}', headers=AUTH)\n"
    )


UNEXPECTED = [
    pytest.param(
        request("GET", "/api/v1/batch/{batch_id}"),
        [
            NOT_SERVED.format(method="GET", url=f"{API}/api/v1/batch/batch_*"),
            "*it serves:",
            "*    GET /api/v1/batches/{batchId}",
            CLOSEST.format(route="/api/v1/batches/{batchId}"),
        ],
        id="unknown-path-singular",
    ),
    pytest.param(
        request("GET", "/api/v3/batches/{batch_id}"),
        [
            NOT_SERVED.format(method="GET", url=f"{API}/api/v3/batches/batch_*"),
            CLOSEST.format(route="/api/v?/batches/{batchId}"),
        ],
        id="api-v3",
    ),
    pytest.param(
        request("GET", "/api/v1/runs/run_cmx0ugyuv00014a7da3uz70rc"),
        [NOT_SERVED.format(method="GET", url=f"{API}/api/v1/runs/run_cmx0ugyuv00014a7da3uz70rc")],
        id="another-endpoint",
    ),
    pytest.param(
        request("GET", "/api/v1/batches"),
        [NOT_SERVED.format(method="GET", url=f"{API}/api/v1/batches")],
        id="batch-list",
    ),
    pytest.param(
        request("GET", "/api/v1/batches/"),
        [NOT_SERVED.format(method="GET", url=f"{API}/api/v1/batches/")],
        id="empty-batch-id",
    ),
    pytest.param(
        request("GET", "/api/v1/batches/{batch_id}/runs"),
        [NOT_SERVED.format(method="GET", url=f"{API}/api/v1/batches/batch_*/runs")],
        id="sub-resource",
    ),
    pytest.param(
        request("GET", "//api/v1/batches/{batch_id}"),
        [NOT_SERVED.format(method="GET", url=f"{API}//api/v1/batches/batch_*")],
        id="double-slash",
    ),
    pytest.param(
        request("GET", "/API/V1/batches/{batch_id}"),
        [NOT_SERVED.format(method="GET", url=f"{API}/API/V1/batches/batch_*")],
        id="upper-case-path",
    ),
    pytest.param(
        request("GET", "/"),
        [NOT_SERVED.format(method="GET", url=f"{API}/")],
        id="root",
    ),
    *[
        pytest.param(
            request(method, "/api/v1/batches/{batch_id}"),
            [
                NOT_SERVED.format(method=method, url=f"{API}/api/v1/batches/batch_*"),
                f"*closest match: GET /api/v1/batches/{{batchId}} (the method differs: {method} "
                "instead of GET)",
            ],
            id=f"method-{method}",
        )
        for method in ("POST", "PUT", "DELETE", "PATCH")
    ],
    pytest.param(
        "def test_app(mock_trigger_api, batch_id):\n"
        "    async def go():\n"
        "        async with httpx.AsyncClient(base_url='" + API + "') as client:\n"
        "            await client.post(f'/api/v2/batches/{batch_id}', headers=AUTH, json={})\n"
        "    asyncio.run(go())\n",
        [
            NOT_SERVED.format(method="POST", url=f"{API}/api/v2/batches/batch_*"),
            "*(the method differs: POST instead of GET)",
        ],
        id="async-POST",
    ),
]


@pytest.mark.parametrize(("source", "lines"), UNEXPECTED)
def test_a_request_the_mock_does_not_serve_fails_the_test(
    pytester: pytest.Pytester, source: str, lines: list[str]
) -> None:
    pytester.makeconftest(GUARD)
    pytester.makepyfile(HEADER + source)
    result = pytester.runpytest(*INNER)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [*lines, "*the mock does not serve it yet: answer it in the test with *.add_route(*"]
    )
    assert "tr_dev_ssss" not in result.stdout.str()


def test_an_unexpected_request_swallowed_by_the_code_still_fails(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(GUARD)
    pytester.makepyfile(
        HEADER
        + """
def test_app(mock_trigger_api, batch_id):
    for method in ("PUT", "DELETE"):
        try:
            httpx.request(method, f"https://api.trigger.dev/api/v1/batches/{batch_id}/")
        except AssertionError:
            pass  # careless application code
"""
    )
    result = pytester.runpytest(*INNER)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*mock_trigger_api received 2 request(s) it does not serve (the code under test "
            "caught the error):",
            "*PUT https://api.trigger.dev/api/v1/batches/batch_*/ -> unexpected",
            "*DELETE https://api.trigger.dev/api/v1/batches/batch_*/ -> unexpected",
        ]
    )


# -- another origin: never answered by the mock ----------------------------------------

OTHER_TRIGGER_ORIGIN = (
    "*UnexpectedTriggerRequest: mock_trigger_api stands in for *: another Trigger.dev origin*"
)
OTHER_ORIGIN = [
    pytest.param(
        """
@pytest.mark.trigger_api(base_url="https://trigger.internal")
def test_app(mock_trigger_api, respx_mock, trigger_batch_factory):
    batch = trigger_batch_factory()
    mock_trigger_api.add_batch(batch)
    route = respx_mock.get(f"https://api.trigger.dev/api/v1/batches/{batch.id}").respond(418)
    theirs = httpx.get(f"https://api.trigger.dev/api/v1/batches/{batch.id}", headers=AUTH)
    assert theirs.status_code == 418
    assert route.call_count == 1
    assert mock_trigger_api.calls == []
    ours = httpx.get(f"https://trigger.internal/api/v1/batches/{batch.id}", headers=AUTH)
    assert ours.status_code == 200 and len(mock_trigger_api.calls) == 1
""",
        {"passed": 1},
        [],
        id="answered-by-respx_mock-not-the-mock",
    ),
    pytest.param(
        """
@pytest.mark.trigger_api(base_url="https://trigger.internal")
def test_app(mock_trigger_api, respx_mock, trigger_batch_factory):
    batch = trigger_batch_factory()
    mock_trigger_api.add_batch(batch)
    httpx.get(f"https://api.trigger.dev/api/v1/batches/{batch.id}", headers=AUTH)
""",
        {"failed": 1},
        ["*AllMockedAssertionError: RESPX: <Request('GET', 'https://api.trigger.dev/api/v1/*"],
        id="respx_mock-without-a-route-fails",
    ),
    pytest.param(
        """
@pytest.mark.trigger_api(base_url="https://trigger.internal")
def test_app(mock_trigger_api, trigger_batch_factory):
    batch = trigger_batch_factory()
    mock_trigger_api.add_batch(batch)
    httpx.get(f"https://api.trigger.dev/api/v1/batches/{batch.id}", headers=AUTH)
""",
        {"failed": 1},
        [OTHER_TRIGGER_ORIGIN],
        id="default-origin-when-another-was-set",
    ),
    pytest.param(
        """
def test_app(mock_trigger_api, batch_id):
    httpx.get(f"http://api.trigger.dev/api/v1/batches/{batch_id}", headers=AUTH)
""",
        {"failed": 1},
        [OTHER_TRIGGER_ORIGIN],
        id="http-instead-of-https",
    ),
    pytest.param(
        """
def test_app(mock_trigger_api, batch_id):
    httpx.get(f"https://api.trigger.dev:8443/api/v1/batches/{batch_id}", headers=AUTH)
""",
        {"failed": 1},
        [OTHER_TRIGGER_ORIGIN],
        id="another-port",
    ),
    pytest.param(
        """
@pytest.mark.trigger_api(base_url="https://trigger.internal/self-hosted")
def test_app(mock_trigger_api, trigger_batch_factory):
    batch = trigger_batch_factory()
    mock_trigger_api.add_batch(batch)
    httpx.get(f"https://trigger.internal/api/v1/batches/{batch.id}", headers=AUTH)
""",
        {"failed": 1},
        [
            "*UnexpectedTriggerRequest: mock_trigger_api does not serve GET "
            "https://trigger.internal/api/v1/batches/batch_*: it is on the host of "
            "https://trigger.internal/self-hosted but outside its path*"
        ],
        id="outside-the-path-prefix",
    ),
    pytest.param(
        """
def test_app(mock_trigger_api, batch_id):
    httpx.get(f"https://cloud.trigger.dev/api/v1/batches/{batch_id}", headers=AUTH)
""",
        {"failed": 1},
        [OTHER_TRIGGER_ORIGIN],
        id="another-trigger-host",
    ),
    pytest.param(
        """
def test_app(mock_trigger_api, respx_mock, batch_id):
    respx_mock.route().pass_through()
    httpx.get(f"https://cloud.trigger.dev/api/v1/batches/{batch_id}", headers=AUTH)
""",
        {"failed": 1},
        [OTHER_TRIGGER_ORIGIN],
        id="a-catch-all-pass-through-of-respx_mock",
    ),
    pytest.param(
        """
@pytest.mark.trigger_api(base_url="https://trigger.internal")
def test_app(mock_trigger_api, respx_mock, batch_id):
    respx_mock.route(host="api.trigger.dev").pass_through()
    async def go():
        async with httpx.AsyncClient() as client:
            await client.get(f"https://api.trigger.dev/api/v1/batches/{batch_id}", headers=AUTH)
    asyncio.run(go())
""",
        {"failed": 1},
        [OTHER_TRIGGER_ORIGIN],
        id="a-pass-through-of-the-default-origin-async",
    ),
    pytest.param(
        """
def test_app(mock_trigger_api, respx_mock, batch_id):
    respx_mock.get("https://example.test/").respond(204)
    respx_mock.route().pass_through()
    assert httpx.get("https://example.test/").status_code == 204
""",
        {"passed": 1},
        [],
        id="other-hosts-still-reach-respx_mock",
    ),
]


@pytest.mark.parametrize(("source", "outcomes", "lines"), OTHER_ORIGIN)
def test_a_request_to_another_origin_never_reaches_the_mock(
    pytester: pytest.Pytester, source: str, outcomes: dict[str, int], lines: list[str]
) -> None:
    pytester.makeconftest(GUARD)
    pytester.makepyfile(HEADER + source)
    result = pytester.runpytest(*INNER)
    result.assert_outcomes(**outcomes)
    result.stdout.fnmatch_lines(lines)
    if "outside its path" not in "".join(lines):
        assert "does not serve" not in result.stdout.str(), "the mock looked at another origin"


def test_a_query_string_is_ignored_as_the_real_api_ignores_it(pytester: pytest.Pytester) -> None:
    """Not a request the mock misunderstands: the real route ignores query parameters."""
    pytester.makeconftest(GUARD)
    pytester.makepyfile(
        HEADER
        + """
def test_app(mock_trigger_api, batch_id):
    url = f"https://api.trigger.dev/api/v1/batches/{batch_id}"
    plain = httpx.get(url, headers=AUTH)
    queried = httpx.get(url + "?include=runs&key=" + KEY, headers=AUTH)
    assert queried.status_code == plain.status_code == 200
    assert queried.json() == plain.json()
    assert [call.batch_id for call in mock_trigger_api.calls] == [batch_id, batch_id]
    from pytest_trigger_batches.redact import mask_key
    assert mock_trigger_api.calls[1].url.endswith("?include=runs&key=" + mask_key(KEY))
    assert KEY not in repr(mock_trigger_api.calls)
"""
    )
    pytester.runpytest(*INNER).assert_outcomes(passed=1)


def test_a_fully_qualified_host_name_is_still_the_api(pytester: pytest.Pytester) -> None:
    """`api.trigger.dev.` (trailing dot) is the same host: answered, not sent to the network."""
    pytester.makeconftest(GUARD)
    pytester.makepyfile(
        HEADER
        + """
def test_app(mock_trigger_api, batch_id):
    response = httpx.get(f"https://api.trigger.dev./api/v1/batches/{batch_id}", headers=AUTH)
    assert response.status_code == 200
    assert response.json()["id"] == batch_id
    assert len(mock_trigger_api.calls) == 1
"""
    )
    pytester.runpytest(*INNER).assert_outcomes(passed=1)


# -- nothing escapes (issue 13) ---------------------------------------------------------
# Direct tests: the suite's network guard (tests/conftest.py) turns a request that
# escaped the mock into a ConnectionRefusedError, not the UnexpectedTriggerRequest
# these expect.


def test_the_origins_host_outside_the_base_path_fails_like_an_unserved_request() -> None:
    import httpx

    from pytest_trigger_batches.api import UnexpectedTriggerRequest
    from pytest_trigger_batches.mock import MockTriggerApi

    with MockTriggerApi(base_url="https://trigger.internal/base") as api:
        with pytest.raises(UnexpectedTriggerRequest, match="does not serve GET https://trigger"):
            httpx.get("https://trigger.internal/api/v1/batches/batch_x", headers={"a": "b"})
        with pytest.raises(UnexpectedTriggerRequest):
            httpx.get("https://trigger.internal:443/other")
    assert [(c.outcome, c.path) for c in api.calls] == [
        ("unexpected", "/api/v1/batches/batch_x"),
        ("unexpected", "/other"),
    ]


def test_trigger_api_url_changed_inside_the_test_fails_clearly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import httpx

    from pytest_trigger_batches.api import UnexpectedTriggerRequest
    from pytest_trigger_batches.mock import MockTriggerApi

    monkeypatch.setenv("TRIGGER_API_URL", "https://first.example")
    with MockTriggerApi(base_url="https://first.example") as api:
        monkeypatch.setenv("TRIGGER_API_URL", "https://second.example/")
        with pytest.raises(UnexpectedTriggerRequest, match="TRIGGER_API_URL was changed to"):
            httpx.get("https://second.example/api/v1/batches/batch_x")
    assert [c.outcome for c in api.calls] == ["unexpected"]


def test_a_thread_that_outlived_its_test_is_not_recorded_by_the_next_mock() -> None:
    import threading

    import httpx

    from pytest_trigger_batches.api import UnexpectedTriggerRequest
    from pytest_trigger_batches.mock import MockTriggerApi

    go = threading.Event()
    seen: list[BaseException] = []

    def late_request() -> None:
        go.wait(10)
        try:
            httpx.get("https://api.trigger.dev/api/v1/batches/batch_x")
        except BaseException as problem:  # what the thread met, checked below
            seen.append(problem)

    with MockTriggerApi():  # "the first test": starts a thread and does not join it
        thread = threading.Thread(target=late_request, name="leftover")
        thread.start()
    with MockTriggerApi() as second:  # "the next test"
        go.set()
        thread.join(10)
        assert second.calls == []
    [problem] = seen
    assert isinstance(problem, UnexpectedTriggerRequest)
    assert "thread 'leftover'" in str(problem)
    assert "outlived it" in str(problem)


# -- nothing silent: faults no request met ---------------------------------------------


def test_a_fault_no_request_met_fails_the_test_unless_not_required(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        HEADER
        + """
def test_unused(mock_trigger_api, batch_id):
    mock_trigger_api.fail_next("timeout", route="GET /api/v2/batches/{batchId}", batch_id=batch_id)
    httpx.get(f"https://api.trigger.dev/api/v1/batches/{batch_id}", headers=AUTH)

def test_used(mock_trigger_api, batch_id):
    mock_trigger_api.fail_next("server_error")
    url = f"https://api.trigger.dev/api/v1/batches/{batch_id}"
    assert httpx.get(url, headers=AUTH).status_code == 500

def test_not_required(mock_trigger_api, batch_id):
    mock_trigger_api.fail_next("server_error", times=3, required=False)
    httpx.get(f"https://api.trigger.dev/api/v1/batches/{batch_id}", headers=AUTH)

def test_failed_anyway(mock_trigger_api):
    mock_trigger_api.fail_next("timeout")
    assert False, "the test's own failure"
"""
    )
    result = pytester.runpytest(*INNER)
    result.assert_outcomes(passed=3, failed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_unused*",
            "*mock_trigger_api: 1 fault(s) asked for with fail_next() were never met by a request:",
            "*'timeout' x1 for GET /api/v2/batches/{batchId} of batch_*",
            "*pass required=False to fail_next() for a fault that may go unused.",
        ]
    )
    assert "ERROR at teardown of test_failed_anyway" not in result.stdout.str()


def test_a_test_that_skips_after_an_unused_fault_is_reported_once_as_skipped(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        HEADER
        + """
@pytest.fixture
def not_here(mock_trigger_api):
    mock_trigger_api.fail_next("server_error")
    pytest.skip("skipped in a fixture")

def test_skipped(mock_trigger_api):
    mock_trigger_api.fail_next("timeout")
    pytest.skip("skipped in the test")

def test_skipped_in_a_fixture(not_here):
    pass

def test_xfailed(mock_trigger_api):
    mock_trigger_api.fail_next("timeout")
    pytest.xfail("not yet")

def test_still_caught(mock_trigger_api):
    mock_trigger_api.fail_next("timeout")
"""
    )
    result = pytester.runpytest(*INNER, "-rsx")
    result.assert_outcomes(skipped=2, xfailed=1, passed=1, errors=1)
    assert result.stdout.str().count("ERROR at teardown") == 1
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_still_caught*"])
