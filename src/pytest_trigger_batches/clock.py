"""The one clock every time the mock reads comes from.

By default the wall clock, read through `time.time` at each call, so freezegun and
time-machine move it; or any callable returning seconds since the epoch.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pytest_trigger_batches.shown import shown

__all__ = ["Clock", "ClockFunction"]

ClockFunction = Callable[[], float]


def _wall() -> float:
    return time.time()  # looked up per call: freezegun replaces time.time


class Clock:
    """Seconds since the epoch from `source` (the wall clock when None)."""

    __slots__ = ("source",)

    def __init__(self, source: ClockFunction | None = None) -> None:
        if source is not None and not callable(source):
            raise TypeError(
                f"clock must be a callable returning seconds since the epoch (like "
                f"time.time), or None for the wall clock; got {shown(source)}"
            )
        self.source: ClockFunction = source or _wall

    def now_ms(self) -> int:
        """The time in whole unix milliseconds."""
        value = self.source()
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise TypeError(
                f"clock must return seconds since the epoch as a number; got {shown(value)}"
            )
        return int(value * 1000)
