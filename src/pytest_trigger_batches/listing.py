"""Listing runs (`GET /api/v1/runs`): the filter a query makes, and keyset pages.

The handler reads the query into a `RunFilter`; the backend keeps the runs that match,
newest first, and cuts a page as the platform's runs repository does: composite cursors
on `(created_at, run_id)`, legacy ones on the internal run id (docs/platform.md §7).
"""

from __future__ import annotations

import base64
import bisect
import json
import math
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice, takewhile

from pytest_trigger_batches import durations
from pytest_trigger_batches.errors import PlatformError
from pytest_trigger_batches.payloads import tags_of
from pytest_trigger_batches.stored_run import Run, machine_of, queue_of

__all__ = [
    "WINDOW_MS",
    "RunFilter",
    "RunOrder",
    "RunPage",
    "Window",
    "encode_cursor",
    "internal_run_id",
    "page",
]

WINDOW_MS = 7 * 86_400_000
"""The default window: runs created in the last seven days (on the mock's clock)."""


@dataclass(frozen=True, slots=True)
class RunFilter:
    """What a query asks of the run list; empty collections and None filter nothing."""

    size: int = 25
    statuses: Collection[str] | None = None
    """Stored status names (`FILTER_STATUSES` read from the query's names)."""
    tasks: Collection[str] = ()
    tags: frozenset[str] = frozenset()
    batch_id: str | None = None
    versions: Collection[str] = ()
    queues: Collection[str] = ()
    regions: Collection[str] = ()
    machines: Collection[str] = ()
    is_test: bool | None = None
    start_ms: int | None = None
    end_ms: int | None = None
    period: str | None = None
    """`filter[createdAt][period]`: replaces `start_ms` and `end_ms`."""
    schedule_or_error: bool = False
    """A schedule or error filter: the mock's runs have neither, so none matches."""
    bulk_id: str | None = None
    after: str | None = None
    before: str | None = None

    def window(self, now_ms: int) -> Window:
        """The time window at `now_ms`: a period replaces from and to; with neither, the
        default seven days. A period the platform's parse cannot read filters nothing;
        one past a JavaScript Date fails the platform's query (500)."""
        start, end = self.start_ms, self.end_ms
        if self.period is not None:
            try:
                start, end = durations.period_start_ms(self.period, now_ms), None
            except durations.InvalidDate:
                raise PlatformError.message(500, "Internal Server Error") from None
        if start is None and end is None and self.period is None:
            return Window(now_ms - WINDOW_MS, None, default=True)
        return Window(start, end)

    def matches(self, run: Run, window: Window) -> bool:
        """Whether `run` passes every filter, created within `window`."""
        if self.batch_id is not None and run.batch_id != self.batch_id:
            return False
        if self.tasks and run.task not in self.tasks:
            return False
        if self.tags and self.tags.isdisjoint(tags_of(run)):
            return False
        if self.statuses is not None and run.stored_status not in self.statuses:
            return False
        if self.is_test is not None and (run.options.get("test") is True) != self.is_test:
            return False
        if self.versions and (run.version or "") not in self.versions:
            return False
        if self.queues and queue_of(run) not in self.queues:
            return False
        if self.regions and (run.region or "") not in self.regions:
            return False
        if self.machines and machine_of(run) not in self.machines:
            return False
        if self.schedule_or_error:
            return False
        if (
            self.bulk_id is not None
            and self.bulk_id not in run.bulk_actions
            and run.options.get("bulkActionId") != self.bulk_id
        ):
            return False
        return window.holds(run)


@dataclass(frozen=True, slots=True)
class Window:
    """When listed runs were created: from `start_ms` to `end_ms` (None: open); the
    `default` window lists registered runs whatever their date."""

    start_ms: int | None
    end_ms: int | None
    default: bool = False

    def holds(self, run: Run) -> bool:
        """Whether `run` was created within the window."""
        early = self.start_ms is not None and run.created_ms < self.start_ms
        if early and not (self.default and run.listed_always):
            return False
        return self.end_ms is None or run.created_ms <= self.end_ms


@dataclass(frozen=True, slots=True)
class RunPage:
    """One page of runs and its cursors (`next`, `previous`)."""

    runs: list[Run]
    pagination: dict[str, str]


def internal_run_id(run_id: str) -> str:
    """A run's internal id, as the list's cursors carry it: its friendly id less `run_`."""
    return run_id[4:] if run_id.startswith("run_") else run_id


def encode_cursor(run: Run) -> str:
    """A page cursor: base64url of `{"c": createdAtMs, "r": internal run id}`."""
    raw = json.dumps({"c": run.created_ms, "r": internal_run_id(run.id)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()


def _decode_cursor(cursor: str) -> tuple[int, str] | None:
    """A composite cursor's place, or None for a legacy one (a bare internal run id)."""
    text = re.sub(r"[^A-Za-z0-9_\-+/]", "", cursor.split("=", 1)[0])
    text = text[: len(text) - 1] if len(text) % 4 == 1 else text
    try:
        raw = base64.urlsafe_b64decode(
            text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4)
        )
        found = json.loads(raw.decode(errors="replace"))
    except ValueError:
        return None
    if not isinstance(found, dict):
        return None
    created, run_id = found.get("c"), found.get("r")
    if isinstance(created, bool) or not isinstance(created, int | float):
        return None
    if not (math.isfinite(created) and float(created).is_integer()):
        return None
    if not isinstance(run_id, str) or not run_id:
        return None
    return int(created), run_id


class RunOrder:
    """Runs in the order the list reads them: by `(created_at, internal run id)`.

    Kept sorted as runs are added (a new run is usually the newest: an append), so a
    page starts where bisection puts its cursor and reads no further than it shows.
    """

    __slots__ = ("_keys", "_runs")

    def __init__(self) -> None:
        self._keys: list[tuple[int, str]] = []  # oldest first
        self._runs: list[Run] = []

    def __len__(self) -> int:
        return len(self._runs)

    def add(self, run: Run) -> None:
        """Put `run` in its place (its id and creation time never change)."""
        key = _place(run)
        at = bisect.bisect_right(self._keys, key)
        self._keys.insert(at, key)
        self._runs.insert(at, run)

    def remove(self, run: Run) -> None:
        """Take `run` out (a run registered again under its id replaces it)."""
        at = bisect.bisect_left(self._keys, _place(run))
        while at < len(self._runs) and self._keys[at] == _place(run):
            if self._runs[at] is run:
                del self._keys[at], self._runs[at]
                return
            at += 1

    def newest_first(self, below: tuple[int, str] | None = None) -> Iterator[Run]:
        """The runs placed before `below` (all: None), newest first."""
        runs = self._runs
        end = len(runs) if below is None else bisect.bisect_left(self._keys, below)
        return (runs[at] for at in range(end - 1, -1, -1))

    def oldest_first(self, above: tuple[int, str] | None = None) -> Iterator[Run]:
        """The runs placed after `above` (all: None), oldest first."""
        start = 0 if above is None else bisect.bisect_right(self._keys, above)
        return islice(self._runs, start, None)


def _place(run: Run) -> tuple[int, str]:
    return (run.created_ms, internal_run_id(run.id))


def page(
    order: RunOrder,
    matches: Callable[[Run], bool],
    window: Window,
    size: int,
    cursor: str | None,
    *,
    forward: bool,
) -> RunPage:
    """The keyset page of the runs of `order` that `matches` keeps (newest first), after
    (`forward`) or before `cursor`: read from the cursor's place on, a page's worth."""
    if cursor is None:
        rows = _first(matches, _newest(order, window, None), size + 1)
    else:
        place = _decode_cursor(cursor)
        if place is None:  # a legacy cursor: by internal id alone, whatever the time
            legacy = cursor
            if forward:
                older = (r for r in order.newest_first() if internal_run_id(r.id) < legacy)
                rows = _first(matches, older, size + 1)
            else:
                newer = (r for r in order.oldest_first() if internal_run_id(r.id) > legacy)
                rows = _first(matches, newer, size + 1)
        elif forward:
            rows = _first(matches, _newest(order, window, place), size + 1)
        else:
            rows = _first(matches, _oldest(order, window, place), size + 1)
    more = len(rows) > size
    pagination: dict[str, str] = {}
    if forward:
        if more:
            pagination["next"] = encode_cursor(rows[size - 1])
        if cursor is not None and rows:
            pagination["previous"] = encode_cursor(rows[0])
    elif rows:  # oldest first, as the backward query reads them
        pagination["next"] = encode_cursor(rows[0])
        if more:
            pagination["previous"] = encode_cursor(rows[size - 1])
    return RunPage(rows[:size], pagination)


def _first(matches: Callable[[Run], bool], runs: Iterable[Run], count: int) -> list[Run]:
    return list(islice(filter(matches, runs), count))


def _newest(order: RunOrder, window: Window, below: tuple[int, str] | None) -> Iterator[Run]:
    """Newest first from `below`: none created after the window's end, and none before
    its start unless the default window may still list a registered run."""
    if window.end_ms is not None:
        after_end = (window.end_ms + 1, "")
        below = after_end if below is None else min(below, after_end)
    runs = order.newest_first(below)
    start = window.start_ms
    if start is not None and not window.default:
        return takewhile(lambda run: run.created_ms >= start, runs)
    return runs


def _oldest(order: RunOrder, window: Window, above: tuple[int, str]) -> Iterator[Run]:
    """Oldest first from `above`, within the window (a registered run before the start
    of the default window too)."""
    start = window.start_ms
    if start is not None and not window.default:
        above = max(above, (start, ""))
    runs = order.oldest_first(above)
    end = window.end_ms
    if end is not None:
        return takewhile(lambda run: run.created_ms <= end, runs)
    return runs
