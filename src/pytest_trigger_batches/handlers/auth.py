"""The auth routes: the claims the SDK signs a public token with, and tokens minted by
the platform (for keys that cannot sign one). docs/platform.md §2.1 and §2.2."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_trigger_batches.errors import json_bytes
from pytest_trigger_batches.handlers.validate import public_token_body
from pytest_trigger_batches.pipeline import Reply
from pytest_trigger_batches.rules import PUBLIC_TOKEN_DEFAULT_EXPIRY

if TYPE_CHECKING:
    from pytest_trigger_batches.backend import TriggerBackend
    from pytest_trigger_batches.pipeline import Context


def jwt_claims(context: Context, backend: TriggerBackend) -> Reply:
    """`POST /api/v1/auth/jwt/claims`: `{sub, pub: true}` for the key's environment."""
    return Reply(200, json_bytes(backend.public_token_claims(context.environment)))


def create_public_token(context: Context, backend: TriggerBackend) -> Reply:
    """`POST /api/v1/auth/public-tokens`: `{token}`, signed with the environment's key."""
    body = public_token_body(context.body)
    token = backend.mint_public_token(
        environment=context.environment,
        caller_key=context.signing_key,
        scopes=body["scopes"],
        expiration=body.get("expirationTime", PUBLIC_TOKEN_DEFAULT_EXPIRY),
        one_time_use=body.get("oneTimeUse") is True,
        realtime=body.get("realtime"),
        now_ms=context.now_ms,
    )
    return Reply(200, json_bytes({"token": token}))
