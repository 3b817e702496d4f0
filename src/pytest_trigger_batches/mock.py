"""The respx transport: hands httpx requests for the Trigger.dev origin to `TriggerApi`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import respx

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
        self._router: respx.MockRouter | None = None

    def start(self) -> None:
        """Start intercepting httpx."""
        if self._router is not None:
            return
        router = respx.MockRouter(assert_all_called=False, assert_all_mocked=True)
        router.route().mock(side_effect=self._resolve)
        router.start()
        # Look at every request first, whichever respx router started earlier: other
        # routers only ever see traffic that is not ours.
        routers = _routers(router)
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

    def _resolve(self, request: httpx.Request) -> httpx.Response | httpx.Request | None:
        if not self.owns(str(request.url)):
            assert self._router is not None
            if any(r is not self._router for r in _routers(self._router)):
                return None  # not ours: the next respx router decides
            return request  # no other router: pass through untouched
        answer = self.handle(request.method, str(request.url), request.headers.multi_items())
        if isinstance(answer, Disconnect):
            if answer.kind == "timeout":
                raise httpx.ReadTimeout("mock_trigger_api: injected read timeout", request=request)
            raise httpx.ConnectError("mock_trigger_api: injected connection error", request=request)
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.body)


def _routers(router: respx.MockRouter) -> list[respx.Router]:
    # respx keeps the started routers on the mocker class, consulted in order.
    assert router.Mocker is not None, "the router has not been started"
    return router.Mocker.routers
