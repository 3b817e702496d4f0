"""Faults a test asks for: the next N requests (to one route, or of one batch) fail."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from pytest_trigger_batches.shown import shown

FaultKind = Literal["rate_limit", "server_error", "timeout", "connect_error"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
_HEADER_NAME_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # an HTTP token
_HEADER_VALUE_RE = re.compile(r"(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)?")


@dataclass(slots=True)
class Fault:
    """`times` more requests fail as `kind`: to `route` and of `batch_id` (None: any)."""

    kind: FaultKind
    times: int
    batch_id: str | None
    status_code: int
    reset_after: float
    route: str | None = None
    when: str = "before"
    """"after": the request is handled (a batch created) and then the answer is lost."""
    required: bool = True
    """Whether a test that ends with this fault unused fails (at the fixture's teardown)."""
    headers: tuple[tuple[str, str], ...] = ()
    """Headers the answer carries besides (or instead of) the fault's own, names lower-cased."""

    def describe(self) -> str:
        """`'timeout' x2 for GET /api/v1/batches/{batchId} of batch_...`, as messages show it."""
        where = f" for {self.route}" if self.route else ""
        of = f" of {self.batch_id}" if self.batch_id else ""
        return f"{self.kind!r} x{self.times}{where}{of}"

    def applies(self, route: str, params: Mapping[str, str]) -> bool:
        """Whether a request to `route` with `params` meets this fault."""
        return self.route in (None, route) and self.batch_id in (None, params.get("batchId"))

    @classmethod
    def make(
        cls,
        kind: object,
        *,
        times: object,
        batch_id: object,
        status_code: object,
        reset_after: object,
        route: str | None = None,
        when: object = "before",
        required: object = True,
        headers: object = None,
    ) -> Fault:
        """Check every argument and name the one that is wrong."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault must be one of {', '.join(FAULT_KINDS)}; got {shown(kind)}")
        if not isinstance(times, int) or isinstance(times, bool) or not 1 <= times <= 10**9:
            raise ValueError(
                f"times must be a whole number from 1 to 10**9; got {shown(times, 50)}"
            )
        if not isinstance(required, bool):
            raise TypeError(f"required must be True or False; got {shown(required, 50)}")
        if batch_id is not None and (not isinstance(batch_id, str) or not batch_id):
            raise ValueError(
                f"batch_id must be a batch id or None (any batch); got {shown(batch_id)}"
            )
        if (
            not isinstance(status_code, int)
            or isinstance(status_code, bool)
            or not 500 <= status_code <= 599
        ):
            raise ValueError(
                f"status_code must be a 5xx status (500 to 599); got {shown(status_code)}"
            )
        if (
            not isinstance(reset_after, int | float)
            or isinstance(reset_after, bool)
            or not 0 <= reset_after <= 86_400 * 365
        ):
            raise ValueError(
                f"reset_after must be a number of seconds from 0 to a year (31536000); "
                f"got {shown(reset_after, 50)}"
            )
        # The defaults are 500 and 1.0: any other value names the wrong fault.
        if kind != "server_error" and status_code != 500:
            raise ValueError(
                f"status_code applies to fault='server_error' only; got status_code="
                f"{shown(status_code)} with fault={shown(kind)}"
            )
        if kind != "rate_limit" and reset_after != 1.0:
            raise ValueError(
                f"reset_after applies to fault='rate_limit' only; got reset_after="
                f"{shown(reset_after)} with fault={shown(kind)}"
            )
        if when not in ("before", "after"):
            raise ValueError(
                f"when must be 'before' or 'after' (the handler); got {shown(when, 50)}"
            )
        if when == "after" and kind not in ("timeout", "connect_error"):
            raise ValueError(
                f"when='after' applies to fault='timeout' or 'connect_error' (the answer is "
                f"lost); got fault={shown(kind)}"
            )
        if headers is not None and kind not in ("rate_limit", "server_error"):
            raise ValueError(
                f"headers applies to fault='rate_limit' or 'server_error' (an answer); got "
                f"fault={kind!r}"
            )
        return cls(
            kind,  # type: ignore[arg-type]
            times,
            batch_id,
            status_code,
            float(reset_after),
            route,
            str(when),
            bool(required),
            _checked_headers(headers),
        )


def _checked_headers(headers: object) -> tuple[tuple[str, str], ...]:
    """`headers` as (lower-cased name, value) pairs, each checked as HTTP header text."""
    if headers is None:
        return ()
    if not isinstance(headers, Mapping):
        raise TypeError(
            f"headers must be a mapping of header names to values, or None; got "
            f"{type(headers).__name__}"
        )
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME_RE.fullmatch(name):
            raise ValueError(
                f"headers names must be HTTP header names (letters, digits and "
                f"!#$%&'*+-.^_`|~, no spaces or colons); got {_shown(name)}"
            )
        if not isinstance(value, str) or not _HEADER_VALUE_RE.fullmatch(value):
            raise ValueError(
                f"headers[{shown(name, 60)}] must be a string of printable ASCII (spaces "
                f"inside only, no line breaks); got {_shown(value)}"
            )
        if name.lower() in checked:
            raise ValueError(f"headers names repeat ignoring case: {shown(name, 60)}")
        checked[name.lower()] = value
    return tuple(checked.items())


class FaultQueue:
    """Faults in the order they were asked for; each request takes the first that applies."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Queue `fault` after the others."""
        self._faults.append(fault)

    def take(self, route: str, params: Mapping[str, str], *, when: str = "before") -> Fault | None:
        """The fault a request to `route` meets (`when` the handler), counted as used."""
        for fault in self._faults:
            if fault.when == when and fault.applies(route, params):
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def unused(self) -> list[Fault]:
        """The required faults no request has met (in full) yet."""
        return [f for f in self._faults if f.required]


def _shown(value: object) -> str:
    if isinstance(value, str):
        return shown(value, 60)
    return f"a value of type {type(value).__name__}"
