"""The mock Trigger.dev API over real HTTP, for clients that are not httpx.

`TriggerApiServer` is a `TriggerApi` served on 127.0.0.1 (a free port by default) from a
background thread, with the standard library only. Everything the in-process
`mock_trigger_api` does (batches, lifecycles, keys, faults, rate limits, recorded
calls) lives in `TriggerApi`; this module only translates HTTP requests into
`TriggerApi.handle` calls and writes the answers back.

Three answers are written the server's own way:

- an injected "timeout" or "connect_error" fault closes the connection without
  answering: the client sees a dropped connection (`RemoteDisconnected` in
  `http.client`/`urllib`/`requests`, `httpx.RemoteProtocolError`, `fetch failed` in
  Node), not its own timeout;
- a live realtime request with nothing new (`/realtime/v1/...?live=true`) is held up to a
  second outside the lock, as the platform's long poll is, and answered as soon as what it
  watches changes;
- a request the API does not serve gets `501 {"error": <why, with keys redacted>}`
  with `x-should-retry: false` (so the official SDK does not retry it) and stays in
  `calls` with outcome "unexpected" (the `trigger_api_server` fixture then fails the
  test).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import re
import selectors
import socket
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pytest_trigger_batches.api import TriggerApi
from pytest_trigger_batches.clock import ClockFunction
from pytest_trigger_batches.gateway import Gateway
from pytest_trigger_batches.pipeline import ApiResponse, Disconnect, Request, Unserved
from pytest_trigger_batches.redact import redact
from pytest_trigger_batches.routes import BODILESS_STATUSES
from pytest_trigger_batches.shown import shown

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["TriggerApiServer"]

_HOST_HEADER_RE = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
_UNSPECIFIED = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}
_MAX_LINE = 65536


def idle_timeout_rule(value: object) -> str:
    """What is wrong with an `idle_timeout` (the CLI's `--idle-timeout`), or ""."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 86_400:
        return "must be a number of seconds > 0 (at most a day)"
    return ""


def max_body_rule(value: object) -> str:
    """What is wrong with a `max_body` (the CLI's `--max-body`), or ""."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1 << 34:
        return "must be a number of bytes from 0 to 2**34"
    return ""


def max_calls_rule(value: object) -> str:
    """What is wrong with a `max_calls` (the CLI's `--max-calls`), or ""."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return "must be a whole number >= 1"
    return ""


class TriggerApiServer(TriggerApi):
    """The mock Trigger.dev API over real HTTP: every method of `mock_trigger_api`.

    The socket is bound when the server is created, so `base_url` is ready before
    `start()`; `stop()` (or leaving the `with` block) closes every connection, the
    listening socket and every thread. A stopped server cannot be started again.

        with TriggerApiServer() as server:
            server.add_batch(batch)
            urllib.request.urlopen(...)  # server.base_url + "/api/v1/batches/" + batch.id

    - `host`, `port`: where to listen; port 0 picks a free port.
    - `secret_key`: the key `secret_key` reports (any well-formed key is accepted
      until `accept_key()` pins some).
    - `clock`: where the mock reads the time (default: the wall clock).
    - `verbose`: print one line per request to stderr (keys redacted). Quiet otherwise.
    - `idle_timeout`: seconds a connection may wait silent for its next request, and
      the most a request may take to arrive whole once it started (its line, headers
      and body: a client sending a byte now and then is cut off too); then the server
      closes the connection without an answer (default 10).
    - `max_body`: the largest request body the server reads, by `Content-Length` or
      chunked (default 16 MiB); a larger one gets `413` and the connection is closed.
      A chunked body (no `Content-Length`) reaches the routes as undeclared: routes
      with a size limit answer it `413`, as the platform does. A malformed
      `Content-Length` or chunk size gets `400`.
    - `max_calls`: keep only the latest N recorded `calls` (None: all, the default;
      the command-line server keeps 10,000).

    Requests with a method the platform does not route (TRACE, PROPFIND, CONNECT, a
    lower-case `get`) are recorded and fail the test like any unserved request (`501`).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        secret_key: str | None = None,
        clock: ClockFunction | None = None,
        verbose: bool = False,
        idle_timeout: float = 10.0,
        max_body: int = 16 << 20,
        max_calls: int | None = None,
    ) -> None:
        if not isinstance(host, str):
            raise TypeError(
                f"host must be an address string such as '127.0.0.1'; got {shown(host)}"
            )
        if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
            raise ValueError(f"port must be from 0 to 65535 (0: a free port); got {shown(port)}")
        for name, problem, value in (
            ("idle_timeout", idle_timeout_rule(idle_timeout), idle_timeout),
            ("max_body", max_body_rule(max_body), max_body),
            ("max_calls", max_calls_rule(max_calls) if max_calls is not None else "", max_calls),
        ):
            if problem:
                either = " or None (all)" if name == "max_calls" else ""
                raise ValueError(f"{name} {problem}{either}; got {shown(value)}")
        try:
            self._httpd = _HTTPServer((host, port), verbose=verbose)
        except socket.gaierror as problem:
            raise ValueError(
                f"host must be an address of this machine, such as 127.0.0.1 or 0.0.0.0; "
                f"got {shown(host)} ({problem.strerror})"
            ) from None
        self._httpd.idle_timeout = float(idle_timeout)
        self._httpd.max_body = max_body
        self.host = host
        self.port: int = self._httpd.server_address[1]
        url_host = _UNSPECIFIED.get(host, host)
        if ":" in url_host:
            url_host = f"[{url_host}]"
        try:
            super().__init__(
                base_url=f"http://{url_host}:{self.port}",
                secret_key=secret_key,
                name="trigger_api_server",
                clock=clock,
            )
        except BaseException:
            self._httpd.server_close()
            raise
        self._gateway.max_calls = max_calls
        self._httpd.gateway = self._gateway
        self._wake_recv, self._wake_send = socket.socketpair()
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._state_lock = threading.Lock()

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "running" if self.running else "not started"
        return f"<{type(self).__name__} {self.base_url} {state}>"

    @property
    def max_calls(self) -> int | None:
        """Only the latest N recorded `calls` are kept (None: all)."""
        return self._gateway.max_calls

    @property
    def running(self) -> bool:
        """Whether the server is accepting requests."""
        return self._thread is not None and not self._stopped

    @property
    def env(self) -> dict[str, str]:
        """`TRIGGER_API_URL` and `TRIGGER_SECRET_KEY` for a client (SDK, subprocess)."""
        return {"TRIGGER_API_URL": self.base_url, "TRIGGER_SECRET_KEY": self.secret_key}

    def start(self) -> TriggerApiServer:
        """Serve requests from a daemon thread; returns the server."""
        with self._state_lock:
            if self._stopped:
                raise RuntimeError(
                    f"{self!r} was stopped and cannot be restarted; create a new TriggerApiServer"
                )
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name=f"TriggerApiServer {self.base_url}", daemon=True
                )
                self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: close the connections and the socket, join every thread."""
        with self._state_lock:
            if self._stopped:
                return
            self._stopped = True
            thread = self._thread
        if thread is not None:
            self._wake_send.send(b"\0")
            thread.join()
        self._httpd.server_close()
        self._httpd.close_connections()
        self._wake_send.close()
        self._wake_recv.close()

    def __enter__(self) -> TriggerApiServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _serve(self) -> None:
        # serve_forever() notices shutdown() only at its next poll (0.5 s by default);
        # waiting on the listening socket and a wake-up socket stops at once, and
        # costs nothing while idle.
        with selectors.DefaultSelector() as selector:
            selector.register(self._httpd, selectors.EVENT_READ)
            selector.register(self._wake_recv, selectors.EVENT_READ)
            while True:
                ready = selector.select()
                if any(key.fileobj is self._wake_recv for key, _ in ready):
                    return
                self._httpd.handle_request()


class _RequestClock(io.RawIOBase):
    """A connection's reads, each with the time the request has left.

    Waiting for a request, a read may wait `limit` seconds; once its first bytes have
    come, the whole request (line, headers, body) must arrive within `limit` seconds
    of them, however the client spreads it out. Past that a read raises `TimeoutError`,
    which closes the connection.
    """

    def __init__(self, connection: socket.socket, limit: float) -> None:
        super().__init__()
        self._connection = connection
        self._limit = limit
        self._deadline: float | None = None

    def readable(self) -> bool:
        return True

    def next_request(self) -> None:
        """The connection waits for its next request: the clock starts again."""
        self._deadline = None

    def request_read(self) -> None:
        """The request arrived whole: writing the answer gets the full `limit` again."""
        self._connection.settimeout(self._limit)

    def readinto(self, buffer: Any) -> int:
        if self._deadline is None:
            wait = self._limit
        else:
            wait = self._deadline - time.monotonic()
            if wait <= 0:
                raise TimeoutError(f"the request took longer than {self._limit} s to arrive")
        self._connection.settimeout(wait)
        count = self._connection.recv_into(buffer)
        if self._deadline is None and count:
            self._deadline = time.monotonic() + self._limit
        return count


class _BadBody(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


_STANDARD = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
_CHUNK_SIZE_RE = re.compile(rb"[0-9A-Fa-f]{1,15}")


class _HTTPServer(ThreadingHTTPServer):
    """One thread per connection; every connection and thread is tracked for stop()."""

    gateway: Gateway
    idle_timeout = 10.0
    max_body = 16 << 20
    timeout = 0  # handle_request() never waits: _serve only calls it once readable
    # socketserver listens with a backlog of 5: a burst of clients connecting at once
    # overflows it and the kernel drops their SYNs (a second's retry, or a timeout).
    request_queue_size = max(socket.SOMAXCONN, 128)

    def __init__(self, address: tuple[str, int], *, verbose: bool) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.verbose = verbose
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._connection_threads: list[threading.Thread] = []
        super().__init__(address, _Handler)
        # A client that gives up between select() and accept() must not block the loop.
        self.socket.setblocking(False)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, a DNS query that can hang
        # for seconds without a network; the name is not used.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        connection.setblocking(True)
        return connection, address

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"TriggerApiServer connection {client_address}",
            daemon=True,  # never keeps the interpreter alive, but stop() joins it
        )
        with self._lock:
            self._connection_threads = [t for t in self._connection_threads if t.is_alive()]
            self._connection_threads.append(thread)
            self._connections.add(request)
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Unblock every connection thread (idle keep-alive ones too) and join it."""
        with self._lock:
            connections, threads = list(self._connections), list(self._connection_threads)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join()
        with self._lock:
            self._connection_threads = [t for t in self._connection_threads if t.is_alive()]

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exception(), ConnectionError | TimeoutError):
            return  # the client went away: nothing to report
        super().handle_error(request, client_address)

    def log(self, line: str) -> None:
        if self.verbose:
            sys.stderr.write(redact(line) + "\n")


class _Handler(BaseHTTPRequestHandler):
    """Translates one HTTP request into `TriggerApi.handle` and writes the answer."""

    server: _HTTPServer
    _arrival: _RequestClock
    protocol_version = "HTTP/1.1"  # keep-alive, as clients and SDKs expect
    server_version = "pytest-trigger-batches"
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # read through the request clock instead
        self._arrival = _RequestClock(self.connection, self.server.idle_timeout)
        self.rfile = io.BufferedReader(self._arrival)

    def handle_one_request(self) -> None:
        self._arrival.next_request()
        super().handle_one_request()

    def version_string(self) -> str:
        return self.server_version

    def __getattr__(self, name: str) -> Any:
        # http.server looks up do_<METHOD>: every method reaches the pipeline, which
        # serves none but the platform's (TRACE, PROPFIND, a lower-case get: unserved).
        if name.startswith("do_"):
            return self._answer
        raise AttributeError(name)

    def _answer(self) -> None:
        try:
            body, declared = self._read_body()
        except _BadBody as bad:
            self._arrival.request_read()
            self._refuse(bad.status, bad.message)
            return
        self._arrival.request_read()
        gateway = self.server.gateway
        request = Request.make(
            self.command, self._url(), self.headers.items(), body, length_declared=declared
        )
        if self.command not in _STANDARD:  # kept as sent: `get` is not GET
            request = dataclasses.replace(request, method=self.command)
        with gateway.exchange(request) as exchange:
            answer = exchange.answer
        if isinstance(answer, Unserved):
            problem = json.dumps({"error": gateway.explain_unserved(request)}).encode()
            headers = {"content-type": "application/json; charset=utf-8", "x-should-retry": "false"}
            answer = ApiResponse(501, headers, problem)
        if isinstance(answer, Disconnect):
            self.log_message('"%s" connection dropped (%s fault)', self.requestline, answer.kind)
            self.close_connection = True
            return
        if answer.hold is not None:  # a live realtime request: a long poll, outside the lock
            answer.hold.wait(gateway.lock)
        self.send_response(answer.status_code)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        bodiless = self.command == "HEAD" or answer.status_code in BODILESS_STATUSES
        if not bodiless:
            self.send_header("content-length", str(len(answer.body)))
        self.end_headers()
        if not bodiless and answer.body:
            self.wfile.write(answer.body)

    def _url(self) -> str:
        target = self.path
        if target.startswith(("http://", "https://")):  # absolute form, as sent to a proxy
            try:
                parts = urlsplit(target)
                parts.port  # noqa: B018 - raises ValueError for a port out of range
            except ValueError:
                return self.server.gateway.base_url + "/"
            return target
        host = self.headers.get("host", "")
        base_url = self.server.gateway.base_url
        origin = f"http://{host}" if _HOST_HEADER_RE.fullmatch(host) else base_url
        return origin + (target if target.startswith("/") else "/" + target)

    def _refuse(self, status: int, message: str) -> None:
        """Answer a request that cannot be read, as Node's HTTP parser does, and close."""
        self.close_connection = True
        body = json.dumps({"error": message}).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _read_body(self) -> tuple[bytes, bool]:
        """The request body and whether its length was declared; `_BadBody` if unreadable."""
        cap = self.server.max_body
        encoding = self.headers.get("transfer-encoding")
        if encoding is not None:
            if encoding.strip().lower() != "chunked":
                raise _BadBody(400, f"Transfer-Encoding {shown(encoding, 60)} is not supported")
            chunks: list[bytes] = []
            total = 0
            while True:
                size_line = self.rfile.readline(_MAX_LINE)
                size_text = size_line.split(b";", 1)[0].strip()
                if not _CHUNK_SIZE_RE.fullmatch(size_text):
                    raise _BadBody(400, "Bad chunk size")
                size = int(size_text, 16)
                if size == 0:
                    while self.rfile.readline(_MAX_LINE) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks), False
                total += size
                if total > cap:
                    raise _BadBody(413, "Request body too large")
                chunk = self.rfile.read(size)
                if len(chunk) != size or self.rfile.read(2) not in (b"\r\n",):
                    raise _BadBody(400, "Bad chunk")
                chunks.append(chunk)
        length = self.headers.get("content-length")
        if length is None:
            return b"", True
        if not re.fullmatch(r"[0-9]{1,15}", length.strip()):
            raise _BadBody(400, "Bad Content-Length")
        remaining = int(length)
        if remaining > cap:
            raise _BadBody(413, "Request body too large")
        parts = []
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1 << 16))
            if not chunk:
                raise _BadBody(400, "Body shorter than its Content-Length")
            parts.append(chunk)
            remaining -= len(chunk)
        return b"".join(parts), True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # http.server's own refusals (a malformed request line) quote what was sent.
        super().send_error(
            code,
            None if message is None else redact(message),
            None if explain is None else redact(explain),
        )

    def log_message(self, format: str, *args: Any) -> None:
        self.server.log(f"{self.address_string()} - {format % args}")
