import httpx
from hypothesis import given

from pytest_trigger_batches import MockTriggerApi, TriggerBatch
from pytest_trigger_batches.strategies import batches


def failure_summary(base_url: str, key: str, batch_id: str) -> dict[str, object]:
    """The application's report: how many items failed, and which the API names."""
    headers = {"Authorization": f"Bearer {key}"}
    body = httpx.get(f"{base_url}/api/v1/batches/{batch_id}", headers=headers).json()
    named = sorted(entry["index"] for entry in body.get("errors", []))
    return {
        "status": body["status"],
        "failed": body.get("failedRunCount", 0),
        "named": named,
    }


@given(batch=batches())
def test_the_summary_of_every_batch(batch: TriggerBatch) -> None:
    with MockTriggerApi() as api:  # a fresh mock for each example
        api.add_batch(batch)
        summary = failure_summary(api.base_url, api.secret_key, batch.id)
        api.assert_retrieved(batch, times=1)
    assert summary["status"] == batch.status
    assert summary["failed"] == (batch.failed_run_count or 0)
    assert isinstance(summary["named"], list)
    assert len(summary["named"]) <= (
        batch.failed_run_count or 0
    )  # one entry may stand for many
