"""What a test configures: the markers' options, the origin, the run's seed.

Options are keyword-only classes built from a marker's keyword arguments (as
pytest-httpx builds its options), so a misspelt one fails the test with a message
naming it and the valid ones. Imported with the plugin: nothing heavy here.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import pytest

if TYPE_CHECKING:
    from pytest_trigger_batches.clock import ClockFunction

__all__ = [
    "DEFAULT_BASE_URL",
    "MARKED_SEED_KEY",
    "SEED_KEY",
    "TriggerApiOptions",
    "attempt",
    "base_url",
    "describe",
    "from_marker",
    "marker_failure",
    "options",
    "seed_for_test",
]

T = TypeVar("T")
SEED_KEY = pytest.StashKey[int]()
"""The run's seed (`--trigger-seed`, the xdist controller's, or a random one)."""
MARKED_SEED_KEY = pytest.StashKey[int]()
"""The seed a test's `@pytest.mark.trigger_batch` batches came from."""
DEFAULT_BASE_URL = "https://api.trigger.dev"


def seed_for_test(run_seed: int, nodeid: str) -> int:
    """The seed of one test: its own stream, whichever tests ran before it."""
    digest = hashlib.blake2b(f"{run_seed}:{nodeid}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


class TriggerApiOptions:
    """`@pytest.mark.trigger_api(*, base_url=None, clock=None)`.

    - `base_url`: the origin `mock_trigger_api` intercepts. None: the `TRIGGER_API_URL`
      environment variable, else the `trigger_api_url` ini option, else
      https://api.trigger.dev.
    - `clock`: a callable returning seconds since the epoch, which the mock reads
      (None: the wall clock).
    """

    __slots__ = ("base_url", "clock")

    def __init__(self, *, base_url: str | None = None, clock: ClockFunction | None = None) -> None:
        from pytest_trigger_batches.clock import Clock

        Clock(clock)  # refuses what is not a clock, saying what it must be
        self.base_url: str | None = base_url
        self.clock: ClockFunction | None = clock

    @classmethod
    def of(cls, node: pytest.Item) -> TriggerApiOptions:
        """The options of `node`'s closest `trigger_api` marker (the defaults if none)."""
        marker = node.get_closest_marker("trigger_api")
        return cls() if marker is None else from_marker(cls, marker, options(cls))


def options(cls: type) -> tuple[str, ...]:
    """The keyword-only parameters of `cls`'s constructor, in order."""
    code = cls.__init__.__code__  # type: ignore[misc]
    names: tuple[str, ...] = code.co_varnames[
        code.co_argcount : code.co_argcount + code.co_kwonlyargcount
    ]
    return names


def from_marker(
    cls: Callable[..., T],
    marker: pytest.Mark,
    known: tuple[str, ...],
    *,
    positional: str | None = None,
) -> T:
    """`cls(*marker.args, **marker.kwargs)`, or the test failed naming what is wrong.

    `known` names the options; `positional`, the one option that may be given first
    without its name.
    """
    unknown = [name for name in marker.kwargs if name not in known]
    if unknown:
        marker_failure(
            marker,
            f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
            f"the options are {', '.join(known)}",
        )
    count = len(marker.args)
    if positional is None and count:
        marker_failure(
            marker,
            f"the options are keyword-only ({', '.join(f'{name}=...' for name in known)}); "
            f"got {count} positional argument{'s' if count > 1 else ''}",
        )
    if count > 1:
        marker_failure(marker, f"takes one positional argument (the {positional}); got {count}")
    made, problem = attempt(cls, *marker.args, **marker.kwargs)
    if made is None:
        marker_failure(marker, problem or "")
    return made


def marker_failure(marker: pytest.Mark, problem: str) -> NoReturn:
    """Fail the test, quoting the marker (its values shown short, keys redacted)."""
    pytest.fail(f"@pytest.mark.{marker.name}({describe(marker)}): {problem}", pytrace=False)


def describe(marker: pytest.Mark) -> str:
    """The marker's arguments as written: `'COMPLETED', run_count=3`."""
    from pytest_trigger_batches.shown import shown

    parts = [shown(a, 100) for a in marker.args]
    parts += [f"{name}={shown(value, 100)}" for name, value in marker.kwargs.items()]
    return ", ".join(parts)


def attempt(call: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T | None, str | None]:
    """`call`'s result, or what it refused; failing outside `except` keeps reports short."""
    try:
        return call(*args, **kwargs), None
    except (TypeError, ValueError) as problem:
        return None, str(problem)


def base_url(request: pytest.FixtureRequest, options: TriggerApiOptions) -> tuple[str, str]:
    """The origin to intercept, and where it was set: marker, then environment, then ini."""
    if options.base_url is not None:
        return options.base_url, "@pytest.mark.trigger_api(base_url=...)"
    env = os.environ.get("TRIGGER_API_URL")
    if env:
        return env, "the TRIGGER_API_URL environment variable"
    ini = str(request.config.getini("trigger_api_url"))
    return ini or DEFAULT_BASE_URL, "the trigger_api_url ini option"
