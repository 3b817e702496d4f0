"""The failure report and the re-submit decision, from batches the API really returns."""

from __future__ import annotations

import random

import pytest
from batch_app.resubmit import FailureReport, plan_resubmit

from pytest_trigger_batches import assert_batch_errors, assert_run_counts

QUEUE_LIMIT = "QUEUE_SIZE_LIMIT_EXCEEDED"


@pytest.mark.trigger_batch(
    "PARTIAL_FAILED",
    run_count=10,
    failed_count=3,
    task_identifier="send-welcome-email",
    error_code="TRIGGER_ERROR",  # one entry per item (the default, the queue limit, collapses)
)
def test_the_report_lists_every_item_that_failed(client, trigger_batch):
    assert_batch_errors(trigger_batch, count=3, task_identifier="send-welcome-email")

    report = FailureReport.of(client.retrieve(trigger_batch.id))

    assert report.failed_count == 3
    assert [(i.index, i.task_identifier, i.code, i.message) for i in report.items] == [
        (e.index, e.task_identifier, e.error_code, e.error) for e in trigger_batch.errors
    ]
    assert str(report).startswith(f"batch {trigger_batch.id}: 3 of 10 items failed")
    assert plan_resubmit(report).indices == tuple(e.index for e in trigger_batch.errors)


@pytest.mark.parametrize("api_version", [1, 2])
def test_a_collapsed_queue_limit_entry_counts_every_item(
    client, mock_trigger_api, trigger_batch_factory, api_version
):
    served = trigger_batch_factory(
        "PARTIAL_FAILED", run_count=20, failed_count=7, error_code=QUEUE_LIMIT
    )
    assert_batch_errors(served, count=1, error_code=QUEUE_LIMIT)  # one entry ...
    assert_run_counts(served, failed=7)  # ... for seven items
    mock_trigger_api.add_batch(served)

    report = FailureReport.of(client.retrieve(served.id, api_version=api_version))
    plan = plan_resubmit(report)

    assert report.failed_count == 7
    [item] = report.items
    assert item.stands_for == 7
    assert "this entry stands for 7 items" in str(report)
    assert (plan.indices, plan.unlisted) == ((item.index,), 6)


def test_a_single_queue_limit_failure_stands_for_itself(
    client, mock_trigger_api, trigger_batch_factory
):
    served = trigger_batch_factory("PARTIAL_FAILED", failed_count=1, error_code=QUEUE_LIMIT)
    mock_trigger_api.add_batch(served)

    report = FailureReport.of(client.retrieve(served.id))

    assert [item.stands_for for item in report.items] == [1]
    assert "stands for" not in str(report)
    assert plan_resubmit(report).unlisted == 0


def test_only_failures_that_can_pass_are_resubmitted(
    client, mock_trigger_api, trigger_batch_factory
):
    payload = trigger_batch_factory(
        "PARTIAL_FAILED", run_count=10, failed_count=5, error_code="TRIGGER_ERROR"
    ).to_payload()
    codes = ["TRIGGER_ERROR", "ITEM_ERROR", "TRIGGER_FAILED", "ENVIRONMENT_NOT_FOUND", None]
    for entry, code in zip(payload["errors"], codes, strict=True):
        entry.pop("errorCode")
        if code is not None:
            entry["errorCode"] = code
    mock_trigger_api.add_batch(payload)  # a body as the server writes it
    failed = [entry["index"] for entry in payload["errors"]]

    plan = plan_resubmit(FailureReport.of(client.retrieve(payload["id"])))

    assert plan.indices == (failed[0], failed[2])
    assert [(item.index, item.code) for item in plan.skipped] == [
        (failed[1], "ITEM_ERROR"),
        (failed[3], "ENVIRONMENT_NOT_FOUND"),
        (failed[4], None),
    ]


@pytest.mark.parametrize(
    ("status", "options"),
    [
        ("COMPLETED", {}),
        ("PENDING", {"runs_created": True}),
        ("PROCESSING", {}),
        ("ABORTED", {"runs_created": False}),
    ],
)
def test_nothing_to_resubmit_without_failures(
    client, mock_trigger_api, trigger_batch_factory, status, options
):
    served = mock_trigger_api.add_batch(trigger_batch_factory(status, **options))

    report = FailureReport.of(client.retrieve(served.id))

    assert (report.failed_count, report.items) == (0, ())
    assert plan_resubmit(report).indices == ()


class TestAcrossSeeds:
    """The arithmetic holds for any batch the platform could return, whatever its seed."""

    @pytest.fixture(params=[1, 42, 20260301])
    def trigger_seed(self, request):
        return request.param

    @pytest.mark.parametrize(
        ("error_code", "retryable"),
        [("TRIGGER_ERROR", True), (QUEUE_LIMIT, True), ("ITEM_ERROR", False)],
    )
    def test_every_failed_item_is_resubmitted_or_skipped(
        self, client, mock_trigger_api, trigger_batch_factory, trigger_seed, error_code, retryable
    ):
        failed = random.Random(trigger_seed).randint(1, 49)
        served = trigger_batch_factory(
            "PARTIAL_FAILED", run_count=50, failed_count=failed, error_code=error_code
        )
        mock_trigger_api.add_batch(served)

        report = FailureReport.of(client.retrieve(served.id))
        plan = plan_resubmit(report)

        assert report.failed_count == sum(item.stands_for for item in report.items) == failed
        resubmitted = len(plan.indices) + plan.unlisted
        skipped = sum(item.stands_for for item in plan.skipped)
        assert (resubmitted, skipped) == ((failed, 0) if retryable else (0, failed))
