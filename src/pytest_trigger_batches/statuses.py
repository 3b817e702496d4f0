"""Every status the platform knows: a batch's, a run's stored and shown ones.

A leaf module (it imports only `shown`): the model, the store, the presenters and the
handlers all read their statuses here (docs/platform.md §7.1, §7.2, §7.4).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from pytest_trigger_batches.shown import shown

__all__ = [
    "API_RUN_STATUSES",
    "CURRENT_API",
    "CURRENT_NAMES",
    "FILTER_STATUSES",
    "FLAG_SETS",
    "KEY_CLEARING_STATUSES",
    "OLD_NAMES",
    "RUN_FAILED",
    "RUN_FINAL",
    "RUN_OUTCOMES",
    "RUN_STATUSES",
    "STORED_FAILED",
    "STORED_FINAL",
    "BatchStatus",
    "RunStatus",
    "flags",
    "shown_status",
    "stored_outcome",
]


class BatchStatus(enum.StrEnum):
    """The five statuses a batch can have; str-valued (`BatchStatus.COMPLETED == "COMPLETED"`)."""

    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    PARTIAL_FAILED = "PARTIAL_FAILED"
    ABORTED = "ABORTED"

    @classmethod
    def parse(cls, value: object, *, parameter: str = "status") -> BatchStatus:
        """Return the status named by `value`, or raise `ValueError` listing the valid ones."""
        if isinstance(value, BatchStatus):
            return value
        if isinstance(value, str):
            found = _BATCH_STATUSES.get(value)  # cls(value), without the enum's call
            if found is not None:
                return found
        hint = ""
        if isinstance(value, str) and value.upper() in cls.__members__:
            hint = f" (statuses are upper case: {shown(value.upper())})"
        raise ValueError(
            f"{parameter} must be one of {', '.join(s.value for s in cls)}; "
            f"got {shown(value)}{hint}"
        )


_BATCH_STATUSES = {status.value: status for status in BatchStatus}


class RunStatus(enum.StrEnum):
    """The statuses the platform stores for a run (its database's `TaskRunStatus`).

    Clients never see these names directly: `shown_status` turns them into the
    vocabulary the request's `x-trigger-api-version` asks for.
    """

    DELAYED = "DELAYED"
    PENDING = "PENDING"
    PENDING_VERSION = "PENDING_VERSION"
    WAITING_FOR_DEPLOY = "WAITING_FOR_DEPLOY"
    DEQUEUED = "DEQUEUED"
    EXECUTING = "EXECUTING"
    WAITING_TO_RESUME = "WAITING_TO_RESUME"
    RETRYING_AFTER_FAILURE = "RETRYING_AFTER_FAILURE"
    PAUSED = "PAUSED"
    CANCELED = "CANCELED"
    INTERRUPTED = "INTERRUPTED"
    COMPLETED_SUCCESSFULLY = "COMPLETED_SUCCESSFULLY"
    COMPLETED_WITH_ERRORS = "COMPLETED_WITH_ERRORS"
    SYSTEM_FAILURE = "SYSTEM_FAILURE"
    CRASHED = "CRASHED"
    EXPIRED = "EXPIRED"
    TIMED_OUT = "TIMED_OUT"


# -- shown names -----------------------------------------------------------------------

CURRENT_API = "2025-07-16"
"""The one `x-trigger-api-version` that gets the current names (SDK 4.x sends it)."""

OLD_NAMES: Mapping[str, str] = {
    "PENDING": "QUEUED",
    "DEQUEUED": "EXECUTING",
    "RETRYING_AFTER_FAILURE": "REATTEMPTING",
    "PAUSED": "FROZEN",
    "WAITING_TO_RESUME": "FROZEN",
    "COMPLETED_SUCCESSFULLY": "COMPLETED",
    "COMPLETED_WITH_ERRORS": "FAILED",
}
"""Stored -> shown without the header (or with another version); the rest unchanged."""

CURRENT_NAMES: Mapping[str, str] = {
    **OLD_NAMES,
    "DEQUEUED": "DEQUEUED",
    "WAITING_FOR_DEPLOY": "PENDING_VERSION",
    "RETRYING_AFTER_FAILURE": "EXECUTING",
    "PAUSED": "WAITING",
    "WAITING_TO_RESUME": "WAITING",
    "INTERRUPTED": "FAILED",
}
"""Stored -> shown for `x-trigger-api-version: 2025-07-16`; the rest unchanged."""

FLAG_SETS: Mapping[str, frozenset[str]] = {
    "isQueued": frozenset({"QUEUED", "DELAYED", "PENDING_VERSION", "WAITING_FOR_DEPLOY"}),
    "isExecuting": frozenset({"EXECUTING", "DEQUEUED", "REATTEMPTING", "FROZEN"}),
    "isCompleted": frozenset(
        {"COMPLETED", "FAILED", "CRASHED", "INTERRUPTED", "SYSTEM_FAILURE", "CANCELED"}
    ),
    "isFailed": frozenset({"FAILED", "CRASHED", "INTERRUPTED", "SYSTEM_FAILURE", "CANCELED"}),
    "isSuccess": frozenset({"COMPLETED"}),
    "isCancelled": frozenset({"CANCELED"}),
    "isWaiting": frozenset({"WAITING"}),
}
"""The seven booleans of a run body, in the body's order: the shown statuses that set
each (EXPIRED and TIMED_OUT set none)."""


def shown_status(stored: str, api_version: str | None) -> str:
    """The status a client sees: the current names only for `x-trigger-api-version: 2025-07-16`."""
    names = CURRENT_NAMES if api_version == CURRENT_API else OLD_NAMES
    return names.get(stored, stored)


def flags(shown_name: str) -> dict[str, bool]:
    """The seven booleans, from the shown status."""
    return {name: shown_name in members for name, members in FLAG_SETS.items()}


# -- a run in the current vocabulary (`TriggerRun`, `on_run`) --------------------------

RUN_STATUSES = (
    "QUEUED",
    "DELAYED",
    "EXECUTING",
    "COMPLETED",
    "FAILED",
    "CRASHED",
    "SYSTEM_FAILURE",
    "TIMED_OUT",
    "CANCELED",
    "EXPIRED",
)
"""The statuses a `TriggerRun` can have (the current vocabulary)."""
RUN_FAILED = frozenset({"FAILED", "CRASHED", "SYSTEM_FAILURE", "TIMED_OUT"})
"""The shown statuses of a run that failed (it carries an `error`)."""
RUN_FINAL = frozenset({"COMPLETED", "CANCELED", "EXPIRED", *RUN_FAILED})
"""The shown statuses of a run that has finished (it has `finishedAt`)."""
RUN_OUTCOMES = ("COMPLETED", "FAILED", "CRASHED", "SYSTEM_FAILURE", "TIMED_OUT")
"""How a run that started can end, when the test chooses (`on_run`); COMPLETED by default."""
_STORED_OUTCOMES = {"COMPLETED": "COMPLETED_SUCCESSFULLY", "FAILED": "COMPLETED_WITH_ERRORS"}


def stored_outcome(outcome: str) -> str:
    """The stored status of a run that ended as `outcome` (a shown name of RUN_OUTCOMES)."""
    return _STORED_OUTCOMES.get(outcome, outcome)


STORED_FAILED = frozenset(map(stored_outcome, RUN_FAILED))
"""The stored statuses of a run that failed."""
STORED_FINAL = frozenset(
    {
        "CANCELED",
        "INTERRUPTED",
        "COMPLETED_SUCCESSFULLY",
        "COMPLETED_WITH_ERRORS",
        "SYSTEM_FAILURE",
        "CRASHED",
        "EXPIRED",
        "TIMED_OUT",
    }
)
"""The stored statuses of a run that has finished (the platform's `isFinalRunStatus`)."""
KEY_CLEARING_STATUSES = frozenset(
    {"COMPLETED_WITH_ERRORS", "SYSTEM_FAILURE", "CRASHED", "TIMED_OUT", "INTERRUPTED", "EXPIRED"}
)
"""Stored statuses whose run gives up its idempotency key: the key makes a new run."""


# -- GET /api/v1/runs ------------------------------------------------------------------

FILTER_STATUSES: Mapping[str, frozenset[str]] = {
    "DELAYED": frozenset({"DELAYED"}),
    "PENDING_VERSION": frozenset({"PENDING_VERSION"}),
    "WAITING_FOR_DEPLOY": frozenset({"WAITING_FOR_DEPLOY"}),
    "QUEUED": frozenset({"PENDING"}),
    "EXECUTING": frozenset({"EXECUTING"}),
    "REATTEMPTING": frozenset({"RETRYING_AFTER_FAILURE"}),
    "FROZEN": frozenset({"PAUSED", "WAITING_TO_RESUME"}),
    "CANCELED": frozenset({"CANCELED"}),
    "COMPLETED": frozenset({"COMPLETED_SUCCESSFULLY"}),
    "SYSTEM_FAILURE": frozenset({"SYSTEM_FAILURE"}),
    "INTERRUPTED": frozenset({"INTERRUPTED"}),
    "CRASHED": frozenset({"CRASHED"}),
    "FAILED": frozenset({"COMPLETED_WITH_ERRORS"}),
    "EXPIRED": frozenset({"EXPIRED"}),
    "TIMED_OUT": frozenset({"TIMED_OUT"}),
    "DEQUEUED": frozenset({"DEQUEUED"}),
    "WAITING": frozenset({"WAITING_TO_RESUME"}),
}
"""Every name `filter[status]` accepts (either vocabulary) -> the stored statuses it
matches. Not the inverse of the shown names: `WAITING` matches `WAITING_TO_RESUME` only."""


# --- bulkqueues: a bulk action's filter -----------------------------------------------------

API_RUN_STATUSES = (
    "PENDING_VERSION",
    "QUEUED",
    "DEQUEUED",
    "EXECUTING",
    "WAITING",
    "COMPLETED",
    "CANCELED",
    "FAILED",
    "CRASHED",
    "SYSTEM_FAILURE",
    "DELAYED",
    "EXPIRED",
    "TIMED_OUT",
)
"""The SDK's `RunStatus` names, in the schema's order: what a bulk action's
`filter.status` accepts (each read as `FILTER_STATUSES` reads it)."""


# --- waitpoints: a waitpoint token's status ----------------------------------------------

WAITPOINT_STATUSES = ("WAITING", "COMPLETED", "TIMED_OUT")
"""What the API shows a token as: `PENDING` is WAITING, `COMPLETED` is COMPLETED or, when
its output is the timeout's error, TIMED_OUT (`filter[status]` takes these names)."""
