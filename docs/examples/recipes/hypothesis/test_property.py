import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_trigger_batches import BatchFactory, MockTriggerApi


def failure_summary(base_url: str, key: str, batch_id: str) -> tuple[str, int, list[int]]:
    """The application's report: the status, how many items failed, which the API names."""
    headers = {"Authorization": f"Bearer {key}"}
    body = httpx.get(f"{base_url}/api/v1/batches/{batch_id}", headers=headers).json()
    named = sorted(entry["index"] for entry in body.get("errors", []))
    return body["status"], body.get("failedRunCount", 0), named


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    run_count=st.integers(2, 50),
    failed_share=st.floats(0.01, 0.99),
    error_code=st.sampled_from(["QUEUE_SIZE_LIMIT_EXCEEDED", "TRIGGER_ERROR"]),
)
def test_every_partial_failure_is_summed_up(
    seed: int, run_count: int, failed_share: float, error_code: str
) -> None:
    failed = min(run_count - 1, max(1, round(run_count * failed_share)))
    batch = BatchFactory(seed=seed)(
        "PARTIAL_FAILED", run_count=run_count, failed_count=failed, error_code=error_code
    )
    with MockTriggerApi() as api:  # a fresh mock for each example
        api.add_batch(batch)
        status, failed_count, named = failure_summary(api.base_url, api.secret_key, batch.id)
        api.assert_retrieved(batch, times=1)

    assert (status, failed_count) == ("PARTIAL_FAILED", failed)
    assert 1 <= len(named) <= failed  # a collapsed entry names one item for many
