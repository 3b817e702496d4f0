"""The statuses a batch can have.

A leaf module: `rules` and `model` both import it, and it imports neither, so the
rules can speak of statuses without loading the model.
"""

from __future__ import annotations

import enum

from pytest_trigger_batches.shown import shown

__all__ = ["BatchStatus"]


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
            try:
                return cls(value)
            except ValueError:
                pass
        hint = ""
        if isinstance(value, str) and value.upper() in cls.__members__:
            hint = f" (statuses are upper case: {shown(value.upper())})"
        raise ValueError(
            f"{parameter} must be one of {', '.join(s.value for s in cls)}; "
            f"got {shown(value)}{hint}"
        )
