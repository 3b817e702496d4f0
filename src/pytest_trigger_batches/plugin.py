"""pytest wiring only: options, markers, seeds and fixtures.

Imported in every pytest run of every project that installs the package, so it imports
nothing heavy: the factory, faker and respx load when a fixture first asks for them.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Generator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_trigger_batches.factory import BatchFactory

SEED_KEY = pytest.StashKey[int]()
_SEED_FIXTURES = ("trigger_seed",)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("trigger-batches", "Trigger.dev batches (pytest-trigger-batches)")
    group.addoption(
        "--trigger-seed",
        action="store",
        type=int,
        dest="trigger_seed",
        default=None,
        metavar="SEED",
        help="seed for the batches built by trigger_batch_factory (default: random per run)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "trigger_batch(status, **options): build a batch with trigger_batch_factory "
        "before the test and register it with mock_trigger_api.",
    )
    seed = config.getoption("trigger_seed", None)
    workerinput = getattr(config, "workerinput", None)
    if seed is None and workerinput is not None:
        seed = workerinput.get("trigger_seed")
    if seed is None:
        seed = random.SystemRandom().randrange(10**8)
    config.stash[SEED_KEY] = int(seed)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: object) -> None:
    """pytest-xdist: every worker uses the controller's seed."""
    workerinput = getattr(node, "workerinput", None)
    config = getattr(node, "config", None)
    if workerinput is not None and config is not None:
        workerinput["trigger_seed"] = config.stash[SEED_KEY]


def pytest_report_header(config: pytest.Config) -> str:
    seed = config.stash[SEED_KEY]
    return f"trigger-batches: seed {seed} (rerun with --trigger-seed={seed})"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed and any(name in _SEED_FIXTURES for name in getattr(item, "fixturenames", ())):
        seed = item.config.stash[SEED_KEY]
        report.sections.append(
            (
                "trigger-batches",
                f"batches in this test were built from seed {test_seed(seed, item.nodeid)} "
                f"(run seed {seed}); rerun with:\n"
                f"  pytest --trigger-seed={seed} '{item.nodeid}'",
            )
        )
    return report


def test_seed(run_seed: int, nodeid: str) -> int:
    """The seed of one test: its own stream, whichever tests ran before it."""
    digest = hashlib.blake2b(f"{run_seed}:{nodeid}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


test_seed.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture
def trigger_seed(request: pytest.FixtureRequest) -> int:
    """The seed this test's batches come from; override the fixture to pin it."""
    return test_seed(request.config.stash[SEED_KEY], request.node.nodeid)


@pytest.fixture
def trigger_batch_factory(trigger_seed: int) -> BatchFactory:
    """Build realistic `TriggerBatch` objects: `trigger_batch_factory(status="COMPLETED")`."""
    from pytest_trigger_batches.factory import BatchFactory

    return BatchFactory(seed=trigger_seed)
