from dataclasses import replace

from pytest_trigger_batches import BatchFactory, TriggerBatch


def test_other_shapes(trigger_batch_factory: BatchFactory) -> None:
    batch = trigger_batch_factory(
        "COMPLETED", run_count=4, failed_count=1, error_code="ITEM_ERROR"
    )

    v2 = batch.to_payload(version=2)  # the body of /api/v2/batches/{id}
    assert "failedRunCount" not in v2
    assert v2["processing"]["errors"][0]["errorCode"] == "ITEM_ERROR"

    documented = batch.to_payload(shape="documented")  # the published spec, literally
    assert documented["idempotencyKey"] is None
    assert isinstance(documented["errors"][0]["error"], dict)

    states = trigger_batch_factory.lifecycle("COMPLETED", failed_count=1)
    assert [s.status for s in states] == [
        "PENDING",
        "PROCESSING",
        "PARTIAL_FAILED",
        "COMPLETED",
    ]
    assert len({s.id for s in states}) == 1


def test_readable_ids(trigger_batch_factory: BatchFactory) -> None:
    batch = trigger_batch_factory("COMPLETED", run_count=2)
    named = replace(
        batch, id="batch_nightly-report", runs=("run_1", "run_2"), check_ids=False
    )
    assert named.to_payload()["runs"] == ["run_1", "run_2"]
    assert TriggerBatch.from_payload(named.to_payload(), check_ids=False) == named
