"""The retrieve-batch API's behaviour, independent of any transport.

`TriggerApi.handle` takes one request and answers it as Trigger.dev does, as one
readable pipeline: record, preflight, route, faults, auth, rate limit, look up, answer.
The respx mock (`mock.py`) and the HTTP server (`server.py`) only translate requests
and responses; every decision is made here.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NoReturn
from urllib.parse import urlsplit

from pytest_trigger_batches import lifecycle, rules
from pytest_trigger_batches.faults import Fault, FaultKind, FaultQueue
from pytest_trigger_batches.ids import environment_of_key, redact, shown_header
from pytest_trigger_batches.ids import secret_key as make_secret_key
from pytest_trigger_batches.model import TriggerBatch, server_shape_problem

__all__ = [
    "BatchHandle",
    "Disconnect",
    "RecordedCall",
    "TriggerApi",
    "UnexpectedTriggerRequest",
]

DEFAULT_BASE_URL = "https://api.trigger.dev"
SERVED = ("GET /api/v1/batches/{batchId}", "GET /api/v2/batches/{batchId}")
_ROUTE_RE = re.compile(r"/api/v([12])/batches/([^/?#]+)")
_JSON = "application/json; charset=utf-8"
_PROBLEM = "application/problem+json"
_CORS = {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET, POST, PUT, DELETE, OPTIONS",
    "access-control-allow-headers": "Authorization, Content-Type, x-trigger-client",
}
_NO_AUTH = {
    "title": "Unauthorized",
    "status": 401,
    "type": "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/401",
    "detail": "No authorization header provided",
    "error": "No authorization header provided",
}


class UnexpectedTriggerRequest(AssertionError):
    """A request reached the Trigger.dev origin that the mock does not serve."""


@dataclass(frozen=True, slots=True)
class ApiResponse:
    """An answer, ready for any transport to write."""

    status_code: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Disconnect:
    """No answer: the transport raises a timeout or a connection error instead."""

    kind: Literal["timeout", "connect_error"]


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """One request that reached the Trigger.dev origin, with secrets redacted."""

    method: str
    url: str
    path: str
    batch_id: str | None
    api_version: int | None
    headers: Mapping[str, str]
    status_code: int | None
    outcome: Literal["answered", "timeout", "connect_error", "unexpected"]

    def __str__(self) -> str:
        result = self.status_code if self.outcome == "answered" else self.outcome
        return f"{self.method} {self.url} -> {result}"


@dataclass(slots=True)
class BatchHandle:
    """A registered batch: the states its retrievals walk through, the last one sticking."""

    id: str
    states: tuple[TriggerBatch, ...]
    environment: str | None = None
    served: int = 0
    """How many successful (200) retrievals have been answered."""
    _bodies: dict[tuple[int, int], bytes] = field(default_factory=dict, repr=False)

    @property
    def batch(self) -> TriggerBatch:
        """The state the next successful retrieval answers with."""
        return self.states[min(self.served, len(self.states) - 1)]

    @property
    def final(self) -> TriggerBatch:
        """The last state, which sticks once reached."""
        return self.states[-1]

    def _serve(self, version: int) -> bytes:
        position = min(self.served, len(self.states) - 1)
        body = self._bodies.get((position, version))
        if body is None:
            payload = self.states[position].to_payload(version=1 if version == 1 else 2)
            body = json.dumps(payload, separators=(",", ":")).encode()
            self._bodies[(position, version)] = body
        self.served += 1
        return body


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(slots=True)
class _Bucket:
    """Token bucket as the platform runs it: `limit` tokens, `refill` more each `interval`.

    Kept in whole milliseconds, so a client that waits exactly until
    `x-ratelimit-reset` always finds the refill there.
    """

    limit: int = 750
    refill: int = 250
    interval_ms: int = 10_000
    tokens: int = 750
    refilled_at_ms: int = field(default_factory=lambda: _now_ms())  # looked up per call

    @property
    def reset_ms(self) -> int:
        """When the next refill happens, in unix milliseconds."""
        return self.refilled_at_ms + self.interval_ms

    def refill_until(self, now_ms: int) -> None:
        """Add the refills due by `now_ms`, so every answer's headers are current."""
        periods = (now_ms - self.refilled_at_ms) // self.interval_ms
        if periods > 0:
            self.tokens = min(self.limit, self.tokens + periods * self.refill)
            self.refilled_at_ms += periods * self.interval_ms

    def take(self, now_ms: int) -> tuple[bool, int]:
        """Spend a token if there is one: (allowed, remaining)."""
        self.refill_until(now_ms)
        if self.tokens >= 1:
            self.tokens -= 1
            return True, self.tokens
        return False, 0


class TriggerApi:
    """State and behaviour of the retrieve-batch API: batches, keys, faults, calls."""

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        secret_key: str | None = None,
        name: str = "mock_trigger_api",
    ) -> None:
        self.name = name
        """How messages call this API (the fixture's name)."""
        self.base_url = _normalize_base_url(base_url)
        if secret_key is not None:
            environment_of_key(secret_key, parameter="secret_key")
        self._default_key = secret_key or make_secret_key("dev")
        parts = urlsplit(self.base_url)
        self._origin = (
            parts.scheme,
            _host(parts.hostname),
            parts.port or _default_port(parts.scheme),
        )
        self._prefix = parts.path
        self._lock = threading.RLock()
        self._batches: dict[str, BatchHandle] = {}
        self._keys: dict[str, str] = {}
        self._faults = FaultQueue()
        self._bucket = _Bucket()
        self.calls: list[RecordedCall] = []
        """Every request to the origin, in order, whatever its outcome."""

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.base_url} batches={len(self._batches)} "
            f"calls={len(self.calls)} pinned_keys={len(self._keys)}>"
        )

    # -- set-up -------------------------------------------------------------------

    def add_batch(
        self,
        batch: TriggerBatch | Mapping[str, object] | Sequence[TriggerBatch | Mapping[str, object]],
        *,
        environment: str | None = None,
        progress_after: int | None = None,
    ) -> BatchHandle:
        """Serve a batch; registering the same id again replaces it.

        - `batch`: a `TriggerBatch`, a payload dict, or a sequence of states that
          successive retrievals walk through (the last one sticks).
        - `progress_after`: with one batch, the first N retrievals show the states
          that lead to it (derived from the platform's lifecycle), then it.
        - `environment`: the environment the batch belongs to (e.g. "prod"); keys of
          other environments get 404. None: visible to every key.
        """
        if isinstance(batch, TriggerBatch | Mapping):
            states: tuple[TriggerBatch, ...] = (_as_batch(batch, parameter="batch"),)
        elif isinstance(batch, Sequence) and not isinstance(batch, str | bytes):
            states = tuple(
                _as_batch(state, parameter=f"batch[{i}]") for i, state in enumerate(batch)
            )
            if not states:
                raise ValueError("batch must hold at least one state; got an empty sequence")
            if progress_after is not None:
                raise ValueError(
                    "progress_after derives the states from one batch; with a sequence "
                    "of states, leave it out"
                )
            lifecycle.check_sequence(states)
        else:
            raise TypeError(
                f"batch must be a TriggerBatch, a payload dict or a sequence of them; "
                f"got {batch!r:.100}"
            )
        if progress_after is not None:
            states = lifecycle.timeline(states[0], polls=progress_after)
        _check_environment(environment)
        known = {*rules.ENVIRONMENTS, *self._keys.values()}
        if environment is not None and environment not in known:
            # No key could ever see it: every request would get 404, silently.
            raise ValueError(
                f"environment must be one a key belongs to: {', '.join(sorted(known))}; got "
                f"{environment!r} (pin a key to it first: accept_key(key, environment=...))"
            )
        handle = BatchHandle(states[0].id, states, environment)
        with self._lock:
            self._batches[handle.id] = handle
        return handle

    @property
    def secret_key(self) -> str:
        """A key the API accepts: the first pinned key, else a well-formed `tr_dev_` key."""
        return next(iter(self._keys), self._default_key)

    @property
    def batches(self) -> list[BatchHandle]:
        """The registered batches, in the order they were added."""
        return list(self._batches.values())

    def accept_key(self, key: str, *, environment: str | None = None) -> None:
        """Accept only pinned keys from now on, `key` among them.

        `environment` defaults to the key's own (`tr_prod_...` belongs to "prod").
        """
        own = environment_of_key(key, parameter="key")
        _check_environment(environment)
        with self._lock:
            self._keys[key] = environment or own

    def fail_next(
        self,
        fault: FaultKind,
        *,
        times: int = 1,
        batch_id: str | None = None,
        status_code: int = 500,
        reset_after: float = 1.0,
    ) -> None:
        """Make the next `times` retrievals (of `batch_id`, or any) fail.

        `fault` is "rate_limit" (429 with the real body and headers, resetting after
        `reset_after` seconds), "server_error" (`status_code`, 500 to 599), "timeout"
        (an httpx.ReadTimeout) or "connect_error" (an httpx.ConnectError). Over the HTTP
        server both of the last two drop the connection without an answer.
        """
        with self._lock:
            self._faults.add(
                Fault.make(
                    fault,
                    times=times,
                    batch_id=batch_id,
                    status_code=status_code,
                    reset_after=reset_after,
                )
            )

    def rate_limit(self, *, limit: int = 750, refill: int = 250, interval: float = 10.0) -> None:
        """Count requests in a token bucket: `limit` tokens, `refill` more every `interval` s.

        The default is the platform's own bucket, which is always on; shrink it to catch
        a client that ignores `x-ratelimit-reset`.
        """
        for name, value in (("limit", limit), ("refill", refill)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1; got {value!r}")
        if (
            not isinstance(interval, int | float)
            or isinstance(interval, bool)
            or not 0 < interval < math.inf
        ):
            raise ValueError(f"interval must be a finite number of seconds > 0; got {interval!r}")
        with self._lock:
            interval_ms = max(1, round(interval * 1000))
            self._bucket = _Bucket(limit, refill, interval_ms, tokens=limit)

    # -- the pipeline -------------------------------------------------------------

    def owns(self, url: str) -> bool:
        """Whether `url` is on the Trigger.dev origin this API stands in for."""
        parts = urlsplit(url)
        port = parts.port or _default_port(parts.scheme)
        return (parts.scheme, _host(parts.hostname), port) == self._origin and (
            parts.path == self._prefix or parts.path.startswith(self._prefix + "/")
        )

    def handle(
        self, method: str, url: str, headers: Iterable[tuple[str, str]]
    ) -> ApiResponse | Disconnect:
        """Answer one request to the origin exactly as Trigger.dev would."""
        __tracebackhide__ = True
        method = method.upper()
        lowered = {name.lower(): value for name, value in headers}
        path = urlsplit(url).path[len(self._prefix) :]
        route = _ROUTE_RE.fullmatch(path)
        version = int(route.group(1)) if route else None
        batch_id = route.group(2) if route else None
        with self._lock:
            if route is None or method not in ("GET", "HEAD", "OPTIONS"):
                self._record(method, url, path, batch_id, version, lowered, None)
                raise UnexpectedTriggerRequest(self._explain_unexpected(method, url, path, lowered))
            if method == "OPTIONS":  # a browser's CORS preflight
                asked = lowered.get("access-control-request-headers")
                cors = {**_CORS, "access-control-allow-headers": asked} if asked else _CORS
                answer: ApiResponse | Disconnect = ApiResponse(204, dict(cors), b"")
            else:
                # HEAD is answered with the headers only: the application sees no body,
                # so it neither moves the batch along its lifecycle nor meets a fault.
                answer = self._retrieve(batch_id or "", version or 1, lowered, method == "GET")
            self._record(method, url, path, batch_id, version, lowered, answer)
            return answer

    def _retrieve(
        self, batch_id: str, version: int, headers: Mapping[str, str], with_body: bool
    ) -> ApiResponse | Disconnect:
        now_ms = _now_ms()
        bucket = self._bucket
        bucket.refill_until(now_ms)
        fault = self._faults.take(batch_id) if with_body else None  # faults are for GETs
        if fault is not None:
            if fault.kind in ("timeout", "connect_error"):
                return Disconnect(fault.kind)
            if fault.kind == "rate_limit":
                reset_ms = now_ms + round(fault.reset_after * 1000)
                return _rate_limited(bucket.limit, reset_ms, now_ms)
            return self._answer(fault.status_code, {"error": "Internal Server Error"})
        authorization = headers.get("authorization")
        if authorization is None:
            return self._answer(401, _NO_AUTH, content_type=_PROBLEM)
        environment = self._environment_of(authorization)
        if environment is None:
            return self._answer(401, {"error": "Invalid API Key"})
        allowed, remaining = bucket.take(now_ms)
        if not allowed:
            return _rate_limited(bucket.limit, bucket.reset_ms, now_ms)
        handle = self._batches.get(batch_id)
        if handle is None or handle.environment not in (None, environment):
            return self._answer(404, {"error": "Not found"}, extra={"x-should-retry": "false"})
        headers_out = _headers(_JSON, bucket.limit, remaining, bucket.reset_ms)
        return ApiResponse(200, headers_out, handle._serve(version) if with_body else b"")

    def _answer(
        self,
        status_code: int,
        body: Mapping[str, object],
        *,
        content_type: str = _JSON,
        extra: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        bucket = self._bucket
        headers = _headers(content_type, bucket.limit, bucket.tokens, bucket.reset_ms)
        headers.update(extra or {})
        return ApiResponse(status_code, headers, _json(body))

    def _environment_of(self, authorization: str) -> str | None:
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return None
        key = key.strip()
        if self._keys:
            return self._keys.get(key)
        match = rules.SECRET_KEY_RE.fullmatch(key)
        return match.group(1) if match else None

    def _record(
        self,
        method: str,
        url: str,
        path: str,
        batch_id: str | None,
        version: int | None,
        headers: Mapping[str, str],
        answer: ApiResponse | Disconnect | None,
    ) -> None:
        if isinstance(answer, ApiResponse):
            status_code, outcome = answer.status_code, "answered"
        elif isinstance(answer, Disconnect):
            status_code, outcome = None, answer.kind
        else:
            status_code, outcome = None, "unexpected"
        self.calls.append(
            RecordedCall(
                method=method,
                url=redact(url),
                path=redact(path),
                batch_id=None if batch_id is None else redact(batch_id),
                api_version=version,
                headers={name: shown_header(name, value) for name, value in headers.items()},
                status_code=status_code,
                outcome=outcome,  # type: ignore[arg-type]
            )
        )

    def refuse_other_origin(
        self, method: str, url: str, headers: Iterable[tuple[str, str]]
    ) -> NoReturn:
        """Record a request to another Trigger.dev origin and raise `UnexpectedTriggerRequest`.

        The code under test calls a Trigger.dev host that is not the one the test set up
        (marker, `TRIGGER_API_URL`, ini option): it must not reach the real service.
        """
        __tracebackhide__ = True
        lowered = {name.lower(): value for name, value in headers}
        with self._lock:
            self._record(method.upper(), url, urlsplit(url).path, None, None, lowered, None)
        raise UnexpectedTriggerRequest(
            f"{self.name} stands in for {self.base_url}, but the code under test sent "
            f"{method.upper()} {redact(url)}: another Trigger.dev origin. Point the code at "
            f"{self.base_url} (TRIGGER_API_URL), or set the origin the test intercepts with "
            f"@pytest.mark.trigger_api(base_url=...), TRIGGER_API_URL or the trigger_api_url "
            f"ini option. It was not sent to the real service."
        )

    def _explain_unexpected(
        self, method: str, url: str, path: str, headers: Mapping[str, str]
    ) -> str:
        shown = "\n".join(
            f"    {name}: {shown_header(name, value)}" for name, value in headers.items()
        )
        served = "\n".join(
            f"    {self._prefix}{route.split(' ', 1)[1]} ({route.split(' ')[0]})"
            for route in SERVED
        )
        return (
            f"{self.name} does not serve {method} {redact(url)}\n"
            f"  request headers:\n{shown or '    (none)'}\n"
            f"  it serves:\n{served}\n"
            f"  closest match: {self._closest(method, path)}\n"
            f"A request to the Trigger.dev API that the mock does not know is never "
            f"answered with a default. Fix the URL or method in the code under test."
        )

    def _closest(self, method: str, path: str) -> str:
        route = _ROUTE_RE.fullmatch(path)
        if route:
            shown = redact(path)
            return f"GET {self._prefix}{shown} (the method differs: {method} instead of GET)"
        candidates = [f"{self._prefix}/api/v{v}/batches/{{batchId}}" for v in (1, 2)]
        guess = difflib.get_close_matches(redact(path), candidates, n=1, cutoff=0.0)
        return f"GET {guess[0]}" if guess else f"GET {candidates[0]}"

    # -- assertions ---------------------------------------------------------------

    def retrievals(self, batch: str | TriggerBatch | BatchHandle) -> list[RecordedCall]:
        """The GET requests for `batch` (whatever their answer), in order.

        CORS preflights and HEAD requests are recorded in `calls` but are not retrievals.
        """
        batch_id = _batch_id(batch)
        with self._lock:
            found = [c for c in self.calls if c.batch_id == batch_id and c.method == "GET"]
            known = found or batch_id in self._batches
        if not known and not rules.BATCH_ID_RE.fullmatch(batch_id):
            # A typo would make assert_not_retrieved pass whatever the application did.
            raise ValueError(
                f"batch must be a batch id such as 'batch_cmx0ugyuv00004a7d2bda9ln4', a "
                f"TriggerBatch or a handle; got {redact(batch_id)!r:.100}, which is not registered "
                f"and was never requested"
            )
        return found

    def assert_retrieved(
        self, batch: str | TriggerBatch | BatchHandle, *, times: int | None = None
    ) -> None:
        """Assert the application asked for `batch` (exactly `times` times, if given)."""
        __tracebackhide__ = True
        batch_id = _batch_id(batch)
        if times is not None and (not rules.is_whole_number(times) or times < 0):
            raise ValueError(f"times must be a whole number >= 0; got {times!r}")
        count = len(self.retrievals(batch_id))
        if (times is None and count == 0) or (times is not None and count != times):
            wanted = "at least once" if times is None else _times(times)
            raise AssertionError(
                f"expected {redact(batch_id)} to be retrieved {wanted}, "
                f"it was retrieved {_times(count)}.\n{self._calls_listing()}"
            )

    def assert_not_retrieved(self, batch: str | TriggerBatch | BatchHandle) -> None:
        """Assert the application never asked for `batch`."""
        __tracebackhide__ = True
        batch_id = _batch_id(batch)
        count = len(self.retrievals(batch_id))
        if count:
            raise AssertionError(
                f"expected {redact(batch_id)} not to be retrieved, it was retrieved "
                f"{_times(count)}.\n"
                f"{self._calls_listing()}"
            )

    def assert_all_retrieved(self) -> None:
        """Assert every registered batch was asked for at least once."""
        __tracebackhide__ = True
        missing = [h.id for h in self._batches.values() if not self.retrievals(h.id)]
        if missing:
            raise AssertionError(
                f"{len(missing)} of {len(self._batches)} registered batches were never "
                f"retrieved: {', '.join(missing)}\n{self._calls_listing()}"
            )

    def _calls_listing(self) -> str:
        if not self.calls:
            return f"No request reached {self.base_url}."
        lines = [f"  {number}. {call}" for number, call in enumerate(self.calls, start=1)]
        return f"Requests to {self.base_url}, in order:\n" + "\n".join(lines)


def _normalize_base_url(base_url: str) -> str:
    parts = urlsplit(base_url) if isinstance(base_url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL!r}; got {base_url!r}"
        )
    if parts.query or parts.fragment:
        raise ValueError(f"base_url must not have a query or fragment; got {base_url!r}")
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number from 0 to 65535
    except ValueError:
        raise ValueError(
            f"base_url must have a port from 0 to 65535, if any; got {base_url!r}"
        ) from None
    return base_url.rstrip("/")


def _check_environment(environment: object) -> None:
    if environment is None:
        return
    if not isinstance(environment, str) or not environment.strip():
        raise ValueError(f"environment must be a non-empty string or None; got {environment!r}")
    if environment not in rules.ENVIRONMENTS and environment.strip().lower() in rules.ENVIRONMENTS:
        raise ValueError(
            f"environment names are lower case, as in the key prefix "
            f"({', '.join(rules.ENVIRONMENTS)}): {environment.strip().lower()!r}; "
            f"got {environment!r}"
        )


def _host(hostname: str | None) -> str:
    # "api.trigger.dev." is the same host as "api.trigger.dev" (a fully qualified name).
    return (hostname or "").rstrip(".")


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _as_batch(value: object, *, parameter: str) -> TriggerBatch:
    if isinstance(value, TriggerBatch):
        return value
    if isinstance(value, Mapping):
        shape = server_shape_problem(value)
        if shape:
            raise ValueError(
                f"{parameter} is not a body the server writes: {shape} "
                f"(TriggerBatch.from_payload(body) reads the spec's documented shape)"
            )
        try:
            return TriggerBatch.from_payload(value)
        except (ValueError, TypeError) as problem:
            raise ValueError(f"{parameter} is not a valid batch payload: {problem}") from None
    raise TypeError(f"{parameter} must be a TriggerBatch or a payload dict; got {value!r:.100}")


def _batch_id(batch: str | TriggerBatch | BatchHandle) -> str:
    if isinstance(batch, TriggerBatch | BatchHandle):
        return batch.id
    if isinstance(batch, str) and batch:
        return batch
    raise TypeError(
        f"batch must be a batch id, a TriggerBatch or a handle; got {redact(repr(batch)):.100}"
    )


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def _headers(content_type: str, limit: int, remaining: int, reset_ms: int) -> dict[str, str]:
    return {
        "content-type": content_type,
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-remaining": str(max(0, remaining)),
        "x-ratelimit-reset": str(reset_ms),
        "access-control-allow-origin": "*",
    }


def _json(body: Mapping[str, object]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def _rate_limited(limit: int, reset_ms: int, now_ms: int) -> ApiResponse:
    seconds = max(1, math.ceil((reset_ms - now_ms) / 1000))
    message = f"Rate limit exceeded 0/{limit} requests remaining. Retry in {seconds} seconds."
    body = {
        "title": "Rate Limit Exceeded",
        "status": 429,
        "type": "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/429",
        "detail": message,
        "reset": reset_ms,
        "limit": limit,
        "remaining": 0,
        "secondsUntilReset": seconds,
        "error": message,
    }
    return ApiResponse(429, _headers(_PROBLEM, limit, 0, reset_ms), _json(body))
