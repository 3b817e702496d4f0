"""The mock platform's state and the rules that change it: one backend per mock API.

Handlers (`handlers/`) parse a request, call one method here and render what it
returns; the facade (`TriggerApi`) sets things up and inspects through it. What the
platform decides lives here: creating batches and runs, the idempotency rules, the batch
limiter, the size and queue limits, what the test said happens to items and runs
(`on_item`, `on_run`), cancel, replay, which runs a list shows. How batches and runs
move on is the progression engine's (`progress.py`); the records are in `records.py`
and `stored_run.py`. Errors are the platform's answers (`PlatformError`).
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pytest_trigger_batches import durations, run_metadata, tokens
from pytest_trigger_batches.bulk_actions import BulkAction, BulkActionPage, BulkActionStore
from pytest_trigger_batches.errors import PlatformError, js_number_text, json_bytes
from pytest_trigger_batches.ids import IdSource, is_additional_key
from pytest_trigger_batches.keyring import KeyRing
from pytest_trigger_batches.listing import RunFilter, RunOrder, RunPage, Window, page
from pytest_trigger_batches.one_time import OneTimeUses
from pytest_trigger_batches.packets import Packet, PacketStore
from pytest_trigger_batches.progress import Progress, Progression
from pytest_trigger_batches.queues import Queue, QueueStore, counts, task_queue_name
from pytest_trigger_batches.ratelimit import Limiter, Limits
from pytest_trigger_batches.realtime import Change, RealtimeStore, Shape
from pytest_trigger_batches.records import (
    BatchHandle,
    BatchKind,
    BatchRecord,
    Item,
    ItemOutcome,
    Sent,
    TriggerAnswer,
    TriggeredBatch,
    locked_version,
    run_region,
)
from pytest_trigger_batches.rules import (
    BULK_ACTION_BATCH_SIZE,
    BULK_ACTION_MAX_REPLAYS,
    DEVELOPMENT,
    ENVIRONMENT_CONCURRENCY_LIMIT,
    METADATA_MAX_BYTES,
    METADATA_UPDATABLE_MS,
    ONE_SHOT_MAX_ITEMS,
    PUBLIC_TOKEN_MAX_LIFETIME_S,
    REALTIME_DEFAULT_WINDOW,
    REALTIME_MAX_WINDOW_MS,
    SDK_OFFLOAD_BYTES,
    SERVER_OFFLOAD_BYTES,
    STREAMING_MAX_ITEMS,
    TASK_BATCH_MAX_ITEMS,
    TASK_RUN_CANCELLED,
    WAITPOINT_MAX_TAGS,
    bulk_action_final,
    one_time_use_message,
    queue_limit_message,
    queue_limit_too_high,
    too_many_replays,
    waitpoint_tags_message,
)
from pytest_trigger_batches.statuses import BatchStatus, RunStatus
from pytest_trigger_batches.stored_run import HOLDS, Run, RunHold, machine_of, stored_tags
from pytest_trigger_batches.timefmt import iso_ms
from pytest_trigger_batches.waitpoints import (
    TokenFilter,
    TokenPage,
    WaitpointStore,
    WaitpointToken,
)

if TYPE_CHECKING:
    from pytest_trigger_batches.model import TriggerBatch, TriggerRun

__all__ = ["Accepted", "Idempotency", "Rule", "TriggerBackend", "Triggered"]

REQUEST_CACHE_MS = 24 * 3600 * 1000
"""How long a request idempotency key answers the same request (docs/platform.md §5.7)."""
INLINE_ITEMS = 20
"""The v1 batch routes trigger this many items within the request; more, in the background."""
MAX_TAGS = 10
_SOMETHING_WENT_WRONG = "Something went wrong"
# What a replay takes from the run (`ReplayTaskRunService`): not its delay, ttl,
# maxAttempts, maxDuration, priority, version lock or idempotency key.
_REPLAYED_OPTIONS = frozenset(
    {"payloadType", "queue", "test", "tags", "metadata", "concurrencyKey", "machine", "region"}
)

Outcome = TypeVar("Outcome", bound=str)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Rule(Generic[Outcome]):
    """What the test said happens to items or runs of `task` and/or at `index` (None: any):
    an item's `outcome` (`on_item`), or how a run ends, with its `output` or `error`
    (`on_run`)."""

    outcome: Outcome
    task: str | None = None
    index: int | None = None
    output: object = None
    error: Mapping[str, object] | None = None

    def applies(self, task: str, index: int | None) -> bool:
        """Whether an item or run of `task` at `index` meets this rule."""
        return self.task in (None, task) and (self.index is None or self.index == index)


def _latest(rules: Sequence[Rule[Outcome]], task: str, index: int | None) -> Rule[Outcome] | None:
    """The rule that decides (the latest that applies), if any."""
    return next((rule for rule in reversed(rules) if rule.applies(task, index)), None)


class Idempotency:
    """The three idempotency indexes (docs/platform.md §5.7).

    - an item's key: (environment, task, key) -> the run it made;
    - a batch's key: (environment, route kind, key) -> the batch and when the key expires;
    - a request's key (`x-trigger-request-idempotency-key`, the streaming create's body
      key): (kind, environment, scope..., key) -> what it made, answered again for 24 h.
    """

    def __init__(self) -> None:
        self._runs: dict[tuple[str, str, str], Run] = {}
        self._batches: dict[tuple[str, str, str], tuple[TriggeredBatch, int | None]] = {}
        self._requests: dict[tuple[str, ...], tuple[str, int]] = {}

    def run(self, environment: str, task: str, key: str) -> Run | None:
        """The run an item's key made, if any."""
        return self._runs.get((environment, task, key))

    def keep_run(self, environment: str, task: str, key: str, run: Run) -> None:
        """`run` holds the key from now on."""
        self._runs[(environment, task, key)] = run

    def release_run(self, environment: str, task: str, key: str) -> Run | None:
        """The run that held an item's key, which no run holds from now on (None: none did)."""
        return self._runs.pop((environment, task, key), None)

    def batch(
        self, environment: str, kind: str, key: str
    ) -> tuple[TriggeredBatch, int | None] | None:
        """The batch a batch key made on a route of `kind`, and when the key expires."""
        return self._batches.get((environment, kind, key))

    def keep_batch(
        self, environment: str, kind: str, key: str, batch: TriggeredBatch, expires_ms: int | None
    ) -> None:
        """`batch` holds the key from now on (until `expires_ms`; None: for good)."""
        self._batches[(environment, kind, key)] = (batch, expires_ms)

    def request(
        self, kind: str, environment: str, scope: Sequence[str], key: str, now_ms: int
    ) -> str | None:
        """The id of what an unexpired request key made, if anything."""
        found = self._requests.get((kind, environment, *scope, key))
        if found is None or now_ms >= found[1]:
            return None
        return found[0]

    def keep_request(
        self, kind: str, environment: str, scope: Sequence[str], key: str, made: str, now_ms: int
    ) -> None:
        """A request key answers with `made` for the next 24 hours."""
        self._requests[(kind, environment, *scope, key)] = (made, now_ms + REQUEST_CACHE_MS)


@dataclass(frozen=True, slots=True)
class Triggered:
    """What a batch trigger made: the batch, whether a key answered an earlier one
    (`cached`), and the runs items' keys reused (`reused`)."""

    batch: TriggeredBatch
    cached: bool = False
    reused: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Accepted:
    """What an items call did to a streaming batch."""

    batch: TriggeredBatch
    accepted: int = 0
    deduplicated: int = 0

    @property
    def sealed(self) -> bool:
        """Whether the batch is sealed (every item has arrived)."""
        batch = self.batch
        return batch.sealed or batch.processed or batch.status != BatchStatus.PENDING


class TriggerBackend:
    """The state of one mock API and every rule that changes it."""

    triggered_items: list[Sent]
    """Every item the app sent, in order, and how the platform took it."""
    cancelled: list[str]
    """Run ids the app cancelled, in order."""
    replayed: list[tuple[str, str]]
    """(replayed run, new run), in order."""

    def __init__(self, default_key: str) -> None:
        self.keys: KeyRing = KeyRing(default_key)
        """The keys the API accepts (the pipeline authenticates with it)."""
        self.limiter: Limiter = Limiter()
        """Every rate-limit bucket: the API limiter's (the pipeline's step) and the batch
        limiter's."""
        self._progress = Progress(self)
        self._packets = PacketStore(default_key)
        """Objects uploaded and offloaded (results: large payloads and outputs)."""
        self.reset()

    def reset(self) -> None:
        """Empty: no batches, runs, rules, idempotency keys or record of what the app did;
        every bucket full; ids minted from the start of the key's sequence again. The
        keys, the progression mode and the bucket sizes are kept."""
        self.limiter.refill()
        self.triggered_items = []
        self.cancelled = []
        self.replayed = []
        # Everything the mock creates comes from the key (so from the test's seed).
        self._ids = IdSource(random.Random(f"ids:{self.keys.default_key}"))
        self._idempotency = Idempotency()
        self._registered: dict[str, BatchHandle] = {}
        self._triggered: dict[str, TriggeredBatch] = {}
        self._runs: dict[str, Run] = {}
        self._listed = RunOrder()
        """Every run, in the order the run list reads them."""
        self._listed_by_batch: dict[str, RunOrder] = {}
        """Each batch's runs, in that order: a list of one batch reads no other."""
        self._deadlines: list[tuple[int, int, Run]] = []
        """(moment, tie-break, run): runs that time alone changes (a delay, a TTL), the
        next due first; a list refreshes those due, not every run."""
        self._item_rules: list[Rule[ItemOutcome]] = []
        self._run_rules: list[Rule[str]] = []
        self._hold_rules: list[Rule[RunHold]] = []
        self._realtime = RealtimeStore()
        """The shapes realtime subscriptions read (realtime.py)."""
        self._queues = QueueStore(f"queues:{self.keys.default_key}")
        self._bulk = BulkActionStore()
        self._one_time = OneTimeUses()
        self._waitpoints = WaitpointStore()
        self._packets.reset()

    # -- set-up and inspection (the facade's) ---------------------------------------

    @property
    def progression(self) -> Progression:
        """How batches and runs move on (`progress.py`)."""
        return self._progress.mode

    @progression.setter
    def progression(self, mode: Progression) -> None:
        self._progress.mode = mode

    @property
    def secret_key(self) -> str:
        """A key the API accepts: the first pinned key, else the default key."""
        return self.keys.secret_key

    def accept_key(self, key: str, environment: str) -> None:
        """Accept only pinned keys from now on, `key` (of `environment`) among them."""
        self.keys.pinned[key] = environment

    def environment_of(self, key: str) -> str | None:
        """The environment `key` belongs to, or None if the API does not accept it."""
        return self.keys.environment_of(key)

    def environment_id(self, environment: str) -> str:
        """The id of `environment`, as the `sub` claim of its public tokens names it."""
        return self.keys.environment_id(environment)

    def environments(self) -> list[str]:
        """Every environment a key can belong to."""
        return self.keys.environments()

    def rate_limit(self, limits: Limits) -> None:
        """New sizes for the API limiter's buckets, each starting full."""
        self.limiter.resize(limits)

    def on_item(self, rule: Rule[ItemOutcome]) -> None:
        """What happens to items from now on (the latest rule that applies wins)."""
        self._item_rules.append(rule)

    def on_run(self, rule: Rule[str]) -> None:
        """How runs created from now on end (the latest rule that applies wins)."""
        self._run_rules.append(rule)

    def hold_runs(self, rule: Rule[RunHold]) -> None:
        """Where runs created from now on wait (the latest rule that applies wins): they
        go no further than the rule's stage until `advance()` or a cancel."""
        self._hold_rules.append(rule)

    def register_batch(
        self,
        states: tuple[TriggerBatch, ...],
        *,
        environment: str | None,
        runs: Sequence[TriggerRun] = (),
    ) -> BatchHandle:
        """Serve `states` (the last one sticks) and `runs` as they were given; a batch of
        the same id is replaced."""
        handle = BatchHandle(states[0].id, states, environment)
        self._triggered.pop(handle.id, None)
        self._registered[handle.id] = handle
        for run in runs:
            record = Run.from_public(run)
            record.environment, record.listed_always = environment, True
            self._keep(record)
        return handle

    def registered(self) -> list[BatchHandle]:
        """The registered batches (`add_batch`), in the order they were first added."""
        return list(self._registered.values())

    def triggered(self) -> list[TriggeredBatch]:
        """The batches the application's requests created, oldest first."""
        return list(self._triggered.values())

    @property
    def batch_count(self) -> int:
        """How many batches there are, registered and triggered."""
        return len(self._registered) + len(self._triggered)

    @property
    def pinned_key_count(self) -> int:
        """How many keys are pinned (`accept_key`)."""
        return len(self.keys.pinned)

    def find_batch(self, batch_id: str) -> BatchRecord | None:
        """The batch `batch_id`, registered or triggered, whatever its environment."""
        return self._triggered.get(batch_id) or self._registered.get(batch_id)

    def find_run(self, run_id: str, now_ms: int) -> Run | None:
        """The run `run_id` as time has left it, whatever its environment (nothing moves)."""
        run = self._runs.get(run_id)
        if run is not None:
            run.refresh(now_ms)
        return run

    def advance(
        self, batch: BatchRecord, now: Callable[[], int], *, to: BatchStatus | None = None
    ) -> TriggerBatch:
        """One step on, or steps until `batch` shows `to`; the state it shows then."""
        return self._progress.advance(batch, now, to=to)

    # -- what requests see ------------------------------------------------------------

    def batch(self, batch_id: str, environment: str) -> BatchRecord | None:
        """The batch `batch_id` as a key of `environment` sees it (another's is None)."""
        found = self.find_batch(batch_id)
        if found is None or found.environment not in (None, environment):
            return None
        return found

    def run(self, run_id: str, environment: str) -> Run | None:
        """The run `run_id` as a key of `environment` sees it (another's is None)."""
        found = self._runs.get(run_id)
        if found is None or found.environment not in (None, environment):
            return None
        return found

    def poll_batch(self, batch: BatchRecord, now_ms: int, *, version: int, get: bool) -> bytes:
        """A retrieval of `batch` (`get`: a GET, not a HEAD): its body for API `version`."""
        return self._progress.poll_batch(batch, now_ms, version=version, get=get)

    def poll_run(
        self, run: Run, now_ms: int, *, get: bool, render: Callable[[Run], bytes]
    ) -> bytes:
        """A retrieval of `run`: what `render` makes of it (then the run moves on)."""
        batch = self.find_batch(run.batch_id) if run.batch_id else None
        return self._progress.poll_run(run, batch, now_ms, get=get, render=render)

    # -- streaming batches (POST /api/v3/batches, then its items) -------------------------

    def create_streaming_batch(
        self,
        *,
        environment: str,
        run_count: int,
        tasks: Collection[str] | None,
        key: str | None,
        route: str,
        now_ms: int,
        one_time_use: bool = False,
    ) -> Triggered:
        """Phase 1: a PENDING batch that waits for `run_count` items.

        `key` is the request's idempotency key, scoped by `tasks`, for 24 h; and unique
        per environment for good: after the 24 h, a repeat is refused (422).
        `one_time_use`: the caller is a one-time-use token (`one_time.py`).
        """
        if run_count > STREAMING_MAX_ITEMS:
            raise PlatformError.message(
                400,
                f"Batch runCount of {js_number_text(run_count)} exceeds maximum allowed of "
                f"{STREAMING_MAX_ITEMS}.",
            )
        scope = sorted(set(tasks)) if tasks is not None else []
        if key:
            cached = self._replayed_batch("create-batch", environment, scope, key, now_ms)
            if cached is not None:
                return Triggered(cached, cached=True)
            if self._idempotency.batch(environment, "streaming", key) is not None:
                raise PlatformError.message(
                    422,
                    "Cannot create batch as it has already been created with the same "
                    "idempotency key.",
                )
        self._take_batch_tokens(environment, run_count, now_ms)
        if one_time_use:
            self._one_time.spend("batch", environment, one_time_use_message("create-batch"))
        batch = self._new_batch(environment, "streaming", run_count, key, route, now_ms)
        if key:
            self._idempotency.keep_batch(environment, "streaming", key, batch, None)
            self._idempotency.keep_request(
                "create-batch", environment, scope, key, batch.id, now_ms
            )
        return Triggered(batch)

    def streaming_batch(self, batch_id: str, environment: str) -> TriggeredBatch:
        """The streaming batch an items call names (422 for any other, or an ABORTED one)."""
        batch = self._triggered.get(batch_id)
        if batch is None or batch.environment != environment or batch.kind != "streaming":
            raise PlatformError.message(422, f"Batch {batch_id} not found")
        if batch.status == BatchStatus.ABORTED:
            raise PlatformError.message(
                422, f"Batch {batch_id} is not in PENDING status (current: ABORTED)"
            )
        return batch

    def accept_items(
        self, batch: TriggeredBatch, items: Iterable[Item], *, route: str, now_ms: int
    ) -> Accepted:
        """Phase 2: take `items` one by one, deduplicated by index; seal the batch once
        every item has arrived. A sealed batch takes none (its items are not read).

        An item that fails (a bad line) stops the upload; the ones before it stay.
        """
        if Accepted(batch).sealed:
            return Accepted(batch)
        accepted = deduplicated = 0
        try:
            for item in items:
                if item.index in batch.items:
                    deduplicated += 1
                    self.triggered_items.append(Sent(route, item, batch.id, "deduplicated"))
                    continue
                batch.items[item.index] = item
                self.triggered_items.append(Sent(route, item, batch.id))
                accepted += 1
        finally:
            batch.touch(now_ms)
        if len(batch.items) >= batch.run_count:
            batch.seal(now_ms)
            self._progress.started(batch, now_ms)
        return Accepted(batch, accepted, deduplicated)

    def _list(
        self, route: str, items: Iterable[Item], batch_id: str | None, answer: TriggerAnswer
    ) -> None:
        """Items the app sent, taken as `answer`."""
        self.triggered_items.extend(Sent(route, item, batch_id, answer) for item in items)

    @contextmanager
    def _refusals(self, route: str, items: Sequence[Item]) -> Iterator[None]:
        """A refusal (a `PlatformError`) within lists `items` as refused, then goes on."""
        try:
            yield
        except PlatformError:
            self._list(route, items, None, "refused")
            raise

    def _take_batch_tokens(self, environment: str, cost: int, now_ms: int) -> None:
        bucket = self.limiter.batch_bucket(environment, now_ms)
        allowed, _ = bucket.take(now_ms, cost)  # each batch costs its runCount
        if allowed:
            return
        raise PlatformError(
            429,
            {"error": f"Batch rate limit exceeded. Limit resets at {iso_ms(bucket.reset_ms)}"},
            headers={
                "x-ratelimit-limit": str(bucket.limit),
                "x-ratelimit-remaining": str(max(0, bucket.tokens)),
                "x-ratelimit-reset": str(bucket.reset_ms // 1000),  # seconds, unlike the API's
                "retry-after": str(max(1, -(-(bucket.reset_ms - now_ms) // 1000))),
            },
        )

    # -- one-shot batches -----------------------------------------------------------------

    def trigger_batch_v2(
        self,
        *,
        environment: str,
        items: list[Item],
        request_key: str | None,
        route: str,
        now_ms: int,
        one_time_use: bool = False,
    ) -> Triggered:
        """`POST /api/v2/tasks/batch`: the batch and its runs at once, no counts.

        No queue guard up front: an item that cannot trigger (a full queue too) becomes
        a pre-failed run, as in a streaming batch.
        """
        scope = sorted({item.task for item in items})
        with self._refusals(route, items):
            _check_size(len(items), ONE_SHOT_MAX_ITEMS)
            if request_key:
                cached = self._replayed_batch(
                    "batch-trigger", environment, scope, request_key, now_ms
                )
                if cached is not None:
                    self._list(route, items, cached.id, "cached")
                    return Triggered(cached, cached=True)
            self._refuse_too_large(items)
            if one_time_use:
                self._one_time.spend("batch", environment, one_time_use_message("batch-trigger"))
        made, _ = self._one_shot(environment, "v2", items, key=None, route=route, now_ms=now_ms)
        if request_key:
            self._idempotency.keep_request(
                "batch-trigger", environment, scope, request_key, made.batch.id, now_ms
            )
        return made

    def trigger_batch_v1(
        self,
        *,
        environment: str,
        items: list[Item],
        key: str | None,
        key_ttl: str | None,
        route: str,
        now_ms: int,
        one_time_use: bool = False,
    ) -> Triggered:
        """`POST /api/v1/tasks/batch`: `key` (the `idempotency-key` header) names the batch.

        Up to 20 items are processed within the request: an item that cannot trigger
        aborts the batch (the runs before it stay) with the platform's 500 and
        `x-should-retry: false`.
        """
        with self._refusals(route, items):
            _check_size(len(items), ONE_SHOT_MAX_ITEMS)
            if key:
                earlier = self._idempotency.batch(environment, "v1", key)
                if earlier is not None:
                    batch, expires = earlier
                    if expires is None or now_ms < expires:
                        self._list(route, items, batch.id, "cached")
                        return Triggered(batch, cached=True)
                    batch.idempotency_key = None  # the platform clears an expired key from it
                    batch.touch(now_ms)
            self._refuse_too_large(items)
            self._refuse_full_queue(items)
            try:  # the key's expiry is written with the batch, whether there is a key or not
                expires = durations.idempotency_key_expires_ms(key_ttl, now_ms=now_ms)
            except durations.InvalidDate:
                raise PlatformError.message(
                    500, _SOMETHING_WENT_WRONG, headers={"x-should-retry": "false"}
                ) from None
            if one_time_use:
                self._one_time.spend("batch", environment, one_time_use_message("batch-trigger"))
        inline = len(items) <= INLINE_ITEMS
        made, aborted = self._one_shot(
            environment,
            "v1",
            items,
            key=key,
            route=route,
            now_ms=now_ms,
            keep_failed_keys=True,
            stop_on_failure=inline,
        )
        if key:
            self._idempotency.keep_batch(environment, "v1", key, made.batch, expires)
        if aborted is not None:
            _refuse_many_tags([aborted.options], status=422)  # the service's refusal, by the route
            raise PlatformError.message(
                500, _SOMETHING_WENT_WRONG, headers={"x-should-retry": "false"}
            )
        return made

    def trigger_task_batch(
        self,
        *,
        environment: str,
        task: str,
        items: list[Item],
        key: str | None,
        route: str,
        now_ms: int,
    ) -> TriggeredBatch:
        """`POST /api/v1/tasks/{taskId}/batch`: a batch of one task's items; any failure
        is a 400 (a payload too large, 413)."""
        if not items:
            raise PlatformError.message(400, "No items to trigger")
        kind = f"v1-task:{task}"
        with self._refusals(route, items):
            if len(items) > TASK_BATCH_MAX_ITEMS:
                raise PlatformError.message(
                    400, f"Too many items. Maximum allowed batch size is {TASK_BATCH_MAX_ITEMS}."
                )
            self._refuse_too_large(items)
            self._refuse_full_queue(items, status=400)
            earlier = self._idempotency.batch(environment, kind, key) if key else None
            if earlier is not None:
                self._list(route, items, earlier[0].id, "cached")
                return earlier[0]
            _refuse_many_tags([item.options for item in items], status=400)
        made, _ = self._one_shot(
            environment,
            "v1-task",
            items,
            key=key,
            route=route,
            now_ms=now_ms,
            keep_failed_keys=True,
        )
        if key:
            self._idempotency.keep_batch(environment, kind, key, made.batch, None)
        return made.batch

    def _refuse_too_large(self, items: Sequence[Item]) -> None:
        outcomes = {self.outcome(item.task, item.index) for item in items}
        if "too_large" in outcomes or "too_large_error" in outcomes:
            raise PlatformError.message(413, "Request body too large")

    def _refuse_full_queue(self, items: Sequence[Item], *, status: int = 422) -> None:
        """The v1 batch routes guard the queue for the whole request."""
        if any(self.outcome(item.task, item.index) == "queue_limit" for item in items):
            raise PlatformError.message(status, queue_limit_message(f"{len(items)} tasks"))

    def _one_shot(
        self,
        environment: str,
        kind: BatchKind,
        items: list[Item],
        *,
        key: str | None,
        route: str,
        now_ms: int,
        keep_failed_keys: bool = False,
        stop_on_failure: bool = False,
    ) -> tuple[Triggered, Item | None]:
        """The batch and its runs, and the item that stopped it (`stop_on_failure`: the
        batch is then ABORTED there, and that item and the ones after it refused), if any."""
        batch = self._new_batch(environment, kind, len(items), key, route, now_ms)
        made: list[Run | str] = []
        reused: set[str] = set()
        aborted: Item | None = None
        for item in items:
            batch.items[item.index] = item
            sent = Sent(route, item, batch.id)
            self.triggered_items.append(sent)
            if aborted is not None:
                sent.answer = "refused"
                continue
            outcome = self._item_outcome(item)
            if stop_on_failure and outcome == "trigger_failure":
                aborted, sent.answer = item, "refused"
                continue
            try:
                run = self._create_run(
                    environment=environment,
                    item=item,
                    now_ms=now_ms,
                    outcome=outcome,
                    batch_id=batch.id,
                    taken=[m.id if isinstance(m, Run) else m for m in made],
                    keep_failed_keys=keep_failed_keys,
                    invalid_dates_fail=stop_on_failure,
                )
            except durations.InvalidDate:  # its trigger failed: as trigger_failure
                aborted, sent.answer = item, "refused"
                continue
            if isinstance(run, str):
                reused.add(run)
                sent.answer = "cached"
            made.append(run)
        batch.add_runs(made)
        if aborted is not None:
            batch.status = BatchStatus.ABORTED
            batch.touch(now_ms)
        else:
            self._progress.started(batch, now_ms)
        return Triggered(batch, reused=frozenset(reused)), aborted

    def _new_batch(
        self,
        environment: str,
        kind: BatchKind,
        run_count: int,
        key: str | None,
        route: str,
        now_ms: int,
    ) -> TriggeredBatch:
        batch = TriggeredBatch(
            id="batch_" + self._ids.cuid(now_ms),
            kind=kind,
            environment=environment,
            run_count=run_count,
            created_ms=now_ms,
            idempotency_key=key if kind != "v2" else None,
            route=route,
            updated_ms=now_ms,
        )
        self._registered.pop(batch.id, None)
        self._triggered[batch.id] = batch
        return batch

    def _replayed_batch(
        self, kind: str, environment: str, scope: Sequence[str], key: str, now_ms: int
    ) -> TriggeredBatch | None:
        made = self._idempotency.request(kind, environment, scope, key, now_ms)
        return self._triggered.get(made) if made is not None else None

    # -- one task (POST /api/v1/tasks/{taskId}/trigger) ------------------------------------

    def trigger_task(
        self,
        *,
        environment: str,
        task: str,
        payload: object,
        options: Mapping[str, object],
        size: int,
        request_key: str | None,
        key: str | None,
        key_ttl: str | None,
        route: str,
        now_ms: int,
        one_time_use: bool = False,
    ) -> tuple[str, bool]:
        """One run of `task`: its id, and whether an item key made it earlier (`isCached`).

        `key` and `key_ttl` (the `idempotency-key` headers) stand in for the options'
        when those name none; `key_ttl` wins over the option when it can be read (§5.8).
        A request key answers its earlier run again, as new (`isCached: false`). An
        unknown (undeployed) task is no error: its run waits in the queue `task/<id>`.
        """
        if key and "idempotencyKey" not in options:
            options = {**options, "idempotencyKey": key}
            if key_ttl and "idempotencyKeyTTL" not in options:
                options = {**options, "idempotencyKeyTTL": key_ttl}
        item = Item(0, task, payload, options, size)
        if request_key:
            made = self._idempotency.request("trigger", environment, [task], request_key, now_ms)
            if made is not None and made in self._runs:
                self._list(route, [item], None, "cached")
                return made, False
        with self._refusals(route, [item]):
            outcome = self.outcome(task, None)
            if outcome in ("too_large", "too_large_error"):
                raise PlatformError.message(413, "Request body too large")
            _refuse_many_tags([options], status=422)
            if outcome == "queue_limit":
                raise PlatformError.message(422, queue_limit_message(task))
            if outcome == "trigger_failure":  # this route's 500 says nothing of retrying
                raise PlatformError.message(500, _SOMETHING_WENT_WRONG)
            try:
                run = self._create_run(
                    environment=environment,
                    item=item,
                    now_ms=now_ms,
                    outcome=outcome,
                    header_key_ttl=key_ttl,
                    one_time_use=one_time_use,
                )
            except durations.InvalidDate:  # a delay or key TTL past a JavaScript Date's range
                raise PlatformError.message(500, _SOMETHING_WENT_WRONG) from None
        self._list(route, [item], None, "cached" if isinstance(run, str) else "created")
        run_id = run if isinstance(run, str) else run.id
        if request_key:
            self._idempotency.keep_request(
                "trigger", environment, [task], request_key, run_id, now_ms
            )
        return run_id, isinstance(run, str)

    # -- runs -----------------------------------------------------------------------------

    def outcome(self, task: str, index: int | None) -> ItemOutcome:
        """What the test said happens to an item (the latest rule that applies)."""
        rule = _latest(self._item_rules, task, index)
        return rule.outcome if rule is not None else "created"

    def _item_outcome(self, item: Item) -> ItemOutcome:
        """What happens to a batch's item: more than 10 tags fail its trigger, else what
        the test said."""
        if _too_many_tags(item.options):
            return "trigger_failure"
        return self.outcome(item.task, item.index)

    def process(self, batch: TriggeredBatch, now_ms: int) -> None:
        """A sealed streaming batch's processing step: its runs, minted together as the
        platform's are (one pass for the whole batch), and its error entries."""
        fresh = iter(self._ids.cuids(now_ms, len(batch.items), prefix="run_"))
        reused: list[Item] = []

        def make_run(item: Item, outcome: ItemOutcome) -> Run | str:
            made = self._create_run(
                environment=batch.environment,
                item=item,
                now_ms=now_ms,
                outcome=outcome,
                batch_id=batch.id,
                taken=batch.runs,
                run_id=next(fresh, None),
            )
            if isinstance(made, str):
                reused.append(item)
            return made

        batch.process(now_ms, make_run, self._item_outcome)
        if reused:  # the item was accepted as new; its key answered an earlier run
            for sent in self.triggered_items:
                if sent.answer == "created" and any(sent.item is item for item in reused):
                    sent.answer = "cached"

    def cancel_run(self, run: Run, now_ms: int) -> None:
        """Cancel `run` if it has not finished (a final run stays as it is); its batch is
        COMPLETED if that was its last unfinished run."""
        was_final = run.final
        run.cancel(now_ms)
        self.cancelled.append(run.id)
        batch = self.find_batch(run.batch_id) if run.batch_id else None
        if batch is not None and run.final and not was_final:
            self._progress.run_finished(batch, now_ms)

    def step_run(self, run: Run, now_ms: int) -> bool:
        """One step of `run`, held or not (`advance_run`); whether it moved. Its batch is
        COMPLETED if that made its last unfinished run final."""
        before = (run.stage, run.final, run.updated_ms)
        run.step(now_ms, release=True)
        batch = self.find_batch(run.batch_id) if run.batch_id else None
        if batch is not None and run.final and not before[1]:
            self._progress.run_finished(batch, now_ms)
        return (run.stage, run.final, run.updated_ms) != before

    def replay_run(self, run: Run, environment: str, now_ms: int) -> Run:
        """A new run of the same task and payload, in no batch, with some of its options."""
        options = {k: v for k, v in run.options.items() if k in _REPLAYED_OPTIONS}
        if machine_of(run):  # the preset it ran on, small-1x when it named none
            options["machine"] = machine_of(run)
        item = Item(0, run.task, run.payload, options)
        made = self._create_run(environment=environment, item=item, now_ms=now_ms)
        assert isinstance(made, Run)
        self.replayed.append((run.id, made.id))
        return made

    def list_runs(self, query: RunFilter, environment: str, now_ms: int) -> RunPage:
        """Runs of `environment` that `query` keeps, newest first, one page.

        Read from the cursor's place in the runs kept in list order (the batch's own,
        with a batch filter) until the page is full: the cost of a page does not grow
        with the runs stored.
        """
        window = query.window(now_ms)
        self._refresh_due(environment, now_ms)
        if query.batch_id is None:
            order = self._listed
        else:
            order = self._listed_by_batch.get(query.batch_id) or RunOrder()

        def shown(run: Run) -> bool:
            return run.environment in (None, environment) and query.matches(run, window)

        cursor = query.before or query.after
        return page(order, shown, window, query.size, cursor, forward=query.before is None)

    def _create_run(
        self,
        *,
        environment: str,
        item: Item,
        now_ms: int,
        outcome: ItemOutcome = "created",
        batch_id: str | None = None,
        taken: Collection[str] = (),
        run_id: str | None = None,
        keep_failed_keys: bool = False,
        header_key_ttl: str | None = None,
        invalid_dates_fail: bool = False,
        one_time_use: bool = False,
    ) -> Run | str:
        """A new run for `item`, or the id of the earlier run its idempotency key made.

        `outcome` (`on_item`): "created" makes a run, "unknown_task" one that waits in
        its queue (the task is not deployed), the others a pre-failed run. An earlier
        run's key is taken from it, and a new run made, once the key has expired or the
        run failed, crashed or expired (docs/platform.md §5.7); `keep_failed_keys`: the
        v1 batch endpoints look at the expiry only. `taken`: run ids the batch lists
        already; a key repeated within one batch gets a run of its own, so that `runs`
        never repeats an id. `header_key_ttl`: the `idempotency-key-ttl` header, which
        wins over the item's `idempotencyKeyTTL` when it can be read (§5.8).
        `one_time_use`: the caller is a one-time-use token; a new run spends its mark
        (`one_time.py`), a run its key finds does not.

        Raises `durations.InvalidDate` where the platform's trigger fails on a moment past
        a JavaScript Date's range (a delay, a key's TTL); in a batch (`batch_id`), the
        item becomes a pre-failed run instead, unless `invalid_dates_fail`.
        """
        invalid = False  # a moment past a JavaScript Date's range: the trigger fails
        try:
            delayed_until = durations.parse_delay(item.options.get("delay"), now_ms)
        except durations.InvalidDate:
            if batch_id is None or invalid_dates_fail:
                raise
            delayed_until, invalid = None, True
        key = item.options.get("idempotencyKey")
        key_expires: int | None = None
        if isinstance(key, str) and key:
            earlier = self._idempotency.run(environment, item.task, key)
            if earlier is not None and earlier.id not in taken:
                earlier.refresh(now_ms)
                expires = earlier.idempotency_expires_ms
                expired = expires is not None and now_ms >= expires
                if not expired and (keep_failed_keys or not earlier.clears_idempotency_key):
                    return earlier.id
                _clear_key(earlier)
            try:
                key_expires = durations.idempotency_key_expires_ms(
                    header_key_ttl, item.options.get("idempotencyKeyTTL"), now_ms=now_ms
                )
            except durations.InvalidDate:
                if batch_id is None or invalid_dates_fail:
                    raise
                invalid = True  # no run holds the key: the trigger failed
        if one_time_use:
            self._one_time.spend("run", environment, one_time_use_message("trigger", item.task))
        prefailed = invalid or outcome not in ("created", "unknown_task")
        index = item.index if batch_id is not None else None
        rule = _latest(self._run_rules, item.task, index)
        held = None if prefailed else _latest(self._hold_rules, item.task, index)
        # A pre-failed run is made failed: no delay, no ttl (triggerFailedTask.server.ts).
        ttl = (
            None
            if prefailed
            else durations.run_ttl(item.options.get("ttl"), environment=environment)
        )
        run = Run(
            id=run_id or "run_" + self._ids.cuid(now_ms),
            task=item.task,
            created_ms=now_ms,
            payload=item.payload,
            options=dict(item.options),
            batch_id=batch_id,
            index=index,
            prefailed=prefailed,
            undeployed=outcome == "unknown_task",
            outcome=rule.outcome if rule else "COMPLETED",
            output=rule.output if rule else None,
            error=None if rule is None or prefailed else rule.error,
            delayed_until_ms=None if prefailed else delayed_until,
            ttl=ttl,
            ttl_ms=durations.parse_natural_duration_ms(ttl) if ttl else None,
            environment=environment,
            region=run_region(environment, self.keys.environment_id(environment), item.options),
            version=locked_version(item.options),
            hold=None if held is None else HOLDS.index(held.outcome),
        )
        if isinstance(key, str) and key and key_expires is not None:
            # Shown as the user gave it: the SDK sends its hash, and the key in
            # idempotencyKeyOptions (docs/platform.md §7.3).
            given = item.options.get("idempotencyKeyOptions")
            shown_key = given.get("key") if isinstance(given, Mapping) else None
            run.idempotency_key = shown_key if isinstance(shown_key, str) and shown_key else key
            run.idempotency_expires_ms = key_expires
            self._idempotency.keep_run(environment, item.task, key, run)
        run.queue = self._queues.of(run, environment)
        self._keep(run)
        return run

    def _keep(self, run: Run) -> None:
        """Store `run` (replacing a run of the same id) where reads and the list find it."""
        earlier = self._runs.get(run.id)
        if earlier is not None:
            self._listed.remove(earlier)
            if earlier.batch_id is not None:
                self._listed_by_batch[earlier.batch_id].remove(earlier)
        self._runs[run.id] = run
        self._listed.add(run)
        if run.batch_id is not None:
            self._listed_by_batch.setdefault(run.batch_id, RunOrder()).add(run)
        due = run.deadline_ms
        if due is not None:
            heapq.heappush(self._deadlines, (due, next(_TIE_BREAK), run))

    def _refresh_due(self, environment: str, now_ms: int) -> None:
        """Refresh the runs of `environment` whose delay or TTL has run out by `now_ms`,
        as a list does (a refresh changes a run only once its deadline has come)."""
        deadlines, elsewhere = self._deadlines, []
        while deadlines and deadlines[0][0] <= now_ms:
            entry = heapq.heappop(deadlines)
            run = entry[2]
            if run.environment not in (None, environment):
                elsewhere.append(entry)  # another environment's list refreshes it
                continue
            run.refresh(now_ms)
            due = run.deadline_ms
            if due is not None:
                # Due still: the refresh did all time can do by now; look again later.
                later = elsewhere if due <= now_ms else deadlines
                heapq.heappush(later, (due, entry[1], run))
        for entry in elsewhere:
            heapq.heappush(deadlines, entry)

    # --- realtime: shape-stream subscriptions (GET /realtime/v1/...) ---

    def realtime_shape(
        self, key: tuple[object, ...], columns: tuple[str, ...], now_ms: int
    ) -> Shape:
        """The shape `key` names with `columns` (made on its first subscription)."""
        return self._realtime.shape(key, columns, now_ms)

    def realtime_answer(self, shape: Shape, runs: Sequence[Run], *, since: str | None) -> Change:
        """The messages for a request of `shape` at offset `since` (None: a snapshot)."""
        return self._realtime.answer(shape, runs, since=since)

    def realtime_unchanged(
        self, shape: Shape, offset: str, runs: Callable[[], Sequence[Run]]
    ) -> bool:
        """Whether the rows of `shape` are still those of `offset`."""
        return self._realtime.unchanged(shape, offset, runs)

    def realtime_run(self, run: Run, now_ms: int, render: Callable[[list[Run]], T]) -> T:
        """A realtime request for `run`: what `render` makes of it now, then the run
        moves on as a retrieval moves it (per poll)."""
        run.refresh(now_ms)
        batch = self.find_batch(run.batch_id) if run.batch_id else None
        batches, loose = ([batch], []) if batch is not None else ([], [run])
        return self._progress.poll_shape(batches, loose, now_ms, lambda: render([run]))

    def batch_runs(self, batch: BatchRecord, now_ms: int) -> list[Run]:
        """The runs of `batch` made so far, oldest first, as time has left them."""
        order = self._listed_by_batch.get(batch.id)
        runs = [] if order is None else list(order.newest_first())[::-1]
        for run in runs:
            run.refresh(now_ms)
        return runs

    def paused_queues(self, batch: BatchRecord, now_ms: int) -> list[str]:
        """The paused queues holding runs of `batch` that have not started, by name."""
        names = {
            run.queue.name
            for run in self.batch_runs(batch, now_ms)
            if run.stage == 0 and isinstance(run.queue, Queue) and run.queue.paused
        }
        return sorted(names)

    def realtime_batch(
        self, batch: BatchRecord, now_ms: int, render: Callable[[list[Run]], T]
    ) -> T:
        """A realtime request for `batch`'s runs: what `render` makes of them now, then
        the batch moves one step (per poll)."""
        return self._progress.poll_shape(
            [batch], [], now_ms, lambda: render(self.batch_runs(batch, now_ms))
        )

    def tagged_since(self, window: str, now_ms: int) -> int:
        """Where a tag subscription's `createdAt` window (`1h`, `7d`...) starts: at most
        24 hours back, which is also where an unreadable or missing window starts."""
        span = durations.parse_natural_duration_ms(window or REALTIME_DEFAULT_WINDOW)
        return now_ms - min(REALTIME_MAX_WINDOW_MS, span or REALTIME_MAX_WINDOW_MS)

    def tagged_runs(
        self, tags: Sequence[str], environment: str, since_ms: int, now_ms: int
    ) -> list[Run]:
        """Runs of `environment` created after `since_ms` with every tag of `tags`,
        oldest first."""
        found = []
        for run in self._listed.newest_first():
            if run.created_ms <= since_ms:
                break
            if run.environment not in (None, environment):
                continue
            if tags and not set(tags) <= set(stored_tags(run)):
                continue
            run.refresh(now_ms)
            found.append(run)
        return found[::-1]

    def realtime_tagged(
        self,
        runs: Sequence[Run],
        now_ms: int,
        render: Callable[[list[Run]], T],
    ) -> T:
        """A realtime request for `runs` (a tag filter's): what `render` makes of them
        now, then their batches and the runs of no batch move one step (per poll)."""
        batches: dict[str, BatchRecord] = {}
        loose = []
        for run in runs:
            batch = self.find_batch(run.batch_id) if run.batch_id else None
            if batch is None:
                loose.append(run)
            else:
                batches.setdefault(batch.id, batch)
        shown = list(runs)
        moved = list(batches.values())
        return self._progress.poll_shape(moved, loose, now_ms, lambda: render(shown))

    # --- bulkqueues: queues and bulk actions ---------------------------------------------

    def queue(self, environment: str, param: str, type_: str, missing: str) -> Queue:
        """The queue `param` names: its id (`type_` "id"), or a task's id or a custom
        queue's name ("task", "custom"), in `environment`; none is the 404 `missing`."""
        if type_ == "id":
            found = self._queues.find(environment, queue_id=param)
        else:
            found = self._queues.find(environment, name=task_queue_name(type_, param))
        if found is None:
            raise PlatformError.message(404, missing)
        return found

    def queue_items(
        self, queues: Sequence[Queue], now_ms: int, *, percent: bool
    ) -> list[dict[str, object]]:
        """`queues` as the API shows them, their counts read from the runs; `percent`:
        with `concurrencyLimitOverridePercent` (the list and the retrieve add it)."""
        found = counts(queues, self._runs.values(), now_ms)
        items = []
        for queue in queues:
            item = queue.item(*found[queue.id])
            if percent:
                item["concurrencyLimitOverridePercent"] = queue.percent
            items.append(item)
        return items

    def list_queues(
        self, environment: str, now_ms: int, *, page: int, per_page: int
    ) -> dict[str, object]:
        """One page of the environment's queues, in name order, and its pagination."""
        queues = self._queues.in_environment(environment)
        shown = queues[(page - 1) * per_page : page * per_page]
        return {
            "data": self.queue_items(shown, now_ms, percent=True),
            "pagination": {
                "currentPage": page,
                "totalPages": -(-len(queues) // per_page),
                "count": len(queues),
            },
        }

    def declare_queue(self, environment: str, type_: str, name: str) -> Queue:
        """The queue a deploy would declare in `environment`, made if it is new."""
        return self._queues.declare(environment, type_, name)

    def pause_queue(self, queue: Queue, *, paused: bool) -> None:
        """Pause (its runs stay QUEUED) or resume `queue`."""
        queue.paused = paused

    def override_queue(
        self, queue: Queue, now_ms: int, *, limit: int | None, percent: float | None
    ) -> None:
        """A concurrency limit override; above the environment's limit is the 400."""
        if limit is not None and limit > ENVIRONMENT_CONCURRENCY_LIMIT:
            message = queue_limit_too_high(str(limit), ENVIRONMENT_CONCURRENCY_LIMIT)
            raise PlatformError.message(400, message)
        queue.override(now_ms, limit=limit, percent=percent)

    def reset_queue(self, queue: Queue) -> bool:
        """Back to its base limit; False when it was not overridden."""
        if queue.overridden_ms is None:
            return False
        queue.reset_limit()
        return True

    def create_bulk_action(
        self,
        *,
        environment: str,
        kind: str,
        run_ids: Sequence[str] | None,
        query: RunFilter,
        name: str | None,
        region: str | None,
        now_ms: int,
    ) -> BulkAction:
        """A PENDING bulk action over the runs `run_ids` name, or else those `query`
        keeps, up to now (in "immediate" mode it has done its work at once)."""
        if kind == "REPLAY" and self._bulk.pending_replays(environment) >= BULK_ACTION_MAX_REPLAYS:
            raise PlatformError.message(
                429, too_many_replays(), headers={"x-should-retry": "false"}
            )
        self._refresh_due(environment, now_ms)
        if run_ids is not None:
            wanted = set(run_ids)
            chosen = [
                run
                for run in self._listed.newest_first()
                if run.id in wanted and run.environment in (None, environment)
            ]
        else:
            window = _frozen_window(query, now_ms)
            chosen = [
                run
                for run in self._listed.newest_first()
                if run.environment in (None, environment) and query.matches(run, window)
            ]
        action = BulkAction(
            id="bulk_" + self._ids.cuid(now_ms),
            environment=environment,
            type=kind,
            created_ms=now_ms,
            run_ids=[run.id for run in chosen],
            name=name,
            region=region,
        )
        self._bulk.add(action)
        if self.progression == "immediate":
            while action.status == "PENDING":
                self._bulk_step(action, now_ms)
        return action

    def bulk_action(self, bulk_id: str, environment: str) -> BulkAction | None:
        """The bulk action `bulk_id` as a key of `environment` sees it."""
        return self._bulk.get(bulk_id, environment)

    def poll_bulk_action(
        self, action: BulkAction, now_ms: int, *, get: bool = True
    ) -> dict[str, object]:
        """A retrieval: a PENDING action first works through its next page of runs (its
        job runs as soon as it is made), then shows where it is; a HEAD (not `get`)
        moves nothing."""
        if get and action.status == "PENDING":
            self._bulk_step(action, now_ms)
        return action.body()

    def list_bulk_actions(
        self, environment: str, *, size: int, after: str | None, before: str | None
    ) -> BulkActionPage:
        """A page of the environment's bulk actions, newest first."""
        return self._bulk.page(environment, size=size, after=after, before=before)

    def abort_bulk_action(self, action: BulkAction) -> None:
        """ABORTED: it works through no more runs; a finished one is the 409."""
        if action.status != "PENDING":
            raise PlatformError.message(409, bulk_action_final(action.id, action.status))
        action.status = "ABORTED"

    def _bulk_step(self, action: BulkAction, now_ms: int) -> None:
        """One page of the action's runs cancelled or replayed, as the single-run
        routes do (a cancel of a finished run counts as a failure)."""
        ids = action.run_ids[action.done : action.done + BULK_ACTION_BATCH_SIZE]
        action.done += len(ids)
        for run_id in ids:
            run = self._runs.get(run_id)
            if run is None:
                continue
            if action.type == "CANCEL":
                was_final = run.final
                self.cancel_run(run, now_ms)
                run.bulk_actions += (action.internal_id,)
                if was_final:
                    action.failure += 1
                else:
                    action.success += 1
            else:
                made = self.replay_run(run, action.environment, now_ms)
                made.bulk_actions += (action.internal_id,)
                if action.region and action.environment != DEVELOPMENT:
                    made.region = action.region
                action.success += 1
        if action.done >= len(action.run_ids):
            action.status, action.completed_ms = "COMPLETED", now_ms

    # --- runops: reset a key, reschedule, tags, metadata ---------------------------------

    def reset_idempotency_key(self, environment: str, task: str, key: str) -> None:
        """Take `key` from the run of `task` that holds it: the next trigger with it makes a
        new run (`404` when no run holds it). The run keeps everything else."""
        run = self._idempotency.release_run(environment, task, key)
        if run is None:
            raise PlatformError.message(
                404, f"No runs found with idempotency key: {key} and task: {task}"
            )
        _clear_key(run)
        run.shown_in_list = None

    def reschedule_delay(self, delay: object, now_ms: int) -> int | None:
        """When a reschedule's `delay` ends: a duration from now, a future date, or the
        moment a coerced date names (even a past one); `400 Invalid delay` when it cannot
        be read. None: a duration that ends past a JavaScript Date's range."""
        if not isinstance(delay, str):  # already a date: taken as it is
            moment = 1 if delay is True else 0 if delay in (None, False) else delay
            assert isinstance(moment, int | float)
            return int(moment)
        try:
            found = durations.parse_delay(delay, now_ms)
        except durations.InvalidDate:
            return None
        if found is None:
            raise PlatformError.message(400, f"Invalid delay: {delay}")
        return found

    def reschedule_run(self, run: Run, delayed_until_ms: int | None, now_ms: int) -> None:
        """A DELAYED run waits until `delayed_until_ms` instead (`400` for any other run;
        `500` for a moment the database cannot store)."""
        run.refresh(now_ms)
        if run.stored_status != "DELAYED":
            raise PlatformError.message(400, "Cannot reschedule a run that is not delayed")
        if delayed_until_ms is None:
            raise PlatformError.message(500, "Something went wrong, please try again.")
        run.delayed_until_ms = delayed_until_ms
        run.updated_ms = max(run.updated_ms, now_ms)
        heapq.heappush(self._deadlines, (delayed_until_ms, next(_TIE_BREAK), run))
        run.refresh(now_ms)  # a moment already past: it enters the queue now

    def add_tags(self, run: Run, tags: Sequence[str], now_ms: int) -> str:
        """Add the tags `run` does not have yet; the answer's message (`422` past 10)."""
        existing = stored_tags(run)
        new = [tag for tag in tags if tag not in existing]
        if len(existing) + len(new) > MAX_TAGS:
            listed = ", ".join(f"'{tag}'" for tag in new)
            raise PlatformError.message(
                422,
                f"Runs can only have {MAX_TAGS} tags, you're trying to set "
                f"{len(existing) + len(new)}. These tags have not been set: {listed}.",
            )
        if not new:
            return "No new tags to add"
        run.options = {**run.options, "tags": [*existing, *new]}
        run.updated_ms = max(run.updated_ms, now_ms)
        run.shown_in_list = None
        return f"Successfully set {len(new)} new tags."

    def update_metadata(self, run: Run, body: Mapping[str, Any], now_ms: int) -> object:
        """Apply a metadata update (`UpdateMetadataRequestBody`) to `run`: its answer.

        `operations` change the metadata, else `metadata` replaces it. Parent and root
        operations land on the run itself (it has no parent), after the answer, as the
        platform's batched flush applies them. `422` for a run that finished over an hour
        ago, `413` past the size limit.
        """
        run.refresh(now_ms)
        finished = run.finished_ms if run.final else None
        if finished is not None and finished <= now_ms - METADATA_UPDATABLE_MS:
            raise PlatformError.message(422, "Cannot update metadata for a completed run")
        operations = body.get("operations")
        current = run.options.get("metadata")
        stored = dict(current) if isinstance(current, Mapping) else {}
        if isinstance(operations, list):
            changed, applied = run_metadata.apply_operations(stored, operations)
            answer: object = changed if applied else stored
            if applied:
                self._store_metadata(run, changed, now_ms)
        else:
            given = body.get("metadata")
            answer = {} if given is None else given
            if given is not None and (given or current not in (None, {})):
                self._store_metadata(run, given, now_ms)
        later = [*(body.get("parentOperations") or ()), *(body.get("rootOperations") or ())]
        if later:
            now = run.options.get("metadata")
            base = dict(now) if isinstance(now, Mapping) else {}
            sets = {op["key"]: op for op in later if op["type"] == "set"}
            ordered = [op for op in later if op["type"] != "set"] + list(sets.values())
            changed, applied = run_metadata.apply_operations(base, ordered)
            if applied:
                with suppress(PlatformError):  # the flush drops what is too large
                    self._store_metadata(run, changed, now_ms)
        return answer

    def stored_metadata(self, run: Run) -> str | None:
        """`run`'s metadata as the platform stores it: JSON text, or None."""
        metadata = run.options.get("metadata")
        return None if metadata is None else run_metadata.stored_text(metadata)

    def _store_metadata(self, run: Run, metadata: object, now_ms: int) -> None:
        size = len(run_metadata.stored_text(metadata).encode(errors="surrogatepass"))
        if size > METADATA_MAX_BYTES:
            raise PlatformError.message(
                413, f"Metadata exceeds maximum size of {METADATA_MAX_BYTES} bytes"
            )
        run.options = {**run.options, "metadata": metadata}
        run.updated_ms = max(run.updated_ms, now_ms)
        run.shown_in_list = None

    # --- tokens: public access tokens (POST /api/v1/auth/jwt/claims, .../public-tokens) ---

    def public_token_claims(self, environment: str) -> dict[str, object]:
        """The claims the SDK signs a public token of `environment` with: `{sub, pub}`."""
        return {"sub": self.keys.environment_id(environment), "pub": True}

    def mint_public_token(
        self,
        *,
        environment: str,
        caller_key: str,
        scopes: Sequence[str],
        expiration: str | float,
        one_time_use: bool,
        realtime: object,
        now_ms: int,
    ) -> str:
        """A public token of `environment`, as the platform mints one for a key.

        Signed with the environment's root key (the caller's own key when the mock knows
        no other root key of the environment: an additional key's environment).
        `expiration`: a relative time or a moment (seconds); 400 when it cannot be read,
        is not in the future or is more than 30 days away.
        """
        now_s = now_ms // 1000
        expires = durations.public_token_expiry(expiration, now_s)
        if expires is None:
            raise PlatformError(400, {"error": "Invalid expiration time"})
        if expires <= now_s:
            raise PlatformError(400, {"error": "Expiration time must be in the future"})
        if expires - now_s > PUBLIC_TOKEN_MAX_LIFETIME_S:
            raise PlatformError(400, {"error": "Expiration time cannot exceed 30 days"})
        roots = [k for k in self.keys.signing_keys(environment) if not is_additional_key(k)]
        return tokens.mint(
            roots[0] if roots else caller_key,
            environment_id=self.keys.environment_id(environment),
            scopes=scopes,
            issued_at=now_s,
            expires_at=expires,
            realtime=realtime,
            one_time_use=one_time_use,
        )

    # --- waitpoints: waitpoint tokens (docs/platform.md §12) ---------------------------

    def create_waitpoint_token(
        self,
        *,
        environment: str,
        secret_key: str,
        key: str | None,
        key_expires_ms: int | None,
        timeout_ms: int | None,
        tags: Sequence[str] | None,
        now_ms: int,
    ) -> tuple[WaitpointToken, bool]:
        """A new token, or the one an unexpired `key` made (then True: cached).

        An empty key is looked up too (whatever its TTL), never as cached: the platform
        upserts on it.
        """
        if tags is not None and len(tags) > WAITPOINT_MAX_TAGS:
            raise PlatformError.message(422, waitpoint_tags_message(len(tags)))
        if key is not None:
            found = self._waitpoints.keyed(environment, key, now_ms, expires=bool(key))
            if found is not None:
                found.refresh(now_ms)
                return found, bool(key)
        token = self._waitpoints.add(
            self._ids.cuid(now_ms),
            environment=environment,
            secret_key=secret_key,
            key=key,
            key_expires_ms=key_expires_ms,
            timeout_ms=timeout_ms,
            tags=tags,
            now_ms=now_ms,
        )
        token.refresh(now_ms)  # a timeout already past: timed out at once
        return token, False

    def waitpoint_token(
        self, internal_id: str, environment: str | None, now_ms: int
    ) -> WaitpointToken | None:
        """The token `internal_id` as time has left it (in `environment`; None: any)."""
        token = self._waitpoints.get(internal_id)
        if token is None or environment not in (None, token.environment):
            return None
        token.refresh(now_ms)
        return token

    def list_waitpoint_tokens(
        self, wanted: TokenFilter, environment: str, now_ms: int
    ) -> TokenPage:
        """A page of `environment`'s tokens, newest first."""
        return self._waitpoints.page(environment, wanted, now_ms)

    def complete_waitpoint_token(
        self, token: WaitpointToken, output: str | None, output_type: str, now_ms: int
    ) -> None:
        """Complete `token` if it is still pending (a completed one stays as it is)."""
        token.refresh(now_ms)
        token.complete(output, output_type, now_ms)

    def waitpoint_tokens(self, now_ms: int) -> list[WaitpointToken]:
        """Every token, oldest first, as time has left them."""
        tokens = self._waitpoints.all()
        for token in tokens:
            token.refresh(now_ms)
        return tokens

    # --- results: run and batch results, packets and their presigned URLs ---

    def run_result(self, run: Run, now_ms: int) -> dict[str, object] | None:
        """`TaskRunExecutionResult` of `run`, or None where the platform has none.

        The platform builds it from the run's attempt records, which engine-V2 runs (every
        run the SDK 4.x makes) do not have: only a cancelled run has a result, the
        cancellation error (`executionResultForTaskRun`, docs/platform.md §11).
        """
        run.refresh(now_ms)
        if run.stored_status != RunStatus.CANCELED:
            return None
        error = {"type": "INTERNAL_ERROR", "code": TASK_RUN_CANCELLED}
        return {"ok": False, "id": run.id, "taskIdentifier": run.task, "error": error}

    def batch_results(self, batch: BatchRecord, now_ms: int) -> dict[str, object]:
        """`BatchTaskRunExecutionResult`: the result of each run the batch has an item
        record for (the v1 batch routes make them, for the runs they created; no other
        batch has any), in item order, without the runs that have none."""
        items: list[dict[str, object]] = []
        if isinstance(batch, TriggeredBatch) and batch.kind in ("v1", "v1-task"):
            for run in batch.linked:
                result = self.run_result(run, now_ms)
                if result is not None:
                    items.append(result)
        return {"id": batch.id, "items": items}

    def packet_url(
        self, environment: str, path: str, method: str, *, base_url: str, now_ms: int
    ) -> str:
        """A presigned URL on the mock's origin for `method` on the object `path`."""
        return self._packets.url(base_url, environment, path, method, now_ms)

    def packet_refusal(
        self,
        query: dict[str, list[str]],
        method: str,
        environment: str,
        path: str,
        now_ms: int,
    ) -> str | None:
        """Why the object store refuses this presigned URL, or None."""
        return self._packets.refusal(query, method, environment, path, now_ms)

    def store_packet(self, environment: str, path: str, data: bytes, content_type: str) -> None:
        """An upload through a presigned URL: the object `path` is now `data`."""
        self._packets.put(environment, path, Packet(data, content_type))

    def packet(self, environment: str, path: str) -> Packet | None:
        """The object `path` of `environment`, or None."""
        return self._packets.get(environment, path)

    def run_packet_urls(
        self, run: Run, environment: str, *, base_url: str, now_ms: int
    ) -> tuple[str | None, str | None]:
        """(payload URL, output URL) a retrieval of `run` shows instead of the value.

        A payload the client stored (`payloadType: application/store`) is reached at its
        path; one sent inline of 512 KiB or more the platform stored at
        `<runId>/payload.json`. An output of 128 KiB or more the worker's SDK stored at
        `<runId>-<attempt>/output.json` (only a successful run shows its output).
        """
        payload_url = output_url = None
        payload = run.payload
        if run.options.get("payloadType") == "application/store" and isinstance(payload, str):
            if payload:
                path = payload.split("://", 1)[1] if "://" in payload else payload
                payload_url = self.packet_url(
                    environment, path, "GET", base_url=base_url, now_ms=now_ms
                )
        elif payload is not None:
            payload_url = self._offloaded(
                environment,
                f"{run.id}/payload.json",
                json_bytes(payload),
                SERVER_OFFLOAD_BYTES,
                base_url=base_url,
                now_ms=now_ms,
            )
        if run.stored_status == RunStatus.COMPLETED_SUCCESSFULLY and run.output is not None:
            output_url = self._offloaded(
                environment,
                f"{run.id}-{max(1, run.attempt_count)}/output.json",
                json_bytes(run.output),
                SDK_OFFLOAD_BYTES,
                base_url=base_url,
                now_ms=now_ms,
            )
        return payload_url, output_url

    def _offloaded(
        self,
        environment: str,
        path: str,
        text: bytes,
        threshold: int,
        *,
        base_url: str,
        now_ms: int,
    ) -> str | None:
        """The URL of `text` (a value's JSON) stored at `path` once it is `threshold`
        bytes or more (stored on the first call); None below it."""
        if len(text) < threshold:
            return None
        if self._packets.get(environment, path) is None:
            self.store_packet(environment, path, text, "application/json")
        return self.packet_url(environment, path, "GET", base_url=base_url, now_ms=now_ms)


_TIE_BREAK = itertools.count()
"""Orders runs of one deadline in the heap (runs themselves do not compare)."""


def _frozen_window(query: RunFilter, now_ms: int) -> Window:
    """A bulk action's time filter, fixed when it is made (`freezeRunListFilters`): a
    period becomes the span up to now (one parse-duration cannot read throws: 500); else
    its `from` and `to`, `to` now when it has none."""
    if query.period is not None:
        try:
            start = durations.period_start_ms(query.period, now_ms)
        except durations.InvalidDate:
            start = None
        if start is None:
            raise PlatformError.message(500, "Internal Server Error")
        return Window(start, now_ms)
    return Window(query.start_ms or None, query.end_ms or now_ms)


def _check_size(count: int, maximum: int) -> None:
    if count > maximum:
        raise PlatformError.message(
            400, f"Batch size of {count} is too large. Maximum allowed batch size is {maximum}."
        )


def _clear_key(run: Run) -> None:
    """The platform takes the key from the run; a retrieval still shows the user's key
    when the SDK sent it in `idempotencyKeyOptions`."""
    run.idempotency_expires_ms = None
    given = run.options.get("idempotencyKeyOptions")
    if not (isinstance(given, Mapping) and isinstance(given.get("key"), str) and given["key"]):
        run.idempotency_key = None


def _too_many_tags(options: Mapping[str, object]) -> str | None:
    """The service's refusal of more than 10 tags (blank ones count), or None.

    `422` for a single trigger; a v2 or streamed item whose run cannot be triggered for
    it becomes a pre-failed run instead.
    """
    tags = options.get("tags")
    if isinstance(tags, list) and len(tags) > MAX_TAGS:
        return f"Runs can only have {MAX_TAGS} tags, you're trying to set {len(tags)}."
    return None


def _refuse_many_tags(options: Sequence[Mapping[str, object]], *, status: int) -> None:
    """The service's refusal of the first item with more than 10 tags, answered `status`.

    For a single trigger (422) and the v1 batch routes (422, and 400 per task), whose
    items are triggered within the request when there are 20 at most.
    """
    if len(options) > INLINE_ITEMS:
        return
    for each in options:
        refused = _too_many_tags(each)
        if refused is not None:
            raise PlatformError.message(status, refused)
