"""The respx transport: hands httpx requests for the Trigger.dev origin to `TriggerApi`.

It decides nothing: the pipeline answers, and this module turns the answer into an
`httpx.Response`, an injected httpx exception, or, for a request the mock does not
serve, the test's own respx route for it or `UnexpectedTriggerRequest`.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, NoReturn, cast

import httpx
import respx
from respx.mocks import DEFAULT_MOCKER, Mocker
from respx.models import AllMockedAssertionError, PassThrough

from pytest_trigger_batches.api import (
    DEFAULT_BASE_URL,
    Disconnect,
    Request,
    TriggerApi,
    UnexpectedTriggerRequest,
    Unserved,
)
from pytest_trigger_batches.clock import ClockFunction

if TYPE_CHECKING:
    from types import TracebackType

    from pytest_trigger_batches.pipeline import ApiResponse

__all__ = ["MockTriggerApi"]


class MockTriggerApi(TriggerApi):
    """The `mock_trigger_api` fixture: intercepts httpx (sync and async) for one origin.

    Requests to other hosts are left alone: handed to any other respx router (such as
    the `respx_mock` fixture) or, when there is none, sent on as usual.
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
            self._router = _Router(self)
            self._router.start()

    def stop(self) -> None:
        """Stop intercepting httpx."""
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

    def __init__(self, api: TriggerApi) -> None:
        self._api = api
        self._mocker = Mocker.registry[DEFAULT_MOCKER]

    def start(self) -> None:
        # First in line, whichever respx router started earlier: other routers only
        # ever see traffic that is not ours, or that the mock does not serve.
        self._mocker.routers.insert(0, cast(respx.Router, self))
        self._mocker.start()

    def stop(self) -> None:
        self._mocker.unregister(cast(respx.Router, self))
        self._mocker.stop()

    def handler(self, request: httpx.Request) -> httpx.Response:
        __tracebackhide__ = True
        url = str(request.url)
        if not self._api.owns(url):
            self._not_ours(request, url)
        body = request.read()
        ours = Request.make(
            request.method,
            url,
            request.headers.multi_items(),
            body,
            length_declared=not body or "content-length" in request.headers,
        )
        answer = self._api.handle(ours)
        if isinstance(answer, Unserved):
            router = self._user_router(request)
            if router is None:
                self._unserved(ours)
            try:
                response = router.handler(request)
            except PassThrough:  # never to the real service
                self._unserved(ours)
            self._api.record_unserved(ours, status_code=response.status_code)
            return response
        return _response(answer, request)

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        __tracebackhide__ = True
        url = str(request.url)
        if not self._api.owns(url):
            self._not_ours(request, url)
        body = await request.aread()
        ours = Request.make(
            request.method,
            url,
            request.headers.multi_items(),
            body,
            length_declared=not body or "content-length" in request.headers,
        )
        answer = self._api.handle(ours)
        if isinstance(answer, Unserved):
            router = self._user_router(request)
            if router is None:
                self._unserved(ours)
            try:
                response = await router.async_handler(request)
            except PassThrough:
                self._unserved(ours)
            self._api.record_unserved(ours, status_code=response.status_code)
            return response
        return _response(answer, request)

    def _user_router(self, request: httpx.Request) -> respx.Router | None:
        """A later respx router with a route of the test's for this request, if any."""
        for router in self._mocker.routers:
            if isinstance(router, _Router):
                continue
            for route in getattr(router, "routes", ()):
                if route.pattern is None or route.pattern.match(request):
                    return router
        return None

    def _unserved(self, request: Request) -> NoReturn:
        __tracebackhide__ = True
        self._api.record_unserved(request)
        how = (
            f"{self._api.name}.add_route({request.method!r}, ...) or a respx_mock route "
            f"for {self._api.base_url}"
        )
        raise UnexpectedTriggerRequest(self._api.explain_unserved(request, how_to_stub=how))

    def _not_ours(self, request: httpx.Request, url: str) -> NoReturn:
        """Hand a request for another origin on: never to the real Trigger.dev."""
        __tracebackhide__ = True
        routers = self._mocker.routers
        if any(isinstance(r, _Router) and r._api.owns(url) for r in routers):
            raise AllMockedAssertionError("another mock_trigger_api serves this origin")
        if routers[-1] is not cast(respx.Router, self):  # later routers decide; the last passes
            raise AllMockedAssertionError("not Trigger.dev: the next respx router decides")
        host = request.url.host.rstrip(".")
        if host == "trigger.dev" or host.endswith(".trigger.dev"):
            self._api.refuse_other_origin(
                Request.make(request.method, url, request.headers.multi_items())
            )
        raise PassThrough("not Trigger.dev", request=request, origin=_pass_through_origin())


def _response(answer: ApiResponse | Disconnect, request: httpx.Request) -> httpx.Response:
    if isinstance(answer, Disconnect):
        if answer.kind == "timeout":
            raise httpx.ReadTimeout("mock_trigger_api: injected read timeout", request=request)
        raise httpx.ConnectError("mock_trigger_api: injected connection error", request=request)
    return httpx.Response(
        answer.status_code, headers=answer.headers, content=answer.body, request=request
    )


@functools.cache
def _pass_through_origin() -> respx.Route:
    # respx's PassThrough names the route that let a request through; one will do.
    return respx.Route()
