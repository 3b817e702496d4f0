"""The batch as Trigger.dev stores it, and the JSON bodies the API writes for it.

A `TriggerBatch` is immutable and always valid: its constructor asks `rules` for every
platform invariant, so a batch that exists is a batch the real platform could return.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pytest_trigger_batches import rules

__all__ = ["BatchError", "BatchStatus", "PayloadShape", "TriggerBatch"]

PayloadShape = Literal["server", "documented"]


class BatchStatus(enum.StrEnum):
    """The five statuses a batch can have; str-valued (`BatchStatus.COMPLETED == "COMPLETED"`)."""

    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    PARTIAL_FAILED = "PARTIAL_FAILED"
    ABORTED = "ABORTED"

    @classmethod
    def parse(cls, value: object, *, parameter: str = "status") -> BatchStatus:
        """Return the status named by `value`, or raise `ValueError` listing the valid ones."""
        if isinstance(value, BatchStatus):
            return value
        if isinstance(value, str):
            try:
                return cls(value)
            except ValueError:
                pass
        hint = ""
        if isinstance(value, str) and value.upper() in cls.__members__:
            hint = f" (statuses are upper case: {value.upper()!r})"
        raise ValueError(
            f"{parameter} must be one of {', '.join(s.value for s in cls)}; got {value!r}{hint}"
        )


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
        entry: dict[str, Any] = {
            "index": self.index,
            "taskIdentifier": self.task_identifier,
            "error": self.error,
        }
        if self.error_code is not None:
            entry["errorCode"] = self.error_code
        return entry

    @classmethod
    def from_payload(cls, entry: Mapping[str, Any]) -> BatchError:
        """Read an error entry in any shape the API (or its spec) writes."""
        if not isinstance(entry, Mapping):
            raise ValueError(f"an error entry must be an object; got {entry!r:.100}")
        message = entry["error"]
        if isinstance(message, Mapping):
            message = message.get("message", "")
        if not isinstance(message, str):
            raise ValueError(
                f'errors[].error must be the message string (or the spec\'s {{"message": ...}}); '
                f"got {message!r:.100}"
            )
        return cls(
            index=entry["index"],
            task_identifier=entry["taskIdentifier"],
            error=message,
            error_code=entry.get("errorCode"),
        )


@dataclass(frozen=True, slots=True)
class TriggerBatch:
    """A batch of task runs, as the platform would return it at one moment.

    Build one with the `trigger_batch_factory` fixture, or read one from an API body with
    `TriggerBatch.from_payload`. Counts are `None` until run creation has finished (and
    always for legacy batches). Constructing a batch that breaks a platform rule raises
    `ValueError` naming the rule.
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
    # Not in v1 bodies, so left out of equality: a v1 body reads back as the same batch.
    processing_completed_at: datetime | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        # Accept the natural spellings, then insist on every platform rule.
        object.__setattr__(self, "status", BatchStatus.parse(self.status))
        for name in ("created_at", "updated_at", "processing_completed_at"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, parse_timestamp(value, parameter=name))
        object.__setattr__(self, "runs", tuple(self.runs))
        object.__setattr__(self, "errors", tuple(self.errors))
        problems = rules.problems(self)
        if problems:
            raise ValueError(
                f"not a batch Trigger.dev could return ({self.id!r}):\n  - "
                + "\n  - ".join(problems)
            )

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
        if version not in (1, 2):
            raise ValueError(f"version must be 1 or 2; got {version!r}")
        if shape not in ("server", "documented"):
            raise ValueError(f"shape must be 'server' or 'documented'; got {shape!r}")
        if version == 2 and shape == "documented":
            raise ValueError("shape='documented' exists for version=1 only (v2 is undocumented)")
        documented = shape == "documented"
        body: dict[str, Any] = {"id": self.id, "status": self.status.value}
        if self.idempotency_key is not None or documented:
            body["idempotencyKey"] = self.idempotency_key
        body["createdAt"] = format_timestamp(self.created_at)
        body["updatedAt"] = format_timestamp(self.updated_at)
        body["runCount"] = self.run_count
        body["runs"] = list(self.runs)
        errors = [e.to_payload(shape=shape) for e in self.errors]
        if version == 2:
            processing: dict[str, Any] = {}
            if self.processing_completed_at is not None:
                completed = format_timestamp(self.processing_completed_at)
                body["processingCompletedAt"] = completed
                processing["completedAt"] = completed
            processing["errors"] = errors
            body["processing"] = processing
            return body
        if self.successful_run_count is not None or documented:
            body["successfulRunCount"] = self.successful_run_count
            body["failedRunCount"] = self.failed_run_count
        if errors:
            body["errors"] = errors
        elif documented:
            body["errors"] = None
        return body

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> TriggerBatch:
        """Read a v1 (server or documented shape) or v2 body; raise `ValueError` if invalid."""
        if not isinstance(payload, Mapping):
            raise TypeError(f"payload must be a mapping (a parsed JSON body); got {payload!r}")
        try:
            if "processing" in payload:
                return cls._from_v2(payload)
            return cls._from_v1(payload)
        except KeyError as missing:
            raise ValueError(f"payload is missing the field {missing}") from None

    @classmethod
    def _from_v1(cls, payload: Mapping[str, Any]) -> TriggerBatch:
        successful = payload.get("successfulRunCount")
        updated_at = parse_timestamp(payload["updatedAt"], parameter="updatedAt")
        return cls(
            id=payload["id"],
            status=BatchStatus.parse(payload["status"], parameter="payload status"),
            idempotency_key=payload.get("idempotencyKey"),
            created_at=parse_timestamp(payload["createdAt"], parameter="createdAt"),
            updated_at=updated_at,
            run_count=payload["runCount"],
            runs=_array(payload, "runs"),
            successful_run_count=successful,
            failed_run_count=payload.get("failedRunCount"),
            errors=tuple(BatchError.from_payload(e) for e in _array(payload, "errors")),
            processing_completed_at=updated_at if successful is not None else None,
        )

    @classmethod
    def _from_v2(cls, payload: Mapping[str, Any]) -> TriggerBatch:
        completed = payload.get("processingCompletedAt")
        runs = _array(payload, "runs")
        run_count = payload["runCount"]
        processing = payload["processing"]
        if not isinstance(processing, Mapping):
            raise ValueError(
                f"processing must be an object {{completedAt?, errors}}; got {processing!r:.100}"
            )
        return cls(
            id=payload["id"],
            status=BatchStatus.parse(payload["status"], parameter="payload status"),
            idempotency_key=payload.get("idempotencyKey"),
            created_at=parse_timestamp(payload["createdAt"], parameter="createdAt"),
            updated_at=parse_timestamp(payload["updatedAt"], parameter="updatedAt"),
            run_count=run_count,
            runs=runs,
            successful_run_count=len(runs) if completed else None,
            failed_run_count=(
                run_count - len(runs) if completed and isinstance(run_count, int) else None
            ),
            errors=tuple(BatchError.from_payload(e) for e in _array(processing, "errors")),
            processing_completed_at=(
                parse_timestamp(completed, parameter="processingCompletedAt") if completed else None
            ),
        )


def _array(payload: Mapping[str, Any], name: str) -> tuple[Any, ...]:
    """A JSON array field as a tuple (`errors` may be absent or null, `runs` may not)."""
    value = payload[name] if name == "runs" else payload.get(name)
    if value is None and name == "errors":
        return ()
    if not isinstance(value, list | tuple):
        raise ValueError(f"{name} must be an array; got {value!r:.100}")
    return tuple(value)


def format_timestamp(moment: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and `Z`, as the server writes it."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_timestamp(value: object, *, parameter: str) -> datetime:
    """Read a datetime or ISO-8601 string; naive values are taken as UTC."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"{parameter} must be an ISO-8601 timestamp such as "
                f"'2026-03-01T12:00:00.000Z'; got {value!r}"
            ) from None
    if not isinstance(value, datetime):
        raise TypeError(f"{parameter} must be a datetime or an ISO-8601 string; got {value!r}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        moment = value.astimezone(UTC)
    except OverflowError:
        raise ValueError(
            f"{parameter} must be a timestamp from year 1 to 9999 in UTC; got {value.isoformat()!r}"
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
