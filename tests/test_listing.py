"""The run list reads a page from its cursor's place: the same pages as sorting every run.

`GET /api/v1/runs` keeps its runs in list order and bisects to a cursor; these tests
compare its pages with the plain definition (every matching run, sorted newest first,
cut at the cursor) over many random stores, filters, windows and cursors.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable

import pytest

from pytest_trigger_batches.backend import TriggerBackend
from pytest_trigger_batches.errors import json_bytes
from pytest_trigger_batches.ids import secret_key
from pytest_trigger_batches.listing import (
    RunFilter,
    RunOrder,
    RunPage,
    Window,
    _decode_cursor,
    encode_cursor,
    internal_run_id,
    page,
)
from pytest_trigger_batches.payloads import list_entry, list_item
from pytest_trigger_batches.stored_run import Run


def _sorted_page(
    runs: list[Run], keep: RunFilter, window: Window, cursor: str | None, forward: bool
) -> RunPage:
    """The definition: filter every run, sort newest first, then cut at the cursor."""
    shown = [run for run in runs if keep.matches(run, window)]
    shown.sort(key=lambda r: (r.created_ms, internal_run_id(r.id)), reverse=True)
    size = keep.size
    place = None if cursor is None else _decode_cursor(cursor)
    if cursor is None:
        rows = shown
    elif place is None:  # legacy: by internal id alone
        if forward:
            rows = [r for r in shown if internal_run_id(r.id) < cursor]
        else:
            rows = [r for r in reversed(shown) if internal_run_id(r.id) > cursor]
    elif forward:
        rows = [r for r in shown if (r.created_ms, internal_run_id(r.id)) < place]
    else:
        rows = [r for r in reversed(shown) if (r.created_ms, internal_run_id(r.id)) > place]
    more = len(rows) > size
    pagination = {}
    if forward:
        if more:
            pagination["next"] = encode_cursor(rows[size - 1])
        if cursor is not None and rows:
            pagination["previous"] = encode_cursor(rows[0])
    elif rows:
        pagination["next"] = encode_cursor(rows[0])
        if more:
            pagination["previous"] = encode_cursor(rows[size - 1])
    return RunPage(rows[:size], pagination)


def _store(rng: random.Random) -> list[Run]:
    runs = []
    for number in range(rng.randint(0, 60)):
        runs.append(
            Run(
                id=f"run_c{rng.choice('abc')}{number:023d}",
                task=rng.choice(("a", "b")),
                created_ms=rng.choice((1000, 2000, 3000)) + rng.randint(0, 3),
                batch_id=rng.choice((None, "batch_x", "batch_y")),
                listed_always=rng.random() < 0.2,
            )
        )
    return runs


@pytest.mark.parametrize("seed", range(40))
def test_a_page_read_from_its_cursors_place_is_the_page_of_every_matching_run_sorted(
    seed: int,
) -> None:
    rng = random.Random(seed)
    runs = _store(rng)
    order = RunOrder()
    for run in rng.sample(runs, len(runs)):  # added in any order
        order.add(run)
    for _ in range(25):
        keep = RunFilter(size=rng.randint(1, 7), tasks=rng.choice(((), ("a",))))
        window = Window(
            rng.choice((None, 1500, 2002)),
            rng.choice((None, 2001, 3001)),
            default=rng.random() < 0.5,
        )
        anchor = Run(
            id=f"run_c{rng.choice('abcd')}{rng.randint(0, 70):023d}",
            task="a",
            created_ms=rng.choice((999, 2001, 3002)),
        )
        cursor = rng.choice(
            (
                None,
                encode_cursor(rng.choice(runs) if runs else anchor),
                encode_cursor(anchor),
                internal_run_id(anchor.id),  # a legacy cursor
                "not a cursor",
            )
        )
        forward = rng.random() < 0.7
        mine = page(
            order,
            functools.partial(keep.matches, window=window),
            window,
            keep.size,
            cursor,
            forward=forward,
        )
        assert mine == _sorted_page(runs, keep, window, cursor, forward), (cursor, window)


def test_a_run_taken_out_of_the_order_leaves_the_others_in_place() -> None:
    runs = [Run(id=f"run_c{n:024d}", task="t", created_ms=n // 2) for n in range(9)]
    order = RunOrder()
    for run in runs:
        order.add(run)
    order.remove(runs[4])
    order.remove(Run(id=runs[5].id, task="t", created_ms=runs[5].created_ms))  # not this one
    assert list(order.oldest_first()) == [*runs[:4], *runs[5:]]
    assert list(order.newest_first((3, ""))) == [runs[5], *runs[3::-1]]  # created before 3


def _trigger(backend: TriggerBackend, options: dict[str, object]) -> Run:
    run_id, _ = backend.trigger_task(
        environment="dev",
        task="t",
        payload=None,
        options=options,
        size=0,
        request_key=None,
        key=None,
        key_ttl=None,
        route="POST /api/v1/tasks/{taskId}/trigger",
        now_ms=0,
    )
    run = backend.run(run_id, "dev")  # as stored: reading it this way refreshes nothing
    assert run is not None
    return run


def test_a_list_refreshes_the_runs_whose_delay_or_ttl_has_run_out_and_no_other() -> None:
    backend = TriggerBackend(secret_key("dev"))
    delayed = _trigger(backend, {"delay": "2m", "ttl": "1m"})
    queued = _trigger(backend, {"ttl": "10m"})
    assert backend.list_runs(RunFilter(), "prod", 10**9).runs == []  # another environment's
    assert delayed.delayed_until_ms is not None  # not refreshed by that list
    listed = backend.list_runs(RunFilter(), "dev", 150_000)
    assert {run.id for run in listed.runs} == {delayed.id, queued.id}
    assert delayed.enqueued_ms == 120_000  # queued now
    assert delayed.expired_ms is None
    backend.list_runs(RunFilter(), "dev", 180_000)
    assert delayed.expired_ms == 180_000  # a minute after its delay ended
    assert queued.expired_ms is None
    backend.list_runs(RunFilter(), "dev", 600_000)
    assert queued.expired_ms == 600_000


def test_a_runs_list_entry_is_rendered_again_exactly_when_what_it_shows_changes() -> None:
    run = Run(id="run_c" + "0" * 24, task="t", created_ms=1000, options={"tags": ["b", "a"]})
    before = b""
    changes: list[Callable[[], None]] = [
        lambda: None,
        lambda: run.step(2000),  # executing
        lambda: run.cancel(3000),
        lambda: run.step(4000),  # its worker stopped
    ]
    for change in changes:
        change()
        for version, environment in ((None, "dev"), ("2025-07-16", "dev"), (None, "prod")):
            entry = list_entry(run, version, environment, "env_1")
            assert entry == json_bytes(list_item(run, version, environment, "env_1"))
            assert list_entry(run, version, environment, "env_1") is entry  # kept
        assert entry != before  # the run changed: rendered again
        before = entry


def test_a_list_ends_whatever_a_refresh_leaves_due() -> None:
    # A run whose delay ended shows its delayedUntil still: its deadline is then its TTL.
    backend = TriggerBackend(secret_key("dev"))
    delayed = _trigger(backend, {"delay": "1m"})
    with_ttl = _trigger(backend, {"delay": "1m", "ttl": "5m"})
    for now in (30_000, 60_000, 120_000, 400_000, 400_000):
        assert len(backend.list_runs(RunFilter(), "dev", now).runs) == 2
    assert delayed.delayed_until_ms == 60_000  # shown still
    assert delayed.expired_ms is None
    assert with_ttl.expired_ms == 360_000
    stuck = _Stuck(id="run_c" + "1" * 24, task="t", created_ms=0, ttl_ms=1000)
    backend._keep(stuck)
    assert stuck.deadline_ms == 1000
    backend.list_runs(RunFilter(), "dev", 10**9)  # ends, though its deadline stays due
    backend.list_runs(RunFilter(), "dev", 10**9)
    assert stuck.refreshed == 2


class _Stuck(Run):
    """A run whose refresh changes nothing, as a refresh that misses its deadline would."""

    refreshed = 0

    def refresh(self, now_ms: int) -> None:
        type(self).refreshed += 1
