"""mock_trigger_api through pytest itself: markers and the origin settings.

Each rule has one home: requests the mock does not serve in tests/test_strictness.py,
isolation between tests in tests/test_isolation.py, keys in output in
tests/test_secrets.py, bad marker arguments in tests/contract/test_pytest_config.py.
"""

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


def test_a_marker_with_runs_registers_the_runs_its_batch_lists(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.mark.trigger_batch("COMPLETED", run_count=3, task_identifier="sync-ledger", runs=True)
@pytest.mark.trigger_batch("PENDING", runs_created=True, run_count=2)
def test_app(mock_trigger_api, trigger_batch):
    with httpx.Client(base_url="https://api.trigger.dev", headers=AUTH) as client:
        for run_id in trigger_batch.runs:
            body = client.get(f"/api/v3/runs/{run_id}").json()
            assert (body["status"], body["taskIdentifier"]) == ("COMPLETED", "sync-ledger")
            assert body["batchId"] == trigger_batch.id
        listed = client.get("/api/v1/runs").json()["data"]
    assert sorted(run["id"] for run in listed) == sorted(trigger_batch.runs)  # not the other's
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
