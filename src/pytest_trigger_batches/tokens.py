"""Public access tokens: HS256 JWTs signed with an environment's secret key.

The standard library's `hmac` is all HS256 needs (about 40 lines here), so the plugin
adds no JWT dependency to every project that installs it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["AUDIENCE", "ISSUER", "PublicToken", "grants", "mint", "read_claims", "verify"]

ISSUER = "https://id.trigger.dev"
AUDIENCE = "https://api.trigger.dev"


@dataclass(frozen=True, slots=True)
class PublicToken:
    """A verified token: the environment it belongs to and the scopes it grants."""

    environment_id: str
    scopes: tuple[str, ...]
    realtime: Any = field(default=None, compare=False)
    """The token's `realtime` claim, if any: passed on to the tokens a trigger answers with."""
    one_time_use: bool = field(default=False, compare=False)
    """The token's `otu` claim is `true`: it may create one run and one batch."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mint(
    secret_key: str,
    *,
    environment_id: str,
    scopes: Sequence[str],
    issued_at: int,
    expires_at: float,
    realtime: object = None,
    one_time_use: bool = False,
) -> str:
    """A public access token as the SDK's `auth.createPublicToken` makes one.

    The claims in the SDK's order: the server's `{sub, pub}` first, then `scopes`,
    `otu` (only when true), `realtime`, and those the signing adds.
    """
    header = {"alg": "HS256"}
    claims: dict[str, object] = {"sub": environment_id, "pub": True, "scopes": list(scopes)}
    if one_time_use:
        claims["otu"] = True
    if realtime is not None:
        claims["realtime"] = realtime
    exp = int(expires_at) if float(expires_at).is_integer() else expires_at
    claims.update(iss=ISSUER, aud=AUDIENCE, exp=exp, iat=issued_at)
    signing_input = (
        _b64(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64(json.dumps(claims, separators=(",", ":")).encode())
    )
    return signing_input + "." + _b64(_signature(secret_key, signing_input))


def _signature(secret_key: str, signing_input: str) -> bytes:
    return hmac.new(secret_key.encode(), signing_input.encode("ascii"), hashlib.sha256).digest()


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity: JavaScript's JSON has none


def read_claims(token: str) -> dict[str, Any] | None:
    """The claims of a token that claims to be public (`pub: true`), unverified; else None."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(_unb64(parts[1]), parse_constant=_no_constant)
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        return None
    return claims if isinstance(claims, dict) and claims.get("pub") is True else None


def verify(token: str, keys: Iterable[str], *, now_s: float) -> PublicToken | None:
    """The token if one of `keys` signed it and it is current, for the right audience."""
    header_part, payload_part, signature_part = token.split(".")
    try:
        header = json.loads(_unb64(header_part), parse_constant=_no_constant)
        signature = _unb64(signature_part)
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        return None
    claims = read_claims(token)
    if not isinstance(header, dict) or header.get("alg") != "HS256" or claims is None:
        return None
    signing_input = f"{header_part}.{payload_part}"
    if not any(hmac.compare_digest(_signature(k, signing_input), signature) for k in keys):
        return None
    expires = claims.get("exp")
    if isinstance(expires, int | float) and not isinstance(expires, bool) and expires <= now_s:
        return None
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if claims.get("iss") != ISSUER or AUDIENCE not in audiences:
        return None
    scopes = claims.get("scopes")
    listed = tuple(s for s in scopes if isinstance(s, str)) if isinstance(scopes, list) else ()
    one_time = claims.get("otu") is True
    return PublicToken(str(claims.get("sub")), listed, claims.get("realtime"), one_time)


def grants(scopes: Iterable[str], action: str, resources: Iterable[tuple[str, str | None]]) -> bool:
    """Whether any scope (`action:type[:id]`, `admin`) allows `action` on any resource.

    `resources` are (type, id) pairs; an id of None stands for the whole type.
    """
    wanted = list(resources)
    for scope in scopes:
        granted_action, _, rest = scope.partition(":")
        if granted_action == "admin" and not rest:
            return True
        if granted_action not in (action, "*") or not rest:
            continue
        kind, _, identifier = rest.partition(":")
        if kind == "all":
            return True
        for resource_type, resource_id in wanted:
            if kind == resource_type and (not identifier or identifier == resource_id):
                return True
    return False
