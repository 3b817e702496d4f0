"""The platform's duration grammars: one function for each place the platform reads one.

The platform has not one grammar but several, and they disagree (docs/platform.md §5.8):

- `parse_natural_duration_ms`: `delay`, `ttl` (`^(\\d+(?:w|d|hr|h|m|s))+$`: `2h30m`, `1hr`);
- `parse_delay`: `delay`, a duration from now or a date (a past date: not delayed);
- `resolve_idempotency_key_ttl`: `idempotencyKeyTTL` and the `idempotency-key-ttl` header
  (`<digits><s|m|h|d>`; anything else silently means the 30-day default);
- `stringify_duration` / `run_ttl`: how a run's `ttl` is stored (`3600` -> `"1h"`);
- `parse_duration`: `filter[createdAt][period]` of `GET /api/v1/runs` (the npm package
  parse-duration: `1 week`, `2h30m`, `30days`; unparsable: no time filter at all).

Durations are exact integers where the platform's arithmetic is exact (below 2**53 ms);
a moment past a JavaScript Date's range is an Invalid Date on the platform, which its
database refuses: `InvalidDate` says so, and the caller answers as the platform fails.
"""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal

from pytest_trigger_batches.rules import DEVELOPMENT
from pytest_trigger_batches.timefmt import DATE_LIMIT_MS

__all__ = [
    "DEVELOPMENT_TTL",
    "IDEMPOTENCY_KEY_TTL_MS",
    "InvalidDate",
    "idempotency_key_expires_ms",
    "parse_delay",
    "parse_duration",
    "parse_natural_duration_ms",
    "period_start_ms",
    "public_token_expiry",
    "resolve_idempotency_key_ttl",
    "run_ttl",
    "stringify_duration",
]

IDEMPOTENCY_KEY_TTL_MS = 30 * 86_400_000
"""How long an idempotency key lasts when its TTL is absent or unparsable: 30 days."""
DEVELOPMENT_TTL = "10m"
"""The `ttl` of a run triggered in a DEVELOPMENT environment without one."""


class InvalidDate(ValueError):
    """The platform would compute a moment outside a JavaScript Date's range.

    It holds an Invalid Date then, which its database refuses: the trigger fails.
    """


# -- `delay` and `ttl`: parseNaturalLanguageDurationInMs --------------------------------

_NATURAL_RE = re.compile(r"(?:[0-9]+(?:w|d|hr|h|m|s))+")
# The first of each unit counts ("1h2h" is 1 hour), as the platform's separate matches do.
_NATURAL_UNITS = (
    (re.compile(r"([0-9]+)w"), 604_800_000),
    (re.compile(r"([0-9]+)d"), 86_400_000),
    (re.compile(r"([0-9]+)(?:hr|h)"), 3_600_000),
    (re.compile(r"([0-9]+)m"), 60_000),
    (re.compile(r"([0-9]+)s"), 1000),
)


def parse_natural_duration_ms(text: str) -> int | None:
    """`"2h30m"`, `"1hr"`, `"90s"`, `"1w2d"` in milliseconds; None for anything else.

    Units w, d, h or hr, m, s, each after ASCII digits, in any order, nothing else (no
    spaces, no decimals); at most 100 characters. A unit given twice counts once.
    """
    if len(text) > 100 or not _NATURAL_RE.fullmatch(text):
        return None
    total = 0
    for pattern, unit_ms in _NATURAL_UNITS:
        found = pattern.search(text)
        if found is not None:
            total += int(found.group(1)) * unit_ms
    return total


# -- `delay`: parseDelay ----------------------------------------------------------------

# The Date Time String Format of ECMAScript (what `Date.toISOString()` and the SDK send),
# with the separators and fraction lengths V8 also reads.
_DATE_RE = re.compile(
    r"(?P<year>[0-9]{4}|[+-][0-9]{6})"
    r"(?:-(?P<month>[0-9]{2})(?:-(?P<day>[0-9]{2}))?)?"
    r"(?:[T ](?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})"
    r"(?::(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]+))?)?"
    r"(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})?)?"
)


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (day may overflow the month)."""
    year -= 1 if month <= 2 else 0
    era = year // 400
    of_era = year - era * 400
    of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    of_cycle = of_era * 365 + of_era // 4 - of_era // 100 + of_year
    return era * 146_097 + of_cycle - 719_468


def _bare_number_ms(text: str) -> int | None:
    """`new Date("3600")`: V8 reads digits alone as a year (or a month of 2001)."""
    significant = text.lstrip("0")
    if len(significant) > 6:  # past the year 275760
        return None
    number = int(significant or "0")
    if number == 0:
        year, month = 2000, 1
    elif number <= 12:
        year, month = 2001, number
    elif number <= 31:
        return None
    elif number <= 49:
        year, month = 2000 + number, 1
    elif number <= 99:
        year, month = 1900 + number, 1
    else:
        year, month = number, 1
    moment = _days_from_civil(year, month, 1) * 86_400_000
    return moment if moment <= DATE_LIMIT_MS else None


def _date_ms(text: str) -> int | None:
    """`new Date(text).getTime()` for ISO-style text and bare digits; None where it is
    an Invalid Date (or text only V8's lenient fallback reads, such as "March 1, 2030").
    """
    if text.isascii() and text.isdigit() and len(text) != 4:
        return _bare_number_ms(text)
    found = _DATE_RE.fullmatch(text)
    if found is None:
        return None
    parts = found.groupdict()
    year = int(parts["year"])
    if parts["year"] == "-000000":
        return None
    month = int(parts["month"] or 1)
    day = int(parts["day"] or 1)
    hour, minute = int(parts["hour"] or 0), int(parts["minute"] or 0)
    second = int(parts["second"] or 0)
    millisecond = int((parts["fraction"] or "0")[:3].ljust(3, "0"))
    if not (1 <= month <= 12 and 1 <= day <= 31 and minute <= 59 and second <= 59):
        return None
    if hour > 24 or (hour == 24 and (minute or second or millisecond)):
        return None
    offset_ms = 0
    zone = parts["zone"]
    if zone and zone != "Z":
        zone_hours, zone_minutes = int(zone[1:3]), int(zone[4:6])
        if zone_hours > 23 or zone_minutes > 59:
            return None
        offset_ms = (zone_hours * 60 + zone_minutes) * 60_000 * (1 if zone[0] == "+" else -1)
    days = _days_from_civil(year, month, day)
    moment = (
        days * 86_400_000 + ((hour * 60 + minute) * 60 + second) * 1000 + millisecond - offset_ms
    )
    return moment if -DATE_LIMIT_MS <= moment <= DATE_LIMIT_MS else None


def parse_delay(value: object, now_ms: int) -> int | None:
    """When a run with `delay: value` starts to queue, or None: not delayed.

    A duration (`"1h"`, `"2h30m"`) counts from `now_ms`; a date string counts if it is
    in the future (a past one: not delayed); a number is the moment the platform's
    schema coerces it to, kept as is. Anything else: not delayed. A duration that ends
    past a JavaScript Date's range raises `InvalidDate`.
    """
    if isinstance(value, bool) or value is None or value == "":
        return None
    if isinstance(value, int | float):
        if not math.isfinite(value) or abs(value) > DATE_LIMIT_MS:
            return None  # the schema refuses an Invalid Date
        return int(value)
    if not isinstance(value, str):
        return None
    moment = _date_ms(value)
    if moment is not None:
        return moment if moment > now_ms else None
    amount = parse_natural_duration_ms(value)
    if amount is None:
        return None
    if now_ms + amount > DATE_LIMIT_MS:
        raise InvalidDate(f"delay {value!r:.40} ends past a JavaScript Date's range")
    return now_ms + amount


# -- `idempotencyKeyTTL`, `idempotency-key-ttl`: resolveIdempotencyKeyTTL ----------------

_KEY_TTL_RE = re.compile(r"([0-9]+)([smhd])")
_KEY_TTL_UNITS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def resolve_idempotency_key_ttl(ttl: object, now_ms: int) -> int | None:
    """When a key given `ttl` (`"30s"`, `"5m"`, `"2h"`, `"7d"`) expires, or None.

    None for anything else, weeks (`"2w"`) and spaces (`"1 h"`) included: the platform
    then falls back (`idempotency_key_expires_ms`). A TTL that ends past a JavaScript
    Date's range raises `InvalidDate`.
    """
    if not isinstance(ttl, str):
        return None
    found = _KEY_TTL_RE.fullmatch(ttl)
    if found is None:
        return None
    digits = found.group(1).lstrip("0") or "0"
    # 17 digits of seconds already end past the range (and int() refuses 4,300 digits).
    if len(digits) <= 17:
        expires = now_ms + int(digits) * _KEY_TTL_UNITS[found.group(2)]
        if expires <= DATE_LIMIT_MS:
            return expires
    raise InvalidDate(f"idempotency key TTL {ttl!r:.40} ends past a JavaScript Date's range")


def idempotency_key_expires_ms(*ttls: object, now_ms: int) -> int:
    """When a key expires: the first of `ttls` that resolves, else in 30 days."""
    for ttl in ttls:
        expires = resolve_idempotency_key_ttl(ttl, now_ms)
        if expires is not None:
            return expires
    return now_ms + IDEMPOTENCY_KEY_TTL_MS


# -- `ttl`: stringifyDuration and the dev default ---------------------------------------


def _js_number_text(number: float) -> str:
    """`String(number)` for a whole, non-negative number, as JavaScript writes it: the
    shortest digits that read back as `number`, zero-padded below 1e21."""
    return str(int(Decimal(repr(number)))) if number < 1e21 else repr(number)


def stringify_duration(seconds: float) -> str | None:
    """A number of seconds as the platform stores it: `3600` -> `"1h"`, `90061` ->
    `"1d1h1m1s"`; None for 0 or less.
    """
    if isinstance(seconds, int) and not isinstance(seconds, bool):
        if seconds <= 0:
            return None
        if seconds < 2**53:  # exact, as JavaScript's arithmetic is here
            weeks, rest = divmod(seconds, 604_800)
            units = (weeks, rest // 86_400, rest % 86_400 // 3600, rest % 3600 // 60, rest % 60)
            return "".join(f"{n}{u}" for n, u in zip(units, "wdhms", strict=True) if n)
        try:
            seconds = float(seconds)
        except OverflowError:
            return None  # Infinity: the schema refuses it
    if not math.isfinite(seconds) or seconds <= 0:
        return None
    units_f = (
        math.floor(seconds / 604_800),
        math.floor(seconds % 604_800 / 86_400),
        math.floor(seconds % 86_400 / 3600),
        math.floor(seconds % 3600 / 60),
        math.floor(seconds % 60),
    )
    return "".join(
        f"{_js_number_text(float(n))}{u}" for n, u in zip(units_f, "wdhms", strict=True) if n
    )


def run_ttl(value: object, *, environment: str) -> str | None:
    """The `ttl` the platform stores for a run triggered with `ttl: value` (None: absent).

    A string is kept as given; a number of seconds is written as a duration (0: no ttl);
    without one, a run in the DEVELOPMENT environment (`dev`) gets `"10m"`.
    """
    if value is None:
        return DEVELOPMENT_TTL if environment == DEVELOPMENT else None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return stringify_duration(value)
    return None


# -- `filter[createdAt][period]`: the npm package parse-duration (2.1, English) ----------

_MINUTE = 60_000.0
_HOUR = _MINUTE * 60
_DAY = _HOUR * 24
_YEAR = _DAY * 365.25
# In the package's order (the order matters: a bare number takes the next smaller unit).
# Its table also holds its separators by name, which a "unit" can name, to no good.
_UNITS: tuple[tuple[str, float | str], ...] = (
    *((name, _YEAR) for name in ("year", "yr", "y")),
    *((name, _YEAR / 12) for name in ("month", "mo", "mth")),
    *((name, _DAY * 7) for name in ("week", "wk", "w")),
    *((name, _DAY) for name in ("day", "d")),
    *((name, _HOUR) for name in ("hour", "hr", "h")),
    *((name, _MINUTE) for name in ("minute", "min", "m")),
    *((name, 1000.0) for name in ("second", "sec", "s")),
    *((name, 1.0) for name in ("millisecond", "millisec", "ms")),
    *((name, 1e-3) for name in ("microsecond", "microsec", "us", "\u00b5s")),
    *((name, 1e-6) for name in ("nanosecond", "nanosec", "ns")),
    ("group", ","),
    ("decimal", "."),
    ("placeholder", " _"),
)
_UNIT = dict(_UNITS)
_GROUPED_RE = re.compile(r"([0-9])[ _,]([0-9])")
_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_NUMBER_RE = re.compile(
    rf"((?:[0-9]{{1,16}}(?:\.[0-9]{{1,16}})?|\.[0-9]{{1,16}})(?:[eE][-+]?[0-9]{{1,4}})?)"
    rf"[{_JS_SPACE}]?"
)


def _times(amount: float, unit: float | str) -> float:
    return amount * unit if isinstance(unit, float) else math.nan  # a number times ","


def _smaller(than: float | str) -> str:
    """The first unit in the table smaller than `than` ("" if none), compared as JS does."""
    for name, value in _UNITS:
        if isinstance(value, str) != isinstance(than, str):
            continue  # a number against "," is NaN: never smaller
        if value < than:  # type: ignore[operator]
            return name
    return ""


def parse_duration(text: str) -> float | None:
    """What `parseDuration(text)` returns: milliseconds (maybe fractional, 0, NaN or
    infinite) or None when nothing in `text` is a number.

    Numbers with optional units anywhere in the text add up (`1 week`, `2h30m`,
    `30days`, `1.5h`); a bare number after a unit takes the next smaller one (`1h30`
    is 1 h 30 min), a first bare number is milliseconds; a leading `-` negates it all.
    """
    cleaned = _GROUPED_RE.sub(r"\1\2", text)
    result: float | None = None
    previous: float | str | None = None
    position = 0
    while True:
        found = _NUMBER_RE.search(cleaned, position)
        if found is None:
            break
        end = found.end()
        letters = end
        while (
            letters < len(cleaned)
            and letters - end < 14
            and unicodedata.category(cleaned[letters]).startswith("L")
        ):
            letters += 1
        position = letters
        # No unit: the next smaller than the last one, or milliseconds at first.
        name = cleaned[end:letters].lower() or (_smaller(previous) if previous else "ms")
        unit = _UNIT.get(name)
        if unit is None and name.endswith("s"):
            unit = _UNIT.get(name[:-1])
        previous = unit
        if unit is not None:
            # JavaScript's `result || 0`: null, 0 and NaN all start again from 0.
            base = result if result and not math.isnan(result) else 0.0
            result = base + _times(float(found.group(1)), unit)
    if not result or math.isnan(result):  # None, 0 and NaN come back as they are
        return result
    return -result if text[:1] == "-" else result


def period_start_ms(period: str, now_ms: int) -> int | None:
    """Where `filter[createdAt][period]=period` starts listing runs; None: no time filter.

    The platform applies the period only when `parse_duration` gives a number other
    than 0 (unparsable text means no time filter at all, not the default 7 days). A
    period that reaches past a JavaScript Date's range raises `InvalidDate` (the
    platform's query then fails).
    """
    span = parse_duration(period)
    if not span or math.isnan(span):
        return None
    start = now_ms - span
    if not math.isfinite(start) or abs(start) > DATE_LIMIT_MS:
        raise InvalidDate(f"period {period!r:.40} reaches past a JavaScript Date's range")
    return math.trunc(start)


# --- tokens: a public token's expiration time (POST /api/v1/auth/public-tokens) ---

_RELATIVE_TIME_RE = re.compile(
    r"(\+|-)? ?([0-9]+|[0-9]+\.[0-9]+) ?"
    r"(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w|years?|yrs?|y)"
    r"(?: (ago|from now))?",
    re.IGNORECASE | re.ASCII,  # JavaScript's /i without /u: ASCII letters only
)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800, "y": 31_557_600}
"""A unit's seconds, by its first letter (a year is 365.25 days)."""


def _js_round(number: float) -> float:
    """`Math.round`: the nearest integer, halves up (toward +Infinity)."""
    if not math.isfinite(number):
        return number
    floor = math.floor(number)
    return floor + 1 if number - floor >= 0.5 else floor


def public_token_expiry(value: str | float, now_s: int) -> float | None:
    """When a public token minted at `now_s` expires, in seconds since the epoch.

    A number is the moment itself; text is a relative time (`15m`, `2 hours`,
    `1.5d from now`, `-5m`, `5m ago`), with a sign or a suffix, not both. None for text
    the grammar does not read (`publicTokens.server.ts`).
    """
    if not isinstance(value, str):
        return value
    found = _RELATIVE_TIME_RE.fullmatch(value)
    if found is None or (found.group(4) and found.group(1)):
        return None
    seconds = _js_round(float(found.group(2)) * _UNIT_SECONDS[found.group(3)[0].lower()])
    past = found.group(1) == "-" or (found.group(4) or "").lower() == "ago"
    return now_s - seconds if past else now_s + seconds
