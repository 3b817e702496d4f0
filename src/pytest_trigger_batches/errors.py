"""Platform errors, raised by handlers and steps, rendered in the platform's formats."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

__all__ = [
    "JSON",
    "PROBLEM_JSON",
    "PlatformError",
    "js_double",
    "js_number",
    "js_number_text",
    "json_bytes",
    "pretty_json",
]

JSON = "application/json; charset=utf-8"
PROBLEM_JSON = "application/problem+json; charset=utf-8"


class PlatformError(Exception):
    """An answer other than success: a status and the body the platform writes for it.

    `cors=False` for the answers the platform's rate limiter writes itself (before the
    route's CORS wrapper could add headers); `rate_limited=False` for those written
    before the limiter ran.
    """

    def __init__(
        self,
        status_code: int,
        body: Mapping[str, object] | bytes,
        *,
        content_type: str = JSON,
        headers: Mapping[str, str] | None = None,
        cors: bool = True,
        rate_limit_headers: bool = True,
    ) -> None:
        super().__init__(status_code)
        self.status_code = status_code
        self.body: bytes = body if isinstance(body, bytes) else json_bytes(body)
        self.content_type = content_type
        self.headers: dict[str, str] = dict(headers or {})
        self.cors = cors
        self.rate_limit_headers = rate_limit_headers

    @classmethod
    def message(
        cls, status_code: int, message: str, *, headers: Mapping[str, str] | None = None
    ) -> PlatformError:
        """The common shape, `{"error": message}`."""
        return cls(status_code, {"error": message}, headers=headers)


def json_bytes(body: object) -> bytes:
    """Compact JSON, as Remix's `json()` writes it (a lone surrogate escaped, `\\ud800`;
    NaN and Infinity as `null`)."""
    return _stringify(body, separators=(",", ":"))


def pretty_json(body: object) -> bytes:
    """`JSON.stringify(body, null, 2)`, as the platform's rate limiter writes its bodies."""
    return _stringify(body, indent=2)


def _stringify(body: object, **layout: Any) -> bytes:
    try:
        text = json.dumps(body, ensure_ascii=False, allow_nan=False, **layout)
    except ValueError:  # JSON has no NaN or Infinity: JSON.stringify writes them as null
        text = json.dumps(_finite(body), ensure_ascii=False, **layout)
    return text.encode(errors=_LONE)


def _finite(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


_LONE = "backslashreplace"  # UTF-8 has no lone surrogates; JSON.stringify writes `\ud800`


def js_number(value: float) -> int | float:
    """`value` as JavaScript prints it: integral floats lose their `.0` (5, not 5.0)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    return value


def js_double(value: int | float) -> float:
    """A JSON number as JavaScript holds it (too large an integer is Infinity)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def js_number_text(value: int | float) -> str:
    """`String(value)` for a JSON number: `5`, `1.5`, `1e+21`, `1e-7`, `Infinity`."""
    number = js_double(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    _, digit_tuple, exponent = Decimal(repr(abs(number))).as_tuple()
    assert isinstance(exponent, int)
    shortest = "".join(map(str, digit_tuple))
    digits = shortest.rstrip("0")
    exponent += len(shortest) - len(digits)
    k, n = len(digits), len(digits) + exponent  # value = digits x 10^(n - k)
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        power = n - 1
        mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
        text = f"{mantissa}e{'+' if power >= 0 else '-'}{abs(power)}"
    return sign + text
