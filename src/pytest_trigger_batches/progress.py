"""How batches and runs move on: the one progression engine.

Every move of a batch or a run is decided here, for both kinds of batch (`records.py`):
what a retrieval of a batch does, what a retrieval of a run does, a batch that settles
at once, and `advance()`. The mode is the test's choice (`progression`):

- "per_poll" (default): each successful GET of a batch moves it (and its unfinished
  runs) one step; a batch becomes COMPLETED on the first retrieval after its last run
  is final. A GET of a run moves its batch the same way (a run of no batch, itself).
- "held": nothing moves until the test calls `advance(...)`.
- "immediate": a triggered batch settles at once: a streaming batch as soon as it is
  sealed, a one-shot batch as soon as it is made. A registered batch moves only per
  poll or with `advance()`: here, as when "held", it shows its current state.

Whatever the mode, a run held by `on_run(hold=...)` goes no further than its stage until
`advance()` moves it (or a cancel stops it), and a batch whose last unfinished run is
cancelled is COMPLETED at once, as the platform checks a batch when each of its runs
finishes (`run_finished`). A run whose queue is paused (`POST /api/v1/queues/.../pause`)
stays QUEUED, whatever moves it, `advance()` included, until the queue is resumed
(`Run.step`); runs already executing go on.

HEAD requests move nothing, and sealing a streaming batch happens only through its items
call, whatever the mode. Runs the test registered (`add_batch(runs=...)`) never move.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal, TypeVar, get_args

from pytest_trigger_batches.shown import shown

if TYPE_CHECKING:
    from pytest_trigger_batches.model import TriggerBatch
    from pytest_trigger_batches.records import BatchRecord, RunMaker
    from pytest_trigger_batches.statuses import BatchStatus
    from pytest_trigger_batches.stored_run import Run

__all__ = ["PROGRESSIONS", "Progress", "Progression", "check_progression"]

Progression = Literal["per_poll", "held", "immediate"]
PROGRESSIONS: tuple[str, ...] = get_args(Progression)

_SETTLE_STEPS = 8  # enough for any batch: processing, queued, executing, final, COMPLETED
_ADVANCE_STEPS = 16  # `advance(to=...)`: a registered batch may have more states

T = TypeVar("T")


def check_progression(value: object) -> Progression:
    """`value` if it names a progression, else `ValueError` listing them."""
    if value not in PROGRESSIONS:
        raise ValueError(
            f"progression must be one of {', '.join(PROGRESSIONS)}; got {shown(value, 50)}"
        )
    return value  # type: ignore[return-value]


class Progress:
    """The progression of one mock API's batches and runs, in the mode the test chose.

    `runs` makes a triggered batch's runs when its processing step comes (the backend).
    """

    def __init__(self, runs: RunMaker) -> None:
        self.mode: Progression = "per_poll"
        self._runs = runs

    def poll_batch(self, batch: BatchRecord, now_ms: int, *, version: int, get: bool) -> bytes:
        """A retrieval of `batch`: its current state's body for API `version`.

        A GET (`get`) is counted in `served`; per poll, the batch is first found as it
        is (COMPLETED once its runs are final), answered, then moved one step.
        """
        moves = get and self.mode == "per_poll"
        if moves:
            batch.ready(now_ms)
        body = batch.body(version)
        if get:
            batch.served += 1
        if moves:
            batch.step(now_ms, self._runs)
        return body

    def poll_run(
        self,
        run: Run,
        batch: BatchRecord | None,
        now_ms: int,
        *,
        get: bool,
        render: Callable[[Run], T],
    ) -> T:
        """A retrieval of `run` (of `batch`, if any): what `render` makes of it now.

        Time has its effect first (a delay passes, a TTL runs out); after the answer, a
        GET per poll moves the run's batch one step, or a run of no batch itself.
        """
        run.refresh(now_ms)
        answer = render(run)
        if get and self.mode == "per_poll" and not run.listed_always:
            if batch is None:
                run.step(now_ms)
            else:
                batch.ready(now_ms)
                batch.step(now_ms, self._runs)
        return answer

    def started(self, batch: BatchRecord, now_ms: int) -> None:
        """`batch`'s runs may start (a streaming batch sealed, a one-shot batch made):
        in "immediate" mode it settles now."""
        if self.mode == "immediate":
            self.settle(batch, now_ms)

    def settle(self, batch: BatchRecord, now_ms: int) -> None:
        """Move `batch` on until nothing moves it (COMPLETED, ABORTED, its last state)."""
        for _ in range(_SETTLE_STEPS):
            batch.ready(now_ms)
            if batch.settled:
                return
            batch.step(now_ms, self._runs)

    def advance(
        self, batch: BatchRecord, now: Callable[[], int], *, to: BatchStatus | None = None
    ) -> TriggerBatch:
        """One step on (`advance(batch)`), or, with `to`, steps until `batch` shows that
        status or can move no further; the state it shows then. Each step reads the
        clock (`now`, in milliseconds) once."""
        for _ in range(_ADVANCE_STEPS if to is not None else 1):
            if to is not None and batch.batch.status == to:
                break
            now_ms = now()
            batch.ready(now_ms)
            if not batch.settled:
                batch.step(now_ms, self._runs, release=True)  # held runs too
        return batch.batch

    def run_finished(self, batch: BatchRecord, now_ms: int) -> None:
        """A run of `batch` became final outside the progression (a cancel): the platform
        looks at the batch then, whatever the mode, and completes it if that was its
        last unfinished run (`tryCompleteBatch`, scheduled as each run finishes)."""
        batch.ready(now_ms)

    def poll_shape(
        self,
        batches: Sequence[BatchRecord],
        loose: Sequence[Run],
        now_ms: int,
        render: Callable[[], T],
    ) -> T:
        """A realtime request over runs of `batches` and runs of no batch (`loose`): what
        `render` makes of them now; then, per poll, each batch and each loose run moves
        one step, as a retrieval of one of its runs moves it."""
        moves = self.mode == "per_poll"
        if moves:
            for batch in batches:
                batch.ready(now_ms)
        answer = render()
        if moves:
            for batch in batches:
                batch.step(now_ms, self._runs)
            for run in loose:
                if not run.listed_always:
                    run.step(now_ms)
        return answer
