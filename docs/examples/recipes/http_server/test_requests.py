import pytest
import requests

from pytest_trigger_batches import TriggerApiServer, TriggerBatch


def failed_items(base_url: str, secret_key: str, batch_id: str) -> int:
    """Code under test that uses requests: mock_trigger_api (httpx) cannot see it."""
    answer = requests.get(
        f"{base_url}/api/v1/batches/{batch_id}",
        headers={"Authorization": f"Bearer {secret_key}"},
        timeout=5,
    )
    answer.raise_for_status()
    return int(answer.json().get("failedRunCount", 0))


@pytest.mark.trigger_batch("PARTIAL_FAILED", run_count=10, failed_count=3)
def test_requests_reads_the_batch(
    trigger_api_server: TriggerApiServer, trigger_batch: TriggerBatch
) -> None:
    server = trigger_api_server
    assert failed_items(server.base_url, server.secret_key, trigger_batch.id) == 3
    server.fail_next("server_error", status_code=502)  # faults work over HTTP too
    with pytest.raises(requests.HTTPError, match="502"):
        failed_items(server.base_url, server.secret_key, trigger_batch.id)
    assert [c.status_code for c in server.retrievals(trigger_batch)] == [200, 502]
