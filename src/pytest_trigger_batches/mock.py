"""The respx transport: hands httpx requests for the Trigger.dev origin to `TriggerApi`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import respx
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
        if self._router is not None:
            return
        router = _Router(self)
        router.start()
        # Look at every request first, whichever respx router started earlier: other
        # routers only ever see traffic that is not ours.
        routers = router.routers()
        routers.insert(0, routers.pop(routers.index(router)))
        self._router = router

    def stop(self) -> None:
        """Stop intercepting httpx."""
        if self._router is not None:
            self._router.stop(quiet=True)
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


class _Router(respx.MockRouter):
    """A respx router with no routes: every request it sees goes to the API's pipeline."""

    def __init__(self, api: TriggerApi) -> None:
        super().__init__(assert_all_called=False, assert_all_mocked=True)
        self._api = api
        self._origin_route = respx.Route()

    def routers(self) -> list[respx.Router]:
        # respx keeps the started routers on the mocker class and asks them in order.
        assert self.Mocker is not None, "the router has not been started"
        return self.Mocker.routers

    def handler(self, request: httpx.Request) -> httpx.Response:
        __tracebackhide__ = True
        url = str(request.url)
        if not self._api.owns(url):
            if any(router is not self for router in self.routers()):
                raise AllMockedAssertionError("not Trigger.dev: the next respx router decides")
            raise PassThrough("not Trigger.dev", request=request, origin=self._origin_route)
        answer = self._api.handle(request.method, url, request.headers.multi_items())
        if isinstance(answer, Disconnect):
            if answer.kind == "timeout":
                raise httpx.ReadTimeout("mock_trigger_api: injected read timeout", request=request)
            raise httpx.ConnectError("mock_trigger_api: injected connection error", request=request)
        return httpx.Response(
            answer.status_code, headers=answer.headers, content=answer.body, request=request
        )

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        __tracebackhide__ = True
        return self.handler(request)
