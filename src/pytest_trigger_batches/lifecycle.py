"""The states a batch passed through on its way to a given state.

Derived from the platform's lifecycle (`rules.TRANSITIONS`): ids, counts, runs and
errors stay consistent at every step, and timestamps move forward.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime

from pytest_trigger_batches import rules
from pytest_trigger_batches.model import TriggerBatch
from pytest_trigger_batches.statuses import BatchStatus


def history(final: TriggerBatch) -> tuple[TriggerBatch, ...]:
    """Every state the platform shows on the way to `final`, oldest first, `final` last.

    A batch aborted before its items finished arriving goes straight from PENDING to
    ABORTED (with processingCompletedAt, no runs, no counts).
    """
    # Each earlier state holds some of final's runs, whose ids `final` has checked.
    created = final._derived(
        status=BatchStatus.PENDING,
        updated_at=final.created_at,
        runs=(),
        successful_run_count=None,
        failed_run_count=None,
        errors=(),
        processing_completed_at=None,
    )
    if final == created:
        return (final,)
    if not final.runs_created:
        if final.runs or final.status == BatchStatus.COMPLETED:
            # Legacy batch: PENDING while runs fill up, then final.
            half = created._derived(
                runs=final.runs[: len(final.runs) // 2],
                updated_at=_between(final.created_at, final.updated_at),
            )
            return _dedupe((created, half, final))
        # PROCESSING, or ABORTED because the items never finished arriving (never sealed,
        # so never PROCESSING).
        return (created, final)
    finished = final.processing_completed_at or final.updated_at
    sealed = created._derived(
        status=BatchStatus.PROCESSING,
        updated_at=_between(final.created_at, finished),
    )
    if final.status != BatchStatus.COMPLETED:
        return (created, sealed, final)
    failed = final.failed_run_count or 0
    runs_created = final._derived(
        status=BatchStatus.PARTIAL_FAILED if failed else BatchStatus.PENDING,
        updated_at=finished,
    )
    return (created, sealed, runs_created, final)


MAX_POLLS = 1000
"""The most retrievals `progress_after` spreads a lifecycle over (as `run_count`)."""


def timeline(final: TriggerBatch, *, polls: int) -> tuple[TriggerBatch, ...]:
    """What `polls` retrievals show before `final`, then `final` (which then sticks).

    The earlier states of `history(final)` are spread over the polls in order (each
    shown for about as many polls). With fewer polls than earlier states, the earliest
    ones are skipped: a COMPLETED batch (PENDING, PROCESSING, runs created, COMPLETED)
    with `polls=1` shows the runs-created state then COMPLETED, with `polls=2`
    PROCESSING, runs created, COMPLETED; `polls=0` shows `final` alone.
    """
    # Named for the option users give (add_batch's and the marker's progress_after).
    rules.whole_number(polls, parameter="progress_after", minimum=0, maximum=MAX_POLLS)
    earlier = history(final)[:-1]
    if not earlier or polls == 0:
        return (final,)
    start = max(0, len(earlier) - polls)
    shown = earlier[start:]
    return (*(shown[i * len(shown) // polls] for i in range(polls)), final)


def check_sequence(states: Sequence[TriggerBatch]) -> None:
    """Raise `ValueError` if the platform could not show `states` in this order."""
    for number, (before, after) in enumerate(itertools.pairwise(states), start=1):
        problem = rules.transition_problem(before, after)
        if problem:
            raise ValueError(
                f"states[{number}] cannot follow states[{number - 1}] "
                f"({before.status} -> {after.status}): {problem}"
            )


def _between(start: datetime, end: datetime) -> datetime:
    middle = start + (end - start) / 2
    return middle.replace(microsecond=middle.microsecond // 1000 * 1000)


def _dedupe(states: tuple[TriggerBatch, ...]) -> tuple[TriggerBatch, ...]:
    kept: list[TriggerBatch] = []
    for state in states:
        if not kept or kept[-1] != state:
            kept.append(state)
    return tuple(kept)
