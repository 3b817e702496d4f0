"""The mock Trigger.dev API, independent of any transport: set-up, pipeline, records.

`TriggerApi` holds the routing table, the store shared by every endpoint, the faults
and the recorded calls. `handle()` runs one request through the platform's pipeline
(`pipeline.py`); the respx mock (`mock.py`) and the HTTP server (`server.py`) only
translate requests and answers, and render the requests the mock does not serve.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from pytest_trigger_batches import lifecycle, rules, tokens
from pytest_trigger_batches.calls import RecordedCall, TriggeredItem
from pytest_trigger_batches.clock import Clock, ClockFunction
from pytest_trigger_batches.faults import Fault, FaultKind
from pytest_trigger_batches.gateway import Gateway, UnexpectedTriggerRequest
from pytest_trigger_batches.handlers import triggers
from pytest_trigger_batches.ids import environment_of_key, redact, shown_header
from pytest_trigger_batches.ids import secret_key as make_secret_key
from pytest_trigger_batches.model import TriggerBatch, TriggerRun, server_shape_problem
from pytest_trigger_batches.payloads import run_body
from pytest_trigger_batches.pipeline import Pipeline, Reply
from pytest_trigger_batches.progress import (
    ItemOutcome,
    Progression,
    check_outcome,
    check_progression,
)
from pytest_trigger_batches.ratelimit import Limits
from pytest_trigger_batches.routes import BODILESS_STATUSES, Route, stub_headers
from pytest_trigger_batches.shown import shown
from pytest_trigger_batches.statuses import CURRENT_API, RUN_OUTCOMES, BatchStatus
from pytest_trigger_batches.store import BatchHandle, ItemRule, RunRule, Store
from pytest_trigger_batches.stored_run import Run
from pytest_trigger_batches.table import TABLE
from pytest_trigger_batches.triggered import TriggeredBatch

__all__ = ["DEFAULT_BASE_URL", "TriggerApi", "UnexpectedTriggerRequest"]

DEFAULT_BASE_URL = "https://api.trigger.dev"
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class TriggerApi:
    """The mock API: batches, keys, faults, routes the test adds, and every call recorded.

    `mock_trigger_api` (respx) and `trigger_api_server` (HTTP) are both one of these,
    so they share every set-up and assertion method.
    """

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        secret_key: str | None = None,
        name: str = "mock_trigger_api",
        clock: ClockFunction | None = None,
    ) -> None:
        self.name = name
        """How messages call this API (the fixture's name)."""
        self.base_url: str = _normalize_base_url(base_url)
        """The origin (and any path prefix) this API stands in for, without a trailing `/`."""
        if secret_key is not None:
            environment_of_key(secret_key, parameter="secret_key")
        self._store = Store(secret_key or make_secret_key("dev"))
        self._clock = Clock(clock)
        prefix = urlsplit(self.base_url).path
        self._pipeline = Pipeline(TABLE, self._store, prefix=prefix, clock=self._clock)
        # The transports' side (origin, pipeline, call log), kept off the user's API.
        self._gateway = Gateway(base_url=self.base_url, name=name, pipeline=self._pipeline)
        self._lock = self._gateway.lock

    @property
    def calls(self) -> list[RecordedCall]:
        """Every request to the origin, in order, whatever its outcome (keys redacted)."""
        return self._gateway.calls

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.base_url} batches={len(self._store.batches)} "
            f"calls={len(self.calls)} pinned_keys={len(self._store.keys.pinned)}>"
        )

    # -- set-up -------------------------------------------------------------------

    @property
    def clock(self) -> ClockFunction:
        """Where the mock reads the time (seconds since the epoch); the wall clock by default.

        Assign any callable (`lambda: 1767225600.0`) to pin it: rate-limit buckets,
        `x-ratelimit-reset`, token expiry and everything the mock creates read it.
        """
        return self._clock.source

    @clock.setter
    def clock(self, source: ClockFunction | None) -> None:
        with self._lock:
            self._clock.source = Clock(source).source

    def add_batch(
        self,
        batch: TriggerBatch | Mapping[str, object] | Sequence[TriggerBatch | Mapping[str, object]],
        *,
        environment: str | None = None,
        progress_after: int | None = None,
        check_ids: bool = True,
        runs: Sequence[TriggerRun] = (),
    ) -> BatchHandle:
        """Serve a batch; registering the same id again replaces it.

        - `batch`: a `TriggerBatch`, a payload dict, or a sequence of states that
          successive retrievals walk through (the last one sticks).
        - `progress_after`: with one batch, the first N retrievals show the states
          that lead to it (derived from the platform's lifecycle), then it.
        - `environment`: the environment the batch belongs to (e.g. "prod"); keys of
          other environments get 404. None: visible to every key.
        - `check_ids`: False accepts payload dicts with readable ids (`batch_abc`): the
          ids are not checked against the platform's formats; every other rule is.
        - `runs`: `TriggerRun`s of the runs the batch lists (`trigger_batch_factory.runs_of`),
          served by the run endpoints; listed by `GET /api/v1/runs` whatever their date.
        """
        if not isinstance(check_ids, bool):
            raise TypeError(f"check_ids must be True or False; got {check_ids!r:.100}")
        if isinstance(batch, TriggerBatch | Mapping):
            states: tuple[TriggerBatch, ...] = (
                _as_batch(batch, parameter="batch", check_ids=check_ids),
            )
        elif isinstance(batch, Sequence) and not isinstance(batch, str | bytes):
            states = tuple(
                _as_batch(state, parameter=f"batch[{i}]", check_ids=check_ids)
                for i, state in enumerate(batch)
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
        with self._lock:
            known = self._store.keys.environments()
            if environment is not None and environment not in known:
                # No key could ever see it: every request would get 404, silently.
                raise ValueError(
                    f"environment must be one a key belongs to: {', '.join(sorted(known))}; "
                    f"got {environment!r} (pin a key to it first: "
                    f"accept_key(key, environment=...))"
                )
            handle = BatchHandle(states[0].id, states, environment)
            listed = set(handle.final.runs)
            records = []
            for number, run in enumerate(runs):
                if not isinstance(run, TriggerRun) or run.id not in listed:
                    raise ValueError(
                        f"runs[{number}] must be a TriggerRun of a run the batch lists "
                        f"(trigger_batch_factory.runs_of(batch)); got {shown(run)}"
                    )
                record = Run.from_public(run)
                record.environment, record.listed_always = environment, True
                records.append(record)
            self._store.batches[handle.id] = handle
            self._store.runs.update((record.id, record) for record in records)
        return handle

    @property
    def secret_key(self) -> str:
        """A key the API accepts: the first pinned key, else a well-formed `tr_dev_` key."""
        with self._lock:
            return self._store.keys.secret_key

    @property
    def batches(self) -> list[BatchHandle]:
        """The registered batches (`add_batch`), in the order they were added."""
        with self._lock:
            return [h for h in self._store.batches.values() if isinstance(h, BatchHandle)]

    def accept_key(self, key: str, *, environment: str | None = None) -> None:
        """Accept only pinned keys from now on, `key` among them.

        `environment` defaults to the key's own (`tr_prod_...` belongs to "prod").
        """
        own = environment_of_key(key, parameter="key")
        _check_environment(environment)
        with self._lock:
            self._store.keys.pinned[key] = environment or own

    def environment_id(self, environment: str | None = None) -> str:
        """The id of an environment (default: the secret key's), as tokens' `sub` names it."""
        with self._lock:
            keys = self._store.keys
            if environment is None:
                environment = keys.environment_of(keys.secret_key) or "dev"
            _check_environment(environment)
            return keys.environment_id(environment)

    def public_token(
        self,
        *,
        scopes: Sequence[str],
        expires_in: float = 900.0,
        secret_key: str | None = None,
    ) -> str:
        """A public access token (JWT) for the key's environment, as the SDK mints one.

        - `scopes`: e.g. `["read:batch:batch_..."]`, `["read:runs"]`, `["admin"]`.
        - `expires_in`: seconds from now on the mock's clock (default 15 minutes).
        - `secret_key`: the key that signs it (default `secret_key`); it must be one the
          API accepts.
        """
        if isinstance(scopes, str) or not isinstance(scopes, Sequence):
            raise TypeError(f"scopes must be a list of scope strings; got {scopes!r:.100}")
        bad = [s for s in scopes if not isinstance(s, str) or not s]
        if bad:
            raise ValueError(f"scopes must be non-empty strings such as 'read:runs'; got {bad!r}")
        if (
            isinstance(expires_in, bool)
            or not isinstance(expires_in, int | float)
            or not 0 < expires_in < 10**10
        ):
            raise ValueError(f"expires_in must be a number of seconds > 0; got {expires_in!r}")
        with self._lock:
            key = self._store.keys.secret_key if secret_key is None else secret_key
            environment = self._store.keys.environment_of(key)
            if environment is None:
                raise ValueError(
                    f"secret_key must be a key the API accepts (pinned with accept_key, or "
                    f"any well-formed key while none is pinned); got "
                    f"{shown_header('authorization', key)!r}"
                )
            now_s = self._clock.now_ms() // 1000
            return tokens.mint(
                key,
                environment_id=self._store.keys.environment_id(environment),
                scopes=list(scopes),
                issued_at=now_s,
                expires_at=now_s + math.ceil(expires_in),
            )

    def fail_next(
        self,
        fault: FaultKind,
        *,
        times: int = 1,
        route: str | None = None,
        batch_id: str | None = None,
        status_code: int = 500,
        reset_after: float = 1.0,
        when: str = "before",
        required: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Make the next `times` requests (to `route`, of `batch_id`, or any) fail.

        `fault` is "rate_limit" (429 with the real body and headers, resetting after
        `reset_after` seconds), "server_error" (`status_code`, 500 to 599), "timeout"
        (an httpx.ReadTimeout) or "connect_error" (an httpx.ConnectError). Over the HTTP
        server both of the last two drop the connection without an answer. `route` is a
        route's name as failure messages show it (`"GET /api/v1/batches/{batchId}"`);
        `batch_id` must be registered (`add_batch` first). A fault that no request met by
        the end of the test fails it at the fixture's teardown, unless `required=False`.
        `headers` (rate_limit and server_error only) are added to the answer, replacing
        the fault's own of the same name: `headers={"x-should-retry": "false"}` on a
        batch trigger route is the platform's unexpected error there, which the SDK does
        not retry.
        """
        if route is not None and TABLE.get(route) is None:
            raise ValueError(
                f"route must be one the mock serves: {', '.join(TABLE.names())}; got {route!r:.100}"
            )
        made = Fault.make(
            fault,
            times=times,
            batch_id=batch_id,
            status_code=status_code,
            reset_after=reset_after,
            route=route,
            when=when,
            required=required,
            headers=headers,
        )
        with self._lock:
            if batch_id is not None and batch_id not in self._store.batches:
                # A typo, or a batch never served: the fault could never be met.
                raise ValueError(
                    f"batch_id must be a registered batch (add_batch it first); got "
                    f"{redact(str(batch_id))!r:.100}"
                )
            self._pipeline.faults.add(made)

    @property
    def progression(self) -> Progression:
        """How batches move on: "per_poll" (default), "held" or "immediate" (progress.py).

        - "per_poll": each successful GET of a batch moves it, and its unfinished runs,
          one step; it becomes COMPLETED on the first retrieval after its last run is
          final.
        - "held": nothing moves until `advance(...)`.
        - "immediate": batches settle at once (a streaming batch once it is sealed).
        """
        return self._store.progression

    @progression.setter
    def progression(self, mode: Progression) -> None:
        with self._lock:
            self._store.progression = check_progression(mode)

    def advance(
        self,
        batch: str | TriggerBatch | BatchHandle | TriggeredBatch,
        *,
        to: BatchStatus | str | None = None,
    ) -> TriggerBatch:
        """Move a batch one step (or, with `to`, until it has that status); its new state.

        A streaming batch that is not sealed yet cannot move: its items call seals it.
        """
        batch_id = batch.id if not isinstance(batch, str) else batch
        wanted = None if to is None else BatchStatus.parse(to, parameter="to")
        with self._lock:
            handle = self._store.batches.get(batch_id)
            if handle is None:
                raise ValueError(
                    f"batch must be a registered or triggered batch; got {redact(batch_id)!r:.100}"
                )
            for _ in range(16 if wanted is not None else 1):
                if wanted is not None and handle.batch.status == wanted:
                    break
                self._step(handle)
            state = handle.batch
            if wanted is not None and state.status != wanted:
                raise ValueError(
                    f"to={wanted.value!r} is not a state {batch_id} reaches from "
                    f"{state.status.value} (sealed streaming batches, one-shot batches and "
                    f"registered states only move forward)"
                )
            return state

    def _step(self, handle: BatchHandle | TriggeredBatch) -> None:
        now = self._clock.now_ms()
        if isinstance(handle, BatchHandle):
            handle.advance()
            return
        handle.complete_if_done(now)
        if not handle.settled:
            triggers.step(self._store, handle, now)

    def on_item(
        self,
        *,
        outcome: ItemOutcome,
        task: str | None = None,
        index: int | None = None,
    ) -> None:
        """Decide what happens to triggered items of `task` and/or at `index` (None: any).

        `outcome` is one of "created" (the default for every item), "trigger_failure",
        "queue_limit", "unknown_task", "too_large" or "too_large_error"; each endpoint
        answers it as the platform does (see the README's table). "unknown_task" is a
        task not deployed: the platform still creates the run, which waits in its queue
        (QUEUED until its `ttl` runs out or it is cancelled). The latest rule that
        matches an item wins.
        """
        check_outcome(outcome)
        if task is not None and (not isinstance(task, str) or not task):
            raise ValueError(f"task must be a task identifier or None (any); got {task!r:.50}")
        if index is not None:
            rules.whole_number(index, parameter="index", minimum=0)
        with self._lock:
            self._store.item_rules.append(ItemRule(outcome, task, index))

    def on_run(
        self,
        *,
        outcome: str,
        task: str | None = None,
        index: int | None = None,
        output: object = None,
        error: Mapping[str, object] | None = None,
    ) -> None:
        """Decide how runs of `task` and/or at item `index` end (None: any).

        `outcome` is the final status: "COMPLETED" (the default for every run, with
        `output`), "FAILED", "CRASHED", "SYSTEM_FAILURE" or "TIMED_OUT" (with `error`,
        `{"message": ..., "name"?: ..., "stackTrace"?: ...}`; a default one otherwise).
        Applies to runs created afterwards; the latest matching rule wins.
        """
        if outcome not in RUN_OUTCOMES:
            raise ValueError(
                f"outcome must be one of {', '.join(RUN_OUTCOMES)}; got {outcome!r:.50}"
            )
        if task is not None and (not isinstance(task, str) or not task):
            raise ValueError(f"task must be a task identifier or None (any); got {task!r:.50}")
        if index is not None:
            rules.whole_number(index, parameter="index", minimum=0)
        if error is not None and (
            not isinstance(error, Mapping) or not isinstance(error.get("message"), str)
        ):
            raise TypeError(f'error must be {{"message": str, ...}} or None; got {error!r:.100}')
        if output is not None and outcome != "COMPLETED":
            raise ValueError(f"output applies to outcome='COMPLETED' only; got {outcome!r}")
        try:
            json.dumps(output)
        except (TypeError, ValueError) as problem:
            raise TypeError(f"output must be JSON-serializable; {problem}") from None
        with self._lock:
            self._store.run_rules.append(RunRule(outcome, task, index, output, error))

    def run(self, run_id: str, *, api_version: str | None = CURRENT_API) -> dict[str, object]:
        """The run as `GET /api/v3/runs/{runId}` would show it now (without moving it)."""
        with self._lock:
            found = self._store.runs.get(run_id)
            if found is None:
                shown = redact(str(run_id))
                raise ValueError(
                    f"run_id must be the id of a run the mock created; got {shown!r:.100}"
                )
            found.refresh(self._clock.now_ms())
            return run_body(found, api_version)

    def assert_cancelled(self, run_id: str) -> None:
        """Assert the application asked to cancel the run (a finished run answers 200 too,
        and stays as it was: check its status with `run(run_id)` when that matters)."""
        __tracebackhide__ = True
        with self._lock:
            cancelled = list(self._store.cancelled)
        if run_id not in cancelled:
            shown = ", ".join(cancelled) or "none"
            raise AssertionError(f"expected {run_id} to be cancelled; cancelled runs: {shown}")

    def assert_replayed(self, run_id: str) -> str:
        """Assert the application replayed the run; returns the id of the new run."""
        __tracebackhide__ = True
        with self._lock:
            replayed = list(self._store.replayed)
        for original, new in replayed:
            if original == run_id:
                return new
        shown = ", ".join(original for original, _ in replayed) or "none"
        raise AssertionError(f"expected {run_id} to be replayed; replayed runs: {shown}")

    def calls_to(self, route: str, **params: str) -> list[RecordedCall]:
        """The recorded requests to `route` (with these path parameters), whatever their answer.

        `route` is named as messages show it: `calls_to("GET /api/v3/runs/{runId}",
        runId=run.id)`, `calls_to("POST /api/v3/batches")`. Routes added with `add_route`
        count too.
        """
        with self._lock:
            known = {*TABLE.names(), *(route.name for route in self._pipeline.user_routes)}
            if route not in known:
                raise ValueError(
                    f"route must be one the mock serves or a test added: "
                    f"{', '.join(sorted(known))}; got {route!r:.100}"
                )
            return [
                call
                for call in self.calls
                if call.route == route
                and all(call.params.get(name) == value for name, value in params.items())
            ]

    @property
    def triggered(self) -> list[TriggeredItem]:
        """Every item the application triggered, in the order it sent them."""
        with self._lock:
            sent = list(self._store.triggered_items)
        return [
            TriggeredItem(
                route=route,
                task=item.task,
                index=item.index,
                payload=_redacted_json(item.payload),
                options=_redacted_json(dict(item.options)),  # type: ignore[arg-type]
                batch_id=batch_id,
            )
            for route, item, batch_id in sent
        ]

    def assert_triggered(
        self,
        task: str | None = None,
        *,
        count: int | None = None,
        payloads: Sequence[object] | None = None,
    ) -> list[TriggeredItem]:
        """Assert items (of `task`, or any) were triggered; returns them, in order.

        - `count`: exactly this many items.
        - `payloads`: exactly these payloads, in the order they were sent.
        """
        __tracebackhide__ = True
        if count is not None:
            rules.whole_number(count, parameter="count", minimum=0)
        if payloads is not None and (
            isinstance(payloads, str | bytes) or not isinstance(payloads, Sequence)
        ):
            raise TypeError(f"payloads must be a list of payloads; got {payloads!r:.100}")
        every = self.triggered
        found = [item for item in every if task is None or item.task == task]
        what = f"items of {task!r}" if task is not None else "items"
        problems = []
        if count is None and payloads is None and not found:
            problems.append(f"expected {what} to be triggered, none were")
        if count is not None and len(found) != count:
            problems.append(f"expected {count} {what} to be triggered, got {len(found)}")
        if payloads is not None and [item.payload for item in found] != list(payloads):
            problems.append(
                f"payloads of {what} differ:\n    expected {list(payloads)!r:.500}\n"
                f"    sent     {[item.payload for item in found]!r:.500}"
            )
        if problems:
            raise AssertionError("\n".join(problems) + "\n" + _triggered_listing(every))
        return found

    def assert_nothing_triggered(self) -> None:
        """Assert the application triggered no task."""
        __tracebackhide__ = True
        every = self.triggered
        if every:
            raise AssertionError(
                f"expected nothing to be triggered, {len(every)} item(s) were.\n"
                + _triggered_listing(every)
            )

    def rate_limit(self, *, limit: int = 750, refill: int = 250, interval: float = 10.0) -> None:
        """Size every bucket: `limit` tokens, `refill` more every `interval` seconds.

        The default is the platform's own bucket (one per environment), which is always
        on; shrink it to catch a client that ignores `x-ratelimit-reset`.
        """
        for name, value in (("limit", limit), ("refill", refill)):
            if not rules.is_whole_number(value) or not 1 <= value <= 10**9:
                raise ValueError(
                    f"{name} must be a whole number from 1 to 10**9; got {shown(value)}"
                )
        if (
            not isinstance(interval, int | float)
            or isinstance(interval, bool)
            or not 0 < interval <= 86_400 * 365
        ):
            raise ValueError(
                f"interval must be a number of seconds > 0 (at most a year); got {interval!r:.50}"
            )
        with self._lock:
            self._pipeline.resize(Limits(limit, refill, max(1, round(interval * 1000))))

    def add_route(
        self,
        method: str,
        path: str,
        *,
        status_code: int = 200,
        json: object = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer an endpoint the mock does not serve yet, on both transports.

        `path` is a template such as `"/api/v1/runs/{runId}/tags"`. The answer comes
        after the shared steps (rate limit, key check, faults), like every endpoint's:
        `status_code` (200 to 599) with `json` as the body (`{}` when None; none at all
        for 204 and 304, which have no body) and `headers` (names and values as HTTP
        allows them; `content-length` and `transfer-encoding` are the transport's).
        Routes the mock serves itself are refused: a test's route never shadows the mock.
        """
        if not isinstance(method, str) or method.upper() not in _METHODS:
            raise ValueError(f"method must be one of {', '.join(_METHODS)}; got {method!r:.50}")
        method = method.upper()
        if not isinstance(path, str) or not path.startswith("/api/"):
            raise ValueError(
                f"path must be a path template under /api/, such as "
                f"'/api/v1/runs/{{runId}}/tags'; got {path!r:.100}"
            )
        if not rules.is_whole_number(status_code) or not 200 <= status_code <= 599:
            raise ValueError(
                f"status_code must be a final HTTP status, 200 to 599 (after a 1xx a client "
                f"waits for another answer); got {shown(status_code)}"
            )
        shadowed = next((r for r in TABLE.routes if r.overlaps(method, path)), None)
        if shadowed is not None:
            raise ValueError(
                f"{self.name} serves {shadowed.name} itself; add_route is for endpoints it "
                f"does not serve (shape its answers with add_batch, fail_next, accept_key)"
            )
        if status_code in BODILESS_STATUSES:
            if json is not None:
                raise ValueError(
                    f"json must be None with status_code={status_code}: a {status_code} "
                    f"answer has no body"
                )
            body = b""
        else:
            try:
                body = _json_dumps({} if json is None else json)
            except (TypeError, ValueError, RecursionError) as problem:
                raise TypeError(
                    f"json must be JSON-serializable (JSON has no NaN or Infinity); {problem}"
                ) from None
        extra = stub_headers(headers)
        reply = Reply(status_code, body, extra)
        route = Route(method, path, lambda context, store: reply, stub=True)
        with self._lock:
            self._pipeline.user_routes.append(route)

    # -- assertions ---------------------------------------------------------------

    def retrievals(self, batch: str | TriggerBatch | BatchHandle) -> list[RecordedCall]:
        """The GET requests for `batch` (whatever their answer), in order.

        CORS preflights and HEAD requests are recorded in `calls` but are not retrievals.
        """
        batch_id = _batch_id(batch)
        with self._lock:
            found = [
                c
                for c in self.calls
                if c.method == "GET" and c.batch_id == batch_id and c.route in _RETRIEVE_ROUTES
            ]
            known = found or batch_id in self._store.batches
        if not known and not rules.BATCH_ID_RE.fullmatch(batch_id):
            # A typo would make assert_not_retrieved pass whatever the application did.
            raise ValueError(
                f"batch must be a batch id such as 'batch_cmx0ugyuv00004a7d2bda9ln4', a "
                f"TriggerBatch or a handle; got {redact(batch_id)!r:.100}, which is not "
                f"registered and was never requested"
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
                f"{_times(count)}.\n{self._calls_listing()}"
            )

    def assert_all_retrieved(self) -> None:
        """Assert every registered batch was asked for at least once."""
        __tracebackhide__ = True
        with self._lock:
            handles = list(self._store.batches.values())
        missing = [h.id for h in handles if not self.retrievals(h.id)]
        if missing:
            raise AssertionError(
                f"{len(missing)} of {len(handles)} registered batches were never "
                f"retrieved: {', '.join(missing)}\n{self._calls_listing()}"
            )

    def _calls_listing(self) -> str:
        with self._lock:
            calls = list(self.calls)
        if not calls:
            return f"No request reached {self.base_url}."
        lines = [f"  {number}. {call}" for number, call in enumerate(calls, start=1)]
        return f"Requests to {self.base_url}, in order:\n" + "\n".join(lines)


def _triggered_listing(items: Sequence[TriggeredItem], limit: int = 30) -> str:
    if not items:
        return "Nothing was triggered."
    lines = [f"  {number}. {item}" for number, item in enumerate(items[:limit], start=1)]
    if len(items) > limit:
        lines.append(f"  ... and {len(items) - limit} more")
    return "Triggered, in order:\n" + "\n".join(lines)


def _redacted_json(value: object) -> object:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        return value
    return json.loads(redact(text)) if "tr_" in text else value


_RETRIEVE_ROUTES = frozenset(route.name for route in TABLE.routes if route.kind == "retrieve_batch")


def _json_dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()


def _normalize_base_url(base_url: str) -> str:
    try:
        parts = urlsplit(base_url) if isinstance(base_url, str) else None
    except ValueError:  # "https://[::1": an unclosed IPv6 address
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL!r}; got {shown(base_url)}"
        )
    if parts.query or parts.fragment:
        raise ValueError(f"base_url must not have a query or fragment; got {shown(base_url)}")
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number from 0 to 65535
    except ValueError:
        raise ValueError(
            f"base_url must have a port from 0 to 65535, if any; got {shown(base_url)}"
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


def _as_batch(value: object, *, parameter: str, check_ids: bool = True) -> TriggerBatch:
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
            return TriggerBatch.from_payload(value, check_ids=check_ids)
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
