"""Moments as the platform writes them: JavaScript's `toISOString()`, whole milliseconds.

`iso_ms` covers a JavaScript Date's whole range (years -271821 to 275760, written with
an expanded `+YYYYYY` year beyond 9999), wider than a Python `datetime`'s.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

__all__ = ["DATE_LIMIT_MS", "from_ms", "iso_ms", "to_ms"]

DATE_LIMIT_MS = 8_640_000_000_000_000
"""A JavaScript Date holds moments up to this many ms either side of 1970; past it, an
Invalid Date."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
_CYCLE_MS = 146_097 * 86_400_000  # 400 Gregorian years: the calendar repeats after them


@functools.lru_cache(maxsize=4096)  # the runs of one batch share their moments
def iso_ms(ms: int) -> str:
    """`2026-03-01T12:00:00.123Z` for `ms` since 1970, as `Date.toISOString()` writes it."""
    if not -DATE_LIMIT_MS <= ms <= DATE_LIMIT_MS:
        raise ValueError(f"{ms} ms is outside a JavaScript Date's range (±{DATE_LIMIT_MS})")
    cycles, rest = divmod(ms, _CYCLE_MS)  # rest falls in 1970-2369, which datetime holds
    moment = _EPOCH + timedelta(milliseconds=rest)
    year = moment.year + 400 * cycles
    shown = f"{year:04d}" if 0 <= year <= 9999 else f"{'+' if year > 0 else '-'}{abs(year):06d}"
    return (
        f"{shown}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
        f"{moment.minute:02d}:{moment.second:02d}.{moment.microsecond // 1000:03d}Z"
    )


def to_ms(moment: datetime) -> int:
    """Whole milliseconds since 1970 (exact; a naive `moment` is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _ONE_MS


def from_ms(ms: int) -> datetime:
    """The UTC datetime `ms` milliseconds after 1970 (years 1 to 9999)."""
    try:
        return _EPOCH + timedelta(milliseconds=ms)
    except OverflowError:
        raise ValueError(f"{ms} ms since 1970 is outside years 1 to 9999") from None
