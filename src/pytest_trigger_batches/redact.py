"""Secret keys out of everything the plugin shows: the key registry and `redact`.

A leaf: it imports nothing from the package, so every module that makes a message or a
record can redact it where it is made.

`redact` works in two passes.

1. **Credentials**, by their form: a whole, well-formed credential standing as a word
   of its own is masked wherever it appears. That is a secret key (`tr_dev_`, `tr_stg_`,
   `tr_prod_` or `tr_preview_` + 24 letters or digits, 20 in keys made before
   2026-08-06, `tr_<env>_sk_` + 24 for additional keys), a personal access token
   (`tr_pat_` + 40 of the platform's lower-case alphabet) or a JWT (a public access
   token: its header decodes to JSON naming an algorithm). `_` may be percent-encoded
   once or twice (`%5F`, `%255F`), and a credential right after an escape (`\\n` in a
   repr, an ANSI colour, `%20`) still stands alone. Nothing else matches:
   `str_dev_notes`, `tr_expected_total` and a key cut short are left as they are.
2. **What the plugin knows**: every key it generated or pinned, `TRIGGER_SECRET_KEY`,
   and the keys it saw in requests, down to any 8-character fragment of their secret
   part, so a key pytest cut (`'tr_dev_abc...xyz12345'`), split or glued to a word
   leaks nothing either. Generated, pinned and environment keys are never forgotten;
   keys seen only in requests are kept up to `MAX_SEEN_KEYS` (the oldest go first).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import threading
from collections import OrderedDict

__all__ = [
    "ENVIRONMENTS",
    "FRAGMENT",
    "MAX_SEEN_KEYS",
    "SECRET_KEY_PATTERN",
    "fingerprint",
    "mask_key",
    "redact",
    "redact_many",
    "redact_more",
    "remember_key",
    "remember_seen_key",
    "shown_header",
]

ENVIRONMENTS = ("dev", "stg", "prod", "preview")
"""The environments a secret key's prefix names (`tr_prod_...` belongs to "prod")."""

_ENV = "|".join(ENVIRONMENTS)
_ALNUM = "0-9A-Za-z"
_SEP = r"(?:_|%(?:25)*5[Ff])"  # `_`, or `_` percent-encoded once or more


def _secret_key_pattern(sep: str) -> str:
    # Root keys: 24 letters or digits (20 before 2026-08-06); additional keys (since
    # 2026-08): `sk_` + 24. `apps/webapp/app/utils/apiKeys.ts`.
    return (
        rf"tr{sep}({_ENV}){sep}"
        rf"(?:sk{sep}[{_ALNUM}]{{24}}|[{_ALNUM}]{{20}}(?:[{_ALNUM}]{{4}})?)"
    )


SECRET_KEY_PATTERN = _secret_key_pattern("_")
"""A whole secret key, as a regular expression; group 1 is its environment."""

FRAGMENT = 8
"""The shortest fragment of a known key's secret part that is redacted."""

MAX_SEEN_KEYS = 2000
"""How many keys seen only in requests are remembered (each costs about 2 kB)."""


class _Patterns:
    """The expressions `redact` needs, compiled when first needed (not at plugin import)."""

    def __init__(self) -> None:
        # A secret key or a personal access token (`tr_pat_` + 40), as a word of its own.
        self.key = re.compile(
            rf"(?:{_secret_key_pattern(_SEP)}|tr{_SEP}(pat){_SEP}[1-9a-km-z]{{40}})(?![{_ALNUM}])"
        )
        self.jwt = re.compile(rf"eyJ[{_ALNUM}_-]+\.eyJ[{_ALNUM}_-]+\.[{_ALNUM}_-]+(?![{_ALNUM}_-])")
        # What may stand right before a credential that is still a word of its own: an
        # escape as a repr or a URL writes it (`\n`, `\x1b[31m`, `%20`).
        self.escape_before = re.compile(
            r"(?:\\[abfnrtv0]|\\x[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4}|%[0-9A-Fa-f]{2}"
            r"|(?:\x1b|\\x1b|\\033|\\u001b)\[[0-9;]*m)$"
        )
        self.word = re.compile(rf"[{_ALNUM}]{{{FRAGMENT},}}")
        self.secret_part = re.compile(_SECRET_PART)


@functools.cache
def _patterns() -> _Patterns:
    return _Patterns()


_SECRET_PART = r"\s*(?:Bearer\s+)?tr_[a-z]{2,10}_(?:sk_)?([0-9A-Za-z]+)"


def fingerprint(key: str) -> str:
    """Four hex digits of the key's SHA-256: tells two masked keys apart, reveals nothing."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:4]


def mask_key(value: object) -> str:
    """A value meant as a key, shown by its prefix and fingerprint (`tr_prod_****1a2b`)."""
    if not isinstance(value, str):
        return f"<{type(value).__name__}>"
    prefix = re.match(r"[A-Za-z]{1,10}_(?:[A-Za-z]{1,10}_)?", value)
    return (prefix.group(0) if prefix else "") + "****" + fingerprint(value)


def shown_header(name: str, value: str) -> str:
    """A header value fit to print or record: the credentials masked, keys redacted."""
    if name.lower() == "authorization":
        return _masked_credentials(value)
    return redact(value)


@functools.lru_cache(maxsize=32)  # a test sends the same few headers again and again
def _masked_credentials(value: str) -> str:
    scheme, _, credentials = value.partition(" ")
    return redact(f"{scheme} {mask_key(credentials.strip())}" if credentials else mask_key(value))


# -- the registry ------------------------------------------------------------------------


_UNKNOWN = object()
"""What `_stored_environment_key` reads where it cannot read the store."""


class _Registry:
    """The secret parts of the keys the plugin knows, and every 8-char window of them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.kept: set[str] = set()  # generated, pinned, the environment's: never forgotten
        self.seen: OrderedDict[str, None] = OrderedDict()  # seen only in requests
        self.grams: dict[str, int] = {}  # window -> how many remembered secrets hold it
        self.version = 0  # changes whenever the windows do (`_redact`'s cache key)
        self.environment_key: str | None = None
        self.environment_stored: object = _UNKNOWN

    def keep(self, secret: str) -> None:
        with self.lock:
            if secret in self.kept:
                return
            self.kept.add(secret)
            if secret in self.seen:  # its windows are counted already
                del self.seen[secret]
            else:
                self._count(secret, 1)

    def see(self, secret: str) -> None:
        with self.lock:
            if secret in self.kept:
                return
            if secret in self.seen:
                self.seen.move_to_end(secret)
                return
            self.seen[secret] = None
            self._count(secret, 1)
            if len(self.seen) > MAX_SEEN_KEYS:
                oldest, _ = self.seen.popitem(last=False)
                self._count(oldest, -1)

    def _count(self, secret: str, step: int) -> None:
        grams = self.grams
        for start in range(len(secret) - FRAGMENT + 1):
            gram = secret[start : start + FRAGMENT]
            count = grams.get(gram, 0) + step
            if count:
                grams[gram] = count
            else:
                del grams[gram]
        self.version += 1


_REGISTRY = _Registry()


@functools.lru_cache(maxsize=64)  # a test sends the same key again and again
def _secret_part(key: object) -> str:
    match = _patterns().secret_part.match(key) if isinstance(key, str) else None
    return match.group(1) if match else ""


def remember_key(key: str) -> str:
    """Redact `key`, and every 8-character fragment of its secret part, for good.

    For keys the plugin generates or a test pins. Returns `key`. A value that does not
    look like a key (`tr_<word>_` + 8 or more letters or digits) is not remembered.
    """
    secret = _secret_part(key)
    if len(secret) >= FRAGMENT:
        _REGISTRY.keep(secret)
    return key


def remember_seen_key(key: str) -> str:
    """Like `remember_key`, for a key seen in a request: one of the latest `MAX_SEEN_KEYS`."""
    secret = _secret_part(key)
    if len(secret) >= FRAGMENT:
        _REGISTRY.see(secret)
    return key


def _check_environment_key() -> None:
    """Remember `TRIGGER_SECRET_KEY` whenever it changes (read at every redaction)."""
    stored = _stored_environment_key()
    if stored is _REGISTRY.environment_stored and stored is not _UNKNOWN:
        return  # the very value read last time (or absent again): unchanged
    _REGISTRY.environment_stored = stored
    value = os.environ.get("TRIGGER_SECRET_KEY")
    if value != _REGISTRY.environment_key:
        _REGISTRY.environment_key = value
        if value:
            remember_key(value.strip())


_ENVIRONMENT_NAME: tuple[object, object] = (None, None)
"""(os.environ, the name TRIGGER_SECRET_KEY as its store spells it)."""


def _stored_environment_key() -> object:
    """`TRIGGER_SECRET_KEY` as `os.environ` stores it (undecoded), None when unset, or
    `_UNKNOWN` when `os.environ` is not the standard mapping.

    Reading the store is a tenth of the cost of `os.environ.get`, which encodes the name
    and decodes the value; setting the variable always stores a new object, so the same
    object means the same value.
    """
    global _ENVIRONMENT_NAME
    environ = os.environ
    store = getattr(environ, "_data", None)
    encode = getattr(environ, "encodekey", None)
    if type(store) is not dict or encode is None:
        return _UNKNOWN  # not os._Environ (a test replaced it): read it the usual way
    known, name = _ENVIRONMENT_NAME
    if known is not environ:
        name = encode("TRIGGER_SECRET_KEY")
        _ENVIRONMENT_NAME = (environ, name)
    return store.get(name)


# -- redaction ---------------------------------------------------------------------------


def redact(text: str) -> str:
    """`text` with every credential (`tr_prod_****1a2b`) and known key fragment redacted."""
    _check_environment_key()
    return _redact(text, _REGISTRY.version)


_JOIN = "\x00"
"""Joins the texts `redact_many` redacts in one pass: no credential or word holds it, so
each text is redacted exactly as on its own."""


def redact_many(texts: list[str]) -> list[str]:
    """`[redact(text) for text in texts]`, in one pass: the environment read once, one
    redaction of the texts joined (the parts of a recorded call)."""
    _check_environment_key()
    version = _REGISTRY.version
    if any(_JOIN in text for text in texts):
        return [_redact(text, version) for text in texts]
    return _redact(_JOIN.join(texts), version).split(_JOIN)


def redact_more(text: str) -> str:
    """`redact(text)` for one more text of a call `redact_many` has just redacted: the
    environment's key is not read again."""
    return _redact(text, _REGISTRY.version)


@functools.lru_cache(maxsize=256)  # header values and URLs repeat within a test
def _redact(text: str, version: int) -> str:
    patterns = _patterns()
    if "tr" in text:
        text = patterns.key.sub(_masked_credential, text)
    if "eyJ" in text:
        text = patterns.jwt.sub(_masked_credential, text)
    if _REGISTRY.grams:
        text = patterns.word.sub(_without_fragments, text)
    return text


def _masked_credential(match: re.Match[str]) -> str:
    found = match.group(0)
    if not _stands_alone(match.string, match.start()):
        return found
    if found.startswith("eyJ"):
        return "eyJ****" + fingerprint(found) if _is_jwt(found) else found
    kind = match.group(1) or match.group(2)
    return f"tr_{kind}_****{fingerprint(re.sub(_SEP, '_', found))}"


def _stands_alone(text: str, start: int) -> bool:
    """Whether what starts at `start` is not glued to a word before it."""
    if start == 0:
        return True
    before = text[start - 1]
    if not (before.isascii() and before.isalnum()):
        return True
    return _patterns().escape_before.search(text, max(0, start - 16), start) is not None


def _is_jwt(token: str) -> bool:
    import base64
    import binascii
    import json

    header = token.split(".", 1)[0]
    try:
        decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except (ValueError, binascii.Error):
        return False
    return isinstance(decoded, dict) and isinstance(decoded.get("alg"), str)


def _without_fragments(match: re.Match[str]) -> str:
    word = match.group(0)
    grams = _REGISTRY.grams
    covered = [False] * len(word)
    hit = False
    for start in range(len(word) - FRAGMENT + 1):
        if word[start : start + FRAGMENT] in grams:
            hit = True
            for index in range(start, start + FRAGMENT):
                covered[index] = True
    if not hit:
        return word
    out: list[str] = []
    for index, char in enumerate(word):
        if not covered[index]:
            out.append(char)
        elif index == 0 or not covered[index - 1]:
            out.append("****")
    return "".join(out)
