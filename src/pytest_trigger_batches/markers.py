"""`@pytest.mark.trigger_batch`: from markers to the batches the fixtures serve.

A test's markers are read top to bottom (its own, then its class's, then its
module's), each built once with the test's `trigger_batch_factory` into the states it
is served as, and registered in whichever mock fixture the test uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from pytest_trigger_batches.settings import MARKED_SEED_KEY, attempt, from_marker, marker_failure
from pytest_trigger_batches.shown import shown

if TYPE_CHECKING:
    from pytest_trigger_batches.api import TriggerApi
    from pytest_trigger_batches.factory import BatchFactory
    from pytest_trigger_batches.model import TriggerBatch, TriggerRun

__all__ = ["MARKED_KEY", "MarkedBatch", "TriggerBatchOptions", "marked", "serve"]

MARKED_KEY = pytest.StashKey[list["MarkedBatch"]]()


class TriggerBatchOptions:
    """`@pytest.mark.trigger_batch(status, *, environment=None, progress_after=None,
    runs=False, ...)`.

    - `status` and `factory_options`: what `trigger_batch_factory` takes (`run_count=`,
      `failed_count=`, ...).
    - `environment`: the environment the batch belongs to (None: every key sees it).
    - `progress_after`: the first N retrievals show the states that lead to it.
    - `runs`: True registers the runs its final state lists too
      (`trigger_batch_factory.runs_of(batch)`, of the marker's `task_identifier`), so
      the run endpoints serve them.
    """

    __slots__ = ("environment", "factory_options", "progress_after", "runs", "status")

    def __init__(
        self,
        status: object = None,
        *,
        environment: str | None = None,
        progress_after: int | None = None,
        runs: bool = False,
        **factory_options: object,
    ) -> None:
        if not isinstance(runs, bool):
            raise TypeError(f"runs must be True or False; got {shown(runs)}")
        self.status: object = status
        self.environment: str | None = environment
        self.progress_after: int | None = progress_after
        self.runs: bool = runs
        self.factory_options: dict[str, object] = factory_options

    def build(self, factory: BatchFactory) -> tuple[TriggerBatch, ...]:
        """The states the batch is served as (its final state last)."""
        from pytest_trigger_batches.lifecycle import timeline

        status = () if self.status is None else (self.status,)
        batch = factory(*status, **self.factory_options)  # type: ignore[arg-type]
        if self.progress_after is None:
            return (batch,)
        return timeline(batch, polls=self.progress_after)

    def build_runs(self, factory: BatchFactory, final: TriggerBatch) -> tuple[TriggerRun, ...]:
        """The runs registered with the batch (`runs=True`): those its final state lists."""
        if not self.runs:
            return ()
        tasks = self.factory_options.get("task_identifier")
        return factory.runs_of(final, task_identifier=tasks)  # type: ignore[arg-type]

    @staticmethod
    def names() -> tuple[str, ...]:
        """Every option the marker takes: the factory's, then the marker's own."""
        import inspect

        from pytest_trigger_batches.factory import BatchFactory

        factory_options = list(inspect.signature(BatchFactory.__call__).parameters)[1:]  # no self
        return (*factory_options, "environment", "progress_after", "runs")


class MarkedBatch:
    """One `@pytest.mark.trigger_batch` batch: its marker, options and states."""

    # A plain class: a dataclass took half the plugin's import time to create.
    __slots__ = ("marker", "options", "runs", "states")

    def __init__(
        self,
        marker: pytest.Mark,
        options: TriggerBatchOptions,
        states: tuple[TriggerBatch, ...],
        runs: tuple[TriggerRun, ...] = (),
    ) -> None:
        self.marker: pytest.Mark = marker
        self.options: TriggerBatchOptions = options
        self.states: tuple[TriggerBatch, ...] = states
        self.runs: tuple[TriggerRun, ...] = runs


def marked(request: pytest.FixtureRequest) -> list[MarkedBatch]:
    """The test's marked batches, built once so that every fixture serves the same ones."""
    found: list[MarkedBatch] | None = request.node.stash.get(MARKED_KEY, None)
    if found is not None:
        return found
    markers = in_reading_order(request.node)
    found = []
    if markers:  # the factory (and so trigger_seed, overridable) only when needed
        factory: BatchFactory = request.getfixturevalue("trigger_batch_factory")
        request.node.stash[MARKED_SEED_KEY] = factory.seed
        names = TriggerBatchOptions.names()
        for marker in markers:
            options = from_marker(TriggerBatchOptions, marker, names, positional="status")
            states, problem = attempt(options.build, factory)
            if states is None:
                marker_failure(marker, problem or "")
            runs, problem = attempt(options.build_runs, factory, states[-1])
            if runs is None:
                marker_failure(marker, problem or "")
            found.append(MarkedBatch(marker, options, states, runs))
        ids = [batch.states[0].id for batch in found]
        for batch in found:
            if ids.count(batch.states[0].id) > 1:
                marker_failure(
                    batch.marker,
                    f"another trigger_batch marker has batch_id {shown(batch.states[0].id)}",
                )
    request.node.stash[MARKED_KEY] = found
    return found


def in_reading_order(node: pytest.Item) -> list[pytest.Mark]:
    """The test's trigger_batch markers top to bottom: its own, then its class's, module's.

    pytest keeps each node's decorators bottom-up (the order they were applied).
    """
    by_node: dict[int, list[pytest.Mark]] = {}
    for owner, marker in node.iter_markers_with_node("trigger_batch"):
        by_node.setdefault(id(owner), []).append(marker)
    return [marker for markers in by_node.values() for marker in reversed(markers)]


def serve(api: TriggerApi, request: pytest.FixtureRequest) -> None:
    """Register the test's marked batches with `api`."""
    for batch in marked(request):
        _, problem = attempt(
            api.add_batch, batch.states, environment=batch.options.environment, runs=batch.runs
        )
        if problem is not None:
            marker_failure(batch.marker, problem)
