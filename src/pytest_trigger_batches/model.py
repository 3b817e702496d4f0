"""The batch as Trigger.dev stores it, and the JSON bodies the API writes for it.

A `TriggerBatch` is immutable and always valid: its constructor asks `rules` for every
platform invariant, so a batch that exists is a batch the real platform could return.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from datetime import UTC, datetime
from itertools import repeat
from typing import Any, Literal, TypeVar

from pytest_trigger_batches import rules
from pytest_trigger_batches.payloads import run_body
from pytest_trigger_batches.shown import shown
from pytest_trigger_batches.statuses import (
    CURRENT_API,
    RUN_FAILED,
    RUN_FINAL,
    RUN_STATUSES,
    BatchStatus,
)
from pytest_trigger_batches.stored_run import Run
from pytest_trigger_batches.timefmt import iso_ms, to_ms

__all__ = ["BatchError", "BatchStatus", "PayloadShape", "TriggerBatch", "TriggerRun"]

PayloadShape = Literal["server", "documented"]


_T = TypeVar("_T")


def _trusted_builder(cls: type[_T]) -> Callable[..., _T]:
    """A constructor of `cls` (a frozen dataclass with slots) that checks nothing: its
    fields' values, positionally, in their order.

    A frozen dataclass refuses attribute stores, so its own `__init__` and any other
    way in set each slot through `object.__setattr__` or the slot's descriptor, a call
    per field. This stores them as any class's `__init__` does, in a plain class with
    the same slots, whose instance then becomes a `cls`: the same layout, which is what
    Python requires to change an object's class. For the values the factory builds.
    """
    names: tuple[str, ...] = cls.__slots__  # type: ignore[attr-defined]
    source = (
        f"def __init__(self, {', '.join(names)}):\n"
        + "".join(f"    self.{name} = {name}\n" for name in names)
        + "    self.__class__ = built\n"
    )
    namespace: dict[str, Any] = {"built": cls}
    exec(source, namespace)  # as dataclasses writes __init__ methods
    plain = type(f"_Trusted{cls.__name__}", (), {"__slots__": names})
    plain.__init__ = namespace["__init__"]  # type: ignore[misc]
    return plain


@dataclass(frozen=True, slots=True)
class BatchError:
    """One item of a batch whose run could not be created."""

    index: int
    task_identifier: str
    error: str
    error_code: str | None = None

    def to_payload(self, *, shape: PayloadShape = "server") -> dict[str, Any]:
        """The error entry as the API writes it (`shape="documented"`: the spec's literal form)."""
        if shape == "documented":
            return {
                "index": self.index,
                "taskIdentifier": self.task_identifier,
                "error": {"message": self.error},
                "errorCode": self.error_code,
            }
        return _server_entry(self)

    @classmethod
    def from_payload(cls, entry: Mapping[str, Any], *, where: str = "errors[]") -> BatchError:
        """Read an error entry in any shape the API (or its spec) writes.

        `where` names the entry in messages (`errors[0]`): a missing field is
        `ValueError: errors[0].index is missing`.
        """
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where}: an error entry must be an object; got {shown(entry)}")
        missing = [f for f in ("index", "taskIdentifier", "error") if f not in entry]
        if missing:
            raise ValueError(
                f"{where}.{missing[0]} is missing: an error entry has index, taskIdentifier "
                f"and error (and errorCode, optionally)"
            )
        message = entry["error"]
        if isinstance(message, Mapping):
            message = message.get("message", "")
        if not isinstance(message, str):
            raise ValueError(
                f'errors[].error must be the message string (or the spec\'s {{"message": ...}}); '
                f"got {shown(message)}"
            )
        return cls(
            index=entry["index"],
            task_identifier=entry["taskIdentifier"],
            error=message,
            error_code=entry.get("errorCode"),
        )


def _many_errors(
    indices: Sequence[int], tasks: Sequence[str], messages: Sequence[str], code: str | None
) -> tuple[BatchError, ...]:
    """Error entries from columns of values already known good (the factory's).

    Built unchecked (`_trusted_builder`): the frozen dataclass's `__init__` was most of
    the cost of a batch with 1,000 failures.
    """
    return tuple(map(_new_error, indices, tasks, messages, repeat(code)))


_new_error = _trusted_builder(BatchError)


def _error(index: int, task: str, message: str, code: str | None) -> BatchError:
    """One error entry from values already known good (the factory's collapsed entry)."""
    return _new_error(index, task, message, code)


def _server_entry(error: BatchError) -> dict[str, Any]:
    # A plain function, mapped over up to 1,000 entries per body.
    if error.error_code is None:
        return {"index": error.index, "taskIdentifier": error.task_identifier, "error": error.error}
    return {
        "index": error.index,
        "taskIdentifier": error.task_identifier,
        "error": error.error,
        "errorCode": error.error_code,
    }


def _by_index(errors: tuple[BatchError, ...]) -> list[BatchError]:
    return sorted(errors, key=lambda e: e.index)


# eq=False: equality and hash are written below, to ignore the order of `errors`.
@dataclass(frozen=True, slots=True, eq=False)
class TriggerBatch:
    """A batch of task runs, as the platform would return it at one moment.

    Build one with the `trigger_batch_factory` fixture, or read one from an API body with
    `TriggerBatch.from_payload`. Counts are `None` until run creation has finished (and
    always for legacy batches). Constructing a batch that breaks a platform rule raises
    `ValueError` naming the rule.

    `check_ids=False` accepts readable ids (`"batch_nightly-report"`, `"run_1"`) instead
    of the platform's formats; every other rule still applies.

    Two batches are equal when the API would show them alike: `processing_completed_at`
    (absent from v1 bodies) and `check_ids` are left out, and so is the order of
    `errors`, which the platform does not define.
    """

    id: str
    status: BatchStatus
    created_at: datetime
    updated_at: datetime
    run_count: int
    runs: tuple[str, ...] = ()
    idempotency_key: str | None = None
    successful_run_count: int | None = None
    failed_run_count: int | None = None
    errors: tuple[BatchError, ...] = ()
    processing_completed_at: datetime | None = field(default=None, compare=False)
    check_ids: bool = field(default=True, compare=False, repr=False, kw_only=True)

    def __post_init__(self) -> None:
        # Accept the natural spellings, then insist on every platform rule.
        object.__setattr__(self, "status", BatchStatus.parse(self.status))
        for name in ("created_at", "updated_at", "processing_completed_at"):
            value = getattr(self, name)
            if value is not None or name != "processing_completed_at":
                object.__setattr__(self, name, parse_timestamp(value, parameter=name))
        for name, what in (("runs", "run ids"), ("errors", "BatchError entries")):
            value = getattr(self, name)
            if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
                raise TypeError(f"{name} must be a sequence of {what}; got {shown(value)}")
            object.__setattr__(self, name, tuple(value))
        bad = [e for e in self.errors if not isinstance(e, BatchError)]
        if bad:
            raise TypeError(f"errors must hold BatchError entries; got {shown(bad[0])}")
        if not isinstance(self.check_ids, bool):
            raise TypeError(f"check_ids must be True or False; got {shown(self.check_ids)}")
        self._insist(rules.problems(self))

    @classmethod
    def _minted(cls, **values: Any) -> TriggerBatch:
        """The factory's way in: values already in their stored types, ids made by it.

        Every rule is checked except the format and uniqueness of the ids, which the
        factory guarantees; `replace()` on the result goes through `__init__` again.
        """
        unknown = values.keys() - _NAMES
        if unknown:
            raise TypeError(f"unknown fields {sorted(unknown)}")
        batch = object.__new__(cls)
        setter = object.__setattr__
        for name, default in _DEFAULTS:
            setter(batch, name, values.get(name, default))
        batch._insist(rules.problems(batch, ids_minted=True))
        return batch

    @classmethod
    def _made(
        cls,
        id: str,
        status: BatchStatus,
        created_at: datetime,
        updated_at: datetime,
        run_count: int,
        runs: tuple[str, ...] = (),
        idempotency_key: str | None = None,
        successful_run_count: int | None = None,
        failed_run_count: int | None = None,
        errors: tuple[BatchError, ...] = (),
        processing_completed_at: datetime | None = None,
    ) -> TriggerBatch:
        """The factory's own way in: nothing is checked, as the factory keeps every rule.

        Its flavours are built to the platform's rules (tests/test_factory.py checks
        that every batch it builds passes `rules.problems`); a batch built from anything
        else goes through `__init__` or `_minted`.
        """
        return _new_batch(
            id,
            status,
            created_at,
            updated_at,
            run_count,
            runs,
            idempotency_key,
            successful_run_count,
            failed_run_count,
            errors,
            processing_completed_at,
            True,  # check_ids
        )

    def _derived(self, **changes: Any) -> TriggerBatch:
        """An earlier state of this batch (for `lifecycle`): its ids are checked already."""
        values = {name: getattr(self, name) for name, _ in _DEFAULTS}
        values.update(changes)
        return TriggerBatch._minted(**values)

    def _insist(self, problems: list[str]) -> None:
        if problems:
            raise ValueError(
                f"not a batch Trigger.dev could return ({shown(self.id)}):\n  - "
                + "\n  - ".join(problems)
            )

    def _identity(self) -> tuple[object, ...]:
        return (
            self.id,
            self.status,
            self.created_at,
            self.updated_at,
            self.run_count,
            self.runs,
            self.idempotency_key,
            self.successful_run_count,
            self.failed_run_count,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TriggerBatch):
            return NotImplemented
        return self._identity() == other._identity() and (
            self.errors == other.errors or _by_index(self.errors) == _by_index(other.errors)
        )

    def __hash__(self) -> int:
        return hash(self._identity())

    @property
    def runs_created(self) -> bool:
        """True once run creation has finished (counts and `runs` are final)."""
        return self.successful_run_count is not None

    def to_payload(
        self, *, version: Literal[1, 2] = 1, shape: PayloadShape = "server"
    ) -> dict[str, Any]:
        """The JSON-ready body `GET /api/v{version}/batches/{id}` answers with.

        `shape="server"` (default) is what the real server writes: absent values are
        left out and `errors[].error` is a string. `shape="documented"` follows the
        published spec literally (explicit nulls, `error` as an object); it exists for
        version 1 only.
        """
        if shape == "server" and version == 1 and type(version) is int:
            return self._v1_body()  # the common case, straight
        if isinstance(version, bool) or version not in (1, 2):
            raise ValueError(f"version must be 1 or 2; got {shown(version)}")
        if shape not in ("server", "documented"):
            raise ValueError(f"shape must be 'server' or 'documented'; got {shown(shape)}")
        if version == 2 and shape == "documented":
            raise ValueError("shape='documented' exists for version=1 only (v2 is undocumented)")
        documented = shape == "documented"
        body: dict[str, Any] = {"id": self.id, "status": self.status.value}
        if self.idempotency_key is not None or documented:
            body["idempotencyKey"] = self.idempotency_key
        body["createdAt"] = _iso(self.created_at)
        body["updatedAt"] = _iso(self.updated_at)
        if documented:
            errors = [e.to_payload(shape="documented") for e in self.errors]
        else:
            errors = list(map(_server_entry, self.errors))
        if version == 2:
            processing: dict[str, Any] = {}
            if self.processing_completed_at is not None:
                completed = _iso(self.processing_completed_at)
                body["processingCompletedAt"] = completed
                processing["completedAt"] = completed
            body["runCount"] = self.run_count
            body["runs"] = list(self.runs)
            processing["errors"] = errors
            body["processing"] = processing
            return body
        body["runCount"] = self.run_count
        body["runs"] = list(self.runs)
        if self.successful_run_count is not None or documented:
            body["successfulRunCount"] = self.successful_run_count
            body["failedRunCount"] = self.failed_run_count
        if errors:
            body["errors"] = errors
        elif documented:
            body["errors"] = None
        return body

    def _v1_body(self) -> dict[str, Any]:
        """`to_payload()`: the v1 body as the server writes it."""
        body: dict[str, Any] = {"id": self.id, "status": self.status._value_}
        if self.idempotency_key is not None:
            body["idempotencyKey"] = self.idempotency_key
        body["createdAt"] = _iso(self.created_at)
        body["updatedAt"] = _iso(self.updated_at)
        body["runCount"] = self.run_count
        body["runs"] = list(self.runs)
        if self.successful_run_count is not None:
            body["successfulRunCount"] = self.successful_run_count
            body["failedRunCount"] = self.failed_run_count
        if self.errors:
            body["errors"] = list(map(_server_entry, self.errors))
        return body

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any], *, check_ids: bool = True) -> TriggerBatch:
        """Read a v1 (server or documented shape) or v2 body; raise `ValueError` if invalid.

        `errors` may come in any order (the platform defines none) and keep it.
        `check_ids=False` accepts readable ids, as the constructor does.
        """
        if not isinstance(payload, Mapping):
            raise TypeError(f"payload must be a mapping (a parsed JSON body); got {shown(payload)}")
        try:
            if "processing" in payload:
                return cls._from_v2(payload, check_ids=check_ids)
            return cls._from_v1(payload, check_ids=check_ids)
        except KeyError as missing:
            raise ValueError(f"payload is missing the field {missing}") from None

    @classmethod
    def _from_v1(cls, payload: Mapping[str, Any], *, check_ids: bool) -> TriggerBatch:
        successful = payload.get("successfulRunCount")
        status = BatchStatus.parse(payload["status"], parameter="payload status")
        updated_at = parse_timestamp(payload["updatedAt"], parameter="updatedAt")
        runs = _array(payload, "runs")
        # v1 bodies do not carry processingCompletedAt: it is taken to be the last update
        # where the platform sets it (run creation finished; an unsealed batch aborted).
        finished = successful is not None or (status == BatchStatus.ABORTED and not runs)
        return cls(
            id=payload["id"],
            status=status,
            idempotency_key=payload.get("idempotencyKey"),
            created_at=parse_timestamp(payload["createdAt"], parameter="createdAt"),
            updated_at=updated_at,
            run_count=payload["runCount"],
            runs=runs,
            successful_run_count=successful,
            failed_run_count=payload.get("failedRunCount"),
            errors=tuple(
                BatchError.from_payload(e, where=f"errors[{i}]")
                for i, e in enumerate(_array(payload, "errors"))
            ),
            processing_completed_at=updated_at if finished else None,
            check_ids=check_ids,
        )

    @classmethod
    def _from_v2(cls, payload: Mapping[str, Any], *, check_ids: bool) -> TriggerBatch:
        completed = payload.get("processingCompletedAt")
        runs = _array(payload, "runs")
        run_count = payload["runCount"]
        status = BatchStatus.parse(payload["status"], parameter="payload status")
        processing = payload["processing"]
        if not isinstance(processing, Mapping):
            raise ValueError(
                f"processing must be an object {{completedAt?, errors}}; got {shown(processing)}"
            )
        errors = tuple(
            BatchError.from_payload(e, where=f"processing.errors[{i}]")
            for i, e in enumerate(_array(processing, "errors"))
        )
        inner = processing.get("completedAt")
        if inner is not None:
            parse_timestamp(inner, parameter="processing.completedAt")
            if completed is not None and inner != completed:
                raise ValueError(
                    f"processing.completedAt must equal processingCompletedAt (the server "
                    f"writes one value twice); got {shown(inner)} and {shown(completed)}"
                )
            completed = inner  # the SDK's schema keeps this one only
        elif completed is not None:
            raise ValueError(
                "processing.completedAt is missing but processingCompletedAt is set (the "
                "server writes both or neither)"
            )
        # v2 has no counts: they follow from runs once processing completed, except for
        # a batch aborted before its items finished arriving (completed, but no runs,
        # no errors, no counts).
        never_sealed = status == BatchStatus.ABORTED and not runs and not errors
        counted = bool(completed) and not never_sealed
        return cls(
            id=payload["id"],
            status=status,
            idempotency_key=payload.get("idempotencyKey"),
            created_at=parse_timestamp(payload["createdAt"], parameter="createdAt"),
            updated_at=parse_timestamp(payload["updatedAt"], parameter="updatedAt"),
            run_count=run_count,
            runs=runs,
            successful_run_count=len(runs) if counted else None,
            failed_run_count=(
                run_count - len(runs) if counted and isinstance(run_count, int) else None
            ),
            errors=errors,
            processing_completed_at=(
                parse_timestamp(completed, parameter="processingCompletedAt") if completed else None
            ),
            check_ids=check_ids,
        )


# Every field with its default (required ones get None until set), for `_minted`.
_DEFAULTS = tuple(
    (f.name, None if f.default is MISSING else f.default) for f in fields(TriggerBatch)
)
_NAMES = frozenset(name for name, _ in _DEFAULTS)
_new_batch = _trusted_builder(TriggerBatch)


def _iso(moment: datetime) -> str:
    """`iso_ms(to_ms(moment))`, from a UTC datetime's fields: its date written once per
    day, the rest from tables (a third of the cost of formatting it whole)."""
    if moment.tzinfo is not UTC:  # every stored moment is UTC (parse_timestamp, the factory)
        return iso_ms(to_ms(moment))
    day = moment.toordinal()
    date = _DATES.get(day)
    if date is None:
        if len(_DATES) >= 4096:
            _DATES.clear()
        date = _DATES[day] = f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
    return (
        f"{date}{_TWO_DIGITS[moment.hour]}:{_TWO_DIGITS[moment.minute]}:"
        f"{_TWO_DIGITS[moment.second]}.{_THREE_DIGITS[moment.microsecond // 1000]}Z"
    )


_DATES: dict[int, str] = {}
"""`2026-03-01T` by the day's ordinal."""
_TWO_DIGITS = tuple(f"{number:02d}" for number in range(60))
_THREE_DIGITS = tuple(f"{number:03d}" for number in range(1000))


def _array(payload: Mapping[str, Any], name: str) -> tuple[Any, ...]:
    """A JSON array field as a tuple (`errors` may be absent or null, `runs` may not)."""
    value = payload[name] if name == "runs" else payload.get(name)
    if value is None and name == "errors":
        return ()
    if not isinstance(value, list | tuple):
        raise ValueError(f"{name} must be an array; got {shown(value)}")
    return tuple(value)


def parse_timestamp(value: object, *, parameter: str) -> datetime:
    """Read a datetime or ISO-8601 string; naive values are taken as UTC."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"{parameter} must be an ISO-8601 timestamp such as "
                f"'2026-03-01T12:00:00.000Z'; got {shown(value)}"
            ) from None
    if not isinstance(value, datetime):
        raise TypeError(f"{parameter} must be a datetime or an ISO-8601 string; got {shown(value)}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        moment = value.astimezone(UTC)
    except OverflowError:
        raise ValueError(
            f"{parameter} must be a timestamp from year 1 to 9999 in UTC; "
            f"got {shown(value.isoformat())}"
        ) from None
    # The API keeps milliseconds only; drop the rest so payloads round-trip exactly.
    return moment.replace(microsecond=value.microsecond // 1000 * 1000)


_COMMON_FIELDS = ("id", "status", "idempotencyKey", "createdAt", "updatedAt", "runCount", "runs")
_V1_FIELDS = frozenset((*_COMMON_FIELDS, "successfulRunCount", "failedRunCount", "errors"))
_V2_FIELDS = frozenset((*_COMMON_FIELDS, "processingCompletedAt", "processing"))
_PROCESSING_FIELDS = frozenset(("completedAt", "errors"))
_ERROR_FIELDS = frozenset(("index", "taskIdentifier", "error", "errorCode"))
_LEFT_OUT = ("idempotencyKey", "successfulRunCount", "failedRunCount", "errors")


def server_shape_problem(payload: Mapping[object, object]) -> str | None:
    """Why `payload` is not a body the real server writes (unknown fields, nulls)."""
    v2 = "processing" in payload
    fields = _V2_FIELDS if v2 else _V1_FIELDS
    unknown = sorted(repr(name) for name in payload if name not in fields)
    if unknown:
        return f"unknown field(s) {', '.join(unknown)} (it writes {', '.join(sorted(fields))})"
    nulls = [name for name in (*_LEFT_OUT, "processingCompletedAt") if payload.get(name, 0) is None]
    processing = payload.get("processing")
    if isinstance(processing, Mapping):
        unknown = sorted(repr(name) for name in processing if name not in _PROCESSING_FIELDS)
        if unknown:
            return f"processing has unknown field(s) {', '.join(unknown)}"
        nulls += ["processing.completedAt"] if processing.get("completedAt", 0) is None else []
    errors = processing.get("errors") if isinstance(processing, Mapping) else payload.get("errors")
    for number, entry in enumerate(errors if isinstance(errors, list | tuple) else ()):
        if not isinstance(entry, Mapping):
            continue
        unknown = sorted(repr(name) for name in entry if name not in _ERROR_FIELDS)
        if unknown:
            return f"errors[{number}] has unknown field(s) {', '.join(unknown)}"
        if isinstance(entry.get("error"), Mapping):
            return f"errors[{number}].error is the message string, not an object"
        if "errorCode" in entry and entry["errorCode"] is None:
            nulls.append(f"errors[{number}].errorCode")
    if nulls:
        return f"fields with no value are left out, never null: {', '.join(nulls)}"
    return None


@dataclass(frozen=True, slots=True)
class TriggerRun:
    """One run, as `GET /api/v3/runs/{runId}` shows it at one moment.

    Build one with `trigger_batch_factory.run(...)` or `.runs_of(batch)`, and serve
    them with `add_batch(batch, runs=...)`. Constructing a run the platform could not
    show raises `ValueError` naming the rule.
    """

    id: str
    task_identifier: str
    status: str
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    delayed_until: datetime | None = None
    batch_id: str | None = None
    payload: Any = None
    output: Any = None
    error: Mapping[str, Any] | None = None
    tags: tuple[str, ...] = ()
    metadata: Mapping[str, Any] | None = None
    idempotency_key: str | None = None
    attempt_count: int = 0

    def __post_init__(self) -> None:
        for name in ("created_at", "updated_at", "started_at", "finished_at", "delayed_until"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, parse_timestamp(value, parameter=name))
        object.__setattr__(self, "tags", tuple(sorted(self.tags)))
        problems = []
        if self.status not in RUN_STATUSES:
            problems.append(
                f"status must be one of {', '.join(RUN_STATUSES)}; got {shown(self.status)}"
            )
        if not isinstance(self.id, str) or not rules.RUN_ID_RE.fullmatch(self.id):
            problems.append(
                f"id must be 'run_' + a cuid, nanoid, run-ops or base62 id; "
                f"got {shown(self.id, 60)}"
            )
        if self.batch_id is not None and not rules.BATCH_ID_RE.fullmatch(self.batch_id):
            problems.append(f"batch_id must be a batch id or None; got {shown(self.batch_id, 60)}")
        if not isinstance(self.task_identifier, str) or not self.task_identifier.strip():
            problems.append("task_identifier must be a task id")
        if self.output is not None and self.status != "COMPLETED":
            problems.append("output is shown only for a COMPLETED run")
        if self.error is not None and self.status not in RUN_FAILED:
            problems.append(f"error belongs to a failed run ({', '.join(sorted(RUN_FAILED))})")
        final = self.status in RUN_FINAL
        if final != (self.finished_at is not None):
            problems.append("finished_at is set exactly when the run is final")
        if self.status == "EXECUTING" and self.started_at is None:
            problems.append("an EXECUTING run has started_at")
        if self.status in ("QUEUED", "DELAYED") and self.started_at is not None:
            problems.append(f"a {self.status} run has not started")
        if self.status == "DELAYED" and self.delayed_until is None:
            problems.append("a DELAYED run has delayed_until (when it enters the queue)")
        moments = [m for m in (self.created_at, self.started_at, self.finished_at) if m is not None]
        if moments != sorted(moments) or self.updated_at < moments[-1]:
            problems.append("created_at <= started_at <= finished_at <= updated_at")
        count = self.attempt_count
        if not rules.is_whole_number(count) or count < 0 or (self.started_at is None and count):
            problems.append("attempt_count is a whole number, 0 until the run starts")
        if problems:
            raise ValueError(
                f"not a run Trigger.dev could show ({shown(self.id, 60)}):\n  - "
                + "\n  - ".join(problems)
            )

    def to_payload(self, *, api_version: str | None = CURRENT_API) -> dict[str, Any]:
        """The body `GET /api/v3/runs/{id}` answers with (old status names without a version)."""
        return run_body(Run.from_public(self), api_version)


_new_run = _trusted_builder(TriggerRun)


def _many_runs(columns: Mapping[str, Iterable[object]]) -> tuple[TriggerRun, ...]:
    """Runs from columns of values the factory guarantees, one column per field.

    Nothing is checked (`runs_of` builds runs its batch allows; tests/test_factory.py
    checks them against `TriggerRun`'s rules), and each run is built once, unchecked
    (`_trusted_builder`): building each through `__init__` was most of the cost of a
    1,000-run batch's runs.
    """
    if tuple(columns) != TriggerRun.__slots__:
        raise TypeError(f"every field of TriggerRun, in order; got {list(columns)}")
    return tuple(map(_new_run, *columns.values()))
