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
    "digest_cuid",
    "digest_nanoid",
    "environment_of_key",
    "is_additional_key",
    "secret_key",
]

SECRET_KEY_RE = re.compile(SECRET_KEY_PATTERN)
"""A whole secret key (`tr_prod_` + 24, ...); group 1 is its environment."""
_BASE36 = b"0123456789abcdefghijklmnopqrstuvwxyz"
_NANOID = "123456789abcdefghijkmnopqrstuvwxyz"
_KEY_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_COUNTER_SPAN = 36**4
_COUNTER_WEIGHTS = (36**3, 36**2, 36, 1)  # the counter's 4 digits, most significant first
# Byte -> alphabet tables: ids for a 1,000-run batch come from one randbytes() call.
_BASE36_TABLE = bytes(_BASE36[b % 36] for b in range(256))
_NANOID_TABLE = bytes(ord(_NANOID[b % len(_NANOID)]) for b in range(256))
_KEY_TABLE = bytes(ord(_KEY_CHARS[b % len(_KEY_CHARS)]) for b in range(256))
_PAIRS = [bytes([a, b]) for a in _BASE36 for b in _BASE36]  # 2-digit numbers, 0 to 1295
_PAIR_TEXT = [pair.decode("ascii") for pair in _PAIRS]
# Digit columns of consecutive counter values. The lowest digit cycles every 36
# numbers, the next every 1,296: precomputed cycles, sliced. The two high ones change
# at most once in 1,000 ids: written run by run.
_CYCLES = {weight: b"".join(bytes([c]) * weight for c in _BASE36) for weight in (1, 36)}


def _base36(number: int, width: int) -> str:
    """`number` in `width` base-36 digits (`width` even), two digits at a time."""
    pairs = []
    for _ in range(width // 2):
        number, pair = divmod(number, 1296)
        pairs.append(_PAIR_TEXT[pair])
    return "".join(reversed(pairs))


def _digit_column(first: int, count: int, weight: int) -> bytes:
    """The base-36 digit of weight `weight` of first, first + 1, ... (`count` numbers)."""
    cycle = _CYCLES.get(weight)
    if cycle is not None:
        start = first % len(cycle)
        return (cycle * ((start + count) // len(cycle) + 1))[start : start + count]
    runs = []
    value, end = first, first + count
    while value < end:
        digit = (value // weight) % 36
        run = min(end, (value // weight + 1) * weight) - value  # until the digit changes
        runs.append(_BASE36[digit : digit + 1] * run)
        value += run
    return b"".join(runs)


def digest_cuid(digest: bytes) -> str:
    """A cuid-shaped id (`c` + 24 base-36 chars) that depends on `digest` alone."""
    return "c" + _base36(int.from_bytes(digest, "big"), 24)[::-1]


def digest_nanoid(digest: bytes) -> str:
    """A 21-char nanoid (`generateFriendlyId`'s body) that depends on `digest` alone."""
    return digest[:21].translate(_NANOID_TABLE).decode("ascii")


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
        # cuids(at_ms, 1)[0], written out: a batch's own id is made on every factory call.
        noise = self._rng.randbytes(8).translate(_BASE36_TABLE).decode("ascii")
        counter = self._counter = (self._counter + 1) % _COUNTER_SPAN
        rest, fourth = divmod(at_ms, 1296)
        rest, third = divmod(rest, 1296)
        first, second = divmod(rest, 1296)
        pairs = _PAIR_TEXT
        return (
            f"c{pairs[first % 1296]}{pairs[second]}{pairs[third]}{pairs[fourth]}"
            f"{pairs[counter // 1296]}{pairs[counter % 1296]}{self._fingerprint}{noise}"
        )

    def cuids(self, start_ms: int, count: int, *, per_ms: int = 50, prefix: str = "") -> list[str]:
        """`count` cuids made `per_ms` to the millisecond from `start_ms` on, in order.

        `prefix` ("run_") is put in front of each at no extra cost. Many ids are written
        column by column into one buffer: a quarter of the time of assembling a 1,000-run
        batch's ids one by one.
        """
        noise = self._rng.randbytes(8 * count).translate(_BASE36_TABLE)
        if count <= 4:  # a batch's own id, a tiny batch: the columns do not pay off
            return self._few(start_ms, count, per_ms, prefix, noise.decode("ascii"))
        head = prefix + "c"
        width = len(head) + 25  # + 8 of time, 4 of counter, 4 of fingerprint, 8 random, " "
        tail = ("0000" + self._fingerprint + "00000000 ").encode("ascii")
        blocks = []
        high_ms, high = -1, b""
        for block, start in enumerate(range(0, count, per_ms)):
            ms = start_ms + block
            if ms // 1296 != high_ms:  # the first 6 time digits: the same for 1.3 s
                high_ms, high = ms // 1296, (head + _base36(ms // 1296, 6)).encode("ascii")
            low = _PAIRS[ms % 1296]
            blocks.append((high + low + tail) * min(per_ms, count - start))
        buffer = bytearray(b"".join(blocks))
        counter = len(head) + 8
        first = self._counter + 1
        for position, weight in enumerate(_COUNTER_WEIGHTS):
            buffer[counter + position :: width] = _digit_column(first, count, weight)
        for position in range(8):
            buffer[counter + 8 + position :: width] = noise[position::8]
        self._counter = (first + count - 1) % _COUNTER_SPAN
        return buffer.decode("ascii").split(" ")[:count]

    def _few(self, start_ms: int, count: int, per_ms: int, prefix: str, noise: str) -> list[str]:
        first = self._counter + 1
        self._counter = (first + count - 1) % _COUNTER_SPAN
        return [
            f"{prefix}c{_base36(start_ms + i // per_ms, 8)}"
            f"{_PAIR_TEXT[(first + i) % _COUNTER_SPAN // 1296]}{_PAIR_TEXT[(first + i) % 1296]}"
            f"{self._fingerprint}{noise[8 * i : 8 * i + 8]}"
            for i in range(count)
        ]

    def skip(self, count: int) -> None:
        """Move the counter on as `count` cuids would (their random parts drawn elsewhere)."""
        self._counter = (self._counter + count) % _COUNTER_SPAN

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


# --- tokens ---


def is_additional_key(key: str) -> bool:
    """Whether `key` is an additional key (`tr_<env>_sk_` + 24), not an environment's root
    key: the platform signs public tokens with the root key only."""
    match = SECRET_KEY_RE.fullmatch(key)
    return match is not None and key[len(match.group(1)) + 4 :].startswith("sk_")
