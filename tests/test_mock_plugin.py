"""mock_trigger_api through pytest itself: markers, options, failure output, isolation."""

from __future__ import annotations

import pytest

KEY = "tr_prod_Zq8XwV3nM5kP2rT7yB4c"  # what a user's suite would hold in its settings

HEADER = f'''
import httpx, pytest
from pytest_trigger_batches import assert_run_counts, assert_batch_errors
KEY = "{KEY}"
AUTH = {{"Authorization": "Bearer " + KEY}}
'''


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(HEADER + source)
    return pytester.runpytest("-p", "no:randomly", *args)


def test_an_unknown_path_fails_the_test_and_shows_the_request(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
def test_app(mock_trigger_api):
    httpx.get("https://api.trigger.dev/api/v1/batch/batch_abc", headers=AUTH)
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*UnexpectedTriggerRequest: mock_trigger_api does not serve GET "
            "https://api.trigger.dev/api/v1/batch/batch_abc",
            "*authorization: Bearer tr_prod_[*][*][*][*]????",
            "*it serves:",
            "*    GET /api/v1/batches/{batchId}",
            "*    GET /api/v2/batches/{batchId}",
            "*closest match: GET /api/v1/batches/{batchId}",
        ]
    )


def test_the_wrong_method_names_the_difference(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
def test_app(mock_trigger_api):
    httpx.delete("https://api.trigger.dev/api/v2/batches/batch_abc", headers=AUTH)
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*closest match: GET /api/v2/batches/{batchId} "
            "(the method differs: DELETE instead of GET)"
        ]
    )


def test_an_unexpected_request_the_app_swallowed_still_fails(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
def test_app(mock_trigger_api):
    try:
        httpx.post("https://api.trigger.dev/api/v1/schedules/sched_1", headers=AUTH)
    except Exception:
        pass  # careless application code
""",
    )
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*mock_trigger_api received 1 request(s) it does not serve*",
            "*POST https://api.trigger.dev/api/v1/schedules/sched_1 -> unexpected",
        ]
    )


def test_marker_builds_and_registers_a_batch(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.mark.trigger_batch("PARTIAL_FAILED", run_count=10, failed_count=3)
def test_app(mock_trigger_api, trigger_batch):
    assert trigger_batch.status == "PARTIAL_FAILED"
    assert [h.id for h in mock_trigger_api.batches] == [trigger_batch.id]
    response = httpx.get(f"https://api.trigger.dev/api/v1/batches/{trigger_batch.id}", headers=AUTH)
    assert_run_counts(response, total=10, successful=7, failed=3)
    assert_batch_errors(response, count=1)  # the 3 queue-limit failures, collapsed
""",
        "--strict-markers",
    )
    result.assert_outcomes(passed=1)


def test_marker_with_progress_after_and_environment(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.mark.trigger_batch("COMPLETED", progress_after=1, environment="prod")
def test_app(mock_trigger_api, trigger_batch):
    url = f"https://api.trigger.dev/api/v1/batches/{trigger_batch.id}"
    dev = {"Authorization": "Bearer tr_dev_" + "x" * 24}
    assert httpx.get(url, headers=dev).status_code == 404
    assert httpx.get(url, headers=AUTH).json()["status"] == "PENDING"
    assert httpx.get(url, headers=AUTH).json()["status"] == "COMPLETED"
""",
    )
    result.assert_outcomes(passed=1)


def test_several_markers_register_several_batches(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.mark.trigger_batch("PENDING")
@pytest.mark.trigger_batch("ABORTED")
def test_app(mock_trigger_api):
    assert sorted(h.final.status for h in mock_trigger_api.batches) == ["ABORTED", "PENDING"]
""",
    )
    result.assert_outcomes(passed=1)


def test_a_bad_marker_argument_is_a_clear_error(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.mark.trigger_batch("PARTIAL_FAILED", run_count=5, failed_count=0)
def test_app(mock_trigger_api):
    pass
""",
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.trigger_batch('PARTIAL_FAILED', run_count=5, failed_count=0): "
            "failed_count for a PARTIAL_FAILED batch of 5 items must be 1 to 4; got 0*"
        ]
    )


def test_trigger_batch_fixture_without_marker_says_what_to_add(pytester: pytest.Pytester) -> None:
    result = run(pytester, "def test_app(trigger_batch):\n    pass\n")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*needs a @pytest.mark.trigger_batch(status=...) marker*"])


@pytest.mark.parametrize(
    ("where", "origin"),
    [
        ("marker", "https://marker.example"),
        ("env", "https://env.example"),
        ("ini", "https://ini.example"),
    ],
)
def test_the_origin_comes_from_marker_env_or_ini(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, where: str, origin: str
) -> None:
    pytester.makeini("[pytest]\ntrigger_api_url = https://ini.example\n")
    if where != "ini":
        monkeypatch.setenv("TRIGGER_API_URL", "https://env.example/")
    else:
        monkeypatch.delenv("TRIGGER_API_URL", raising=False)
    marker = (
        '@pytest.mark.trigger_api(base_url="https://marker.example")' if where == "marker" else ""
    )
    result = run(
        pytester,
        f"""
{marker}
def test_app(mock_trigger_api, trigger_batch_factory):
    assert mock_trigger_api.base_url == "{origin}"
    batch = trigger_batch_factory()
    mock_trigger_api.add_batch(batch)
    response = httpx.get("{origin}/api/v1/batches/" + batch.id, headers=AUTH)
    assert response.status_code == 200
""",
    )
    result.assert_outcomes(passed=1)


def test_each_test_starts_from_an_empty_mock(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        HEADER
        + "\n".join(
            f"""
def test_{n}(mock_trigger_api, trigger_batch_factory):
    assert mock_trigger_api.batches == [] and mock_trigger_api.calls == []
    batch = trigger_batch_factory()
    mock_trigger_api.add_batch(batch)
    mock_trigger_api.accept_key(KEY)
    mock_trigger_api.fail_next("server_error")
    mock_trigger_api.rate_limit(limit=2)  # the faulted request spends a token too
    url = "https://api.trigger.dev/api/v1/batches/" + batch.id
    assert httpx.get(url, headers=AUTH).status_code == 500
    assert httpx.get(url, headers=AUTH).status_code == 200
    assert httpx.get(url, headers=AUTH).status_code == 429
"""
            for n in range(12)
        )
    )
    for args in (["-p", "randomly"], ["-p", "no:randomly", "-n", "2"]):
        result = pytester.runpytest(*args)
        result.assert_outcomes(passed=12)


def test_the_secret_key_never_appears_in_any_failure_output(pytester: pytest.Pytester) -> None:
    """Make a test fail in every way the mock can fail, then search all the output."""
    result = run(
        pytester,
        """
import asyncio

@pytest.fixture
def batch(mock_trigger_api, trigger_batch_factory):
    batch = trigger_batch_factory("PARTIAL_FAILED")
    mock_trigger_api.add_batch(batch)
    return batch

def get(batch_id, headers=AUTH):
    return httpx.get("https://api.trigger.dev/api/v1/batches/" + batch_id, headers=headers)

def test_unexpected_path(mock_trigger_api):
    httpx.get("https://api.trigger.dev/api/v3/runs?key=" + KEY, headers=AUTH)

def test_unexpected_swallowed(mock_trigger_api):
    try:
        httpx.put("https://api.trigger.dev/api/v1/batches/x", headers={"x-api-key": KEY, **AUTH})
    except AssertionError:
        pass

def test_assert_retrieved(mock_trigger_api, batch):
    get(batch.id)
    mock_trigger_api.assert_retrieved(batch, times=5)

def test_assert_not_retrieved(mock_trigger_api, batch):
    get(batch.id)
    mock_trigger_api.assert_not_retrieved(batch)

def test_assert_all_retrieved(mock_trigger_api, batch):
    get("batch_cmx0ugyuv00004a7d2bda9ln4")
    mock_trigger_api.assert_all_retrieved()

def test_accept_malformed_key(mock_trigger_api):
    mock_trigger_api.accept_key(KEY[:-10])

def test_timeout(mock_trigger_api, batch):
    mock_trigger_api.fail_next("timeout")
    get(batch.id)

def test_connect_error_async(mock_trigger_api, batch):
    mock_trigger_api.fail_next("connect_error")
    async def go():
        async with httpx.AsyncClient(headers=AUTH) as client:
            await client.get("https://api.trigger.dev/api/v1/batches/" + batch.id)
    asyncio.run(go())

def test_counts(mock_trigger_api, batch):
    assert_run_counts(get(batch.id), failed=0)

def test_errors(mock_trigger_api, batch):
    assert_batch_errors(get(batch.id), error_code="ITEM_ERROR")

def test_non_200_response(mock_trigger_api, batch):
    assert_run_counts(get(batch.id, {"Authorization": "Bearer " + KEY + "!"}), total=1)

def test_repr_and_calls(mock_trigger_api, batch):
    get(batch.id)
    calls = mock_trigger_api.calls
    assert False, repr(mock_trigger_api) + repr(calls) + str(calls[0])

@pytest.mark.trigger_batch("PENDING", idempotency_key=KEY)
def test_marker_with_key_in_options(mock_trigger_api):
    assert False
""",
        "-vv",
        "-rA",
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) + outcomes.get("errors", 0) >= 13
    output = result.stdout.str() + result.stderr.str()
    leaks = output.count(KEY) - output.count(f'KEY = "{KEY}"')
    assert KEY[8:] not in output.replace(f'KEY = "{KEY}"', ""), "secret key leaked"
    assert leaks == 0
    assert "tr_prod_****" in output


def test_the_trigger_batch_fixture_is_the_top_most_marker(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.mark.trigger_batch("PROCESSING")
class TestBatches:
    @pytest.mark.trigger_batch("PARTIAL_FAILED")
    @pytest.mark.trigger_batch("COMPLETED")
    def test_app(self, mock_trigger_api, trigger_batch):
        assert trigger_batch.status == "PARTIAL_FAILED"
        order = [h.final.status for h in mock_trigger_api.batches]
        assert order == ["PARTIAL_FAILED", "COMPLETED", "PROCESSING"]
""",
    )
    result.assert_outcomes(passed=1)


def test_two_markers_may_not_share_a_batch_id(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.mark.trigger_batch("PENDING", batch_id="batch_cmx0ugyuv00004a7d2bda9ln4")
@pytest.mark.trigger_batch("ABORTED", batch_id="batch_cmx0ugyuv00004a7d2bda9ln4")
def test_app(trigger_batch):
    pass
""",
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*another trigger_batch marker has batch_id*"])


def test_the_seed_note_names_an_overridden_seed(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.fixture
def trigger_seed():
    return 1234

@pytest.mark.trigger_batch("COMPLETED")
def test_app(trigger_batch):
    assert False
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*batches in this test were built from seed 1234 (the trigger_seed fixture)*"]
    )
