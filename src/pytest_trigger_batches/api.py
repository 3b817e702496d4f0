"""The mock Trigger.dev API, independent of any transport: set-up, pipeline, records.

`TriggerApi` is the user's facade: it checks its arguments (`checks.py`) and asks the
backend (`backend.py`) to set things up, and inspects the backend and the call log. The
respx mock (`mock.py`) and the HTTP server (`server.py`) reach the pipeline through the
API's `Gateway` (`gateway.py`), which records every call. docs/architecture.md.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Literal
from urllib.parse import urlsplit

import pytest_trigger_batches.checks as checks  # from sys.modules (see checks.py)
from pytest_trigger_batches import rules, tokens
from pytest_trigger_batches.backend import Rule, TriggerBackend
from pytest_trigger_batches.calls import RecordedCall, TriggeredItem
from pytest_trigger_batches.clock import Clock, ClockFunction
from pytest_trigger_batches.faults import Fault, FaultKind
from pytest_trigger_batches.gateway import Gateway, UnexpectedTriggerRequest
from pytest_trigger_batches.ids import environment_of_key
from pytest_trigger_batches.ids import secret_key as make_secret_key
from pytest_trigger_batches.model import TriggerBatch, TriggerRun
from pytest_trigger_batches.payloads import run_body
from pytest_trigger_batches.pipeline import Pipeline, Reply
from pytest_trigger_batches.progress import Progression, check_progression
from pytest_trigger_batches.records import (
    ANSWERS,
    BatchHandle,
    ItemOutcome,
    TriggerAnswer,
    TriggeredBatch,
    TriggeredBatchHandle,
)
from pytest_trigger_batches.redact import redact, shown_header
from pytest_trigger_batches.routes import Route
from pytest_trigger_batches.shown import shown
from pytest_trigger_batches.statuses import CURRENT_API, BatchStatus
from pytest_trigger_batches.stored_run import RunHold
from pytest_trigger_batches.table import TABLE
from pytest_trigger_batches.waitpoints import (
    UnstorableData,
    callback_path,
    packet,
    retrieve_body,
)

__all__ = ["DEFAULT_BASE_URL", "TriggerApi", "UnexpectedTriggerRequest"]

DEFAULT_BASE_URL = "https://api.trigger.dev"


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
        self._backend = TriggerBackend(secret_key or make_secret_key("dev"))
        self._clock = Clock(clock)
        prefix = urlsplit(self.base_url).path
        self._pipeline = Pipeline(TABLE, self._backend, prefix=prefix, clock=self._clock)
        # The transports' side (origin, pipeline, call log), kept off the user's API.
        self._gateway = Gateway(base_url=self.base_url, name=name, pipeline=self._pipeline)
        self._lock = self._gateway.lock

    @property
    def calls(self) -> list[RecordedCall]:
        """Every request to the origin, in order, whatever its outcome (keys redacted)."""
        return self._gateway.calls

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.base_url} batches={self._backend.batch_count} "
            f"calls={len(self.calls)} pinned_keys={self._backend.pinned_key_count}>"
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
        states = checks.batch_states(batch, progress_after=progress_after, check_ids=check_ids)
        checks.environment(environment)
        with self._lock:
            checks.known_environment(environment, self._backend.environments())
            registered = checks.registered_runs(runs, states[-1])
            return self._backend.register_batch(states, environment=environment, runs=registered)

    @property
    def secret_key(self) -> str:
        """A key the API accepts: the first pinned key, else a well-formed `tr_dev_` key."""
        with self._lock:
            return self._backend.secret_key

    @property
    def batches(self) -> list[BatchHandle]:
        """The registered batches (`add_batch`, markers), in the order they were added;
        batches the application triggered are in `triggered_batches`."""
        with self._lock:
            return self._backend.registered()

    @property
    def triggered_batches(self) -> list[TriggeredBatchHandle]:
        """The batches the application's requests created, oldest first (the one it
        just created is `triggered_batches[-1]`), whichever route created them.

        A request answered with an earlier batch (an idempotency key) creates none, and
        a refused request creates none, except a `/api/v1/tasks/batch` request that
        aborted: its ABORTED batch is listed. Each handle is live: `batch` is the batch
        as its next retrieval would show it, read without moving it.
        """
        with self._lock:
            made = self._backend.triggered()
        return [TriggeredBatchHandle(batch, self._lock) for batch in made]

    def accept_key(self, key: str, *, environment: str | None = None) -> None:
        """Accept only pinned keys from now on, `key` among them.

        `environment` defaults to the key's own (`tr_prod_...` belongs to "prod").
        """
        own = environment_of_key(key, parameter="key")
        checks.environment(environment)
        with self._lock:
            self._backend.accept_key(key, environment or own)

    def environment_id(self, environment: str | None = None) -> str:
        """The id of an environment (default: the secret key's), as tokens' `sub` names it."""
        with self._lock:
            backend = self._backend
            if environment is None:
                environment = backend.environment_of(backend.secret_key) or "dev"
            checks.environment(environment)
            return backend.environment_id(environment)

    def public_token(
        self,
        *,
        scopes: Sequence[str],
        expires_in: float = 900.0,
        secret_key: str | None = None,
        one_time_use: bool = False,
    ) -> str:
        """A public access token (JWT) for the key's environment, as the SDK mints one.

        - `scopes`: e.g. `["read:batch:batch_..."]`, `["read:runs"]`, `["admin"]`.
        - `expires_in`: seconds from now on the mock's clock (default 15 minutes).
        - `secret_key`: the key that signs it (default `secret_key`); it must be one the
          API accepts.
        - `one_time_use`: the `otu` claim, as `auth.createTriggerPublicToken` sets it
          unless `multipleUse`: such tokens make one run and one batch of their
          environment (docs/platform.md §2.3).
        """
        granted = checks.scopes(scopes)
        lifetime = checks.expires_in(expires_in)
        once = checks.one_time_use(one_time_use)
        with self._lock:
            key = self._backend.secret_key if secret_key is None else secret_key
            environment = self._backend.environment_of(key)
            if environment is None:
                raise ValueError(
                    f"secret_key must be a key the API accepts (pinned with accept_key, or "
                    f"any well-formed key while none is pinned); got "
                    f"{shown_header('authorization', key)!r}"
                )
            now_s = self._clock.now_ms() // 1000
            return tokens.mint(
                key,
                environment_id=self._backend.environment_id(environment),
                scopes=granted,
                issued_at=now_s,
                expires_at=now_s + math.ceil(lifetime),
                one_time_use=once,
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
                f"route must be one the mock serves: {', '.join(TABLE.names())}; got {shown(route)}"
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
            if batch_id is not None and self._backend.find_batch(batch_id) is None:
                # A typo, or a batch never served: the fault could never be met.
                raise ValueError(
                    f"batch_id must be a registered batch (add_batch it first); got "
                    f"{shown(batch_id)}"
                )
            self._pipeline.add_fault(made)

    @property
    def progression(self) -> Progression:
        """How batches move on: "per_poll" (default), "held" or "immediate" (progress.py).

        - "per_poll": each successful GET of a batch moves it, and its unfinished runs,
          one step; it becomes COMPLETED on the first retrieval after its last run is
          final.
        - "held": nothing moves until `advance(...)`.
        - "immediate": triggered batches settle at once (a streaming batch once it is
          sealed); a registered batch shows its current state until `advance(...)`.
        """
        return self._backend.progression

    @progression.setter
    def progression(self, mode: Progression) -> None:
        with self._lock:
            self._backend.progression = check_progression(mode)

    def advance(
        self,
        batch: str | TriggerBatch | BatchHandle | TriggeredBatchHandle | TriggeredBatch,
        *,
        to: BatchStatus | str | None = None,
    ) -> TriggerBatch:
        """Move a batch one step (or, with `to`, until it has that status); its new state.

        A streaming batch that is not sealed yet cannot move: its items call seals it.
        """
        batch_id = batch if isinstance(batch, str) else batch.id
        wanted = None if to is None else BatchStatus.parse(to, parameter="to")
        with self._lock:
            handle = self._backend.find_batch(batch_id)
            if handle is None:
                hint = " (a run: advance_run(run_id))" if batch_id.startswith("run_") else ""
                raise ValueError(
                    f"batch must be a registered or triggered batch; got {shown(batch_id)}{hint}"
                )
            state = self._backend.advance(handle, self._clock.now_ms, to=wanted)
            if wanted is not None and state.status != wanted:
                paused = self._backend.paused_queues(handle, self._clock.now_ms())
                why = (
                    f"its runs wait in paused queue {', '.join(map(repr, paused))}: "
                    f"resume it with queue(..., paused=False) first"
                    if paused
                    else "sealed streaming batches, one-shot batches and registered "
                    "states only move forward"
                )
                raise ValueError(
                    f"to={wanted.value!r} is not a state {batch_id} reaches from "
                    f"{state.status.value} ({why})"
                )
            return state

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
        checked = checks.item_outcome(outcome)
        checks.task_and_index(task, index)
        with self._lock:
            self._backend.on_item(Rule(checked, task, index))

    def on_run(
        self,
        *,
        outcome: str | None = None,
        task: str | None = None,
        index: int | None = None,
        output: object = None,
        error: Mapping[str, object] | None = None,
        hold: RunHold | None = None,
    ) -> None:
        """Decide how runs of `task` and/or at item `index` end, or where they wait
        (None: any task, any index; a run of no batch has no index).

        - `outcome`: the final status: "COMPLETED" (the default for every run, with
          `output`), "FAILED", "CRASHED", "SYSTEM_FAILURE" or "TIMED_OUT" (with
          `error`, `{"message": ..., "name"?: ..., "stackTrace"?: ...}`; a default one
          otherwise).
        - `hold`: "queued" or "executing": the run goes no further than that stage
          (QUEUED, or EXECUTING) until `advance()` moves its batch or the run is
          cancelled, whatever the progression; time still acts (a queued run's `ttl`
          expires it). For a batch with some runs queued and others executing at once.

        Give `outcome`, `hold` or both. Each is decided by the latest matching rule
        that gives it, for runs created afterwards.
        """
        checks.run_rule(outcome, task, index, output, error, hold)
        with self._lock:
            if outcome is not None:
                self._backend.on_run(Rule(outcome, task, index, output, error))
            if hold is not None:
                self._backend.hold_runs(Rule(hold, task, index))

    def run(self, run_id: str, *, api_version: str | None = CURRENT_API) -> dict[str, object]:
        """The run as `GET /api/v3/runs/{runId}` would show it now (without moving it)."""
        with self._lock:
            found = self._backend.find_run(run_id, self._clock.now_ms())
            if found is None:
                raise ValueError(
                    f"run_id must be the id of a run the mock created; got {shown(run_id)}"
                )
            return run_body(found, api_version)

    def advance_run(self, run_id: str, *, to: str | None = None) -> dict[str, object]:
        """Move a run one step (or, with `to`, until `run(run_id)` shows that status); the
        run as `run()` shows it then.

        What `advance()` is for batches, for any run, a single trigger's included: it
        moves a run that `on_run(hold=...)`, the "held" progression or "manual" keeps
        where it is. A delayed run waits for its time (move the clock), a run in a paused
        queue for its queue; a final run stays as it is. `to` is one of QUEUED,
        EXECUTING, COMPLETED, FAILED, ... (`RUN_STATUSES`); a status the run does not
        reach is a ValueError saying where it stopped and why.
        """
        wanted = None if to is None else checks.run_status(to, parameter="to")
        with self._lock:
            found = self._backend.find_run(run_id, self._clock.now_ms())
            if found is None:
                raise ValueError(
                    f"run_id must be the id of a run the mock created; got {shown(run_id)}"
                )
            for _ in range(8 if wanted is not None else 1):
                if wanted is not None and run_body(found, CURRENT_API)["status"] == wanted:
                    break
                if not self._backend.step_run(found, self._clock.now_ms()):
                    break
            body = run_body(found, CURRENT_API)
            if wanted is not None and body["status"] != wanted:
                why = (
                    "it is delayed: move the clock past its delay"
                    if found.delayed
                    else "its queue is paused: resume it with queue(..., paused=False)"
                    if found.stage == 0 and found.queue is not None and found.queue.paused
                    else "its task is not deployed: it waits in its queue"
                    if found.undeployed
                    else "a run only moves forward, and its outcome is set by on_run()"
                )
                raise ValueError(
                    f"to={wanted!r} is not a status {shown(run_id)} reaches from "
                    f"{body['status']} ({why})"
                )
            return body

    def assert_cancelled(self, run_id: str) -> None:
        """Assert the application asked to cancel the run (a finished run answers 200 too,
        and stays as it was: check its status with `run(run_id)` when that matters)."""
        __tracebackhide__ = True
        with self._lock:
            cancelled = list(self._backend.cancelled)
        if run_id not in cancelled:
            listing = redact(", ".join(cancelled)) or "none"
            raise AssertionError(
                f"expected {redact(str(run_id))} to be cancelled; cancelled runs: {listing}"
            )

    def assert_replayed(self, run_id: str) -> str:
        """Assert the application replayed the run; returns the id of the new run."""
        __tracebackhide__ = True
        with self._lock:
            replayed = list(self._backend.replayed)
        for original, new in replayed:
            if original == run_id:
                return new
        listing = redact(", ".join(original for original, _ in replayed)) or "none"
        raise AssertionError(
            f"expected {redact(str(run_id))} to be replayed; replayed runs: {listing}"
        )

    def calls_to(self, route: str, **params: str) -> list[RecordedCall]:
        """The recorded requests to `route` (with these path parameters), whatever their answer.

        `route` is named as messages show it: `calls_to("GET /api/v3/runs/{runId}",
        runId=run.id)`, `calls_to("POST /api/v3/batches")`. Routes added with `add_route`
        count too.
        """
        with self._lock:
            known = self._pipeline.route_names()
            if route not in known:
                raise ValueError(
                    f"route must be one the mock serves or a test added: "
                    f"{', '.join(sorted(known))}; got {shown(route)}"
                )
            return [
                call
                for call in self.calls
                if call.route == route
                and all(call.params.get(name) == value for name, value in params.items())
            ]

    @property
    def triggered(self) -> list[TriggeredItem]:
        """Every item the application sent to a trigger route, in the order it sent
        them, each with how the platform took it (`answer`): "created", "cached",
        "deduplicated" or "refused".

        Not listed: items of a request refused before the platform read them (a bad
        key or body, a public token without the scope, a fault answered before the
        handler, an items call to an unknown or ABORTED batch) and items sent to a
        streaming batch already sealed, which the platform does not read (`calls` has
        every request's body).
        """
        with self._lock:
            sent = [(s.route, s.item, s.batch_id, s.answer) for s in self._backend.triggered_items]
        return [
            TriggeredItem(
                route=route,
                task=redact(item.task),
                index=item.index,
                payload=_redacted_json(item.payload),
                options=_redacted_json(dict(item.options)),  # type: ignore[arg-type]
                batch_id=batch_id,
                answer=answer,
            )
            for route, item, batch_id, answer in sent
        ]

    def assert_triggered(
        self,
        task: str | None = None,
        *,
        count: int | None = None,
        payloads: Sequence[object] | None = None,
        answer: TriggerAnswer | None = "created",
    ) -> list[TriggeredItem]:
        """Assert items (of `task`, or any) were triggered; returns them, in order.

        - `count`: exactly this many items.
        - `payloads`: exactly these payloads, in the order they were sent.
        - `answer`: the items the platform took so (`triggered`); by default "created",
          the items it took as new work, so that resends, cached repeats and refused
          requests do not count. None: every item sent.
        """
        __tracebackhide__ = True
        if count is not None:
            rules.whole_number(count, parameter="count", minimum=0)
        if payloads is not None and (
            isinstance(payloads, str | bytes) or not isinstance(payloads, Sequence)
        ):
            raise TypeError(f"payloads must be a list of payloads; got {shown(payloads)}")
        if answer is not None and answer not in ANSWERS:
            raise ValueError(
                f"answer must be one of {', '.join(ANSWERS)}, or None (every item); "
                f"got {shown(answer, 50)}"
            )
        every = self.triggered
        found = [
            item
            for item in every
            if (task is None or item.task == task) and answer in (None, item.answer)
        ]
        what = f"items of {shown(task)}" if task is not None else "items"
        if answer is not None:
            what = f"{what} answered {answer!r}" if answer != "created" else what
        problems = []
        if count is None and payloads is None and not found:
            problems.append(f"expected {what} to be triggered, none were")
        if count is not None and len(found) != count:
            problems.append(f"expected {count} {what} to be triggered, got {len(found)}")
        if payloads is not None and [item.payload for item in found] != list(payloads):
            problems.append(
                f"payloads of {what} differ:\n    expected {shown(list(payloads), 500)}\n"
                f"    sent     {shown([item.payload for item in found], 500)}"
            )
        if problems:
            raise AssertionError("\n".join(problems) + "\n" + _triggered_listing(every))
        return found

    def assert_nothing_triggered(self) -> None:
        """Assert the platform took no item the application sent as new work (none was
        answered "created"); the failure lists every item sent."""
        __tracebackhide__ = True
        every = self.triggered
        created = [item for item in every if item.answer == "created"]
        if created:
            raise AssertionError(
                f"expected nothing to be triggered, {len(created)} item(s) were.\n"
                + _triggered_listing(every)
            )

    def rate_limit(self, *, limit: int = 750, refill: int = 250, interval: float = 10.0) -> None:
        """Size every bucket: `limit` tokens, `refill` more every `interval` seconds.

        The default is the platform's own bucket (one per environment), which is always
        on; shrink it to catch a client that ignores `x-ratelimit-reset`.
        """
        sizes = checks.limits(limit, refill, interval)
        with self._lock:
            self._backend.rate_limit(sizes)

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
        method = checks.route(method, path, status_code)
        shadowed = next((r for r in TABLE.routes if r.overlaps(method, path)), None)
        if shadowed is not None:
            raise ValueError(
                f"{self.name} serves {shadowed.name} itself; add_route is for endpoints it "
                f"does not serve (shape its answers with add_batch, fail_next, accept_key)"
            )
        body = checks.route_body(status_code, json)
        extra = checks.route_headers(headers)
        reply = Reply(status_code, body, extra)
        route = Route(method, path, lambda context, backend: reply, stub=True)
        with self._lock:
            self._pipeline.add_route(route)

    def reset(self) -> None:
        """Empty the mock: it then answers as a new one with the same keys would.

        For property tests that use one fixture for many examples (hypothesis's
        `@given`): call it at the start of each example.

        - Emptied: the registered and triggered batches, their runs, `calls`,
          `triggered`, cancellations and replays, waitpoint tokens, idempotency keys and
          cached answers, `fail_next` faults, `on_item` and `on_run` rules, and the
          rate-limit buckets (full again). The ids the mock mints start over from the
          same sequence.
        - Kept: `base_url`, `secret_key` and the keys pinned with `accept_key` (with
          their environments and public tokens), `clock`, `progression`, the
          `rate_limit` sizes and the `add_route` routes.
        - Still reported when the test ends: requests the mock did not serve and
          required `fail_next` faults that no request met, before the reset too.
        """
        with self._lock:
            self._backend.reset()
            self._gateway.reset()

    # -- assertions ---------------------------------------------------------------

    def retrievals(
        self, batch: str | TriggerBatch | BatchHandle | TriggeredBatchHandle
    ) -> list[RecordedCall]:
        """The GET requests for `batch` (whatever their answer), in order.

        CORS preflights and HEAD requests are recorded in `calls` but are not retrievals.
        """
        batch_id = checks.batch_id(batch)
        with self._lock:
            found = [
                c
                for c in self.calls
                if c.method == "GET" and c.batch_id == batch_id and c.route in _RETRIEVE_ROUTES
            ]
            known = found or self._backend.find_batch(batch_id) is not None
        if not known and not rules.BATCH_ID_RE.fullmatch(batch_id):
            # A typo would make assert_not_retrieved pass whatever the application did.
            raise ValueError(
                f"batch must be a batch id such as 'batch_cmx0ugyuv00004a7d2bda9ln4', a "
                f"TriggerBatch or a handle; got {shown(batch_id)}, which is not "
                f"registered and was never requested"
            )
        return found

    def assert_retrieved(
        self,
        batch: str | TriggerBatch | BatchHandle | TriggeredBatchHandle,
        *,
        times: int | None = None,
    ) -> None:
        """Assert the application asked for `batch` (exactly `times` times, if given)."""
        __tracebackhide__ = True
        batch_id = checks.batch_id(batch)
        if times is not None and (not rules.is_whole_number(times) or times < 0):
            raise ValueError(f"times must be a whole number >= 0; got {shown(times)}")
        count = len(self.retrievals(batch_id))
        if (times is None and count == 0) or (times is not None and count != times):
            wanted = "at least once" if times is None else _times(times)
            raise AssertionError(
                f"expected {redact(batch_id)} to be retrieved {wanted}, "
                f"it was retrieved {_times(count)}.\n{self._calls_listing()}"
            )

    def assert_not_retrieved(
        self, batch: str | TriggerBatch | BatchHandle | TriggeredBatchHandle
    ) -> None:
        """Assert the application never asked for `batch`."""
        __tracebackhide__ = True
        batch_id = checks.batch_id(batch)
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
            handles = self._backend.registered()
        missing = [h.id for h in handles if not self.retrievals(h.id)]
        if missing:
            raise AssertionError(
                f"{len(missing)} of {len(handles)} registered batches were never "
                f"retrieved: {', '.join(missing)}\n{self._calls_listing()}"
            )

    # --- waitpoints: what the app created, completed as a person would --------------

    @property
    def waitpoint_tokens(self) -> list[dict[str, object]]:
        """Every waitpoint token the app created, oldest first, each as
        `GET /api/v1/waitpoints/tokens/{id}` shows it now (`id`, `status`, `url`,
        `output`...)."""
        with self._lock:
            tokens = self._backend.waitpoint_tokens(self._clock.now_ms())
            return [retrieve_body(t, self.base_url + callback_path(t)) for t in tokens]

    def complete_waitpoint_token(self, token: str, *, data: object = None) -> None:
        """Complete a token as a person approving it would (its callback URL, or the
        dashboard): `data` is what the waiting code receives (None: no data). A completed
        or timed-out token stays as it is, as on the platform."""
        checks.json_data(data, parameter="data")
        with self._lock:
            now_ms = self._clock.now_ms()
            found = {t.friendly_id: t for t in self._backend.waitpoint_tokens(now_ms)}
            wanted = found[checks.waitpoint_token(token, list(found))]
            try:
                parsed = None if data is None else json.loads(json.dumps(data))  # as sent
                output, kind = (None, "application/json") if data is None else packet(parsed)
            except UnstorableData as refused:
                raise ValueError(
                    f"data cannot be stored as the platform stores it ({refused}; the "
                    f"platform answers 500 to such a completion)"
                ) from None
            self._backend.complete_waitpoint_token(wanted, output, kind, now_ms)

    def assert_waitpoint_completed(self, token: str) -> None:
        """Assert the waitpoint token was completed (not waiting, not timed out)."""
        __tracebackhide__ = True
        wanted = checks.waitpoint_token(token)
        tokens = {str(t["id"]): t for t in self.waitpoint_tokens}
        shown_tokens = "\n".join(
            f"  {t['id']}: {t['status']} (tags {t['tags']})" for t in tokens.values()
        )
        listing = (
            f"Waitpoint tokens, oldest first:\n{shown_tokens}"
            if tokens
            else "The app created no waitpoint token."
        )
        found = tokens.get(wanted)
        if found is None:
            raise AssertionError(
                f"expected {redact(wanted)} to be completed: no such token. {listing}"
            )
        if found["status"] != "COMPLETED":
            timeout = f", its timeout {found['timeoutAt']}" if "timeoutAt" in found else ""
            raise AssertionError(
                f"expected {wanted} to be completed, it is {found['status']}{timeout}.\n{listing}"
            )

    def _calls_listing(self) -> str:
        with self._lock:
            calls = list(self.calls)
        if not calls:
            return f"No request reached {self.base_url}."
        lines = [f"  {number}. {call}" for number, call in enumerate(calls, start=1)]
        return f"Requests to {self.base_url}, in order:\n" + "\n".join(lines)

    def queue(
        self,
        name: str,
        *,
        type: Literal["task", "custom"] = "task",
        paused: bool | None = None,
        environment: str | None = None,
    ) -> dict[str, object]:
        """A queue as `GET /api/v1/queues/{queueParam}` shows it now, counts included.

        - `name`: a task id (`type="task"`, its `task/<id>` queue) or a custom queue's name
          (`type="custom"`). The queue is made if no run has used it yet, as a deploy
          declares it, so the application can retrieve or pause it.
        - `paused`: pause (True) or resume (False) it first, as the app's `queues.pause()`
          would; None leaves it as it is. A paused queue starts none of its runs.
        - `environment`: default the secret key's.
        """
        checks.queue(name, type, paused)
        checks.environment(environment)
        with self._lock:
            backend = self._backend
            if environment is None:
                environment = backend.environment_of(backend.secret_key) or "dev"
            found = backend.declare_queue(environment, type, name)
            if paused is not None:
                backend.pause_queue(found, paused=paused)
            [item] = backend.queue_items([found], self._clock.now_ms(), percent=True)
            return item

    # --- results: what the object store keeps ---

    def packet(self, path: str, *, environment: str | None = None) -> bytes | None:
        """What the object store keeps at `path`, or None: a body the app uploaded through
        a presigned URL (`path` is the `storagePath` the upload URL came with, a
        `<protocol>://` left out), or a payload the platform stored (`<runId>/payload.json`)
        once a retrieval showed it. `environment` defaults to the secret key's."""
        checks.packet_path(path)
        with self._lock:
            backend = self._backend
            if environment is None:
                environment = backend.environment_of(backend.secret_key) or "dev"
            checks.known_environment(environment, backend.environments())
            found = backend.packet(environment, path)
        return None if found is None else found.data


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
    clean = redact(text)  # the known keys' fragments too, as the recorded calls have them
    return value if clean == text else json.loads(clean)


_RETRIEVE_ROUTES = frozenset(route.name for route in TABLE.routes if route.kind == "retrieve_batch")


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


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"
