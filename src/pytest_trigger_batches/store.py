"""What every endpoint shares: the batches, the key ring and the environments."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pytest_trigger_batches.ids import SECRET_KEY_RE, remember_key
from pytest_trigger_batches.rules import ENVIRONMENTS

if TYPE_CHECKING:
    from pytest_trigger_batches.model import TriggerBatch

__all__ = ["BatchHandle", "KeyRing", "Store"]

_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


@dataclass(slots=True, eq=False)
class BatchHandle:
    """A registered batch: the states its retrievals walk through, the last one sticking."""

    id: str
    states: tuple[TriggerBatch, ...]
    environment: str | None = None
    served: int = 0
    """How many successful (200) GET retrievals have been answered."""
    _bodies: dict[tuple[int, int], bytes] = field(default_factory=dict, repr=False)

    @property
    def batch(self) -> TriggerBatch:
        """The state the next successful retrieval answers with."""
        return self.states[min(self.served, len(self.states) - 1)]

    @property
    def final(self) -> TriggerBatch:
        """The last state, which sticks once reached."""
        return self.states[-1]

    def body(self, version: int, *, advance: bool) -> bytes:
        """The current state's body for API `version`; `advance` moves to the next state."""
        position = min(self.served, len(self.states) - 1)
        body = self._bodies.get((position, version))
        if body is None:
            payload = self.states[position].to_payload(version=1 if version == 1 else 2)
            body = json.dumps(payload, separators=(",", ":")).encode()
            self._bodies[(position, version)] = body
        if advance:
            self.served += 1
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

    @property
    def secret_key(self) -> str:
        """A key the API accepts: the first pinned key, else the default key."""
        return next(iter(self.pinned), self.default_key)

    def environment_of(self, key: str) -> str | None:
        """The environment `key` belongs to, or None if the API does not accept it."""
        remember_key(key)  # a key seen in a request is redacted from then on
        if self.pinned:
            return self.pinned.get(key)
        known = self._seen.get(key)
        if known is not None:
            return known
        match = SECRET_KEY_RE.fullmatch(key)
        if match is None:
            return None
        if len(self._seen) < 64:  # the keys that may have signed a public token
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
        digest = hashlib.blake2b(
            f"{environment}:{self.default_key}".encode(), digest_size=16, person=b"environment"
        ).digest()
        number = int.from_bytes(digest, "big")
        chars = []
        for _ in range(24):
            number, digit = divmod(number, 36)
            chars.append(_BASE36[digit])
        return "c" + "".join(chars)

    def environment_named_by(self, environment_id: str) -> str | None:
        """The environment whose id is `environment_id`, or None."""
        for environment in self.environments():
            if self.environment_id(environment) == environment_id:
                return environment
        return None


class Store:
    """State shared by every endpoint of one mock API."""

    def __init__(self, default_key: str) -> None:
        self.batches: dict[str, BatchHandle] = {}
        self.keys = KeyRing(default_key)

    def batch(self, batch_id: str, environment: str) -> BatchHandle | None:
        """The batch `batch_id` as a key of `environment` sees it (another's is None)."""
        handle = self.batches.get(batch_id)
        if handle is None or handle.environment not in (None, environment):
            return None
        return handle
