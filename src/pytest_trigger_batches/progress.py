"""How batches and runs move on: the one place tests choose it (`progression`).

- "per_poll" (default): each successful GET of a batch moves it (and its unfinished
  runs) one step; a batch becomes COMPLETED on the first retrieval after its last run
  is final.
- "held": nothing moves until the test calls `advance(...)`.
- "immediate": a batch settles at once: a triggered one as soon as it is sealed (or
  created, for the one-shot endpoints), a registered one shows its last state.

Sealing a streaming batch happens only through its items call, whatever the mode.
"""

from __future__ import annotations

from typing import Literal, get_args

from pytest_trigger_batches.shown import shown

__all__ = [
    "OUTCOMES",
    "PROGRESSIONS",
    "ItemOutcome",
    "Progression",
    "check_outcome",
    "check_progression",
]

Progression = Literal["per_poll", "held", "immediate"]
PROGRESSIONS: tuple[str, ...] = get_args(Progression)

ItemOutcome = Literal[
    "created", "trigger_failure", "queue_limit", "unknown_task", "too_large", "too_large_error"
]
"""What happens to an item (see README, "What happens to items").

- created: a run is created (default);
- trigger_failure: the trigger keeps failing: a pre-failed SYSTEM_FAILURE run
  (streaming and one-shot batches; `/api/v1/tasks/batch` of up to 20 items aborts
  with a `500`), `500` for a single trigger;
- queue_limit: the environment's queue is full;
- unknown_task: the task is not deployed: the platform still makes the run, queued on
  `task/<id>`, and it stays QUEUED (nothing runs it) until its ttl or a cancel;
- too_large: the payload is over the limit (a pre-failed run in a streaming batch);
- too_large_error: as too_large, but recorded as a PAYLOAD_TOO_LARGE error entry (the
  platform does this when even the pre-failed run cannot be created).
"""
OUTCOMES: tuple[str, ...] = get_args(ItemOutcome)


def check_progression(value: object) -> Progression:
    """`value` if it names a progression, else `ValueError` listing them."""
    if value not in PROGRESSIONS:
        raise ValueError(
            f"progression must be one of {', '.join(PROGRESSIONS)}; got {shown(value, 50)}"
        )
    return value  # type: ignore[return-value]


def check_outcome(value: object) -> ItemOutcome:
    """`value` if it names an item outcome, else `ValueError` listing them."""
    if value not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}; got {shown(value, 50)}")
    return value  # type: ignore[return-value]
