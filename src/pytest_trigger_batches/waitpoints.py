"""Waitpoint tokens (`wait.createToken`): the records, their store, how the API shows them.

A token is `PENDING` until it is completed (its `complete` route or its callback URL)
or its timeout passes; the API shows `WAITING`, `COMPLETED` or `TIMED_OUT`
(docs/platform.md §12). Time alone moves a token: every read refreshes it first.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pytest_trigger_batches.errors import js_double, js_number_text, json_bytes
from pytest_trigger_batches.rules import WAITPOINT_TIMEOUT_CODE
from pytest_trigger_batches.timefmt import iso_ms

__all__ = [
    "TokenFilter",
    "TokenPage",
    "UnstorableData",
    "WaitpointStore",
    "WaitpointToken",
    "callback_hash",
    "callback_path",
    "hash_matches",
    "list_item",
    "packet",
    "retrieve_body",
]

PREFIX = "waitpoint_"
_HEX = frozenset("0123456789abcdefABCDEF")


def callback_hash(internal_id: str, secret_key: str) -> str:
    """The callback URL's last segment: HMAC-SHA256 of the token's id, keyed by the
    environment's secret key, in hex."""
    return hmac.new(secret_key.encode(), internal_id.encode(), hashlib.sha256).hexdigest()


def callback_path(token: WaitpointToken) -> str:
    """The path of the token's callback URL (below the API's origin)."""
    return f"/api/v1/waitpoints/tokens/{token.friendly_id}/callback/{token.hash}"


class UnstorableData(ValueError):
    """Completion data SuperJSON refuses (a `__proto__`, `constructor` or `prototype`
    key): the platform then fails to store it and answers 500."""


def packet(data: object) -> tuple[str | None, str]:
    """The output `stringifyIO` makes of completion `data` (parsed JSON), and its type:
    text as it is, anything else as SuperJSON (`{"json": ...}`, numbers and key order as
    JavaScript has them); an empty text is no output."""
    if data == "":
        return None, "application/json"
    if isinstance(data, str):
        return data, "text/plain"
    return '{"json":' + _js_json(data) + "}", "application/super+json"


def _js_json(value: object) -> str:
    """`JSON.stringify` of what `JSON.parse` made of `value`."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | float):
        number = js_double(value)
        return js_number_text(number) if math.isfinite(number) else "null"
    if isinstance(value, str):
        return json_bytes(value).decode()
    if isinstance(value, list):
        return "[" + ",".join(_js_json(item) for item in value) + "]"
    assert isinstance(value, dict)
    refused = _REFUSED_KEYS.intersection(value)
    if refused:
        raise UnstorableData(f"SuperJSON refuses the key {min(refused)!r}")
    # A JavaScript object lists its array-index keys first, in numeric order.
    indexes = sorted((k for k in value if _INDEX_RE.fullmatch(k) and int(k) < 2**32 - 1), key=int)
    keys = [*indexes, *(k for k in value if k not in set(indexes))]
    return "{" + ",".join(json_bytes(k).decode() + ":" + _js_json(value[k]) for k in keys) + "}"


_REFUSED_KEYS = frozenset(("__proto__", "constructor", "prototype"))
_INDEX_RE = re.compile(r"0|[1-9][0-9]*")


def hash_matches(given: str, expected: str) -> bool | None:
    """Whether the callback's `given` hash is `expected`, as Node compares them: None where
    the platform's comparison throws (the same length, but not all hex)."""
    if len(given) != len(expected):
        return False
    decoded = bytearray()
    for start in range(0, len(given) - 1, 2):  # Buffer.from(hex) stops at a bad pair
        pair = given[start : start + 2]
        if not set(pair) <= _HEX:
            break
        decoded.append(int(pair, 16))
    if len(decoded) != len(expected) // 2:
        return None  # timingSafeEqual on buffers of different lengths throws
    return hmac.compare_digest(bytes(decoded), bytes.fromhex(expected))


def _internal_key(internal_id: str) -> str:
    """The 24-character key a token made without an idempotency key holds (a nanoid)."""
    digest = hashlib.blake2b(internal_id.encode(), digest_size=18, person=b"wp-key").digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")


@dataclass(slots=True)
class WaitpointToken:
    """One token as the platform stores it (`Waitpoint`, type `MANUAL`)."""

    id: str
    """The internal id (a cuid); `friendly_id` is `waitpoint_` + it."""
    environment: str
    hash: str = field(repr=False)
    created_ms: int
    idempotency_key: str
    user_key: bool
    key_expires_ms: int | None = None
    inactive_key: str | None = None
    timeout_ms: int | None = None
    tags: list[str] = field(default_factory=list)
    status: str = "PENDING"
    completed_ms: int | None = None
    output: str | None = None
    output_type: str = "application/json"
    output_is_error: bool = False

    @property
    def friendly_id(self) -> str:
        """`waitpoint_...`, as the API names the token."""
        return PREFIX + self.id

    @property
    def shown_status(self) -> str:
        """WAITING, COMPLETED or TIMED_OUT."""
        if self.status == "PENDING":
            return "WAITING"
        return "TIMED_OUT" if self.output_is_error else "COMPLETED"

    def refresh(self, now_ms: int) -> None:
        """Time out a pending token whose timeout has passed (its output: the error)."""
        if self.status != "PENDING" or self.timeout_ms is None or now_ms < self.timeout_ms:
            return
        error = {
            "code": WAITPOINT_TIMEOUT_CODE,
            "message": f"Waitpoint timed out at {iso_ms(self.timeout_ms)}",
        }
        self.status = "COMPLETED"
        self.completed_ms = max(self.timeout_ms, self.created_ms)
        self.output = json.dumps(error, separators=(",", ":"))
        self.output_is_error = True

    def complete(self, output: str | None, output_type: str, now_ms: int) -> None:
        """Complete a pending token with `output` (None: none)."""
        if self.status != "PENDING":
            return
        self.status = "COMPLETED"
        self.completed_ms = now_ms
        if output is not None:
            self.output, self.output_type = output, output_type


@dataclass(frozen=True, slots=True)
class TokenFilter:
    """`GET /api/v1/waitpoints/tokens`' filters and page, as its presenter reads them."""

    size: int
    statuses: tuple[str, ...] = ()
    idempotency_key: str | None = None
    tags: tuple[str, ...] = ()
    start_ms: int | None = None
    end_ms: int | None = None
    after: str | None = None
    before: str | None = None


@dataclass(frozen=True, slots=True)
class TokenPage:
    """A page of tokens, newest first, and the cursors (internal ids) either side."""

    tokens: list[WaitpointToken]
    next: str | None
    previous: str | None


class WaitpointStore:
    """Every token, by internal id, and the (environment, idempotency key) index."""

    def __init__(self) -> None:
        self._tokens: dict[str, WaitpointToken] = {}
        self._keys: dict[tuple[str, str], WaitpointToken] = {}

    def all(self) -> list[WaitpointToken]:
        """Every token, oldest first."""
        return list(self._tokens.values())

    def get(self, internal_id: str) -> WaitpointToken | None:
        """The token `internal_id`, whatever its environment."""
        return self._tokens.get(internal_id)

    def keyed(
        self, environment: str, key: str, now_ms: int, *, expires: bool = True
    ) -> WaitpointToken | None:
        """The token holding `key` in `environment`, unless its key has expired (and
        `expires`): then the token gives the key up (it keeps it as its inactive key) and
        None is returned."""
        found = self._keys.get((environment, key))
        if found is None:
            return None
        if expires and found.key_expires_ms is not None and now_ms > found.key_expires_ms:
            del self._keys[(environment, key)]
            found.inactive_key = found.idempotency_key
            found.idempotency_key = _internal_key(found.id + ":rotated")
            self._keys[(environment, found.idempotency_key)] = found
            return None
        return found

    def add(
        self,
        internal_id: str,
        *,
        environment: str,
        secret_key: str,
        key: str | None,
        key_expires_ms: int | None,
        timeout_ms: int | None,
        tags: Sequence[str] | None,
        now_ms: int,
    ) -> WaitpointToken:
        """A new pending token."""
        token = WaitpointToken(
            internal_id,
            environment,
            callback_hash(internal_id, secret_key),
            now_ms,
            _internal_key(internal_id) if key is None else key,
            bool(key),
            key_expires_ms=key_expires_ms,
            timeout_ms=timeout_ms,
            tags=list(tags or ()),
        )
        self._tokens[internal_id] = token
        self._keys[(environment, token.idempotency_key)] = token
        return token

    def page(self, environment: str, wanted: TokenFilter, now_ms: int) -> TokenPage:
        """The page `wanted` asks for, as the list presenter pages (by internal id)."""
        size = wanted.size
        backward = wanted.before is not None  # read after page[after]: it wins
        cursor = wanted.before if backward else wanted.after
        rows = list(self._matching(environment, wanted, now_ms))
        if cursor is not None:
            rows = [t for t in rows if (t.id > cursor if backward else t.id < cursor)]
        rows.sort(key=lambda t: t.id, reverse=not backward)
        rows = rows[: size + 1]
        more = len(rows) > size
        after: str | None = None
        before: str | None = None
        if not backward:
            before = rows[0].id if cursor is not None and rows else None
            if more:
                after = rows[size - 1].id
            shown = rows[:size]
        else:
            rows.reverse()
            if more:
                before, after = rows[1].id, rows[size].id
                shown = rows[1 : size + 1]
            else:
                after = rows[size - 1].id if len(rows) >= size else None
                shown = rows[:size]
        return TokenPage(shown, after, before)

    def _matching(
        self, environment: str, wanted: TokenFilter, now_ms: int
    ) -> Iterable[WaitpointToken]:
        statuses = set(wanted.statuses)
        stored = {"PENDING" if s == "WAITING" else "COMPLETED" for s in statuses}
        only_error: bool | None = None
        if len(statuses) == 1:
            only_error = {"COMPLETED": False, "TIMED_OUT": True}.get(next(iter(statuses)))
        tags = set(wanted.tags)
        for token in self._tokens.values():
            if token.environment != environment:
                continue
            token.refresh(now_ms)
            if stored and token.status not in stored:
                continue
            if only_error is not None and token.output_is_error != only_error:
                continue
            key = wanted.idempotency_key
            if key and key not in (token.idempotency_key, token.inactive_key):
                continue
            if wanted.start_ms is not None and token.created_ms < wanted.start_ms:
                continue
            if wanted.end_ms is not None and token.created_ms > wanted.end_ms:
                continue
            if tags and not tags.intersection(token.tags):
                continue
            yield token


def _optional_moments(pairs: Iterable[tuple[str, int | None]]) -> dict[str, str]:
    return {name: iso_ms(ms) for name, ms in pairs if ms is not None}


def _collated(tag: str) -> tuple[object, ...]:
    """A sort key near `localeCompare`: punctuation, then digits, then letters, case last."""
    rank = [(0 if not c.isalnum() else 1 if c.isdigit() else 2, c.casefold()) for c in tag]
    return (rank, tag.swapcase())


def list_item(token: WaitpointToken, url: str) -> dict[str, object]:
    """A token as `GET /api/v1/waitpoints/tokens` lists it."""
    item: dict[str, object] = {"id": token.friendly_id, "url": url, "status": token.shown_status}
    item.update(
        _optional_moments(
            (
                ("completedAt", token.completed_ms),
                ("timeoutAt", token.timeout_ms),
                ("completedAfter", token.timeout_ms),
            )
        )
    )
    if token.user_key:
        item["idempotencyKey"] = token.inactive_key or token.idempotency_key
    item.update(_optional_moments((("idempotencyKeyExpiresAt", token.key_expires_ms),)))
    item["tags"] = sorted(token.tags, key=_collated)
    item["createdAt"] = iso_ms(token.created_ms)
    return item


def retrieve_body(token: WaitpointToken, url: str) -> dict[str, object]:
    """A token as `GET /api/v1/waitpoints/tokens/{id}` shows it."""
    body: dict[str, object] = {
        "id": token.friendly_id,
        "type": "MANUAL",
        "url": url,
        "status": token.shown_status,
        "idempotencyKey": token.idempotency_key,
        "userProvidedIdempotencyKey": token.user_key,
    }
    body.update(_optional_moments((("idempotencyKeyExpiresAt", token.key_expires_ms),)))
    if token.inactive_key is not None:
        body["inactiveIdempotencyKey"] = token.inactive_key
    if token.output is not None:
        body["output"] = token.output
    body["outputType"] = token.output_type
    body["outputIsError"] = token.output_is_error
    body.update(
        _optional_moments(
            (
                ("timeoutAt", token.timeout_ms),
                ("completedAfter", token.timeout_ms),
                ("completedAt", token.completed_ms),
            )
        )
    )
    body["createdAt"] = iso_ms(token.created_ms)
    body["tags"] = list(token.tags)
    return body
