"""The secret keys a mock API accepts, the environment each belongs to, and their ids."""

from __future__ import annotations

import hashlib

from pytest_trigger_batches.ids import SECRET_KEY_RE, digest_cuid
from pytest_trigger_batches.redact import remember_seen_key
from pytest_trigger_batches.rules import ENVIRONMENTS

__all__ = ["KeyRing"]


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
