"""What every endpoint shares: the batches, the key ring and the environments."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pytest_trigger_batches import durations
from pytest_trigger_batches.ids import SECRET_KEY_RE, IdSource, digest_cuid
from pytest_trigger_batches.progress import ItemOutcome, Progression
from pytest_trigger_batches.ratelimit import BATCH_LIMITS, TokenBucket
from pytest_trigger_batches.redact import remember_seen_key
from pytest_trigger_batches.rules import ENVIRONMENTS
from pytest_trigger_batches.triggered import (
    Item,
    Run,
    TriggeredBatch,
    locked_version,
    run_region,
)

if TYPE_CHECKING:
    from pytest_trigger_batches.model import TriggerBatch

__all__ = ["BatchHandle", "ItemRule", "KeyRing", "Store"]

REQUEST_CACHE_MS = 24 * 3600 * 1000


@dataclass(slots=True, eq=False)
class BatchHandle:
    """A registered batch: the states its retrievals walk through, the last one sticking."""

    id: str
    states: tuple[TriggerBatch, ...]
    environment: str | None = None
    served: int = 0
    """How many successful (200) GET retrievals have been answered."""
    _position: int = field(default=0, repr=False)
    _bodies: dict[tuple[int, int], bytes] = field(default_factory=dict, repr=False)

    @property
    def batch(self) -> TriggerBatch:
        """The state the next successful retrieval answers with."""
        return self.states[self._position]

    @property
    def final(self) -> TriggerBatch:
        """The last state, which sticks once reached."""
        return self.states[-1]

    def advance(self, steps: int = 1) -> None:
        """Move on to a later state (the last one sticks)."""
        self._position = min(self._position + steps, len(self.states) - 1)

    def body(self, version: int, *, count: bool, advance: bool) -> bytes:
        """The current state's body for API `version`.

        `count`: a successful GET (counted in `served`); `advance`: then move one state on.
        """
        position = self._position
        body = self._bodies.get((position, version))
        if body is None:
            payload = self.states[position].to_payload(version=1 if version == 1 else 2)
            body = json.dumps(payload, separators=(",", ":")).encode()
            self._bodies[(position, version)] = body
        if count:
            self.served += 1
        if advance:
            self.advance()
        return body


class KeyRing:
    """The secret keys the API accepts and the environment each belongs to.

    Until a key is pinned, every well-formed key is accepted (its prefix names its
    environment); once any is pinned, only pinned keys are.
    """

    def __init__(self, default_key: str) -> None:
        self.default_key = default_key
        self.pinned: dict[str, str] = {}
        self._seen: dict[str, str] = {}
        self._ids: dict[str, str] = {}

    @property
    def secret_key(self) -> str:
        """A key the API accepts: the first pinned key, else the default key."""
        return next(iter(self.pinned), self.default_key)

    def environment_of(self, key: str) -> str | None:
        """The environment `key` belongs to, or None if the API does not accept it."""
        remember_seen_key(key)  # a key seen in a request is redacted from then on
        if self.pinned:
            return self.pinned.get(key)
        known = self._seen.get(key)
        if known is not None:
            return known
        match = SECRET_KEY_RE.fullmatch(key)
        if match is None:
            return None
        if len(self._seen) >= 512:  # the keys that may have signed a public token: recent ones
            del self._seen[next(iter(self._seen))]
        self._seen[key] = match.group(1)
        return match.group(1)

    def environments(self) -> list[str]:
        """Every environment a key can belong to."""
        return list(dict.fromkeys((*ENVIRONMENTS, *self.pinned.values())))

    def signing_keys(self, environment: str) -> list[str]:
        """The keys whose public tokens are valid for `environment`."""
        if self.pinned:
            return [k for k, env in self.pinned.items() if env == environment]
        own = SECRET_KEY_RE.fullmatch(self.default_key)
        keys = [k for k, env in self._seen.items() if env == environment]
        if own is not None and own.group(1) == environment:
            keys.insert(0, self.default_key)
        return keys

    def environment_id(self, environment: str) -> str:
        """The id of `environment`, as the `sub` claim of its public tokens names it."""
        known = self._ids.get(environment)
        if known is None:
            known = self._ids[environment] = self._make_environment_id(environment)
        return known

    def _make_environment_id(self, environment: str) -> str:
        digest = hashlib.blake2b(
            f"{environment}:{self.default_key}".encode(), digest_size=16, person=b"environment"
        ).digest()
        return digest_cuid(digest)

    def environment_named_by(self, environment_id: str) -> str | None:
        """The environment whose id is `environment_id`, or None."""
        for environment in self.environments():
            if self.environment_id(environment) == environment_id:
                return environment
        return None


@dataclass(frozen=True, slots=True)
class RunRule:
    """`on_run`: how runs of `task` and/or at `index` end (None: any)."""

    outcome: str
    task: str | None = None
    index: int | None = None
    output: object = None
    error: Mapping[str, object] | None = None

    def applies(self, task: str, index: int | None) -> bool:
        """Whether a run of `task` at `index` meets this rule."""
        return self.task in (None, task) and (self.index is None or self.index == index)


@dataclass(frozen=True, slots=True)
class ItemRule:
    """`on_item`: what happens to items of `task` and/or at `index` (None: any)."""

    outcome: ItemOutcome
    task: str | None = None
    index: int | None = None

    def applies(self, task: str, index: int | None) -> bool:
        """Whether an item of `task` at `index` meets this rule."""
        return self.task in (None, task) and (self.index is None or self.index == index)


class Store:
    """State shared by every endpoint of one mock API."""

    def __init__(self, default_key: str) -> None:
        self.batches: dict[str, BatchHandle | TriggeredBatch] = {}
        self.runs: dict[str, Run] = {}
        self.keys: KeyRing = KeyRing(default_key)
        # Everything the mock creates comes from the key (so from the test's seed).
        self.ids: IdSource = IdSource(random.Random(f"ids:{default_key}"))
        self.progression: Progression = "per_poll"
        self.item_rules: list[ItemRule] = []
        self.run_rules: list[RunRule] = []
        self.cancelled: list[str] = []
        """Run ids the app cancelled, in order."""
        self.replayed: list[tuple[str, str]] = []
        """(replayed run, new run), in order."""
        self.run_keys: dict[tuple[str, str, str], Run] = {}
        """(environment, task, idempotency key) -> the run it made."""
        self.batch_keys: dict[tuple[str, str, str], tuple[TriggeredBatch, int | None]] = {}
        """(environment, kind, key) -> the batch it made, and when the key expires."""
        self.request_cache: dict[tuple[str, ...], tuple[str, int]] = {}
        """Request idempotency: (kind, environment, scope..., key) -> (what it made, until)."""
        self.batch_limits = BATCH_LIMITS
        self.batch_buckets: dict[str, TokenBucket] = {}
        self.triggered_items: list[tuple[str, Item, str | None]] = []
        """(route, item, batch id) in the order the app sent them."""

    def batch(self, batch_id: str, environment: str) -> BatchHandle | TriggeredBatch | None:
        """The batch `batch_id` as a key of `environment` sees it (another's is None)."""
        handle = self.batches.get(batch_id)
        if handle is None or handle.environment not in (None, environment):
            return None
        return handle

    def create_run(
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
            earlier = self.run_keys.get((environment, item.task, key))
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
        prefailed = invalid or outcome not in ("created", "unknown_task")
        index = item.index if batch_id is not None else None
        rule = next((r for r in reversed(self.run_rules) if r.applies(item.task, index)), None)
        # A pre-failed run is made failed: no delay, no ttl (triggerFailedTask.server.ts).
        ttl = (
            None
            if prefailed
            else durations.run_ttl(item.options.get("ttl"), environment=environment)
        )
        run = Run(
            id=run_id or "run_" + self.ids.cuid(now_ms),
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
        )
        if isinstance(key, str) and key and key_expires is not None:
            # Shown as the user gave it: the SDK sends its hash, and the key in
            # idempotencyKeyOptions (docs/platform.md §7.3).
            given = item.options.get("idempotencyKeyOptions")
            shown_key = given.get("key") if isinstance(given, Mapping) else None
            run.idempotency_key = shown_key if isinstance(shown_key, str) and shown_key else key
            run.idempotency_expires_ms = key_expires
            self.run_keys[(environment, item.task, key)] = run
        self.runs[run.id] = run
        return run

    def outcome(self, task: str, index: int | None) -> ItemOutcome:
        """What the test said happens to an item (the last matching rule wins)."""
        for rule in reversed(self.item_rules):
            if rule.applies(task, index):
                return rule.outcome
        return "created"


def _clear_key(run: Run) -> None:
    """The platform takes the key from the run; a retrieval still shows the user's key
    when the SDK sent it in `idempotencyKeyOptions`."""
    run.idempotency_expires_ms = None
    given = run.options.get("idempotencyKeyOptions")
    if not (isinstance(given, Mapping) and isinstance(given.get("key"), str) and given["key"]):
        run.idempotency_key = None
