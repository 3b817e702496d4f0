import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_trigger_batches import MockTriggerApi, TriggerBatch
from pytest_trigger_batches.strategies import batches


# deadline=None: an example is slow on a busy CI machine, not wrong
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=batches("PARTIAL_FAILED", run_count=st.integers(2, 50)))
def test_every_partial_failure(
    mock_trigger_api: MockTriggerApi, batch: TriggerBatch
) -> None:
    mock_trigger_api.reset()  # without it, the examples' calls and batches pile up
    mock_trigger_api.add_batch(batch)
    key = {"Authorization": f"Bearer {mock_trigger_api.secret_key}"}
    url = f"{mock_trigger_api.base_url}/api/v1/batches/{batch.id}"
    body = httpx.get(url, headers=key).json()
    assert 0 < body["failedRunCount"] < body["runCount"]
    assert len(mock_trigger_api.calls) == 1
