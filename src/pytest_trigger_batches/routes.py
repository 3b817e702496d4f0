"""The routing table: each endpoint is a row (method, path template, handler, options).

Matching, the "it serves" list and the closest-match text of failure messages all come
from the rows. Adding an endpoint is one row in `table.py` and one handler in `handlers/`
(docs/architecture.md).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote

if TYPE_CHECKING:
    from pytest_trigger_batches.backend import TriggerBackend
    from pytest_trigger_batches.pipeline import Context, Reply

    Handler = Callable[[Context, TriggerBackend], Reply]

__all__ = ["BODILESS_STATUSES", "Route", "RouteTable", "route_name"]

_PARAM_RE = re.compile(r"\{([A-Za-z]+\*?)\}")
BODILESS_STATUSES = frozenset((204, 304))
"""Statuses whose answers carry no body (and no `Content-Length`), as HTTP has it."""


def _group(name: str) -> str:
    """A path parameter's regex group: `{name*}` takes the rest of the path, slashes too."""
    if name.endswith("*"):
        return f"(?P<{name[:-1]}>.+)"
    return f"(?P<{name}>[^/]+)"


def route_name(method: str, template: str) -> str:
    """How messages, recorded calls and faults name a route: `GET /api/v1/batches/{batchId}`."""
    return f"{method} {template}"


@dataclass(frozen=True, slots=True)
class Route:
    """One endpoint, with the route builder's options the platform sets for it.

    - `cors`: answered with CORS headers, and preflights answered (`corsStrategy: "all"`).
    - `allow_jwt`: public access tokens are accepted, as well as secret keys.
    - `retry_not_found`: a missing resource's 404 carries `x-should-retry: true`.
    - `max_body`: bodies over this many bytes, or without a `Content-Length`, get 413.
    - `content_types`: the body must be one of these, or 415 (before auth).
    - `kind`: what the route does, for code that asks (`"retrieve_batch"`).
    - `stub`: a route the test added (`add_route`), answered with a canned reply.
    - `unauthorized`: the route's own 401 text for a key it does not accept (routes that
      authenticate themselves say one text whatever is wrong). Such a route reads the rest
      of the header after `Bearer ` as it is, untrimmed (`authenticateApiRequest`).
    - `limited`: False for a path the API limiter lets through (its `pathWhiteList`): no
      `x-ratelimit-*` headers, and no limiter's 401 for a missing header.
    - `public`: no credential: neither the API's auth nor its rate limiter (a waitpoint
      token's callback URL); the handler answers for itself, `max_body` included.

    A parameter written `{name*}` takes the rest of the path, slashes included.
    """

    method: str
    template: str
    handler: Handler
    cors: bool = True
    allow_jwt: bool = False
    retry_not_found: bool = False
    max_body: int | None = None
    content_types: tuple[str, ...] = ()
    kind: str = ""
    stub: bool = False
    unauthorized: str = ""
    limited: bool = True
    public: bool = False
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)
    name: str = field(init=False, repr=False, compare=False)
    """`METHOD /path/{template}`, as messages, recorded calls and faults name the route."""

    def __post_init__(self) -> None:
        pieces = _PARAM_RE.split(self.template)  # static, name, static, name, ...
        regex = "".join(
            _group(piece) if i % 2 else re.escape(piece) for i, piece in enumerate(pieces)
        )
        object.__setattr__(self, "pattern", re.compile(regex))
        object.__setattr__(self, "name", route_name(self.method, self.template))

    def match(self, path: str) -> dict[str, str] | None:
        """The percent-decoded path parameters if `path` is this route's, else None."""
        found = self.pattern.fullmatch(path)
        if found is None:
            return None
        return {
            name: unquote(value) if "%" in value else value
            for name, value in found.groupdict().items()
        }

    def overlaps(self, method: str, template: str) -> bool:
        """Whether a route `method template` would answer some request this one answers."""
        if method != self.method:
            return False
        mine, theirs = self.template.split("/"), template.split("/")
        return len(mine) == len(theirs) and all(
            a == b or _PARAM_RE.fullmatch(a) is not None or _PARAM_RE.fullmatch(b) is not None
            for a, b in zip(mine, theirs, strict=True)
        )


class RouteTable:
    """The endpoints the mock serves, in the order messages list them."""

    def __init__(self, routes: Sequence[Route]) -> None:
        self.routes: tuple[Route, ...] = tuple(routes)
        self._by_name = {route.name: route for route in self.routes}
        self._matched: dict[tuple[str, str], tuple[Route, dict[str, str]] | None] = {}
        """(method, path) -> what `match` found: a test asks for the same paths again."""

    def names(self) -> list[str]:
        """Every route's name, as `fail_next(route=...)` takes them."""
        return list(self._by_name)

    def get(self, name: str) -> Route | None:
        """The route called `name`, or None."""
        return self._by_name.get(name)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route serving `method path` (HEAD is served where GET is), with its params."""
        key = (method, path)
        try:
            known = self._matched[key]  # one lookup: another thread may clear it
        except KeyError:
            pass
        else:
            return None if known is None else (known[0], dict(known[1]))  # params: a copy
        wanted = "GET" if method == "HEAD" else method
        found = None
        for route in self.routes:
            if route.method == wanted:
                params = route.match(path)
                if params is not None:
                    found = route, params
                    break
        if len(self._matched) >= 1024:  # the paths of one test, or about
            self._matched.clear()
        self._matched[key] = None if found is None else (found[0], dict(found[1]))
        return found

    def match_path(self, path: str) -> list[tuple[Route, dict[str, str]]]:
        """Every route on `path`, whatever its method."""
        found = []
        for route in self.routes:
            params = route.match(path)
            if params is not None:
                found.append((route, params))
        return found

    def closest(self, method: str, path: str) -> str:
        """The served route nearest to `method path`, said for a failure message."""
        same_path = self.match_path(path)
        if same_path:
            methods = "/".join(sorted({route.method for route, _ in same_path}))
            route = same_path[0][0]
            return f"{route.name} (the method differs: {method} instead of {methods})"
        templates = {_shape(route.template): route for route in self.routes}
        guess = difflib.get_close_matches(_shape(path), list(templates), n=1, cutoff=0.0)
        return templates[guess[0]].name if guess else self.routes[0].name

    def describe(self, prefix: str = "") -> str:
        """The served routes, one a line, for failure messages."""
        return "\n".join(f"    {route.method} {prefix}{route.template}" for route in self.routes)


def _shape(path: str) -> str:
    # Ids vary: compare `/api/v1/batches/batch_x` with `/api/v1/batches/{batchId}` by
    # their fixed segments.
    return "/".join("{}" if "{" in part or "_" in part else part for part in path.split("/"))
