"""pytest fixtures for applications that talk to Trigger.dev's API over httpx.

The fixtures (`trigger_batch_factory`, `mock_trigger_api`, ...) arrive through the
`trigger_batches` pytest plugin; this module exports the types and assertion helpers.
Names load on first use, so that pytest importing the plugin stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_trigger_batches.api import TriggerApi, UnexpectedTriggerRequest
    from pytest_trigger_batches.assertions import assert_batch_errors, assert_run_counts
    from pytest_trigger_batches.calls import RecordedCall, TriggeredItem
    from pytest_trigger_batches.factory import BatchFactory
    from pytest_trigger_batches.faults import FaultKind
    from pytest_trigger_batches.mock import MockTriggerApi
    from pytest_trigger_batches.model import BatchError, TriggerBatch, TriggerRun
    from pytest_trigger_batches.records import BatchHandle, TriggerAnswer, TriggeredBatchHandle
    from pytest_trigger_batches.server import TriggerApiServer
    from pytest_trigger_batches.statuses import BatchStatus

    __version__: str

__all__ = [
    "BatchError",
    "BatchFactory",
    "BatchHandle",
    "BatchStatus",
    "FaultKind",
    "MockTriggerApi",
    "RecordedCall",
    "TriggerAnswer",
    "TriggerApi",
    "TriggerApiServer",
    "TriggerBatch",
    "TriggerRun",
    "TriggeredBatchHandle",
    "TriggeredItem",
    "UnexpectedTriggerRequest",
    "__version__",
    "assert_batch_errors",
    "assert_run_counts",
]

_HOMES = {
    "BatchError": "model",
    "BatchFactory": "factory",
    "BatchHandle": "records",
    "BatchStatus": "statuses",
    "FaultKind": "faults",
    "MockTriggerApi": "mock",
    "RecordedCall": "calls",
    "TriggerApi": "api",
    "TriggerAnswer": "records",
    "TriggerApiServer": "server",
    "TriggerBatch": "model",
    "TriggerRun": "model",
    "TriggeredBatchHandle": "records",
    "TriggeredItem": "calls",
    "UnexpectedTriggerRequest": "api",
    "assert_batch_errors": "assertions",
    "assert_run_counts": "assertions",
}


if not TYPE_CHECKING:
    # Type checkers see only the imports above: a misspelled name is an error for them,
    # not an `Any` from a module-level __getattr__ (tests/test_typing.py checks both).

    def __getattr__(name: str) -> object:
        if name == "__version__":  # one source of truth: the distribution's metadata
            from importlib.metadata import version

            return version("pytest-trigger-batches")
        home = _HOMES.get(name)
        if home is None:
            raise AttributeError(f"module 'pytest_trigger_batches' has no attribute {name!r}")
        # Not cached here: the submodule in sys.modules stays the one source of truth.
        return getattr(importlib.import_module(f"pytest_trigger_batches.{home}"), name)


def __dir__() -> list[str]:
    return sorted(__all__)
