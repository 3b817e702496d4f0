from pytest_trigger_batches import BatchFactory, assert_batch_errors, assert_run_counts


def test_counts_and_errors(trigger_batch_factory: BatchFactory) -> None:
    batch = trigger_batch_factory(
        "PARTIAL_FAILED",
        run_count=6,
        failed_count=2,
        task_identifier="send-welcome-email",
    )
    [entry] = batch.errors  # the two queue-limit failures, collapsed
    assert_run_counts(batch, total=6, successful=4, failed=2)
    assert_run_counts(batch.to_payload(version=2), failed=2)  # v2: derived from runs
    assert_batch_errors(
        batch.to_payload(),
        count=1,
        indices=[entry.index],  # the first failure's
        task_identifier="send-welcome-email",
        error_code="QUEUE_SIZE_LIMIT_EXCEEDED",
    )

    each = trigger_batch_factory("ABORTED", run_count=3, error_code="TRIGGER_ERROR")
    assert_batch_errors(each, count=3, indices=[0, 1, 2], error_code="TRIGGER_ERROR")
