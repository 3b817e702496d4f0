"""The platform's duration grammars (docs/platform.md §5.8), each as the platform reads it."""

from __future__ import annotations

import math

import pytest

from pytest_trigger_batches.durations import (
    IDEMPOTENCY_KEY_TTL_MS,
    InvalidDate,
    idempotency_key_expires_ms,
    parse_delay,
    parse_duration,
    parse_natural_duration_ms,
    period_start_ms,
    resolve_idempotency_key_ttl,
    run_ttl,
    stringify_duration,
)
from pytest_trigger_batches.timefmt import DATE_LIMIT_MS, from_ms, iso_ms, to_ms

NOW = 1_780_000_000_000  # 2026-05-28T20:26:40Z
H = 3_600_000

# -- delay and ttl: parseNaturalLanguageDurationInMs -------------------------------------


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("90s", 90_000),
        ("2h30m", 2 * H + 30 * 60_000),
        ("30m2h", 2 * H + 30 * 60_000),  # in any order
        ("1hr", H),
        ("1w2d", 9 * 24 * H),
        ("0s", 0),
        ("1h2h", H),  # a unit given twice counts once, the first
        ("999999999999w", 999_999_999_999 * 7 * 24 * H),  # exact, however large
    ],
)
def test_natural_durations_add_up_their_units(text: str, ms: int) -> None:
    assert parse_natural_duration_ms(text) == ms


@pytest.mark.parametrize(
    "text", ["", "h", "1 h", "1.5h", "2y", "1H", "1hours", "\u00b2d", "1d" * 51, "-1h"]
)
def test_natural_durations_refuse_anything_else(text: str) -> None:
    assert parse_natural_duration_ms(text) is None


# -- delay: parseDelay ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "until"),
    [
        ("2h30m", NOW + 2 * H + 30 * 60_000),
        ("2026-06-01T00:00:00Z", to_ms(from_ms(0).replace(year=2026, month=6))),
        ("2026-06-01T02:00:00+02:00", to_ms(from_ms(0).replace(year=2026, month=6))),
        ("2026-06-01", to_ms(from_ms(0).replace(year=2026, month=6))),  # a date alone: UTC
        ("2027-02-30T00:00:00Z", to_ms(from_ms(0).replace(year=2027, month=3, day=2))),  # V8
        ("2026-05-28T20:26:40.001Z", NOW + 1),
        ("2026-05-28T20:26:40.000Z", None),  # now is not the future
        ("3600", to_ms(from_ms(0).replace(year=3600))),  # V8 reads bare digits as a year
        ("32", to_ms(from_ms(0).replace(year=2032))),
        ("30", None),  # 13 to 31: no date, and no duration
        ("12", None),  # a month of 2001: past
        (NOW + 5, NOW + 5),  # a number: the moment the schema coerces it to
        ("", None),
        ("soon", None),
        (None, None),
        (True, None),
    ],
)
def test_a_delay_is_a_duration_from_now_or_a_future_date(value: object, until: int | None) -> None:
    assert parse_delay(value, NOW) == until


def test_a_delay_that_ends_past_a_javascript_date_is_an_invalid_date() -> None:
    assert parse_delay("1000000w", NOW) == NOW + 1_000_000 * 7 * 24 * H  # year 21,000 or so
    with pytest.raises(InvalidDate, match="delay '999999999999w'"):
        parse_delay("999999999999w", NOW)
    assert parse_delay("+275761-01-01T00:00:00Z", NOW) is None  # an Invalid Date: no delay


# -- idempotencyKeyTTL: resolveIdempotencyKeyTTL ----------------------------------------


@pytest.mark.parametrize(
    ("ttl", "expires"),
    [
        ("30s", NOW + 30_000),
        ("5m", NOW + 300_000),
        ("2h", NOW + 2 * H),
        ("7d", NOW + 7 * 24 * H),
        ("2w", None),  # no weeks here, unlike delay
        ("1 week", None),
        ("1h30m", None),
        ("", None),
        (None, None),
        (3600, None),
    ],
)
def test_a_key_ttl_is_digits_and_one_of_s_m_h_d(ttl: object, expires: int | None) -> None:
    assert resolve_idempotency_key_ttl(ttl, NOW) == expires


def test_a_key_ttl_of_thousands_of_digits_is_past_a_javascript_date_not_a_crash() -> None:
    with pytest.raises(InvalidDate):
        resolve_idempotency_key_ttl("9" * 5000 + "s", NOW)
    assert resolve_idempotency_key_ttl("0" * 5000 + "1s", NOW) == NOW + 1000
    assert parse_delay("9" * 5000, NOW) is None  # no date, no duration: not delayed
    assert parse_delay("0" * 5000 + "3600", NOW) == to_ms(from_ms(0).replace(year=3600))


def test_a_key_lasts_the_first_readable_ttl_else_30_days() -> None:
    assert idempotency_key_expires_ms("1h", "2h", now_ms=NOW) == NOW + H
    assert idempotency_key_expires_ms("2w", "2h", now_ms=NOW) == NOW + 2 * H
    assert idempotency_key_expires_ms("2w", None, now_ms=NOW) == NOW + IDEMPOTENCY_KEY_TTL_MS
    assert IDEMPOTENCY_KEY_TTL_MS == 30 * 24 * H
    with pytest.raises(InvalidDate):
        idempotency_key_expires_ms("99999999999999d", now_ms=NOW)


# -- ttl: stringifyDuration and the dev default ------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (3600, "1h"),
        (90_061, "1d1h1m1s"),
        (604_800, "1w"),
        (1_209_601, "2w1s"),
        (3600.0, "1h"),
        (1.5, "1s"),
        (0.5, ""),  # more than nothing, less than a second: an empty duration
        (0, None),
        (-5, None),
        (2**60, "1906285556558w6d13h56m16s"),  # as JavaScript's doubles round it
        (2**70, "1952036409916354w4d16h17m4s"),
        (1e300, "1.6534391534391536e+294w2d17h36m"),  # and as it writes a huge number
        (10**300, "1.6534391534391536e+294w2d17h36m"),
        (10**400, None),  # Infinity: no number the schema takes
    ],
)
def test_seconds_are_stored_as_weeks_days_hours_minutes_seconds(
    seconds: float, text: str | None
) -> None:
    assert stringify_duration(seconds) == text


@pytest.mark.parametrize(
    ("value", "environment", "stored"),
    [
        ("1h", "prod", "1h"),
        ("banana", "dev", "banana"),  # any string is stored as given
        (3600, "prod", "1h"),
        (0, "dev", None),  # a ttl of 0 is none, and not the default either
        (None, "dev", "10m"),
        (None, "stg", None),
        (None, "prod", None),
        (None, "preview", None),
    ],
)
def test_a_runs_ttl_is_the_given_one_else_ten_minutes_in_development(
    value: object, environment: str, stored: str | None
) -> None:
    assert run_ttl(value, environment=environment) == stored


# -- filter[createdAt][period]: parse-duration -------------------------------------------


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("1 week", 7 * 24 * H),
        ("2h30m", 2.5 * H),
        ("30days", 30 * 24 * H),
        ("1.5h", 1.5 * H),
        ("1h30", 1.5 * H),  # a bare number after a unit takes the next smaller one
        ("90", 90),  # a first bare number is milliseconds
        ("2 Weeks", 14 * 24 * H),
        ("10sec 5 min", 5 * 60_000 + 10_000),
        ("1 year", 365.25 * 24 * H),
        ("1,000ms", 1000),  # separators between digits go
        ("1e3s", 1_000_000),
        ("-1h", -H),  # a leading minus negates it all
        ("0s", 0),
        ("forever", None),
        ("", None),
        ("1 group 2h", 2 * H),  # a separator's name is a unit worth NaN, then 0 again
    ],
)
def test_a_period_reads_as_the_parse_duration_package_reads_it(text: str, ms: float | None) -> None:
    assert parse_duration(text) == ms


def test_parse_duration_gives_nan_or_infinity_as_javascript_would() -> None:
    assert math.isnan(parse_duration("1 group") or 0.0)
    assert parse_duration("1e9999y") == math.inf


@pytest.mark.parametrize(
    ("period", "start"),
    [
        ("7d", NOW - 7 * 24 * H),
        ("1.5ms", NOW - 2),  # a Date drops the fraction: NOW - 1.5 is NOW - 2 + 0.5
        ("-1h", NOW + H),
        ("forever", None),  # unreadable: no time filter at all
        ("0s", None),
        ("1 group", None),  # NaN: no time filter
    ],
)
def test_a_period_starts_that_long_ago_or_filters_nothing(period: str, start: int | None) -> None:
    assert period_start_ms(period, NOW) == start


@pytest.mark.parametrize("period", ["999999999999w", "1e9999y", "-300000 years"])
def test_a_period_reaching_past_a_javascript_date_is_an_invalid_date(period: str) -> None:
    with pytest.raises(InvalidDate):
        period_start_ms(period, NOW)


# -- moments: toISOString ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (NOW, "2026-05-28T20:26:40.000Z"),
        (0, "1970-01-01T00:00:00.000Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (-62_167_219_200_000, "0000-01-01T00:00:00.000Z"),
        (-62_167_219_200_001, "-000001-12-31T23:59:59.999Z"),
        (253_402_300_800_000, "+010000-01-01T00:00:00.000Z"),
        (DATE_LIMIT_MS, "+275760-09-13T00:00:00.000Z"),
        (-DATE_LIMIT_MS, "-271821-04-20T00:00:00.000Z"),
    ],
)
def test_moments_are_written_as_javascripts_to_iso_string(ms: int, text: str) -> None:
    assert iso_ms(ms) == text


def test_a_moment_past_a_javascript_date_cannot_be_written() -> None:
    with pytest.raises(ValueError, match="outside a JavaScript Date's range"):
        iso_ms(DATE_LIMIT_MS + 1)
    with pytest.raises(ValueError, match="outside years 1 to 9999"):
        from_ms(DATE_LIMIT_MS)
