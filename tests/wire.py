"""One API, three transports: respx with httpx.Client, respx with httpx.AsyncClient, and
the HTTP server. Behaviour both transports share is tested once, over all three."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import httpx

from pytest_trigger_batches.api import TriggerApi
from pytest_trigger_batches.mock import MockTriggerApi
from pytest_trigger_batches.server import TriggerApiServer

TRANSPORTS = ("respx-sync", "respx-async", "server")
KEY = "tr_dev_" + "W1r3" * 6
_TLS = ssl.create_default_context()  # made once: a client per request would make one each


class Wire:
    """`api` and `send()`: a request through one transport, answered as an httpx.Response."""

    def __init__(self, api: TriggerApi, transport: str) -> None:
        self.api = api
        self.transport = transport

    def send(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        key: str | None = "default",
        content: bytes | None = None,
    ) -> httpx.Response:
        """`method path` on the API's origin, with `Authorization: Bearer <key>` unless None."""
        sent = dict(headers or {})
        if key is not None and not any(name.lower() == "authorization" for name in sent):
            sent["Authorization"] = f"Bearer {self.api.secret_key if key == 'default' else key}"
        url = self.api.base_url + path
        if self.transport == "respx-async":

            async def go() -> httpx.Response:
                async with httpx.AsyncClient(verify=_TLS) as client:
                    return await client.request(method, url, headers=sent, content=content)

            return asyncio.run(go())
        with httpx.Client(verify=_TLS) as client:
            return client.request(method, url, headers=sent, content=content)

    def get_batch(self, batch_id: str, *, version: int = 1, **options: object) -> httpx.Response:
        """`GET /api/v{version}/batches/{batch_id}`."""
        return self.send("GET", f"/api/v{version}/batches/{batch_id}", **options)  # type: ignore[arg-type]


@contextmanager
def wire(
    transport: str, *, clock: Callable[[], float] | None = None, secret_key: str = KEY
) -> Iterator[Wire]:
    """A fresh API served over `transport`."""
    if transport == "server":
        with TriggerApiServer(secret_key=secret_key, clock=clock) as server:
            yield Wire(server, transport)
    else:
        with MockTriggerApi(secret_key=secret_key, clock=clock) as mock:
            yield Wire(mock, transport)
