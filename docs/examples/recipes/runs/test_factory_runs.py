import pytest

from pytest_trigger_batches import BatchFactory, MockTriggerApi, TriggerBatch


def test_runs_with_keys_and_a_delay(trigger_batch_factory: BatchFactory) -> None:
    keyed = trigger_batch_factory.run("COMPLETED", idempotency_key="ledger-2026-01-05")
    assert keyed.to_payload()["idempotencyKey"] == "ledger-2026-01-05"
    waiting = trigger_batch_factory.run(
        "DELAYED",
        created_at="2026-01-05T10:00:00Z",
        delayed_until="2026-01-05T12:00:00Z",
    )
    assert waiting.to_payload()["delayedUntil"] == "2026-01-05T12:00:00.000Z"
    batch = trigger_batch_factory("COMPLETED", run_count=3)
    runs = trigger_batch_factory.runs_of(batch, idempotency_key=["a", None, "c"])
    assert [run.idempotency_key for run in runs] == ["a", None, "c"]


@pytest.mark.trigger_batch(
    "COMPLETED", run_count=3, task_identifier="sync-ledger", runs=True
)
def test_a_marked_batch_with_its_runs(
    mock_trigger_api: MockTriggerApi, trigger_batch: TriggerBatch
) -> None:
    first = mock_trigger_api.run(
        trigger_batch.runs[0]
    )  # served: registered by the marker
    assert (first["status"], first["taskIdentifier"]) == ("COMPLETED", "sync-ledger")
