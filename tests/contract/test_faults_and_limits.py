"""`fail_next` and `rate_limit`: kinds, counts, status codes, durations, batch ids, `when`."""

from __future__ import annotations

import math
import re

import pytest

from contract.cases import WELL_FORMED_ID, Call, Ctx, Error, case, refused
from pytest_trigger_batches.faults import FAULT_KINDS

FAULTS = re.escape(", ".join(FAULT_KINDS))

FAULTS_AND_LIMITS = [
    case(
        "fault-unknown",
        lambda c: c.api.fail_next("boom"),  # type: ignore[arg-type]
        ValueError,
        rf"fault must be one of {FAULTS}; got 'boom'",
    ),
    case(
        "fault-upper-case",
        lambda c: c.api.fail_next("RATE_LIMIT"),  # type: ignore[arg-type]
        ValueError,
        rf"fault must be one of {FAULTS}; got 'RATE_LIMIT'",
    ),
    case(
        "fault-status-code",
        lambda c: c.api.fail_next(429),  # type: ignore[arg-type]
        ValueError,
        rf"fault must be one of {FAULTS}; got 429",
    ),
    case(
        "fault-times-0",
        lambda c: c.api.fail_next("timeout", times=0),
        ValueError,
        r"times must be a whole number from 1 to 10\*\*9; got 0",
    ),
    case(
        "fault-times-True",
        lambda c: c.api.fail_next("timeout", times=True),
        ValueError,
        r"times must be a whole number from 1 to 10\*\*9; got True",
    ),
    case(
        "fault-times-float",
        lambda c: c.api.fail_next("timeout", times=1.5),  # type: ignore[arg-type]
        ValueError,
        r"times must be a whole number from 1 to 10\*\*9; got 1.5",
    ),
    case(
        "fault-status_code-404",
        lambda c: c.api.fail_next("server_error", status_code=404),
        ValueError,
        r"status_code must be a 5xx status \(500 to 599\); got 404",
    ),
    case(
        "fault-status_code-600",
        lambda c: c.api.fail_next("server_error", status_code=600),
        ValueError,
        r"status_code must be a 5xx status \(500 to 599\); got 600",
    ),
    case(
        "fault-status_code-str",
        lambda c: c.api.fail_next("server_error", status_code="503"),  # type: ignore[arg-type]
        ValueError,
        r"status_code must be a 5xx status \(500 to 599\); got '503'",
    ),
    case(
        "fault-status_code-for-timeout",
        lambda c: c.api.fail_next("timeout", status_code=503),
        ValueError,
        r"status_code applies to fault='server_error' only; got status_code=503 with "
        r"fault='timeout'",
    ),
    case(
        "fault-reset_after-negative",
        lambda c: c.api.fail_next("rate_limit", reset_after=-1),
        ValueError,
        r"reset_after must be a number of seconds from 0 to a year \(31536000\); got -1",
    ),
    case(
        "fault-reset_after-nan",
        lambda c: c.api.fail_next("rate_limit", reset_after=math.nan),
        ValueError,
        r"reset_after must be a number of seconds from 0 to a year \(31536000\); got nan",
    ),
    case(
        "fault-reset_after-inf",
        lambda c: c.api.fail_next("rate_limit", reset_after=math.inf),
        ValueError,
        r"reset_after must be a number of seconds from 0 to a year \(31536000\); got inf",
    ),
    case(
        "fault-reset_after-str",
        lambda c: c.api.fail_next("rate_limit", reset_after="2"),  # type: ignore[arg-type]
        ValueError,
        r"reset_after must be a number of seconds from 0 to a year \(31536000\); got '2'",
    ),
    case(
        "fault-reset_after-for-server_error",
        lambda c: c.api.fail_next("server_error", reset_after=5),
        ValueError,
        r"reset_after applies to fault='rate_limit' only; got reset_after=5 with "
        r"fault='server_error'",
    ),
    case(
        "fault-batch_id-empty",
        lambda c: c.api.fail_next("timeout", batch_id=""),
        ValueError,
        r"batch_id must be a batch id or None \(any batch\); got ''",
    ),
    case(
        "fault-batch_id-a-batch",
        lambda c: c.api.fail_next("timeout", batch_id=c.batch),  # type: ignore[arg-type]
        ValueError,
        r"batch_id must be a batch id or None \(any batch\); got TriggerBatch\(",
    ),
    case(
        "rate_limit-limit-0",
        lambda c: c.api.rate_limit(limit=0),
        ValueError,
        r"limit must be a whole number from 1 to 10\*\*9; got 0",
    ),
    case(
        "rate_limit-limit-True",
        lambda c: c.api.rate_limit(limit=True),
        ValueError,
        r"limit must be a whole number from 1 to 10\*\*9; got True",
    ),
    case(
        "rate_limit-refill-0",
        lambda c: c.api.rate_limit(refill=0),
        ValueError,
        r"refill must be a whole number from 1 to 10\*\*9; got 0",
    ),
    case(
        "rate_limit-refill-float",
        lambda c: c.api.rate_limit(refill=2.5),  # type: ignore[arg-type]
        ValueError,
        r"refill must be a whole number from 1 to 10\*\*9; got 2.5",
    ),
    case(
        "rate_limit-interval-0",
        lambda c: c.api.rate_limit(interval=0),
        ValueError,
        r"interval must be a number of seconds > 0 \(at most a year\); got 0",
    ),
    case(
        "rate_limit-interval-nan",
        lambda c: c.api.rate_limit(interval=math.nan),
        ValueError,
        r"interval must be a number of seconds > 0 \(at most a year\); got nan",
    ),
    case(
        "rate_limit-interval-inf",
        lambda c: c.api.rate_limit(interval=math.inf),
        ValueError,
        r"interval must be a number of seconds > 0 \(at most a year\); got inf",
    ),
    case(
        "rate_limit-interval-True",
        lambda c: c.api.rate_limit(interval=True),
        ValueError,
        r"interval must be a number of seconds > 0 \(at most a year\); got True",
    ),
    case(
        "rate_limit-interval-str",
        lambda c: c.api.rate_limit(interval="10"),  # type: ignore[arg-type]
        ValueError,
        r"interval must be a number of seconds > 0 \(at most a year\); got '10'",
    ),
    case(
        "fail_next-when",
        lambda c: c.api.fail_next("timeout", when="during"),
        ValueError,
        r"when must be 'before' or 'after'",
    ),
    case(
        "fail_next-when-kind",
        lambda c: c.api.fail_next("server_error", when="after"),
        ValueError,
        r"when='after' applies to fault='timeout' or 'connect_error'",
    ),
    case(
        "fault-batch_id-unregistered",
        lambda c: c.api.fail_next("timeout", batch_id=WELL_FORMED_ID),
        ValueError,
        r"batch_id must be a registered batch",
    ),
    # hostile values: numbers too large to sleep, count or compare
    case(
        "fault-reset_after-1e306",
        lambda c: c.api.fail_next("rate_limit", reset_after=1e306),
        ValueError,
        r"reset_after must be",
    ),
    case(
        "rate_limit-interval-1e306",
        lambda c: c.api.rate_limit(interval=1e306),
        ValueError,
        r"interval must be",
    ),
    case(
        "rate_limit-limit-10**5000",
        lambda c: c.api.rate_limit(limit=10**5000),
        ValueError,
        r"limit must be",
    ),
]


@pytest.mark.parametrize(("call", "error", "match"), FAULTS_AND_LIMITS)
def test_a_bad_fault_or_limit_is_refused_naming_the_parameter(
    ctx: Ctx, call: Call, error: Error, match: str
) -> None:
    refused(ctx, call, error, match)
