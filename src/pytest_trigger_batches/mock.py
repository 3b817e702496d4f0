"""The respx transport: hands httpx requests for the Trigger.dev origin to `TriggerApi`."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, NoReturn, cast

import httpx
import respx
from respx.mocks import DEFAULT_MOCKER, Mocker
from respx.models import AllMockedAssertionError, PassThrough

from pytest_trigger_batches.api import DEFAULT_BASE_URL, Disconnect, TriggerApi

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["MockTriggerApi"]


class MockTriggerApi(TriggerApi):
    """The `mock_trigger_api` fixture: intercepts httpx (sync and async) for one origin.

    Requests to other hosts are left alone: handed to any other respx router (such as
    the `respx_mock` fixture) or, when there is none, sent on as usual.
    """

    def __init__(self, *, base_url: str = DEFAULT_BASE_URL, secret_key: str | None = None) -> None:
        super().__init__(base_url=base_url, secret_key=secret_key)
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
        # ever see traffic that is not ours.
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
        answer = self._api.handle(request.method, url, request.headers.multi_items())
        if isinstance(answer, Disconnect):
            if answer.kind == "timeout":
                raise httpx.ReadTimeout("mock_trigger_api: injected read timeout", request=request)
            raise httpx.ConnectError("mock_trigger_api: injected connection error", request=request)
        return httpx.Response(
            answer.status_code, headers=answer.headers, content=answer.body, request=request
        )

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
            self._api.refuse_other_origin(request.method, url, request.headers.multi_items())
        raise PassThrough("not Trigger.dev", request=request, origin=_pass_through_origin())

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        __tracebackhide__ = True
        return self.handler(request)


@functools.cache
def _pass_through_origin() -> respx.Route:
    # respx's PassThrough names the route that let a request through; one will do.
    return respx.Route()
