"""The facade's argument checks: each raises a clear error naming the parameter and the
valid choices, before `TriggerApi` asks the backend for anything.

`api.py` imports this module as `import pytest_trigger_batches.checks`, not `from
pytest_trigger_batches import checks`: the latter takes the package's attribute, which
after pytester's in-process run restored `sys.modules` is the module of an earlier run,
whose `isinstance(batch, TriggerBatch)` is about another run's classes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from pytest_trigger_batches import lifecycle, rules
from pytest_trigger_batches.model import TriggerBatch, TriggerRun, server_shape_problem
from pytest_trigger_batches.ratelimit import Limits
from pytest_trigger_batches.records import (
    OUTCOMES,
    BatchHandle,
    ItemOutcome,
    TriggeredBatchHandle,
)
from pytest_trigger_batches.redact import redact
from pytest_trigger_batches.routes import BODILESS_STATUSES
from pytest_trigger_batches.shown import shown
from pytest_trigger_batches.statuses import RUN_OUTCOMES, RUN_STATUSES
from pytest_trigger_batches.stored_run import HOLDS

__all__ = [
    "METHODS",
    "batch_id",
    "batch_states",
    "environment",
    "expires_in",
    "item_outcome",
    "json_data",
    "known_environment",
    "limits",
    "registered_runs",
    "route",
    "run_rule",
    "scopes",
    "task_and_index",
    "waitpoint_token",
]

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
"""The methods `add_route` serves."""


def environment(value: object) -> None:
    """None, or an environment's name (lower case, as in the key prefix)."""
    if value is None:
        return
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"environment must be a non-empty string or None; got {shown(value)}")
    if value not in rules.ENVIRONMENTS and value.strip().lower() in rules.ENVIRONMENTS:
        raise ValueError(
            f"environment names are lower case, as in the key prefix "
            f"({', '.join(rules.ENVIRONMENTS)}): {shown(value.strip().lower())}; "
            f"got {shown(value)}"
        )


def batch_states(
    batch: object, *, progress_after: int | None, check_ids: object
) -> tuple[TriggerBatch, ...]:
    """`add_batch`'s `batch`: the states its retrievals walk through."""
    if not isinstance(check_ids, bool):
        raise TypeError(f"check_ids must be True or False; got {shown(check_ids)}")
    if isinstance(batch, TriggerBatch | Mapping):
        states: tuple[TriggerBatch, ...] = (
            _as_batch(batch, parameter="batch", check_ids=check_ids),
        )
    elif isinstance(batch, Sequence) and not isinstance(batch, str | bytes):
        states = tuple(
            _as_batch(state, parameter=f"batch[{i}]", check_ids=check_ids)
            for i, state in enumerate(batch)
        )
        if not states:
            raise ValueError("batch must hold at least one state; got an empty sequence")
        if progress_after is not None:
            raise ValueError(
                "progress_after derives the states from one batch; with a sequence "
                "of states, leave it out"
            )
        lifecycle.check_sequence(states)
    else:
        raise TypeError(
            f"batch must be a TriggerBatch, a payload dict or a sequence of them; "
            f"got {shown(batch)}"
        )
    if progress_after is not None:
        states = lifecycle.timeline(states[0], polls=progress_after)
    return states


def _as_batch(value: object, *, parameter: str, check_ids: bool = True) -> TriggerBatch:
    if isinstance(value, TriggerBatch):
        return value
    if isinstance(value, Mapping):
        shape = server_shape_problem(value)
        if shape:
            raise ValueError(
                f"{parameter} is not a body the server writes: {shape} "
                f"(TriggerBatch.from_payload(body) reads the spec's documented shape)"
            )
        try:
            return TriggerBatch.from_payload(value, check_ids=check_ids)
        except (ValueError, TypeError) as problem:
            raise ValueError(f"{parameter} is not a valid batch payload: {problem}") from None
    raise TypeError(f"{parameter} must be a TriggerBatch or a payload dict; got {shown(value)}")


def known_environment(value: str | None, known: Sequence[str]) -> None:
    """An environment some key could belong to (else every request would get 404)."""
    if value is not None and value not in known:
        raise ValueError(
            f"environment must be one a key belongs to: {', '.join(sorted(known))}; "
            f"got {shown(value)} (pin a key to it first: accept_key(key, environment=...))"
        )


def registered_runs(runs: Sequence[object], final: TriggerBatch) -> list[TriggerRun]:
    """`add_batch`'s `runs`: `TriggerRun`s of runs the batch's last state lists."""
    listed = set(final.runs)
    found = []
    for number, run in enumerate(runs):
        if not isinstance(run, TriggerRun) or run.id not in listed:
            raise ValueError(
                f"runs[{number}] must be a TriggerRun of a run the batch lists "
                f"(trigger_batch_factory.runs_of(batch)); got {shown(run)}"
            )
        found.append(run)
    return found


def batch_id(batch: object) -> str:
    """The id of a batch named by id, `TriggerBatch` or handle."""
    if isinstance(batch, TriggerBatch | BatchHandle | TriggeredBatchHandle):
        return batch.id
    if isinstance(batch, str) and batch:
        return batch
    raise TypeError(
        f"batch must be a batch id, a TriggerBatch or a handle; got {redact(repr(batch)):.100}"
    )


def run_status(value: object, *, parameter: str) -> str:
    """A run status in the current vocabulary (`RUN_STATUSES`)."""
    if not isinstance(value, str) or value not in RUN_STATUSES:
        raise ValueError(
            f"{parameter} must be one of {', '.join(RUN_STATUSES)}; got {shown(value)}"
        )
    return value


def scopes(value: object) -> list[str]:
    """A public token's scopes: non-empty strings."""
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError(f"scopes must be a list of scope strings; got {shown(value)}")
    bad = [s for s in value if not isinstance(s, str) or not s]
    if bad:
        raise ValueError(f"scopes must be non-empty strings such as 'read:runs'; got {shown(bad)}")
    return list(value)


def expires_in(value: object) -> float:
    """A token's lifetime: seconds > 0."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 10**10:
        raise ValueError(f"expires_in must be a number of seconds > 0; got {shown(value)}")
    return value


def item_outcome(value: object) -> ItemOutcome:
    """`value` if it names an item outcome, else `ValueError` listing them."""
    if value not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}; got {shown(value, 50)}")
    return value  # type: ignore[return-value]


def task_and_index(task: object, index: object) -> None:
    """A rule's `task` (an identifier, or None: any) and item `index` (>= 0, or None)."""
    if task is not None and (not isinstance(task, str) or not task):
        raise ValueError(f"task must be a task identifier or None (any); got {shown(task, 50)}")
    if index is not None:
        rules.whole_number(index, parameter="index", minimum=0)


def run_rule(
    outcome: str | None,
    task: str | None,
    index: int | None,
    output: object,
    error: Mapping[str, object] | None,
    hold: object = None,
) -> None:
    """`on_run`'s final status, whose runs, the output or error that goes with it, and
    where the runs wait (`hold`)."""
    if outcome is None and hold is None:
        raise ValueError(
            f"on_run needs outcome= (one of {', '.join(RUN_OUTCOMES)}), "
            f"hold= (one of {', '.join(HOLDS)}) or both"
        )
    if outcome is not None and outcome not in RUN_OUTCOMES:
        raise ValueError(
            f"outcome must be one of {', '.join(RUN_OUTCOMES)}; got {shown(outcome, 50)}"
        )
    if hold is not None and hold not in HOLDS:
        raise ValueError(f"hold must be one of {', '.join(HOLDS)}, or None; got {shown(hold, 50)}")
    task_and_index(task, index)
    if outcome is None and (output is not None or error is not None):
        raise ValueError("output and error go with an outcome: give outcome= too")
    if error is not None and (
        not isinstance(error, Mapping) or not isinstance(error.get("message"), str)
    ):
        raise TypeError(f'error must be {{"message": str, ...}} or None; got {shown(error)}')
    if output is not None and outcome != "COMPLETED":
        raise ValueError(f"output applies to outcome='COMPLETED' only; got {shown(outcome)}")
    json_data(output, parameter="output")


def limits(limit: int, refill: int, interval: float) -> Limits:
    """`rate_limit`'s bucket size: whole numbers of tokens, an interval in seconds."""
    for name, value in (("limit", limit), ("refill", refill)):
        if not rules.is_whole_number(value) or not 1 <= value <= 10**9:
            raise ValueError(f"{name} must be a whole number from 1 to 10**9; got {shown(value)}")
    if (
        not isinstance(interval, int | float)
        or isinstance(interval, bool)
        or not 0 < interval <= 86_400 * 365
    ):
        raise ValueError(
            f"interval must be a number of seconds > 0 (at most a year); got {shown(interval, 50)}"
        )
    return Limits(limit, refill, max(1, round(interval * 1000)))


def route(method: str, path: str, status_code: int) -> str:
    """`add_route`'s method (upper-cased, returned), path template and status."""
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {shown(method, 50)}")
    if not isinstance(path, str) or not path.startswith("/api/"):
        raise ValueError(
            f"path must be a path template under /api/, such as "
            f"'/api/v1/runs/{{runId}}/tags'; got {shown(path)}"
        )
    if not rules.is_whole_number(status_code) or not 200 <= status_code <= 599:
        raise ValueError(
            f"status_code must be a final HTTP status, 200 to 599 (after a 1xx a client "
            f"waits for another answer); got {shown(status_code)}"
        )
    return method.upper()


def route_body(status_code: int, value: object) -> bytes:
    """`add_route`'s `json` as the body: `{}` for None, none at all for a 204 or 304."""
    if status_code in BODILESS_STATUSES:
        if value is not None:
            raise ValueError(
                f"json must be None with status_code={status_code}: a {status_code} answer "
                f"has no body"
            )
        return b""
    try:
        text = json.dumps({} if value is None else value, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError, RecursionError) as problem:
        raise TypeError(
            f"json must be JSON-serializable (JSON has no NaN or Infinity); {problem}"
        ) from None
    return text.encode()


_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # an HTTP token
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")
_FRAMING = frozenset(("content-length", "transfer-encoding"))


def route_headers(headers: object) -> dict[str, str]:
    """`add_route`'s `headers`, names lower-cased. A value is never shown: it may be a key."""
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise TypeError(
            f"headers must be a mapping of header names to str values, or None; "
            f"got {type(headers).__name__}"
        )
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise ValueError(
                f"headers: {shown(name, 60)} is not a header name (letters, digits and "
                f"!#$%&'*+-.^_`|~ only)"
            )
        if not isinstance(value, str):
            raise TypeError(f"headers[{name!r}] must be a str; got {type(value).__name__}")
        if not _HEADER_VALUE.fullmatch(value):
            raise ValueError(
                f"headers[{name!r}] must be printable ASCII on one line: its value (not "
                f"shown) has a line break, a control character or a non-ASCII character"
            )
        lowered = name.lower()
        if lowered in _FRAMING:
            raise ValueError(
                f"headers[{name!r}]: the transport writes {lowered} from the body; leave it out"
            )
        if lowered in checked:
            raise ValueError(f"headers: {lowered!r} is named twice (names ignore case)")
        checked[lowered] = value
    return checked


# --- bulkqueues -----------------------------------------------------------------------------


def queue(name: object, type_: object, paused: object) -> None:
    """`queue(...)`'s arguments: a name, "task" or "custom", and None or a bool."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name must be a task id or a queue name; got {shown(name)}")
    if type_ not in ("task", "custom"):
        raise ValueError(f"type must be one of task, custom; got {shown(type_)}")
    if paused is not None and not isinstance(paused, bool):
        raise TypeError(f"paused must be True, False or None (left as it is); got {shown(paused)}")


# --- tokens ---


def one_time_use(value: object) -> bool:
    """`public_token(one_time_use=...)`: True or False."""
    if not isinstance(value, bool):
        raise TypeError(f"one_time_use must be True or False; got {shown(value)}")
    return value


# --- waitpoints: naming a waitpoint token -------------------------------------------------


def waitpoint_token(value: object, known: Sequence[str] | None = None) -> str:
    """A waitpoint token's id, `waitpoint_...` (its internal id, without the prefix,
    names it too); with `known`, one of those (the tokens the app created)."""
    if not isinstance(value, str) or not value:
        raise TypeError(
            f"token must be a waitpoint token's id such as 'waitpoint_...'; got {shown(value)}"
        )
    wanted = value if value.startswith("waitpoint_") else f"waitpoint_{value}"
    if known is not None and wanted not in known:
        listing = ", ".join(known) or "none yet"
        raise ValueError(
            f"token must be the id of a waitpoint token the app created ({listing}); "
            f"got {shown(value)}"
        )
    return wanted


def json_data(value: object, *, parameter: str) -> None:
    """Data a request could carry: JSON-serializable, without NaN or Infinity."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as problem:
        raise TypeError(
            f"{parameter} must be JSON-serializable (JSON has no NaN or Infinity); {problem}"
        ) from None


def packet_path(value: object) -> None:
    """A storage path: a non-empty string."""
    if not isinstance(value, str) or not value:
        raise ValueError(
            f"path must be a packet's storage path, such as 'trigger/packet_x/payload.json'; "
            f"got {shown(value)}"
        )
