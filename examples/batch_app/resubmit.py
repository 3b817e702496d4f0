"""Which items of a batch never became runs, and which of them to submit again.

The API lists one error entry per failed item, except for QUEUE_SIZE_LIMIT_EXCEEDED:
when every failure is that one, the server collapses them into a single entry (the
first failed item's index) whose message ends "(N items in this batch failed with the
same error)"; the other N - 1 indices are not in the body. So counts come from
failedRunCount, never from the number of entries, and a plan says how many failed
items it cannot name. Re-submit those by sending the whole batch again with per-item
idempotency keys: items whose run exists are not triggered twice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from batch_app.client import Batch

QUEUE_SIZE_LIMIT = "QUEUE_SIZE_LIMIT_EXCEEDED"
# Worth another try later. ITEM_ERROR (a bad payload) and ENVIRONMENT_NOT_FOUND (bad
# configuration) would fail the same way again; an entry without a code needs a human.
RETRYABLE_CODES = frozenset({QUEUE_SIZE_LIMIT, "TRIGGER_ERROR", "TRIGGER_FAILED"})


@dataclass(frozen=True, slots=True)
class FailedItem:
    index: int
    task_identifier: str
    code: str | None
    message: str
    stands_for: int = 1  # items this entry represents: N for a collapsed queue-limit entry

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE_CODES


@dataclass(frozen=True, slots=True)
class FailureReport:
    batch_id: str
    run_count: int
    failed_count: int  # items, from failedRunCount: not the number of entries
    items: tuple[FailedItem, ...]

    @classmethod
    def of(cls, batch: Batch) -> FailureReport:
        failed = batch.failed_run_count or 0
        items = tuple(
            FailedItem(e.index, e.task_identifier, e.code, e.message) for e in batch.errors
        )
        if len(items) == 1 and items[0].code == QUEUE_SIZE_LIMIT and failed > 1:
            items = (replace(items[0], stands_for=failed),)
        return cls(batch.id, batch.run_count, failed, items)

    def __str__(self) -> str:
        lines = [f"batch {self.batch_id}: {self.failed_count} of {self.run_count} items failed"]
        for item in self.items:
            line = f"  item {item.index} ({item.task_identifier}) {item.code}: {item.message}"
            if item.stands_for > 1:
                line += (
                    f"\n    this entry stands for {item.stands_for} items; the API names "
                    f"only the first"
                )
            lines.append(line)
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class ResubmitPlan:
    indices: tuple[int, ...]  # items to submit again
    unlisted: int  # further retryable failures the API gave no index for
    skipped: tuple[FailedItem, ...]  # failures that would fail again, or have no code


def plan_resubmit(report: FailureReport) -> ResubmitPlan:
    """Re-submit the items that failed for a reason that can pass; skip the rest."""
    retry = [item for item in report.items if item.retryable]
    return ResubmitPlan(
        indices=tuple(sorted(item.index for item in retry)),
        unlisted=sum(item.stands_for - 1 for item in retry),
        skipped=tuple(item for item in report.items if not item.retryable),
    )
