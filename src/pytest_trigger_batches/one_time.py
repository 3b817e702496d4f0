"""The one-time-use marks the platform keeps for public access tokens.

A run and a batch each store the caller's one-time-use mark in a unique column
(`TaskRun.oneTimeUseToken`, `BatchTaskRun.oneTimeUseToken`): a second row with the same
mark is refused (422). The mark is a hash of `authentication.apiKey`, which the route
builder has set to the environment's secret key since 2026-05-12 (before: the token
itself), so the mark is the environment's: once any one-time-use token of an
environment has made a run, no other one-time-use token of it makes one, and the same
for batches (docs/platform.md §2.3).
"""

from __future__ import annotations

from typing import Literal

from pytest_trigger_batches.errors import PlatformError

__all__ = ["OneTimeUses"]


class OneTimeUses:
    """Which environments' one-time-use marks a run and a batch already hold."""

    def __init__(self) -> None:
        self._spent: set[tuple[str, str]] = set()

    def spend(self, table: Literal["run", "batch"], environment: str, message: str) -> None:
        """Mark a new run or batch of `environment`'s one-time-use caller, or raise the
        platform's 422 (`message`) when one already holds the mark."""
        key = (table, environment)
        if key in self._spent:
            raise PlatformError.message(422, message)
        self._spent.add(key)
