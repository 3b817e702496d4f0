"""pytest wiring only: options, markers, seeds and fixtures.

Imported in every pytest run of every project that installs the package, so it imports
nothing heavy: the factory and respx load when a fixture first asks for them.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import pytest

if TYPE_CHECKING:
    from pytest_trigger_batches.api import TriggerApi
    from pytest_trigger_batches.factory import BatchFactory
    from pytest_trigger_batches.mock import MockTriggerApi
    from pytest_trigger_batches.model import TriggerBatch
    from pytest_trigger_batches.server import TriggerApiServer

T = TypeVar("T")
SEED_KEY = pytest.StashKey[int]()
CALL_FAILED_KEY = pytest.StashKey[bool]()
MARKED_SEED_KEY = pytest.StashKey[int]()
MARKED_KEY = pytest.StashKey[list["_Marked"]]()
USED_KEY = pytest.StashKey[bool]()  # the test set up one of the plugin's fixtures
# Tests whose reports get the seed section and key redaction.
_PLUGIN_FIXTURES = frozenset(
    ("trigger_seed", "mock_trigger_api", "trigger_api_server", "trigger_batch")
)


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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "trigger_batch(status, *, environment=None, progress_after=None, **factory_options): "
        "build a batch with trigger_batch_factory and register it with mock_trigger_api.",
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
    _CONFIG.append(config)


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
    if report.when == "call":
        item.stash[CALL_FAILED_KEY] = report.failed
    if report.failed and _uses_plugin(item):
        report.sections.append(("trigger-batches", _seed_note(item)))
    # Every report, whichever fixtures the test used (also through getfixturevalue):
    # the keys the plugin knows, TRIGGER_SECRET_KEY among them, never reach the output.
    redact_report(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    if report.longrepr is not None or report.sections:
        redact_report(report)
    return report


def pytest_make_parametrize_id(config: pytest.Config, val: object, argname: str) -> str | None:
    """A parameter that holds a key gets its redacted form as its id (`tr_prod_****1a2b`)."""
    if isinstance(val, str) and val:
        from pytest_trigger_batches.ids import redact

        shown = redact(val)
        if shown != val:
            return shown
    return None


@pytest.hookimpl(trylast=True)  # after the terminal reporter kept it
def pytest_warning_recorded(warning_message: Any, when: str, nodeid: str, location: Any) -> None:
    """The warnings summary shows warnings with their keys redacted."""
    reporter = _terminal_reporter_of(warning_message)
    if reporter is not None:
        from pytest_trigger_batches.ids import redact

        for warning in reporter.stats.get("warnings", ()):
            message = getattr(warning, "message", None)
            if isinstance(message, str):
                warning.message = redact(message)


_CONFIG: list[pytest.Config] = []  # the running session's config (for the warnings hook)


def _terminal_reporter_of(_: object) -> Any:
    if not _CONFIG:
        return None
    return _CONFIG[-1].pluginmanager.get_plugin("terminalreporter")


def pytest_unconfigure(config: pytest.Config) -> None:
    if config in _CONFIG:
        _CONFIG.remove(config)


def pytest_plugin_registered(plugin: object, manager: Any) -> None:
    """Live logs (`--log-cli-level`) and `--log-file` are written with keys redacted."""
    # `plugin_name` is not in pytest 7.4's hookspec: the manager names the plugin.
    if manager.get_name(plugin) != "logging-plugin":
        return
    for attribute in ("log_cli_handler", "log_file_handler"):
        handler = getattr(plugin, attribute, None)
        if handler is not None and not getattr(handler, "_trigger_redacting", False):
            _redact_handler(handler)


def _redact_handler(handler: Any) -> None:
    original = handler.format

    def format(record: Any) -> str:
        # Imported at the first record, not here: pytest's logging plugin is registered
        # in every run, and most runs log nothing.
        from pytest_trigger_batches.ids import redact

        return redact(original(record))

    handler.format = format
    handler._trigger_redacting = True


def _uses_plugin(item: pytest.Item) -> bool:
    return item.stash.get(USED_KEY, False) or not _PLUGIN_FIXTURES.isdisjoint(
        getattr(item, "fixturenames", ())
    )


def _seed_note(item: pytest.Item) -> str:
    from pytest_trigger_batches.ids import redact

    return redact(_seed_text(item))


def _seed_text(item: pytest.Item) -> str:
    run_seed = item.config.stash[SEED_KEY]
    # The seed its batches really came from: the factory's, if the test built any.
    factory = getattr(item, "funcargs", {}).get("trigger_batch_factory")
    used = getattr(factory, "seed", None)
    if used is None:
        used = item.stash.get(MARKED_SEED_KEY, None)
    if used is None:
        return (
            f"no batch was built in this test; the run's seed is {run_seed} "
            f"(--trigger-seed={run_seed})"
        )
    if used != seed_for_test(run_seed, item.nodeid):
        return f"batches in this test were built from seed {used} (the trigger_seed fixture)"
    return (
        f"batches in this test were built from seed {used} (run seed {run_seed}); "
        f"rerun with:\n  pytest --trigger-seed={run_seed} '{item.nodeid}'"
    )


def redact_report(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Redact keys in a report where pytest keeps them, keeping every part's type.

    `longrepr` stays what pytest made it (a traceback representation, a skip's
    `(path, line, reason)` tuple, a string), so `--tb=line`, `-ra`, `-rs` and
    `--junitxml` print their usual forms, with every string inside redacted.
    """
    from pytest_trigger_batches.ids import redact

    if report.longrepr is not None:
        report.longrepr = _redacted(report.longrepr, redact, set())
    report.sections = [(title, redact(content)) for title, content in report.sections]
    wasxfail = getattr(report, "wasxfail", None)
    if isinstance(wasxfail, str):
        report.wasxfail = redact(wasxfail)  # type: ignore[union-attr]
    properties = getattr(report, "user_properties", None)
    if properties:
        report.user_properties = [  # type: ignore[union-attr]
            (name, redact(value) if isinstance(value, str) else value) for name, value in properties
        ]


def _redacted(value: Any, redact: Callable[[str], str], seen: set[int]) -> Any:
    import dataclasses

    if isinstance(value, str):
        return redact(value)
    if id(value) in seen:
        return value
    seen.add(id(value))
    if isinstance(value, list):
        value[:] = [_redacted(v, redact, seen) for v in value]
    elif isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_redacted(v, redact, seen) for v in value)
    elif isinstance(value, dict):
        for k in list(value):
            value[k] = _redacted(value[k], redact, seen)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            current = getattr(value, field.name, None)
            clean = _redacted(current, redact, seen)
            if clean is not current:
                object.__setattr__(value, field.name, clean)
    return value


def seed_for_test(run_seed: int, nodeid: str) -> int:
    """The seed of one test: its own stream, whichever tests ran before it."""
    digest = hashlib.blake2b(f"{run_seed}:{nodeid}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


@pytest.fixture
def trigger_seed(request: pytest.FixtureRequest) -> int:
    """The seed this test's batches come from; override the fixture to pin it."""
    request.node.stash[USED_KEY] = True
    return seed_for_test(request.config.stash[SEED_KEY], request.node.nodeid)


@pytest.fixture
def trigger_batch_factory(trigger_seed: int) -> BatchFactory:
    """Build realistic `TriggerBatch` objects: `trigger_batch_factory(status="COMPLETED")`."""
    from pytest_trigger_batches.factory import BatchFactory

    return BatchFactory(seed=trigger_seed)


@pytest.fixture
def mock_trigger_api(request: pytest.FixtureRequest) -> Iterator[MockTriggerApi]:
    """Answer httpx calls to the Trigger.dev retrieve-batch API as the real server does."""
    from pytest_trigger_batches.mock import MockTriggerApi

    request.node.stash[USED_KEY] = True
    base_url = _base_url(request)
    if "httpx_mock" in request.fixturenames:
        _check_httpx_mock(request, base_url)
    api = MockTriggerApi(base_url=base_url, secret_key=_secret_key(request), clock=_clock(request))
    _serve_marked(api, request)
    with api:
        yield api
    _fail_on_unexpected(request, api, "mock_trigger_api", "the code under test caught the error")


@pytest.fixture
def trigger_api_server(request: pytest.FixtureRequest) -> Iterator[TriggerApiServer]:
    """The mock API over real HTTP on 127.0.0.1, for clients that are not httpx.

    `trigger_api_server.base_url` and `.secret_key` (or `.env`, ready for a subprocess)
    point any client at it: urllib, requests, a subprocess, the TypeScript SDK. It has
    every set-up and assertion method of `mock_trigger_api`; `@pytest.mark.trigger_batch`
    batches are registered in it. A fresh server per test (about a millisecond).
    """
    from pytest_trigger_batches.server import TriggerApiServer

    request.node.stash[USED_KEY] = True
    with TriggerApiServer(secret_key=_secret_key(request), clock=_clock(request)) as server:
        _serve_marked(server, request)
        yield server
    _fail_on_unexpected(request, server, "trigger_api_server", "answered 501 Not Implemented")


@pytest.fixture
def trigger_batch(request: pytest.FixtureRequest) -> TriggerBatch:
    """The batch of the test's top-most `@pytest.mark.trigger_batch(...)` (its final state).

    The same batch is served by `mock_trigger_api` and `trigger_api_server`.
    """
    request.node.stash[USED_KEY] = True
    marked = _marked(request)
    if not marked:
        pytest.fail(
            "the trigger_batch fixture needs a @pytest.mark.trigger_batch(status=...) marker",
            pytrace=False,
        )
    return marked[0].states[-1]


def _base_url(request: pytest.FixtureRequest) -> str:
    from pytest_trigger_batches.api import _normalize_base_url

    url, source = _configured_base_url(request)
    _, problem = _attempt(_normalize_base_url, url)
    if problem:  # say where the bad value came from
        pytest.fail(f"{source}: {problem}", pytrace=False)
    return url


def _attempt(call: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T | None, str | None]:
    """`call`'s result, or what it refused; failing outside `except` keeps reports short."""
    try:
        return call(*args, **kwargs), None
    except (TypeError, ValueError) as problem:
        return None, str(problem)


def _api_marker(request: pytest.FixtureRequest) -> pytest.Mark | None:
    marker: pytest.Mark | None = request.node.get_closest_marker("trigger_api")
    if marker is not None:
        unknown = set(marker.kwargs) - {"base_url", "clock"} or (
            marker.args and {"positional arguments"}
        )
        if unknown:
            pytest.fail(
                f"@pytest.mark.trigger_api takes only base_url=... and clock=...; "
                f"got {sorted(unknown)}",
                pytrace=False,
            )
    return marker


def _clock(request: pytest.FixtureRequest) -> Callable[[], float] | None:
    marker = _api_marker(request)
    clock = None if marker is None else marker.kwargs.get("clock")
    if clock is not None and not callable(clock):
        pytest.fail(
            f"@pytest.mark.trigger_api(clock=...) must be a callable returning seconds since "
            f"the epoch (like time.time); got {clock!r:.100}",
            pytrace=False,
        )
    return clock


def _check_httpx_mock(request: pytest.FixtureRequest, base_url: str) -> None:
    # pytest-httpx replaces httpx's transports, in front of respx: unless its should_mock
    # lets the Trigger.dev origin through, every request to it meets its "no response"
    # timeout instead of the mock.
    import httpx

    marker = request.node.get_closest_marker("httpx_mock")
    should_mock = None if marker is None else marker.kwargs.get("should_mock")
    probe = httpx.Request("GET", f"{base_url}/api/v1/batches/batch_probe")
    if callable(should_mock) and not should_mock(probe):
        return
    host = httpx.URL(base_url).host
    pytest.fail(
        f"mock_trigger_api and pytest-httpx's httpx_mock are both used in this test, and "
        f"httpx_mock would answer every request to {base_url}. Let the Trigger.dev origin "
        f"through to mock_trigger_api:\n"
        f'  @pytest.mark.httpx_mock(should_mock=lambda request: request.url.host != "{host}")\n'
        f"See https://pytest-trigger-batches.github.io/pytest-trigger-batches/recipes/other-plugins/",
        pytrace=False,
    )


def _configured_base_url(request: pytest.FixtureRequest) -> tuple[str, str]:
    marker = _api_marker(request)
    if marker is not None and "base_url" in marker.kwargs:
        return str(marker.kwargs["base_url"]), "@pytest.mark.trigger_api(base_url=...)"
    env = os.environ.get("TRIGGER_API_URL")
    if env:
        return env, "the TRIGGER_API_URL environment variable"
    ini = str(request.config.getini("trigger_api_url"))
    return ini or "https://api.trigger.dev", "the trigger_api_url ini option"


def _secret_key(request: pytest.FixtureRequest) -> str:
    # From the test's seed, without asking for the seed fixture (a fixture set up per
    # test costs more than the rest of this).
    from pytest_trigger_batches.ids import derived_secret_key

    return derived_secret_key(seed_for_test(request.config.stash[SEED_KEY], request.node.nodeid))


def _fail_on_unexpected(
    request: pytest.FixtureRequest, api: TriggerApi, name: str, what_happened: str
) -> None:
    # The request already raised (or got a 501) in the test; this catches the case
    # where the code under test swallowed that, without piling onto a failed test.
    if request.node.stash.get(CALL_FAILED_KEY, False):
        return
    unexpected, unused, crashes = api._gateway.leftovers()
    if crashes:
        pytest.fail(
            f"{name} failed on {len(crashes)} request(s) and answered 500 (a bug of the "
            f"mock's; please report it):\n" + "\n".join(f"  {c}" for c in crashes),
            pytrace=False,
        )
    if unexpected:
        listing = "\n".join(f"  {call}" for call in unexpected)
        pytest.fail(
            f"{name} received {len(unexpected)} request(s) it does not serve "
            f"({what_happened}):\n{listing}",
            pytrace=False,
        )
    if unused:
        from pytest_trigger_batches.ids import redact

        listing = "\n".join(f"  {fault}" for fault in unused)
        pytest.fail(
            redact(
                f"{name}: {len(unused)} fault(s) asked for with fail_next() were never met "
                f"by a request:\n{listing}\nThe code path they stand for did not run. Check "
                f"the route and batch_id they name and what the code under test requests; "
                f"pass required=False to fail_next() for a fault that may go unused.\n"
                f"See https://pytest-trigger-batches.github.io/pytest-trigger-batches/recipes/retries/"
            ),
            pytrace=False,
        )


class _Marked:
    """One `@pytest.mark.trigger_batch` batch: the states it is served as."""

    # A plain class: a dataclass took half the plugin's import time to create.
    __slots__ = ("environment", "marker", "states")

    def __init__(
        self, marker: pytest.Mark, states: tuple[TriggerBatch, ...], environment: str | None
    ) -> None:
        self.marker = marker
        self.states = states
        self.environment = environment


def _marked(request: pytest.FixtureRequest) -> list[_Marked]:
    """The test's marked batches, built once so that every fixture serves the same ones."""
    marked: list[_Marked] | None = request.node.stash.get(MARKED_KEY, None)
    if marked is None:
        markers = _in_reading_order(request.node)
        if markers:  # the factory (and so trigger_seed, overridable) only when needed
            factory: BatchFactory = request.getfixturevalue("trigger_batch_factory")
            request.node.stash[MARKED_SEED_KEY] = factory.seed
            marked = [_build_marked(factory, marker) for marker in markers]
            ids = [m.states[0].id for m in marked]
            for m in marked:
                if ids.count(m.states[0].id) > 1:
                    _marker_failure(
                        m.marker, f"another trigger_batch marker has batch_id {m.states[0].id!r}"
                    )
        else:
            marked = []
        request.node.stash[MARKED_KEY] = marked
    return marked


def _in_reading_order(node: pytest.Item) -> list[pytest.Mark]:
    """The test's trigger_batch markers top to bottom: its own, then its class's, module's.

    pytest keeps each node's decorators bottom-up (the order they were applied).
    """
    by_node: dict[int, list[pytest.Mark]] = {}
    for owner, marker in node.iter_markers_with_node("trigger_batch"):
        by_node.setdefault(id(owner), []).append(marker)
    return [marker for markers in by_node.values() for marker in reversed(markers)]


def _build_marked(factory: BatchFactory, marker: pytest.Mark) -> _Marked:
    from pytest_trigger_batches.lifecycle import timeline

    options: dict[str, Any] = dict(marker.kwargs)
    environment = options.pop("environment", None)
    progress_after = options.pop("progress_after", None)
    if len(marker.args) > 1:
        pytest.fail(
            f"@pytest.mark.trigger_batch takes one positional argument (the status); "
            f"got {marker.args!r}",
            pytrace=False,
        )
    known = _marker_options(factory)
    unknown = sorted(set(options) - set(known))
    if unknown:
        _marker_failure(
            marker, f"unknown option(s) {', '.join(unknown)}; the options are {', '.join(known)}"
        )
    batch, problem = _attempt(factory, *marker.args, **options)
    states: tuple[TriggerBatch, ...] | None = (batch,) if batch is not None else None
    if batch is not None and progress_after is not None:
        states, problem = _attempt(timeline, batch, polls=progress_after)
    if states is None:
        _marker_failure(marker, problem or "")
    return _Marked(marker, states, environment)


def _marker_failure(marker: pytest.Mark, problem: str) -> NoReturn:
    pytest.fail(f"@pytest.mark.trigger_batch({_describe(marker)}): {problem}", pytrace=False)


def _marker_options(factory: BatchFactory) -> list[str]:
    import inspect

    parameters = inspect.signature(factory).parameters
    return [*parameters, "environment", "progress_after"]


def _serve_marked(api: TriggerApi, request: pytest.FixtureRequest) -> None:
    for marked in _marked(request):
        _, problem = _attempt(api.add_batch, marked.states, environment=marked.environment)
        if problem is not None:
            _marker_failure(marked.marker, problem)


def _describe(marker: pytest.Mark) -> str:
    parts = [repr(a) for a in marker.args] + [f"{k}={v!r}" for k, v in marker.kwargs.items()]
    return ", ".join(parts)
