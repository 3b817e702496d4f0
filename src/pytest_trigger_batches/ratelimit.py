"""The platform's rate limiters: a token bucket per environment, windows for tokens, and
the batch limiter's buckets; `Limiter` holds every one of a mock API's.

Kept in whole milliseconds of the mock's clock, so a client that waits exactly until
`x-ratelimit-reset` always finds the refill there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["BATCH_LIMITS", "FixedWindow", "Limiter", "Limits", "TokenBucket"]


@dataclass(frozen=True, slots=True)
class Limits:
    """A token bucket's size: `limit` tokens, `refill` more every `interval_ms`."""

    limit: int = 750
    refill: int = 250
    interval_ms: int = 10_000


BATCH_LIMITS = Limits(limit=1200, refill=100, interval_ms=10_000)
"""The batch limiter: one bucket per environment, each batch costs its item count."""


@dataclass(slots=True)
class TokenBucket:
    """One bucket, as the limiter keeps one per environment (per key before 2026-08-06)."""

    limits: Limits
    tokens: int
    refilled_at_ms: int

    @classmethod
    def full(cls, limits: Limits, now_ms: int) -> TokenBucket:
        """A bucket with every token, refilling from `now_ms`."""
        return cls(limits, limits.limit, now_ms)

    @property
    def limit(self) -> int:
        """The bucket's size, as `x-ratelimit-limit` says."""
        return self.limits.limit

    @property
    def reset_ms(self) -> int:
        """When the next refill happens, in unix milliseconds."""
        return self.refilled_at_ms + self.limits.interval_ms

    def take(self, now_ms: int, cost: int = 1) -> tuple[bool, int]:
        """Spend `cost` tokens if there are: (allowed, remaining); remaining -1 on refusal."""
        periods = (now_ms - self.refilled_at_ms) // self.limits.interval_ms
        if periods > 0:
            self.tokens = min(self.limits.limit, self.tokens + periods * self.limits.refill)
            self.refilled_at_ms += periods * self.limits.interval_ms
        if self.tokens >= cost:
            self.tokens -= cost
            return True, self.tokens
        return False, -1


@dataclass(slots=True)
class FixedWindow:
    """Public access tokens: `limit` requests a window (60 a minute), counted per token."""

    limit: int = 60
    window_ms: int = 60_000
    window_start_ms: int = 0
    used: int = 0

    @property
    def reset_ms(self) -> int:
        """When the current window ends, in unix milliseconds."""
        return self.window_start_ms + self.window_ms

    def take(self, now_ms: int) -> tuple[bool, int]:
        """Count a request: (allowed, remaining)."""
        start = now_ms - now_ms % self.window_ms
        if start != self.window_start_ms:
            self.window_start_ms, self.used = start, 0
        self.used += 1
        return self.used <= self.limit, max(0, self.limit - self.used)


@dataclass(slots=True)
class Limiter:
    """Every bucket of one mock API: the API limiter's (per environment, or per unknown
    key), the public tokens' windows, and the batch limiter's (per environment)."""

    limits: Limits = field(default_factory=Limits)
    batch_limits: Limits = BATCH_LIMITS
    _buckets: dict[str, TokenBucket] = field(default_factory=dict, repr=False)
    _windows: dict[str, FixedWindow] = field(default_factory=dict, repr=False)
    _batch_buckets: dict[str, TokenBucket] = field(default_factory=dict, repr=False)

    def resize(self, limits: Limits) -> None:
        """New sizes for the API limiter's buckets, each starting full."""
        self.limits = limits
        self._buckets.clear()

    def refill(self) -> None:
        """Every bucket and window full again (their sizes are kept)."""
        self._buckets.clear()
        self._windows.clear()
        self._batch_buckets.clear()

    def bucket(self, identity: str, now_ms: int) -> TokenBucket:
        """The API limiter's bucket of `identity` (an environment, or an unknown key's hash)."""
        bucket = self._buckets.get(identity)
        if bucket is None:
            bucket = self._buckets[identity] = TokenBucket.full(self.limits, now_ms)
        return bucket

    def window(self, identity: str) -> FixedWindow:
        """The window of one public token (keyed by its hash)."""
        window = self._windows.get(identity)
        if window is None:
            window = self._windows[identity] = FixedWindow()
        return window

    def batch_bucket(self, environment: str, now_ms: int) -> TokenBucket:
        """The batch limiter's bucket of `environment` (each batch costs its runCount)."""
        bucket = self._batch_buckets.get(environment)
        if bucket is None:
            bucket = self._batch_buckets[environment] = TokenBucket.full(self.batch_limits, now_ms)
        return bucket
