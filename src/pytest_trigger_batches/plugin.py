"""pytest wiring only: options, markers, the seed and the fixtures.

Imported in every pytest run of every project that installs the package, so it imports
nothing heavy: the factory, faker, httpx and respx load when a fixture first asks for
them. The markers' options live in `settings`, their batches in `markers`, and what the
plugin does to pytest's output in `reporting`.
"""

from __future__ import annotations

import random
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING

import pytest

from pytest_trigger_batches import reporting, settings
from pytest_trigger_batches.settings import SEED_KEY, seed_for_test

if TYPE_CHECKING:
    from pytest_trigger_batches.factory import BatchFactory
    from pytest_trigger_batches.mock import MockTriggerApi
    from pytest_trigger_batches.model import TriggerBatch
    from pytest_trigger_batches.server import TriggerApiServer

__all__ = ["seed_for_test"]


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
    parser.addini(
        "trigger_api_url",
        "Trigger.dev origin mock_trigger_api intercepts (default https://api.trigger.dev; "
        "TRIGGER_API_URL and the trigger_api marker take precedence)",
        default="",
    )


@pytest.hookimpl(wrapper=True, tryfirst=True)  # around the capture plugin's start
def pytest_load_initial_conftests(early_config: pytest.Config) -> Generator[None, None, None]:
    if getattr(early_config.known_args_namespace, "capture", None) != "tee-sys":
        return (yield)
    with reporting.redacted_tee(early_config):
        return (yield)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "trigger_batch(status, *, environment=None, progress_after=None, runs=False, "
        "**factory_options): build a batch with trigger_batch_factory and register it with "
        "mock_trigger_api (runs=True: its runs too).",
    )
    config.addinivalue_line(
        "markers",
        "trigger_api(*, base_url=None, clock=None): the Trigger.dev origin mock_trigger_api "
        "intercepts for this test, and the clock the mock reads (a callable returning "
        "seconds since the epoch).",
    )
    seed = config.getoption("trigger_seed", None)
    workerinput = getattr(config, "workerinput", None)
    if seed is None and workerinput is not None:
        seed = workerinput.get("trigger_seed")
    if seed is None:
        seed = random.SystemRandom().randrange(10**8)
    config.stash[SEED_KEY] = int(seed)
    config.pluginmanager.register(reporting.Reporting(config), "trigger-batches-reporting")


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


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def trigger_seed(request: pytest.FixtureRequest) -> int:
    """The seed this test's batches come from; override the fixture to pin it."""
    request.node.stash[reporting.USED_KEY] = True
    return seed_for_test(request.config.stash[SEED_KEY], request.node.nodeid)


@pytest.fixture
def trigger_batch_factory(request: pytest.FixtureRequest, trigger_seed: int) -> BatchFactory:
    """Build realistic `TriggerBatch` objects: `trigger_batch_factory(status="COMPLETED")`."""
    from pytest_trigger_batches import neighbours
    from pytest_trigger_batches.factory import BatchFactory

    own = seed_for_test(request.config.stash[SEED_KEY], request.node.nodeid)
    neighbours.check(request, "trigger_batch_factory", seed_pinned=trigger_seed != own)

    return BatchFactory(seed=trigger_seed)


@pytest.fixture
def mock_trigger_api(request: pytest.FixtureRequest) -> Iterator[MockTriggerApi]:
    """Answer httpx calls to Trigger.dev's API (every route it serves) as the platform does.

    In-process, through respx: batches, triggers and runs, with the platform's status
    codes, bodies and headers. `@pytest.mark.trigger_api(base_url=..., clock=...)`
    configures it and `@pytest.mark.trigger_batch(...)` batches are registered in it.
    """
    from pytest_trigger_batches import markers, neighbours
    from pytest_trigger_batches.mock import MockTriggerApi

    request.node.stash[reporting.USED_KEY] = True
    options = settings.TriggerApiOptions.of(request.node)
    base_url, source = settings.base_url(request, options)
    api, problem = settings.attempt(
        MockTriggerApi, base_url=base_url, secret_key=_secret_key(request), clock=options.clock
    )
    if api is None:  # say where the bad value came from
        pytest.fail(f"{source}: {problem}", pytrace=False)
    neighbours.check(request, "mock_trigger_api", base_url=api.base_url)
    markers.serve(api, request)
    with api:
        yield api
    reporting.fail_on_leftovers(
        request, api, "mock_trigger_api", "the code under test caught the error"
    )


@pytest.fixture
def trigger_api_server(request: pytest.FixtureRequest) -> Iterator[TriggerApiServer]:
    """The mock API over real HTTP on 127.0.0.1, for clients that are not httpx.

    `trigger_api_server.base_url` and `.secret_key` (or `.env`, ready for a subprocess)
    point any client at it: urllib, requests, a subprocess, the TypeScript SDK. It has
    every set-up and assertion method of `mock_trigger_api`; `@pytest.mark.trigger_batch`
    batches are registered in it. A fresh server per test (about a millisecond).
    """
    from pytest_trigger_batches import markers, neighbours
    from pytest_trigger_batches.server import TriggerApiServer

    request.node.stash[reporting.USED_KEY] = True
    options = settings.TriggerApiOptions.of(request.node)
    neighbours.check(request, "trigger_api_server", base_url="http://127.0.0.1")
    with TriggerApiServer(secret_key=_secret_key(request), clock=options.clock) as server:
        markers.serve(server, request)
        yield server
    reporting.fail_on_leftovers(
        request, server, "trigger_api_server", "answered 501 Not Implemented"
    )


@pytest.fixture
def trigger_batch(request: pytest.FixtureRequest) -> TriggerBatch:
    """The batch of the test's top-most `@pytest.mark.trigger_batch(...)` (its final state).

    The same batch is served by `mock_trigger_api` and `trigger_api_server`.
    """
    from pytest_trigger_batches import markers

    request.node.stash[reporting.USED_KEY] = True
    marked = markers.marked(request)
    if not marked:
        pytest.fail(
            "the trigger_batch fixture needs a @pytest.mark.trigger_batch(status=...) marker",
            pytrace=False,
        )
    return marked[0].states[-1]


def _secret_key(request: pytest.FixtureRequest) -> str:
    # From the test's seed, without asking for the seed fixture (a fixture set up per
    # test costs more than the rest of this).
    from pytest_trigger_batches.ids import derived_secret_key

    return derived_secret_key(seed_for_test(request.config.stash[SEED_KEY], request.node.nodeid))
