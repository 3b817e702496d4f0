"""Waitpoint tokens: create, list, retrieve, complete, and the token's callback URL.

As the platform's `api.v1.waitpoints.tokens*.ts` routes answer (docs/platform.md §12).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from pytest_trigger_batches import durations
from pytest_trigger_batches.errors import PlatformError, json_bytes
from pytest_trigger_batches.handlers import query, validate
from pytest_trigger_batches.pipeline import Reply
from pytest_trigger_batches.rules import (
    WAITPOINT_BAD_HASH,
    WAITPOINT_CALLBACK_FAILED,
    WAITPOINT_COMPLETE_FAILED,
    WAITPOINT_NO_LENGTH,
    WAITPOINT_NOT_FOUND,
)
from pytest_trigger_batches.waitpoints import (
    PREFIX,
    UnstorableData,
    callback_path,
    hash_matches,
    list_item,
    packet,
    retrieve_body,
)

if TYPE_CHECKING:
    from pytest_trigger_batches.backend import TriggerBackend
    from pytest_trigger_batches.pipeline import Context
    from pytest_trigger_batches.waitpoints import WaitpointToken

_MISSING: Final = object()
_TOKEN_HOURS = 24
_LEADING_INT = re.compile(r"[\t\n\v\f\r ]*([+-]?[0-9]+)")
_SUCCESS = b'{"success":true}'


def create_token(context: Context, backend: TriggerBackend) -> Reply:
    """A new token (or the one its idempotency key made): `{id, isCached, url}` and a
    public token that may complete it, for 24 hours."""
    body = validate.create_token_body(validate.json_body(context.body))
    now_ms = context.now_ms
    try:
        ttl = body.get("idempotencyKeyTTL")
        expires = durations.resolve_idempotency_key_ttl(ttl, now_ms) if ttl else None
        timeout = _timeout_ms(body.get("timeout", _MISSING), now_ms)
    except durations.InvalidDate:
        raise PlatformError.message(500, "Something went wrong") from None
    tags = body.get("tags")
    token, cached = backend.create_waitpoint_token(
        environment=context.environment,
        secret_key=context.signing_key,
        key=body.get("idempotencyKey"),
        key_expires_ms=expires,
        timeout_ms=timeout,
        tags=[tags] if isinstance(tags, str) else tags,
        now_ms=now_ms,
    )
    answer = {"id": token.friendly_id, "isCached": cached, "url": _url(context, token)}
    scopes = [f"write:waitpoints:{token.friendly_id}"]
    headers = context.jwt_headers(scopes, expires_in=_TOKEN_HOURS * 3600)
    return Reply(200, json_bytes(answer), headers)


def list_tokens(context: Context, backend: TriggerBackend) -> Reply:
    """The environment's tokens, newest first, a page at a time (cursors: internal ids)."""
    wanted = query.token_filter(context, context.now_ms)
    found = backend.list_waitpoint_tokens(wanted, context.environment, context.now_ms)
    pagination = {"next": found.next, "previous": found.previous}
    body = {
        "data": [list_item(token, _url(context, token)) for token in found.tokens],
        "pagination": {name: value for name, value in pagination.items() if value is not None},
    }
    return Reply(200, json_bytes(body))


def retrieve_token(context: Context, backend: TriggerBackend) -> Reply:
    """One token, its output included; an unknown one is the platform's 500."""
    internal_id = _internal_id(context.params["waitpointFriendlyId"])
    token = backend.waitpoint_token(internal_id, context.environment, context.now_ms)
    if token is None:  # the presenter's ServiceValidationError, which this loader does not map
        raise PlatformError.message(500, "Internal Server Error")
    return Reply(200, json_bytes(retrieve_body(token, _url(context, token))))


def complete_token(context: Context, backend: TriggerBackend) -> Reply:
    """Complete a token with `data`; a completed (or timed-out) one stays as it is."""
    body = validate.complete_token_body(validate.json_body(context.body))
    given = context.params["waitpointFriendlyId"]
    context.authorize("write", [("waitpoints", given)])
    token = backend.waitpoint_token(_internal_id(given), context.environment, context.now_ms)
    if token is None:
        raise PlatformError.message(404, WAITPOINT_NOT_FOUND)
    output, output_type = _packet(body.get("data", _MISSING), WAITPOINT_COMPLETE_FAILED)
    backend.complete_waitpoint_token(token, output, output_type, context.now_ms)
    return Reply(200, _SUCCESS)


def callback(context: Context, backend: TriggerBackend) -> Reply:
    """`POST` to a token's URL: no key, the hash checked; the whole body is the data
    (a body that is not JSON: `{}`)."""
    length = context.headers.get("content-length")
    if not length:
        raise PlatformError.message(411, WAITPOINT_NO_LENGTH)
    declared = _LEADING_INT.match(length)
    limit = context.route.max_body
    if declared is not None and limit is not None and int(declared.group(1)) > limit:
        raise PlatformError.message(413, "Request body too large")
    given = context.params["waitpointFriendlyId"]
    if _malformed(given):  # thrown outside the route's try: Remix's own 500
        raise PlatformError(
            500, b"Unexpected Server Error", content_type="text/plain; charset=utf-8"
        )
    token = backend.waitpoint_token(_internal_id(given), None, context.now_ms)
    if token is None:
        raise PlatformError.message(404, WAITPOINT_NOT_FOUND)
    matches = hash_matches(context.params["hash"], token.hash)
    if matches is None:  # Node's timingSafeEqual throws on buffers of different lengths
        raise PlatformError.message(500, WAITPOINT_CALLBACK_FAILED)
    if not matches:
        raise PlatformError.message(401, WAITPOINT_BAD_HASH)
    text = context.body.decode("utf-8", errors="replace").removeprefix("\ufeff")
    try:
        data = validate.strict_loads(text)
    except (ValueError, RecursionError):
        data = {}
    output, output_type = _packet(data, WAITPOINT_CALLBACK_FAILED)
    backend.complete_waitpoint_token(token, output, output_type, context.now_ms)
    return Reply(200, _SUCCESS)


def _url(context: Context, token: WaitpointToken) -> str:
    return context.base_url + callback_path(token)


def _malformed(value: str) -> bool:
    """Whether `WaitpointId.toId(value)` throws: `waitpoint_` with no id, or more `_`."""
    return value.startswith(PREFIX) and (value.count("_") != 1 or value == PREFIX)


def _internal_id(value: str) -> str:
    """`WaitpointId.toId`: the friendly id's prefix dropped (a malformed one throws: 500)."""
    if _malformed(value):
        raise PlatformError.message(500, "Internal Server Error")
    return value.removeprefix(PREFIX)


def _timeout_ms(value: object, now_ms: int) -> int | None:
    """When a token created with `timeout: value` times out (None: never).

    Text is a duration from now or a future date; anything else the schema coerced to a
    date (a number, null, a boolean) is kept as that moment, even a past one.
    """
    if value is _MISSING:
        return None
    if value is None or isinstance(value, bool):
        return int(bool(value))  # new Date(null), new Date(true)
    if isinstance(value, int | float):
        return int(value)
    return durations.parse_delay(value, now_ms)


def _packet(data: object, failed: str) -> tuple[str | None, str]:
    """No `data` key: no output; else what `stringifyIO` makes of it (data SuperJSON
    refuses: the route's 500, `failed`)."""
    if data is _MISSING:
        return None, "application/json"
    try:
        return packet(data)
    except UnstorableData:
        raise PlatformError.message(500, failed) from None
