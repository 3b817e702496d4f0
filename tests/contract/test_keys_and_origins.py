"""Keys and origins: `accept_key`, the API's `secret_key` and `base_url`, the server's host."""

from __future__ import annotations

import pytest

from contract.cases import KEY, KEY_RULE, Call, Ctx, Error, case, refused
from pytest_trigger_batches.api import TriggerApi
from pytest_trigger_batches.mock import MockTriggerApi
from pytest_trigger_batches.server import TriggerApiServer

KEYS_AND_ORIGINS = [
    case(
        "accept_key-too-short",
        lambda c: c.api.accept_key("tr_dev_abc"),
        ValueError,
        rf"key must be a secret key: {KEY_RULE}; got 'tr_dev_\*\*\*\*[0-9a-f]{{4}}'",
    ),
    case(
        "accept_key-too-long",
        lambda c: c.api.accept_key("tr_dev_" + "a" * 25),
        ValueError,
        rf"key must be a secret key: {KEY_RULE}; got 'tr_dev_\*\*\*\*[0-9a-f]{{4}}'",
    ),
    case(
        "accept_key-unknown-environment",
        lambda c: c.api.accept_key("tr_live_" + "a" * 24),
        ValueError,
        rf"key must be a secret key: {KEY_RULE}; got 'tr_live_\*\*\*\*[0-9a-f]{{4}}'",
    ),
    case(
        "accept_key-public-key",
        lambda c: c.api.accept_key("pk_dev_" + "a" * 22),
        ValueError,
        rf"key must be a secret key: {KEY_RULE}; got 'pk_dev_\*\*\*\*[0-9a-f]{{4}}'",
    ),
    case(
        "accept_key-with-Bearer",
        lambda c: c.api.accept_key("Bearer " + KEY),
        ValueError,
        rf"key must be a secret key: {KEY_RULE}; got '\*\*\*\*[0-9a-f]{{4}}'",
    ),
    case(
        "accept_key-trailing-space",
        lambda c: c.api.accept_key(KEY + " "),
        ValueError,
        rf"key must be a secret key: {KEY_RULE}; got 'tr_dev_\*\*\*\*[0-9a-f]{{4}}'",
    ),
    case(
        "accept_key-bytes",
        lambda c: c.api.accept_key(KEY.encode()),  # type: ignore[arg-type]
        ValueError,
        rf"key must be a secret key: {KEY_RULE}; got '<bytes>'",
    ),
    case(
        "accept_key-None",
        lambda c: c.api.accept_key(None),  # type: ignore[arg-type]
        ValueError,
        rf"key must be a secret key: {KEY_RULE}; got '<NoneType>'",
    ),
    case(
        "accept_key-environment-empty",
        lambda c: c.api.accept_key(KEY, environment=""),
        ValueError,
        r"environment must be a non-empty string or None; got ''",
    ),
    case(
        "accept_key-environment-int",
        lambda c: c.api.accept_key(KEY, environment=1),  # type: ignore[arg-type]
        ValueError,
        r"environment must be a non-empty string or None; got 1",
    ),
    case(
        "accept_key-environment-upper-case",
        lambda c: c.api.accept_key(KEY, environment="Dev"),
        ValueError,
        r"environment names are lower case, .*: 'dev'; got 'Dev'",
    ),
    case(
        "api-base_url-ftp",
        lambda c: TriggerApi(base_url="ftp://api.trigger.dev"),
        ValueError,
        r"base_url must be an http\(s\) URL such as 'https://api.trigger.dev'; "
        r"got 'ftp://api.trigger.dev'",
    ),
    case(
        "api-base_url-without-scheme",
        lambda c: TriggerApi(base_url="api.trigger.dev"),
        ValueError,
        r"base_url must be an http\(s\) URL such as 'https://api.trigger.dev'; "
        r"got 'api.trigger.dev'",
    ),
    case(
        "api-base_url-query",
        lambda c: TriggerApi(base_url="https://api.trigger.dev?x=1"),
        ValueError,
        r"base_url must not have a query or fragment; got 'https://api.trigger.dev\?x=1'",
    ),
    case(
        "api-base_url-port",
        lambda c: TriggerApi(base_url="https://api.trigger.dev:99999"),
        ValueError,
        r"base_url must have a port from 0 to 65535, if any; got 'https://api.trigger.dev:99999'",
    ),
    case(
        "api-base_url-None",
        lambda c: TriggerApi(base_url=None),  # type: ignore[arg-type]
        ValueError,
        r"base_url must be an http\(s\) URL such as 'https://api.trigger.dev'; got None",
    ),
    case(
        "api-secret_key-malformed",
        lambda c: TriggerApi(secret_key="sk_test_123"),
        ValueError,
        rf"secret_key must be a secret key: {KEY_RULE}; got 'sk_test_\*\*\*\*[0-9a-f]{{4}}'",
    ),
    case(
        "api-secret_key-empty",
        lambda c: MockTriggerApi(secret_key=""),
        ValueError,
        rf"secret_key must be a secret key: {KEY_RULE}; got '\*\*\*\*[0-9a-f]{{4}}'",
    ),
    case(
        "api-base_url-unclosed-ipv6",
        lambda c: MockTriggerApi(base_url="https://[::1"),
        ValueError,
        r"base_url must be",
    ),
    case(
        "server-host-int",
        lambda c: TriggerApiServer(host=5),  # type: ignore[arg-type]
        TypeError,
        r"host must be",
    ),
    case(
        "server-host-unresolvable",
        lambda c: TriggerApiServer(host="no-such-host.invalid"),
        ValueError,
        r"host must be",
    ),
]


@pytest.mark.parametrize(("call", "error", "match"), KEYS_AND_ORIGINS)
def test_a_bad_key_or_origin_is_refused_naming_the_parameter(
    ctx: Ctx, call: Call, error: Error, match: str
) -> None:
    refused(ctx, call, error, match)
