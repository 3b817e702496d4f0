import httpx
import pytest

from pytest_trigger_batches import BatchFactory, MockTriggerApi, TriggerBatch


def statuses(api: MockTriggerApi, batch_id: str, polls: int) -> list[str]:
    key = {"Authorization": f"Bearer {api.secret_key}"}
    with httpx.Client(base_url=api.base_url, headers=key) as client:
        return [
            client.get(f"/api/v1/batches/{batch_id}").json()["status"]
            for _ in range(polls)
        ]


# --8<-- [start:marker]
@pytest.mark.trigger_batch("COMPLETED", run_count=5, failed_count=1, progress_after=3)
def test_polling(mock_trigger_api: MockTriggerApi, trigger_batch: TriggerBatch) -> None:
    headers = {"Authorization": f"Bearer {mock_trigger_api.secret_key}"}
    with httpx.Client(base_url="https://api.trigger.dev", headers=headers) as client:
        seen = [
            client.get(f"/api/v1/batches/{trigger_batch.id}").json()["status"]
            for _ in range(4)
        ]
    assert seen == ["PENDING", "PROCESSING", "PARTIAL_FAILED", "COMPLETED"]
    # --8<-- [end:marker]


# --8<-- [start:states]
def test_a_slow_batch(
    mock_trigger_api: MockTriggerApi, trigger_batch_factory: BatchFactory
) -> None:
    states = trigger_batch_factory.lifecycle("COMPLETED", run_count=10, failed_count=3)
    pending, processing, partial_failed, completed = states
    assert [s.status for s in states] == [
        "PENDING",
        "PROCESSING",
        "PARTIAL_FAILED",
        "COMPLETED",
    ]
    assert len({s.id for s in states}) == 1  # one batch, four moments

    # PENDING and PROCESSING are each seen twice; then COMPLETED sticks
    mock_trigger_api.add_batch(
        [pending, pending, processing, processing, partial_failed, completed]
    )

    seen = statuses(mock_trigger_api, completed.id, polls=7)
    assert seen[:4] == ["PENDING", "PENDING", "PROCESSING", "PROCESSING"]
    assert seen[4:] == ["PARTIAL_FAILED", "COMPLETED", "COMPLETED"]
    assert len(mock_trigger_api.retrievals(completed)) == 7
    # --8<-- [end:states]


# --8<-- [start:held]
def test_a_triggered_batch_moves_only_when_told(
    mock_trigger_api: MockTriggerApi,
) -> None:
    mock_trigger_api.progression = "held"  # nothing moves until advance()
    key = {"Authorization": f"Bearer {mock_trigger_api.secret_key}"}
    with httpx.Client(base_url=mock_trigger_api.base_url, headers=key) as client:
        items = [{"task": "send-email", "payload": {"to": "a@example.com"}}]
        batch = client.post("/api/v2/tasks/batch", json={"items": items}).json()

        assert statuses(mock_trigger_api, batch["id"], polls=3) == ["PENDING"] * 3
        mock_trigger_api.advance(batch["id"], to="COMPLETED")
        assert statuses(mock_trigger_api, batch["id"], polls=1) == ["COMPLETED"]
    # --8<-- [end:held]
