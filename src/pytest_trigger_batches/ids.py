"""Ids and keys shaped like the platform's, drawn from one seeded source."""

from __future__ import annotations

import hashlib
import random
import re

from pytest_trigger_batches.redact import (
    ENVIRONMENTS,
    SECRET_KEY_PATTERN,
    mask_key,
    remember_key,
)
from pytest_trigger_batches.shown import shown

__all__ = [
    "SECRET_KEY_RE",
    "IdSource",
    "derived_secret_key",
    "environment_of_key",
    "secret_key",
]

SECRET_KEY_RE = re.compile(SECRET_KEY_PATTERN)
"""A whole secret key (`tr_prod_` + 24, ...); group 1 is its environment."""
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_NANOID = "123456789abcdefghijkmnopqrstuvwxyz"
_KEY_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_COUNTER_SPAN = 36**4
# Byte -> alphabet tables: ids for a 1,000-run batch come from one randbytes() call.
_BASE36_TABLE = bytes(ord(_BASE36[b % 36]) for b in range(256))
_NANOID_TABLE = bytes(ord(_NANOID[b % len(_NANOID)]) for b in range(256))
_KEY_TABLE = bytes(ord(_KEY_CHARS[b % len(_KEY_CHARS)]) for b in range(256))
_PAIRS = [a + b for a in _BASE36 for b in _BASE36]


def _base36(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 36)
        digits.append(_BASE36[digit])
    return "".join(reversed(digits))


class IdSource:
    """Makes cuids, legacy nanoids, idempotency keys and secret keys from one `Random`.

    Like the real cuid generator it keeps a counter and a host fingerprint, so ids made
    together share a prefix and sort by creation.
    """

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._counter = rng.randrange(_COUNTER_SPAN)
        self._fingerprint = _base36(rng.randrange(_COUNTER_SPAN), 4)

    def cuid(self, at_ms: int) -> str:
        """`c`, 8 base-36 chars of time, a 4-char counter, fingerprint, 8 random chars."""
        return self.cuids(at_ms, 1)[0]

    def cuids(self, start_ms: int, count: int, *, per_ms: int = 50, prefix: str = "") -> list[str]:
        """`count` cuids made `per_ms` to the millisecond from `start_ms` on, in order.

        `prefix` ("run_") is put in front of each at no extra cost.
        """
        noise = self._rng.randbytes(8 * count).translate(_BASE36_TABLE).decode("ascii")
        # One comprehension over precomputed parts: a loop of divmods was a quarter of
        # building a 1,000-run batch.
        stamps = [prefix + "c" + _base36(start_ms + n, 8) for n in range((count - 1) // per_ms + 1)]
        first = self._counter + 1
        tail = self._fingerprint
        ids = [
            stamps[i // per_ms]
            + _PAIRS[(first + i) % _COUNTER_SPAN // 1296]
            + _PAIRS[(first + i) % 1296]
            + tail
            + noise[8 * i : 8 * i + 8]
            for i in range(count)
        ]
        self._counter = (first + count - 1) % _COUNTER_SPAN
        return ids

    def nanoids(self, count: int) -> list[str]:
        """`count` 21-char ids as older (v3) projects have."""
        noise = self._rng.randbytes(21 * count).translate(_NANOID_TABLE).decode("ascii")
        return [noise[21 * i : 21 * i + 21] for i in range(count)]

    def idempotency_key(self) -> str:
        """A 64-char hex SHA-256, as the SDK sends batch idempotency keys."""
        return f"{self._rng.getrandbits(256):064x}"

    def secret_key(self, environment: str = "dev") -> str:
        """A well-formed secret key for `environment` (dev, stg, prod or preview)."""
        return secret_key(environment, rng=self._rng)


def secret_key(environment: str = "dev", *, rng: random.Random | None = None) -> str:
    """A well-formed secret key such as `tr_dev_...` for one of dev, stg, prod, preview."""
    if environment not in ENVIRONMENTS:
        raise ValueError(
            f"environment must be one of {', '.join(ENVIRONMENTS)}; got {shown(environment)}"
        )
    source = rng or random.Random()
    return remember_key(f"tr_{environment}_" + "".join(source.choices(_KEY_CHARS, k=24)))


def derived_secret_key(seed: int, environment: str = "dev") -> str:
    """A well-formed key that depends on `seed` alone: the same test, the same key."""
    digest = hashlib.blake2b(str(seed).encode(), digest_size=24, person=b"secret-key").digest()
    return remember_key(f"tr_{environment}_" + digest.translate(_KEY_TABLE).decode("ascii"))


def environment_of_key(key: object, *, parameter: str) -> str:
    """The environment of a well-formed secret key; else `ValueError` showing it masked."""
    match = SECRET_KEY_RE.fullmatch(key) if isinstance(key, str) else None
    if match is None:
        if isinstance(key, str):
            remember_key(key)  # meant as a key: never shown, whatever is wrong with it
        raise ValueError(
            f"{parameter} must be a secret key: tr_dev_, tr_stg_, tr_prod_ or tr_preview_ + "
            f"24 letters or digits (20 in keys made before 2026-08-06), or an additional "
            f"key tr_<env>_sk_ + 24; got {mask_key(key)!r}"
        )
    remember_key(str(key))
    return match.group(1)
