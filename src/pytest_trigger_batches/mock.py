"""The respx transport: hands httpx requests for the Trigger.dev origin to `TriggerApi`.

It decides nothing: the pipeline answers, and this module turns the answer into an
`httpx.Response`, an injected httpx exception, or, for a request the mock does not
serve, the test's own respx route for it or `UnexpectedTriggerRequest`.
"""

from __future__ import annotations

import functools
import os
import threading
import weakref
from typing import TYPE_CHECKING, NoReturn, cast
from urllib.parse import urlsplit

import httpx
import respx
from respx.mocks import DEFAULT_MOCKER, Mocker
from respx.models import AllMockedAssertionError, PassThrough

from pytest_trigger_batches.api import DEFAULT_BASE_URL, TriggerApi, UnexpectedTriggerRequest
from pytest_trigger_batches.clock import ClockFunction
from pytest_trigger_batches.gateway import Exchange, Gateway, default_port, host_of
from pytest_trigger_batches.pipeline import Disconnect, Request, Unserved
from pytest_trigger_batches.redact import redact
from pytest_trigger_batches.routes import BODILESS_STATUSES
from pytest_trigger_batches.shown import shown

if TYPE_CHECKING:
    from types import TracebackType

    from pytest_trigger_batches.pipeline import ApiResponse

__all__ = ["MockTriggerApi"]


class MockTriggerApi(TriggerApi):
    """The `mock_trigger_api` fixture: intercepts httpx (sync and async) for one origin.

    Requests to other hosts are left alone: handed to any other respx router (such as
    the `respx_mock` fixture) or, when there is none, sent on as usual. Never sent on:
    a request to the origin's host outside the base URL's path, one to the origin
    `TRIGGER_API_URL` names when it changed after the mock started, and one from a
    thread that an earlier mock saw start and that outlived it (see `stop`).
    """

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        secret_key: str | None = None,
        clock: ClockFunction | None = None,
    ) -> None:
        super().__init__(base_url=base_url, secret_key=secret_key, clock=clock)
        self._router: _Router | None = None

    def start(self) -> None:
        """Start intercepting httpx."""
        if self._router is None:
            self._router = _Router(self._gateway)
            self._router.start()

    def stop(self) -> None:
        """Stop intercepting httpx.

        Threads that started while the mock ran and are still alive are remembered as
        outliving it: a request one of them sends to a later mock is refused there
        (`UnexpectedTriggerRequest`, not recorded in that mock's `calls`), never
        answered or recorded as if the later test had sent it.
        """
        if self._router is not None:
            self._router.stop()
            self._router = None

    def __enter__(self) -> MockTriggerApi:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class _Router:
    """What respx's mocker asks for every intercepted request: `handler` and `async_handler`.

    A full `respx.Router` keeps routes, call lists and snapshots this mock never uses,
    and building them cost more per test than the patching itself; the mocker needs
    only these two methods, so this is registered with it directly.
    """

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway
        self._mocker = Mocker.registry[DEFAULT_MOCKER]
        self._threads_before: set[threading.Thread] = set()
        self._host = _origin_of(gateway.base_url)
        self._env_url = os.environ.get("TRIGGER_API_URL")

    def start(self) -> None:
        # First in line, whichever respx router started earlier: other routers only
        # ever see traffic that is not ours, or that the mock does not serve.
        self._threads_before = set(threading.enumerate())
        self._mocker.routers.insert(0, cast(respx.Router, self))
        self._mocker.start()

    def stop(self) -> None:
        self._mocker.unregister(cast(respx.Router, self))
        self._mocker.stop()
        current = threading.current_thread()
        for thread in threading.enumerate():
            if thread not in self._threads_before and thread is not current:
                _OUTLIVED.add(thread)

    def _check_thread(self, request: httpx.Request) -> None:
        __tracebackhide__ = True
        thread = threading.current_thread()
        if _OUTLIVED and thread in _OUTLIVED and thread in self._threads_before:
            raise UnexpectedTriggerRequest(
                f"{self._gateway.name}: thread {thread.name!r} sent {redact(request.method)} "
                f"{redact(str(request.url))}, but it started during an earlier test and "
                f"outlived it. The request was not answered, not recorded here and not sent "
                f"to the real service. Join the threads a test starts before it ends."
            )

    def handler(self, request: httpx.Request) -> httpx.Response:
        __tracebackhide__ = True
        other = self._elsewhere(request)
        if other is not None:  # the test's routes may answer it, never let it through
            not_mocked: AllMockedAssertionError | None = None
            for router in self._later_routers():
                try:
                    return router.handler(request)
                except AllMockedAssertionError as error:
                    not_mocked = error
                except PassThrough:
                    not_mocked = None
                    break
            if not_mocked is not None:
                raise not_mocked
            self._gateway.refuse_other_origin(other)
        exchange = self._gateway.serve(self._translate(request, request.read()))
        answer = exchange.answer
        if not isinstance(answer, Unserved):
            return _response(answer, request)
        with self._gateway.unserved(exchange):
            router = self._user_router(request, exchange)
            try:
                response = router.handler(request)
            except PassThrough:  # never to the real service
                self._unserved(exchange)
            exchange.stubbed(response.status_code)
            return response

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        __tracebackhide__ = True
        other = self._elsewhere(request)
        if other is not None:  # the test's routes may answer it, never let it through
            not_mocked: AllMockedAssertionError | None = None
            for router in self._later_routers():
                try:
                    return await router.async_handler(request)
                except AllMockedAssertionError as error:
                    not_mocked = error
                except PassThrough:
                    not_mocked = None
                    break
            if not_mocked is not None:
                raise not_mocked
            self._gateway.refuse_other_origin(other)
        exchange = self._gateway.serve(self._translate(request, await request.aread()))
        answer = exchange.answer
        if not isinstance(answer, Unserved):
            return _response(answer, request)
        with self._gateway.unserved(exchange):
            router = self._user_router(request, exchange)
            try:
                response = await router.async_handler(request)
            except PassThrough:
                self._unserved(exchange)
            exchange.stubbed(response.status_code)
            return response

    def _elsewhere(self, request: httpx.Request) -> Request | None:
        """None for a request to this origin; a request to another Trigger.dev origin,
        which only a route of the test's may answer; any other request is handed on."""
        __tracebackhide__ = True
        self._check_thread(request)
        url = str(request.url)
        return None if self._gateway.owns(url) else self._not_ours(request, url)

    def _later_routers(self) -> list[respx.Router]:
        """The test's respx routers (not other mocks'), in the order respx asks them."""
        return [r for r in self._mocker.routers if not isinstance(r, _Router)]

    def _translate(self, request: httpx.Request, body: bytes) -> Request:
        """The pipeline's view of an httpx request for this origin."""
        return Request.make(
            request.method,
            str(request.url),
            request.headers.multi_items(),
            body,
            length_declared=not body or "content-length" in request.headers,
        )

    def _user_router(self, request: httpx.Request, exchange: Exchange) -> respx.Router:
        """A later respx router with a route of the test's for this request; else fail."""
        __tracebackhide__ = True
        for router in self._mocker.routers:
            if isinstance(router, _Router):
                continue
            for route in getattr(router, "routes", ()):
                if route.pattern is None or route.pattern.match(request):
                    return router
        self._unserved(exchange)

    def _unserved(self, exchange: Exchange) -> NoReturn:
        __tracebackhide__ = True
        request = exchange.request
        how = (
            f"{self._gateway.name}.add_route({shown(request.method)}, ...) or a respx_mock route "
            f"for {self._gateway.base_url}"
        )
        raise UnexpectedTriggerRequest(self._gateway.explain_unserved(request, how_to_stub=how))

    def _not_ours(self, request: httpx.Request, url: str) -> Request:
        """Hand a request for another origin on: never to the real Trigger.dev.

        Returns the request when it is for another Trigger.dev host: the test's respx
        routes may answer it, but none may let it through to the network.
        """
        __tracebackhide__ = True
        gateway = self._gateway
        routers = self._mocker.routers
        if any(isinstance(r, _Router) and r._gateway.owns(url) for r in routers):
            raise AllMockedAssertionError("another mock_trigger_api serves this origin")
        ours = Request.make(request.method, url, request.headers.multi_items())
        if _origin_of(url) == self._host:
            # The origin's host outside the base URL's path: still the service.
            gateway.refuse(
                ours,
                f"{gateway.name} does not serve {redact(request.method)} {redact(url)}: it is on "
                f"the host of {gateway.base_url} but outside its path. Requests to that host fail "
                f"the test unless they are under {gateway.base_url}/; check the base URL the "
                f"code under test uses. It was not sent to the real service.\n"
                f"See https://pytest-trigger-batches.github.io/pytest-trigger-batches/recipes/origin/",
            )
        env_url = os.environ.get("TRIGGER_API_URL")
        if env_url and env_url != self._env_url and _on_origin(url, env_url):
            gateway.refuse(
                ours,
                f"{gateway.name} stands in for {gateway.base_url}, but the code under test "
                f"sent {redact(request.method)} {redact(url)}: TRIGGER_API_URL was changed to "
                f"{redact(env_url)} after the fixture started. The origin is read when the "
                f"fixture starts: set TRIGGER_API_URL before it (monkeypatch in a fixture the "
                f"test asks for first), or use @pytest.mark.trigger_api(base_url=...). It was "
                f"not sent to that host.\n"
                f"See https://pytest-trigger-batches.github.io/pytest-trigger-batches/recipes/origin/",
            )
        host = request.url.host.rstrip(".")
        if host == "trigger.dev" or host.endswith(".trigger.dev"):
            return ours
        if routers[-1] is not cast(respx.Router, self):  # later routers decide; the last passes
            raise AllMockedAssertionError("not Trigger.dev: the next respx router decides")
        raise PassThrough("not Trigger.dev", request=request, origin=_pass_through_origin())


def _response(answer: ApiResponse | Disconnect, request: httpx.Request) -> httpx.Response:
    if isinstance(answer, Disconnect):
        if answer.kind == "timeout":
            raise httpx.ReadTimeout("mock_trigger_api: injected read timeout", request=request)
        raise httpx.ConnectError("mock_trigger_api: injected connection error", request=request)
    # As httpx.Response(content=body) makes it (a Content-Length, a byte stream), but
    # not read here: respx hands the stream on and the client reads it once, as it
    # reads a respx route's response. No body at all for a 204 or 304.
    body = b"" if answer.status_code in BODILESS_STATUSES else answer.body
    headers = list(answer.headers.items())
    if body and not any(name.lower() == "content-length" for name, _ in headers):
        headers.append(("Content-Length", str(len(body))))
    return httpx.Response(
        answer.status_code, headers=headers, stream=httpx.ByteStream(body), request=request
    )


# Threads that were alive when a mock stopped and had started while it ran.
_OUTLIVED: weakref.WeakSet[threading.Thread] = weakref.WeakSet()


def _origin_of(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or default_port(parts.scheme)
    except ValueError:
        return None
    return (parts.scheme, host_of(parts.hostname), port)


def _on_origin(url: str, base_url: str) -> bool:
    origin = _origin_of(url)
    return origin is not None and origin == _origin_of(base_url)


@functools.cache
def _pass_through_origin() -> respx.Route:
    # respx's PassThrough names the route that let a request through; one will do.
    return respx.Route()
