"""Trigger and retrieve Trigger.dev batches over httpx, retrying the way the official SDK does.

Every trigger call carries its own `x-trigger-request-idempotency-key`, the same on each
retry of that call: when an answer is lost (a timeout after the server acted), the retry
gets the server's cached answer instead of creating a second batch.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import ssl
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Self
from urllib.parse import quote

import httpx

DEFAULT_BASE_URL = "https://api.trigger.dev"
Status = Literal["PENDING", "PROCESSING", "COMPLETED", "PARTIAL_FAILED", "ABORTED"]
ApiVersion = Literal[1, 2]
# Worth another try: the request may not have reached the server, or the server failed.
_TRANSIENT = (httpx.TimeoutException, httpx.NetworkError)
_RETRYABLE_STATUS = frozenset({408, 409, 429})
REQUEST_KEY_HEADER = "x-trigger-request-idempotency-key"


class TriggerApiError(Exception):
    """The API answered with an error, or could not be reached in `attempts` tries."""

    def __init__(self, message: str, *, status_code: int | None = None, attempts: int = 1):
        super().__init__(message)
        self.status_code = status_code
        self.attempts = attempts


class AuthenticationError(TriggerApiError):
    """401: the secret key is not valid."""


class MissingSecretKey(AuthenticationError):
    """No secret key was given: raised before any request is sent."""


class BatchNotFound(TriggerApiError):
    """404: no such batch in the environment the secret key belongs to."""


class RunNotFound(TriggerApiError):
    """404: no such run in the environment the secret key belongs to."""


@dataclass(frozen=True, slots=True)
class ItemError:
    """An item whose run could not be created."""

    index: int
    task_identifier: str
    message: str
    code: str | None


@dataclass(frozen=True, slots=True)
class Batch:
    """A batch as the application sees it, from a v1 or a v2 body."""

    id: str
    status: Status
    run_count: int
    runs: tuple[str, ...]
    successful_run_count: int | None  # None until run creation has finished
    failed_run_count: int | None
    errors: tuple[ItemError, ...]
    idempotency_key: str | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Batch:
        runs = tuple(body["runs"])
        processing = body.get("processing")
        if isinstance(processing, Mapping):  # v2 has no counts: derive them as the SDK does
            done = body.get("processingCompletedAt") is not None
            successful = len(runs) if done else None
            failed = body["runCount"] - len(runs) if done else None
            raw_errors = processing.get("errors") or ()
        else:  # v1 leaves the counts and `errors` out until they exist
            successful = body.get("successfulRunCount")
            failed = body.get("failedRunCount")
            raw_errors = body.get("errors") or ()
        return cls(
            id=body["id"],
            status=body["status"],
            run_count=body["runCount"],
            runs=runs,
            successful_run_count=successful,
            failed_run_count=failed,
            errors=tuple(_item_error(entry) for entry in raw_errors),
            idempotency_key=body.get("idempotencyKey"),
        )


@dataclass(frozen=True, slots=True)
class Run:
    """A run, from `GET /api/v3/runs/{runId}` or one entry of `GET /api/v1/runs`.

    `status` is in the names the API sends without `x-trigger-api-version` (QUEUED,
    EXECUTING, COMPLETED, FAILED, CRASHED, SYSTEM_FAILURE, TIMED_OUT, CANCELED...).
    A listed run has no `error`, `payload` or `batchId`: retrieve it for those.
    """

    id: str
    task_identifier: str
    status: str
    is_completed: bool  # finished (EXPIRED and TIMED_OUT are finished but not "completed")
    is_failed: bool
    error_message: str | None = None
    payload: Any = None
    batch_id: str | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Run:
        error = body.get("error")
        return cls(
            id=body["id"],
            task_identifier=body["taskIdentifier"],
            status=body["status"],
            is_completed=bool(body.get("isCompleted")),
            is_failed=bool(body.get("isFailed")),
            error_message=str(error.get("message", "")) if isinstance(error, Mapping) else None,
            payload=body.get("payload"),
            batch_id=body.get("batchId"),
        )


def _item_error(entry: Mapping[str, Any]) -> ItemError:
    message = entry["error"]  # a string from the server; an object in the published spec
    if isinstance(message, Mapping):
        message = message.get("message", "")
    return ItemError(entry["index"], entry["taskIdentifier"], str(message), entry.get("errorCode"))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When to try again and how long to wait first; shared by both clients."""

    max_attempts: int = 4
    backoff: float = 0.5  # the first wait after a 5xx or a transport error, then doubled
    max_wait: float = 60.0
    reset_margin: float = 0.05  # our clock is not the server's: arrive just after the reset

    def wait_before_retry(
        self, attempt: int, outcome: httpx.Response | Exception, *, now: float
    ) -> float | None:
        """Seconds to wait before attempt `attempt + 1`, or None: `outcome` stands."""
        if attempt >= self.max_attempts or not self.should_retry(outcome):
            return None
        reset = _rate_limit_reset(outcome)  # unix ms; the API sends no Retry-After
        if reset is not None:
            wait = reset / 1000 - now + self.reset_margin
        else:
            wait = self.backoff * 2 ** (attempt - 1)
        return min(max(wait, 0.0), self.max_wait)

    @staticmethod
    def should_retry(outcome: httpx.Response | Exception) -> bool:
        if isinstance(outcome, Exception):
            return isinstance(outcome, _TRANSIENT)
        forced: str | None = outcome.headers.get("x-should-retry")
        if forced in ("true", "false"):  # the server's word beats the status code
            return forced == "true"
        return outcome.status_code in _RETRYABLE_STATUS or outcome.status_code >= 500


def _rate_limit_reset(outcome: httpx.Response | Exception) -> int | None:
    if isinstance(outcome, httpx.Response) and outcome.status_code == 429:
        reset = outcome.headers.get("x-ratelimit-reset")
        return int(reset) if reset and reset.isdigit() else None
    return None


class _Client:
    """Configuration and answer handling; the subclasses only send and sleep."""

    _default_sleep: Callable[[float], Any]

    def __init__(
        self,
        *,
        base_url: str | None = None,
        secret_key: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 10.0,
        sleep: Callable[[float], Any] | None = None,
        clock: Callable[[], float] = time.time,  # wall-clock: x-ratelimit-reset is unix time
    ) -> None:
        url = base_url or os.environ.get("TRIGGER_API_URL") or DEFAULT_BASE_URL
        self.base_url = url.rstrip("/")
        key = secret_key or os.environ.get("TRIGGER_SECRET_KEY")
        if not key:
            raise MissingSecretKey(
                "no Trigger.dev secret key: pass secret_key= or set TRIGGER_SECRET_KEY"
            )
        self.retry = retry or RetryPolicy()
        self._sleep = sleep or type(self)._default_sleep
        self._clock = clock
        headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
        self._open(base_url=self.base_url, headers=headers, timeout=timeout, verify=_ssl_context())

    def _open(self, **options: Any) -> None:
        raise NotImplementedError

    @staticmethod
    def _path(batch_id: str, api_version: ApiVersion) -> str:
        return f"/api/v{api_version}/batches/{quote(batch_id, safe='')}"

    def _wait(self, attempt: int, outcome: httpx.Response | Exception) -> float | None:
        return self.retry.wait_before_retry(attempt, outcome, now=self._clock())

    def _result(self, outcome: httpx.Response | Exception, attempts: int) -> Batch:
        return Batch.from_json(self._answer(outcome, attempts))

    def _answer(
        self,
        outcome: httpx.Response | Exception,
        attempts: int,
        *,
        not_found: type[TriggerApiError] = BatchNotFound,
    ) -> dict[str, Any]:
        """The JSON of a 2xx answer; anything else raises."""
        if isinstance(outcome, Exception):
            raise TriggerApiError(
                f"could not reach {self.base_url} in {attempts} attempt(s): {outcome!r}",
                attempts=attempts,
            ) from outcome
        if outcome.is_success:
            answer: dict[str, Any] = outcome.json()
            return answer
        error = {401: AuthenticationError, 404: not_found}.get(outcome.status_code, TriggerApiError)
        raise error(
            f"{outcome.request.method} {outcome.request.url.path} answered "
            f"{outcome.status_code}: {_message(outcome)} ({attempts} attempt(s))",
            status_code=outcome.status_code,
            attempts=attempts,
        )


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Building one takes tens of milliseconds: every client shares it.
    return httpx.create_ssl_context()


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    return str(body.get("error") or body.get("detail") or body) if isinstance(body, dict) else ""


class TriggerClient(_Client):
    """Synchronous client: `TriggerClient().retrieve("batch_...")`."""

    _default_sleep = staticmethod(time.sleep)

    def _open(self, **options: Any) -> None:
        self._http = httpx.Client(**options)

    def retrieve(self, batch_id: str, *, api_version: ApiVersion = 1) -> Batch:
        return self._result(*self._send("GET", self._path(batch_id, api_version)))

    def create_batch(
        self, run_count: int, *, tasks: Iterable[str] = (), idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """`POST /api/v3/batches`: a streaming batch waiting for `run_count` items."""
        body: dict[str, Any] = {"runCount": run_count}
        if tasks:
            body["taskIdentifiers"] = sorted(set(tasks))
        if idempotency_key:
            body["idempotencyKey"] = idempotency_key
        return self._trigger("/api/v3/batches", json=body)

    def stream_items(self, batch_id: str, items: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """`POST /api/v3/batches/{id}/items`: `{index, task, payload}` lines, as NDJSON."""
        lines = b"".join(json.dumps(item).encode() + b"\n" for item in items)
        return self._trigger(
            f"/api/v3/batches/{quote(batch_id, safe='')}/items",
            content=lines,
            headers={"Content-Type": "application/x-ndjson"},
        )

    def batch_trigger(
        self, items: Iterable[Mapping[str, Any]], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """`POST /api/v1/tasks/batch`: every item at once; the answer lists their runs."""
        headers = {"idempotency-key": idempotency_key} if idempotency_key else {}
        return self._trigger("/api/v1/tasks/batch", json={"items": list(items)}, headers=headers)

    def retrieve_run(self, run_id: str) -> Run:
        """`GET /api/v3/runs/{runId}`: the run with its `error`, `payload` and `batchId`."""
        path = f"/api/v3/runs/{quote(run_id, safe='')}"
        return Run.from_json(self._answer(*self._send("GET", path), not_found=RunNotFound))

    def list_runs(
        self, *, batch_id: str | None = None, statuses: Iterable[str] = (), page_size: int = 100
    ) -> Iterator[Run]:
        """`GET /api/v1/runs`, newest first, every page: `page[after]` takes `pagination.next`."""
        params = {"page[size]": str(page_size)}
        if batch_id is not None:
            params["filter[batch]"] = batch_id
        if statuses:
            params["filter[status]"] = ",".join(statuses)
        while True:
            page = self._answer(*self._send("GET", "/api/v1/runs", params=params))
            yield from (Run.from_json(entry) for entry in page["data"])
            after = (page.get("pagination") or {}).get("next")
            if not after:
                return
            params = {**params, "page[after]": after}

    def cancel_run(self, run_id: str) -> None:
        """`POST /api/v2/runs/{runId}/cancel` (a finished run stays as it is)."""
        path = f"/api/v2/runs/{quote(run_id, safe='')}/cancel"
        self._answer(*self._send("POST", path), not_found=RunNotFound)

    def replay_run(self, run_id: str) -> str:
        """`POST /api/v1/runs/{runId}/replay`: the id of the new run (in no batch).

        Not idempotent: a retry after a lost answer replays the run a second time.
        """
        path = f"/api/v1/runs/{quote(run_id, safe='')}/replay"
        answer = self._answer(*self._send("POST", path), not_found=RunNotFound)
        return str(answer["id"])

    def trigger_task(
        self, task: str, payload: Any, *, idempotency_key: str | None = None
    ) -> tuple[str, bool]:
        """`POST /api/v1/tasks/{task}/trigger`: the run's id, and whether the key answered
        an earlier run (`isCached`) instead of making one."""
        options = {"idempotencyKey": idempotency_key} if idempotency_key else {}
        path = f"/api/v1/tasks/{quote(task, safe='')}/trigger"
        answer = self._trigger(path, json={"payload": payload, "options": options})
        return str(answer["id"]), bool(answer.get("isCached"))

    def reset_idempotency_key(self, key: str, *, task: str) -> bool:
        """`POST /api/v1/idempotencyKeys/{key}/reset`: the next trigger of `task` with `key`
        makes a new run. False when no run of `task` held the key (the API's 404)."""
        path = f"/api/v1/idempotencyKeys/{quote(key, safe='')}/reset"
        outcome, attempts = self._send("POST", path, json={"taskIdentifier": task})
        try:
            self._answer(outcome, attempts)
        except TriggerApiError as error:
            if error.status_code == 404:
                return False
            raise
        return True

    def create_public_token(self, scopes: Iterable[str], *, expiration_time: str = "15m") -> str:
        """`POST /api/v1/auth/public-tokens`: a token the platform mints for `scopes`.

        Any secret key may ask (an additional key too); a public token may not.
        """
        body = {"scopes": list(scopes), "expirationTime": expiration_time}
        answer = self._answer(*self._send("POST", "/api/v1/auth/public-tokens", json=body))
        return str(answer["token"])

    def _trigger(
        self, path: str, *, headers: Mapping[str, str] | None = None, **body: Any
    ) -> dict[str, Any]:
        # One key per call, the same on each of its retries.
        headers = {**(headers or {}), REQUEST_KEY_HEADER: uuid.uuid4().hex}
        return self._answer(*self._send("POST", path, headers=headers, **body))

    def _send(
        self, method: str, path: str, **request: Any
    ) -> tuple[httpx.Response | Exception, int]:
        attempt = 0
        while True:
            attempt += 1
            outcome: httpx.Response | Exception
            try:
                outcome = self._http.request(method, path, **request)
            except _TRANSIENT as error:
                outcome = error
            wait = self._wait(attempt, outcome)
            if wait is None:
                return outcome, attempt
            self._sleep(wait)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncTriggerClient(_Client):
    """Asynchronous client: `await AsyncTriggerClient().retrieve("batch_...")`."""

    _default_sleep = staticmethod(asyncio.sleep)

    def _open(self, **options: Any) -> None:
        self._http = httpx.AsyncClient(**options)

    async def retrieve(self, batch_id: str, *, api_version: ApiVersion = 1) -> Batch:
        attempt = 0
        while True:
            attempt += 1
            outcome: httpx.Response | Exception
            try:
                outcome = await self._http.get(self._path(batch_id, api_version))
            except _TRANSIENT as error:
                outcome = error
            wait = self._wait(attempt, outcome)
            if wait is None:
                return self._result(outcome, attempt)
            await self._sleep(wait)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
