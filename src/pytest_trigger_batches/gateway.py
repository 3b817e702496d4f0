"""The transports' side of a mock API: the origin it owns, the pipeline, the call log.

`TriggerApi` is what a test uses; its `Gateway` is what the respx mock (`mock.py`) and
the HTTP server (`server.py`) use. Every request a transport sees for the origin goes
through `exchange()`, and the exchange records it when it ends, whatever happened: a
served answer, a fault, a route of the test, a refusal, an exception. That is the one
place a call is recorded.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NoReturn
from urllib.parse import urlsplit

from pytest_trigger_batches.calls import RecordedCall, record
from pytest_trigger_batches.pipeline import (
    ApiResponse,
    Disconnect,
    Outcome,
    Pipeline,
    Request,
    Unserved,
)
from pytest_trigger_batches.redact import redact, shown_header
from pytest_trigger_batches.shown import shown

__all__ = ["Exchange", "Gateway", "UnexpectedTriggerRequest", "default_port", "host_of"]


class UnexpectedTriggerRequest(AssertionError):
    """A request reached the Trigger.dev origin that the mock does not serve."""


def host_of(hostname: str | None) -> str:
    """`hostname` as the origin compares it: "api.trigger.dev." is "api.trigger.dev"."""
    return (hostname or "").rstrip(".")


def default_port(scheme: str) -> int:
    """The port a URL of `scheme` means when it names none."""
    return 443 if scheme == "https" else 80


@dataclass(slots=True)
class Exchange:
    """One request on its way through a transport, recorded when the exchange ends.

    `answer` is the pipeline's (None for a request refused before it); a transport
    that finds a route of the test for an unserved request says so with `stubbed()`.
    """

    request: Request
    path: str
    outcome: Outcome | None
    stub_status: int | None = None

    @property
    def answer(self) -> ApiResponse | Disconnect | Unserved:
        """What the pipeline answered (`Unserved` when it was not asked)."""
        if self.outcome is None:
            return Unserved(self.request.method, self.path)
        return self.outcome.answer

    def stubbed(self, status_code: int) -> None:
        """A route of the test's (a respx route) answered with `status_code`."""
        self.stub_status = status_code


class Gateway:
    """The origin, the pipeline and the call log of one mock API, under one lock."""

    def __init__(self, *, base_url: str, name: str, pipeline: Pipeline) -> None:
        self.base_url = base_url
        self.name = name
        self.pipeline = pipeline
        self.lock: threading.RLock = threading.RLock()
        self.calls: list[RecordedCall] = []
        self.max_calls: int | None = None
        """Keep only the newest calls (the CLI server's bound); None keeps every one."""
        self._carried: tuple[list[RecordedCall], list[str]] = ([], [])
        """What `reset()` emptied that the end of the test must still report."""
        parts = urlsplit(base_url)
        port = parts.port or default_port(parts.scheme)
        self._origin = (parts.scheme, host_of(parts.hostname), port)
        self._prefix = parts.path
        self._fast_prefix = base_url + "/"

    def owns(self, url: str) -> bool:
        """Whether `url` is on the Trigger.dev origin this API stands in for."""
        if url.startswith(self._fast_prefix):  # the common case, without parsing
            return True
        parts = urlsplit(url)
        try:
            port = parts.port or default_port(parts.scheme)
        except ValueError:
            return False
        return (parts.scheme, host_of(parts.hostname), port) == self._origin and (
            parts.path == self._prefix or parts.path.startswith(self._prefix + "/")
        )

    def path(self, url: str) -> str:
        """The path of `url` below the base URL's own path."""
        path = urlsplit(url).path
        return path[len(self._prefix) :] if path.startswith(self._prefix) else path

    @contextmanager
    def exchange(self, request: Request, *, serve: bool = True) -> Iterator[Exchange]:
        """Answer `request` through the pipeline (unless `serve=False`) and record it.

        An answer of the pipeline's is recorded at once, under the lock that answered it,
        so `calls` are in the order the requests were answered; an unserved request is
        recorded when the exchange ends, once the transport knows whether a route of the
        test answered it.
        """
        if serve:
            exchange = self.serve(request)
            if not isinstance(exchange.answer, Unserved):
                yield exchange
                return
        else:
            exchange = Exchange(request, self.path(request.url), None)
        try:
            yield exchange
        finally:
            self._record(exchange)

    def serve(self, request: Request) -> Exchange:
        """`exchange()` for the common case: the pipeline's answer, recorded at once.

        An `Unserved` answer is not recorded here: the transport records it with
        `unserved()` once it knows whether a route of the test answered it.
        """
        with self.lock:
            outcome = self.pipeline.handle(request)
            exchange = Exchange(request, outcome.path, outcome)
            if not isinstance(outcome.answer, Unserved):
                self._record(exchange)
        return exchange

    @contextmanager
    def unserved(self, exchange: Exchange) -> Iterator[Exchange]:
        """Record an exchange `serve()` did not answer when the transport is done with it."""
        try:
            yield exchange
        finally:
            self._record(exchange)

    def _record(self, exchange: Exchange) -> None:
        status = exchange.stub_status
        call = record(
            exchange.request,
            exchange.path,
            exchange.outcome,
            status_code=status,
            stubbed=status is not None,
        )
        with self.lock:
            self.calls.append(call)
            limit = self.max_calls
            if limit is not None and len(self.calls) > limit:
                del self.calls[: len(self.calls) - limit]

    def leftovers(self) -> tuple[list[RecordedCall], list[str], list[str]]:
        """What a test must not end with: unserved calls, unused faults, the mock's crashes."""
        with self.lock:
            unexpected = [
                *self._carried[0],
                *(call for call in self.calls if call.outcome == "unexpected"),
            ]
            unused = [
                *self._carried[1],
                *(fault.describe() for fault in self.pipeline.faults.unused()),
            ]
            crashes = [redact(crash) for crash in self.pipeline.crashes]
        return unexpected, unused, crashes

    def reset(self) -> None:
        """Start over with no faults and an empty call log (`TriggerApi.reset`).

        The unserved calls and unused required faults so far are kept for `leftovers()`.
        """
        with self.lock:
            unexpected, unused, _ = self.leftovers()
            self._carried = (unexpected, unused)
            self.pipeline.reset()
            self.calls.clear()

    def explain_unserved(self, request: Request, *, how_to_stub: str | None = None) -> str:
        """Why `request` failed the test: what it was, what the mock serves, what to do."""
        path = redact(self.path(request.url))
        method = redact(request.method)  # as sent: the server passes any token through
        table = self.pipeline.table
        headers = "\n".join(
            f"    {name}: {shown_header(name, value)}" for name, value in request.headers.items()
        )
        stub = how_to_stub or f"{self.name}.add_route({shown(method)}, {shown(path)}, json=...)"
        return (
            f"{self.name} does not serve {method} {redact(request.url)}\n"
            f"  request headers:\n{headers or '    (none)'}\n"
            f"  it serves:\n{table.describe(self._prefix)}\n"
            f"  closest match: {table.closest(method, path)}\n"
            f"The mock answers no request with a default. If the real API has this endpoint, "
            f"the mock does not serve it yet: answer it in the test with {stub}. Otherwise "
            f"check the URL and method the code under test uses.\n"
            f"See https://pytest-trigger-batches.github.io/pytest-trigger-batches/recipes/unserved-endpoints/"
        )

    def refuse(self, request: Request, message: str) -> NoReturn:
        """Record `request` as unexpected and fail the test with `message`."""
        __tracebackhide__ = True
        with self.exchange(request, serve=False):
            pass
        raise UnexpectedTriggerRequest(message)

    def refuse_other_origin(self, request: Request) -> NoReturn:
        """Refuse a request to another Trigger.dev origin than the one the test set up."""
        __tracebackhide__ = True
        self.refuse(
            request,
            f"{self.name} stands in for {self.base_url}, but the code under test sent "
            f"{redact(request.method)} {redact(request.url)}: another Trigger.dev origin. "
            f"Point the code at {self.base_url} (TRIGGER_API_URL), or set the origin the test "
            f"intercepts with @pytest.mark.trigger_api(base_url=...), TRIGGER_API_URL or the "
            f"trigger_api_url ini option. It was not sent to the real service.\n"
            f"See https://pytest-trigger-batches.github.io/pytest-trigger-batches/recipes/origin/",
        )
