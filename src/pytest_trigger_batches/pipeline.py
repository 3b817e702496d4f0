"""One request, answered as Trigger.dev answers it: the shared steps in the platform's order.

A transport hands `Pipeline.handle` a `Request` (method, URL, headers, body) and writes
back what it returns, unchanged:

1. served? decided first from the routing table, so a request the mock does not serve
   always fails the test, before any step below could answer it (`Unserved`);
2. a trailing slash: `301` to the path without it;
3. a CORS preflight (`OPTIONS`) on a route with CORS: `200 {}`;
4. the rate limiter (before auth): no `Authorization` header is its own 401; every
   other request spends a token of its bucket (one per environment; an unknown key has
   a bucket of its own; a public token a window of 60 a minute); a path the limiter
   lets through (`Route.limited` False) skips this step;
5. auth: secret keys, public access tokens, environments (a route that authenticates by
   itself, `Route.unauthorized`, answers every failure with its own 401 text);
6. the faults the test asked for;
7. the route's handler, which sees a `Context` and the API's `TriggerBackend` and
   raises `PlatformError` for every answer but success;
8. the answer rendered with the route's headers (rate limit, CORS, `x-should-retry`).

Recording the call is the gateway's, when the transport's exchange ends (`gateway.py`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qs, urlsplit

from pytest_trigger_batches import tokens
from pytest_trigger_batches.clock import Clock
from pytest_trigger_batches.errors import (
    JSON,
    PROBLEM_JSON,
    PlatformError,
    js_number,
    pretty_json,
)
from pytest_trigger_batches.faults import Fault, FaultQueue
from pytest_trigger_batches.routes import Route, RouteTable

if TYPE_CHECKING:
    from pytest_trigger_batches.backend import TriggerBackend
    from pytest_trigger_batches.realtime import Hold

__all__ = [
    "ApiResponse",
    "Context",
    "Disconnect",
    "Pipeline",
    "Reply",
    "Request",
    "Unserved",
]

CORS_METHODS = "GET,HEAD,PUT,PATCH,POST,DELETE"
EXPOSED_HEADERS = "x-trigger-jwt,x-trigger-jwt-claims"
_NO_AUTHORIZATION = {
    "title": "Unauthorized",
    "status": 401,
    "type": "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/401",
    "detail": "No authorization header provided",
    "error": "No authorization header provided",
}
_FORBIDDEN = {
    "error": "Unauthorized",
    "code": "unauthorized",
    "param": "access_token",
    "type": "authorization",
}


@dataclass(frozen=True, slots=True)
class Request:
    """What a transport hands the pipeline: header names lower-cased, the body as bytes.

    `length_declared` is False when the body came without a `Content-Length` (chunked):
    routes with a size limit answer such a body 413, as the platform does.
    """

    method: str
    url: str
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = field(default=b"", repr=False)
    length_declared: bool = True

    @classmethod
    def make(
        cls,
        method: str,
        url: str,
        headers: Sequence[tuple[str, str]],
        body: bytes = b"",
        *,
        length_declared: bool = True,
    ) -> Request:
        """Normalize a transport's view of a request."""
        lowered: dict[str, str] = {}
        for name, value in headers:
            key = name.lower()
            lowered[key] = f"{lowered[key]}, {value}" if key in lowered else value
        return cls(method.upper(), url, lowered, body, length_declared)


@dataclass(frozen=True, slots=True)
class ApiResponse:
    """An answer, ready for any transport to write."""

    status_code: int
    headers: dict[str, str]
    body: bytes
    hold: Hold | None = field(default=None, repr=False, compare=False)
    """Over HTTP, wait this out before writing the answer (a live realtime request)."""


@dataclass(frozen=True, slots=True)
class Disconnect:
    """No answer: the transport raises a timeout or a connection error instead."""

    kind: Literal["timeout", "connect_error"]


@dataclass(frozen=True, slots=True)
class Unserved:
    """The mock does not serve this request; each transport renders that its own way."""

    method: str
    path: str


@dataclass(frozen=True, slots=True)
class Reply:
    """A handler's success: status, body and any headers of its own."""

    status_code: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    hold: Hold | None = None
    """A live realtime answer with nothing new: the HTTP server holds it back a while."""


@dataclass(slots=True)
class Context:
    """What a handler sees of the request."""

    method: str
    route: Route
    params: dict[str, str]
    query_string: str
    headers: Mapping[str, str] = field(repr=False)
    body: bytes
    environment: str
    token: tokens.PublicToken | None
    now_ms: int
    signing_key: str = field(default="", repr=False)
    environment_id: str = ""
    base_url: str = ""
    """The mock's origin and path prefix (`http://127.0.0.1:8123`), for URLs it hands out."""
    _query: dict[str, list[str]] | None = field(default=None, repr=False)

    @property
    def query(self) -> dict[str, list[str]]:
        """The query string's parameters (parsed once, when a handler first asks)."""
        if self._query is None:
            self._query = parse_qs(self.query_string, keep_blank_values=True)
        return self._query

    @property
    def one_time_use(self) -> bool:
        """Whether the caller is a one-time-use public token (its `otu` claim is true)."""
        return self.token is not None and self.token.one_time_use

    @property
    def api_version(self) -> str | None:
        """The `x-trigger-api-version` header (`2025-07-16` from SDK 4.x)."""
        return self.headers.get("x-trigger-api-version")

    def not_found(self, message: str = "Not found") -> PlatformError:
        """The route builder's 404, with `x-should-retry` as the route sets it."""
        retry = "true" if self.route.retry_not_found else "false"
        return PlatformError.message(404, message, headers={"x-should-retry": retry})

    def authorize(self, action: str, resources: Sequence[tuple[str, str | None]]) -> None:
        """Raise the 403 a public token gets without a scope for any of `resources`."""
        self.authorize_any((action,), resources)

    def authorize_any(
        self,
        actions: Sequence[str],
        resources: Sequence[tuple[str, str | None]],
        *,
        every: bool = False,
        or_resources: Sequence[tuple[str, str | None]] = (),
    ) -> None:
        """The 403 for a public token that no scope of `actions` grants (for `every` resource).

        With `every`, a grant of any of `or_resources` is enough instead, and no resources
        at all is a 403 for every credential, secret keys too: the route builder never
        grants on an empty list.
        """
        if every and not resources:
            raise PlatformError(403, _FORBIDDEN)
        if self.token is None:
            return
        scopes = self.token.scopes

        def allowed(wanted: Sequence[tuple[str, str | None]]) -> bool:
            return any(tokens.grants(scopes, action, wanted) for action in actions)

        if every and or_resources and allowed(or_resources):
            return
        ok = all(allowed([r]) for r in resources) if every else allowed(resources)
        if not ok:
            raise PlatformError(403, _FORBIDDEN)

    def can(self, action: str, resource: tuple[str, str | None]) -> bool:
        """Whether the caller may do `action` on `resource` (a secret key may do anything)."""
        return self.token is None or tokens.grants(self.token.scopes, action, [resource])

    def jwt_headers(
        self, scopes: Sequence[str], *, full_claims: bool = False, expires_in: int = 3600
    ) -> dict[str, str]:
        """`x-trigger-jwt` (a public token for what was created, `expires_in` seconds: 1 h)
        and its claims.

        `full_claims`: the claims header lists the scopes too, and a public token's
        `realtime` claim is passed on to the new token, as the single trigger route does;
        the batch routes write `{sub, pub}` only.
        """
        if not self.signing_key:
            return {}
        now_s = self.now_ms // 1000
        realtime = self.token.realtime if full_claims and self.token is not None else None
        token = tokens.mint(
            self.signing_key,
            environment_id=self.environment_id,
            scopes=list(scopes),
            issued_at=now_s,
            expires_at=now_s + expires_in,
            realtime=realtime,
        )
        claims: dict[str, object] = {"sub": self.environment_id, "pub": True}
        if full_claims:
            claims["scopes"] = list(scopes)
            if realtime is not None:
                claims["realtime"] = realtime
        text = json.dumps(claims, separators=(",", ":"))
        return {"x-trigger-jwt": token, "x-trigger-jwt-claims": text}


@dataclass(slots=True)
class Outcome:
    """What the pipeline did, for the record: the route, its params and the answer."""

    answer: ApiResponse | Disconnect | Unserved
    path: str
    route: Route | None = None
    params: dict[str, str] = field(default_factory=dict)
    stubbed: bool = False


class Pipeline:
    """The shared steps and the routes, over one backend."""

    def __init__(
        self, table: RouteTable, backend: TriggerBackend, *, prefix: str, clock: Clock
    ) -> None:
        self.table = table
        self.backend: TriggerBackend = backend
        self.prefix = prefix
        self.clock = clock
        self.faults: FaultQueue = FaultQueue()
        self.user_routes: list[Route] = []
        """Routes the test added (`add_route`): served after the table's, never before."""
        self.crashes: list[str] = []
        """Requests the mock itself failed on (answered 500); the fixtures fail the test."""

    def add_fault(self, fault: Fault) -> None:
        """Fail requests as `fault` says (step 6)."""
        self.faults.add(fault)

    def add_route(self, route: Route) -> None:
        """Serve a route of the test's, after the table's."""
        self.user_routes.append(route)

    def route_names(self) -> set[str]:
        """The names of every route served: the table's and the test's."""
        return {*self.table.names(), *(route.name for route in self.user_routes)}

    def reset(self) -> None:
        """No faults any more; the test's own routes and the mock's crashes are kept."""
        self.faults = FaultQueue()

    def handle(self, request: Request) -> Outcome:
        """Answer one request to the origin as Trigger.dev would."""
        parts = urlsplit(request.url)
        path = parts.path[len(self.prefix) :]
        method = request.method
        # 1. served? (a trailing slash is served where the path without it is)
        bare = path.rstrip("/") if len(path) > 1 and path.endswith("/") else path
        preflight = method == "OPTIONS"
        found = self._find(method, bare, preflight=preflight)
        if found is None:
            return Outcome(Unserved(method, path), path)
        route, params = found
        outcome = Outcome(Unserved(method, path), path, route, params, stubbed=route.stub)
        try:
            outcome.answer = self._answer(request, path, bare, parts.query, route, params)
        except PlatformError as error:
            outcome.answer = _render_error(error, route, request, {})
        except Exception as error:  # a bug of the mock's: answered as the platform would, kept
            self.crashes.append(f"{route.name}: {type(error).__name__}: {error}"[:500])
            crash = PlatformError.message(500, "Internal Server Error")
            outcome.answer = _render_error(crash, route, request, {})
        return outcome

    def _find(
        self, method: str, path: str, *, preflight: bool
    ) -> tuple[Route, dict[str, str]] | None:
        if preflight:
            for route, params in self.table.match_path(path):
                if route.cors:
                    return route, params
            for route in self.user_routes:
                found = route.match(path)
                if found is not None and route.cors:
                    return route, found
            return None
        served = self.table.match(method, path)
        if served is not None:
            return served
        wanted = "GET" if method == "HEAD" else method
        for route in self.user_routes:
            if route.method == wanted:
                found = route.match(path)
                if found is not None:
                    return route, found
        return None

    def _answer(
        self,
        request: Request,
        path: str,
        bare: str,
        query: str,
        route: Route,
        params: dict[str, str],
    ) -> ApiResponse | Disconnect:
        headers = request.headers
        method = request.method
        # 2. trailing slash: before anything else, even the limiter
        if bare != path:
            location = self.prefix + bare + (f"?{query}" if query else "")
            body = b"" if method == "HEAD" else f"Moved Permanently. Redirecting to {location}"
            return ApiResponse(
                301,
                {"content-type": "text/plain; charset=utf-8", "location": location},
                body.encode() if isinstance(body, str) else body,
            )
        # 3. CORS preflight: the limiter lets OPTIONS through
        if method == "OPTIONS":
            return ApiResponse(200, _preflight_headers(headers), b"{}")
        if route.public:
            return self._public(request, query, route, params)
        # 4. rate limiter, before auth
        authorization = headers.get("authorization", "")
        if not authorization and route.limited:
            raise PlatformError(
                401,
                pretty_json(_NO_AUTHORIZATION),
                content_type=PROBLEM_JSON,
                cors=False,
                rate_limit_headers=False,
            )
        raw = authorization.removeprefix("Bearer ")
        raw = raw if route.unauthorized else raw.strip()  # a route's own reading: untrimmed
        now_ms = self.clock.now_ms()
        claims = tokens.read_claims(raw) if route.allow_jwt else None
        environment = None if claims is not None else self.backend.keys.environment_of(raw)
        limit_headers = (
            self._take(authorization, environment, claims, now_ms) if route.limited else {}
        )
        try:
            if route.content_types:  # the items route checks its content type before auth
                content_type = headers.get("content-type", "")
                if not any(wanted in content_type for wanted in route.content_types):
                    allowed = " or ".join(route.content_types)
                    raise PlatformError.message(415, f"Content-Type must be {allowed}")
            # 5. auth
            token = None
            if claims is not None:
                token = self._authenticate(raw, claims, now_ms)
                environment = self.backend.keys.environment_named_by(token.environment_id)
            elif environment is None:
                raise PlatformError.message(
                    401,
                    route.unauthorized
                    or ("Invalid or Missing API key" if not raw else "Invalid API key"),
                )
            elif raw.startswith("tr_preview_") and not headers.get("x-trigger-branch", "").strip():
                raise PlatformError.message(
                    401, route.unauthorized or "x-trigger-branch header required for preview env"
                )
            assert environment is not None
            # a size limit: checked right after auth, also when the length is unknown
            if route.max_body is not None and (
                len(request.body) > route.max_body or (request.body and not request.length_declared)
            ):
                raise PlatformError.message(413, "Request body too large")
            # 6. faults (a HEAD shows no body, so it meets none)
            fault = (
                self.faults.take(route.name, params, when="before") if method != "HEAD" else None
            )
            if fault is not None:
                return self._fault(fault, route, request, limit_headers, now_ms)
            # 7. the handler (a test's route answers its canned reply)
            keys = self.backend.keys
            signing = raw if token is None else next(iter(keys.signing_keys(environment)), "")
            context = Context(
                method,
                route,
                params,
                query,
                headers,
                request.body,
                environment,
                token,
                now_ms,
                signing,
                keys.environment_id(environment),
                self._base_url(request.url),
            )
            reply = route.handler(context, self.backend)
            # when="after" (a POST handled, then its answer lost): only once it succeeded
            lost = self.faults.take(route.name, params, when="after") if method == "POST" else None
            if lost is not None:
                return self._fault(lost, route, request, limit_headers, now_ms)
        except PlatformError as error:
            return _render_error(error, route, request, limit_headers)
        # 8. render
        out = {"content-type": JSON, **limit_headers, **reply.headers}
        if route.cors and "access-control-allow-origin" not in reply.headers:
            out.update(_cors_headers(headers))  # an answer with CORS headers keeps its own
        body = b"" if method == "HEAD" else reply.body
        return ApiResponse(reply.status_code, out, body, reply.hold)

    def _base_url(self, url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}{self.prefix}"

    def _public(
        self, request: Request, query: str, route: Route, params: dict[str, str]
    ) -> ApiResponse | Disconnect:
        """A route without credentials: no limiter, no auth; faults and the handler only."""
        now_ms = self.clock.now_ms()
        try:
            fault = self.faults.take(route.name, params, when="before")
            if fault is not None:
                return self._fault(fault, route, request, {}, now_ms)
            context = Context(
                request.method,
                route,
                params,
                query,
                request.headers,
                request.body,
                "",
                None,
                now_ms,
                base_url=self._base_url(request.url),
            )
            reply = route.handler(context, self.backend)
        except PlatformError as error:
            return _render_error(error, route, request, {})
        body = b"" if request.method == "HEAD" else reply.body
        return ApiResponse(reply.status_code, {"content-type": JSON, **reply.headers}, body)

    def _take(
        self,
        authorization: str,
        environment: str | None,
        claims: Mapping[str, object] | None,
        now_ms: int,
    ) -> dict[str, str]:
        if claims is not None:
            # Public tokens: a fixed window per token (keyed by the header's hash).
            window = self.backend.limiter.window(_hash(authorization))
            allowed, remaining = window.take(now_ms)
            limit, reset_ms = window.limit, window.reset_ms
            raw_remaining = remaining
        else:
            identity = f"env:{environment}" if environment else _hash(authorization)
            bucket = self.backend.limiter.bucket(identity, now_ms)
            allowed, raw_remaining = bucket.take(now_ms)
            limit, reset_ms = bucket.limit, bucket.reset_ms
        headers = _limit_headers(limit, raw_remaining, reset_ms)
        if not allowed:
            raise rate_limited(limit, raw_remaining, reset_ms, now_ms)
        return headers

    def _authenticate(
        self, raw: str, claims: Mapping[str, object], now_ms: int
    ) -> tokens.PublicToken:
        subject = claims.get("sub")
        environment = (
            self.backend.keys.environment_named_by(subject) if isinstance(subject, str) else None
        )
        if environment is None:
            raise PlatformError.message(401, "Invalid Public Access Token")
        keys = self.backend.keys.signing_keys(environment)
        token = tokens.verify(raw, keys, now_s=now_ms / 1000)  # the request's one reading
        if token is None:
            raise PlatformError.message(401, "Public Access Token is invalid")
        return token

    def _fault(
        self,
        fault: Fault,
        route: Route,
        request: Request,
        limit_headers: dict[str, str],
        now_ms: int,
    ) -> ApiResponse | Disconnect:
        if fault.kind == "timeout" or fault.kind == "connect_error":
            return Disconnect(fault.kind)
        if fault.kind == "rate_limit":
            reset_ms = now_ms + round(fault.reset_after * 1000)
            limit = int(limit_headers.get("x-ratelimit-limit", self.backend.limiter.limits.limit))
            error = rate_limited(limit, -1, reset_ms, now_ms)
        else:
            error = PlatformError.message(fault.status_code, "Internal Server Error")
        error.headers.update(fault.headers)  # what the test asked for wins
        return _render_error(error, route, request, limit_headers)


def _render_error(
    error: PlatformError, route: Route, request: Request, limit_headers: dict[str, str]
) -> ApiResponse:
    out = {"content-type": error.content_type}
    if error.rate_limit_headers:
        out.update(limit_headers)
    out.update(error.headers)  # a 429's own rate-limit headers win
    if error.cors and route.cors:
        out.update(_cors_headers(request.headers))
    return ApiResponse(error.status_code, out, b"" if request.method == "HEAD" else error.body)


def rate_limited(limit: int, remaining: int, reset_ms: int, now_ms: int) -> PlatformError:
    """The limiter's 429: `remaining` raw (-1 on a refusal), seconds as JavaScript prints them."""
    seconds = js_number(max(0, (reset_ms - now_ms) / 1000))
    message = (
        f"Rate limit exceeded {max(0, remaining)}/{limit} requests remaining. "
        f"Retry in {seconds} seconds."
    )
    body = {
        "title": "Rate Limit Exceeded",
        "status": 429,
        "type": "https://developer.mozilla.org/en-US/docs/Web/HTTP/Status/429",
        "detail": message,
        "reset": reset_ms,
        "limit": limit,
        "remaining": remaining,
        "secondsUntilReset": seconds,
        "error": message,
    }
    return PlatformError(
        429,
        pretty_json(body),
        content_type=PROBLEM_JSON,
        headers=_limit_headers(limit, remaining, reset_ms),
        cors=False,
    )


def _limit_headers(limit: int, remaining: int, reset_ms: int) -> dict[str, str]:
    return {
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-remaining": str(max(0, remaining)),
        "x-ratelimit-reset": str(reset_ms),
    }


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _cors_headers(request_headers: Mapping[str, str]) -> dict[str, str]:
    out = {"access-control-expose-headers": EXPOSED_HEADERS}
    origin = request_headers.get("origin")
    if origin:
        out["access-control-allow-origin"] = origin
        out["vary"] = "Origin"
    return out


def _preflight_headers(request_headers: Mapping[str, str]) -> dict[str, str]:
    out = {"content-type": JSON}
    vary = []
    origin = request_headers.get("origin")
    if origin:
        out["access-control-allow-origin"] = origin
        vary.append("Origin")
    out["access-control-allow-methods"] = CORS_METHODS
    asked = request_headers.get("access-control-request-headers")
    vary.append("Access-Control-Request-Headers")
    if asked:
        out["access-control-allow-headers"] = asked
    out["access-control-max-age"] = "300"
    out["vary"] = ", ".join(vary)
    return out
