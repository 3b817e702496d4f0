from pytest_trigger_batches import BatchFactory, BatchStatus


def test_a_partial_failure(trigger_batch_factory: BatchFactory) -> None:
    batch = trigger_batch_factory(status="PARTIAL_FAILED", run_count=10, failed_count=3)

    assert batch.status == BatchStatus.PARTIAL_FAILED == "PARTIAL_FAILED"
    assert (batch.successful_run_count, batch.failed_run_count) == (7, 3)
    assert len(batch.runs) == 7
    assert batch.id.startswith("batch_c")
    assert batch.runs[0].startswith("run_c")
    [entry] = batch.errors  # one entry for the three failed items
    assert entry.error_code == "QUEUE_SIZE_LIMIT_EXCEEDED"
    assert entry.error.endswith("(3 items in this batch failed with the same error)")

    body = batch.to_payload()  # what GET /api/v1/batches/{id} answers
    assert body["failedRunCount"] == 3
    assert isinstance(body["errors"][0]["error"], str)  # the server sends a string
    assert "idempotencyKey" not in body  # absent values are left out, not null

    each = trigger_batch_factory(
        "PARTIAL_FAILED", failed_count=3, error_code="TRIGGER_ERROR"
    )
    assert len(each.errors) == 3  # one per item, with the message the trigger threw
