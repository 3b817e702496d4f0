"""Every rule the real platform obeys for a batch, and its limits and messages, in one place.

The model validates itself here, the factory builds to these rules, the handlers
refuse by these limits with these texts, and the mock's lifecycle walks the
transitions defined here. Nothing in this module imports the model at run time, so it
stays cheap and free of cycles.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pytest_trigger_batches.redact import ENVIRONMENTS as _KEY_ENVIRONMENTS
from pytest_trigger_batches.shown import shown
from pytest_trigger_batches.statuses import BatchStatus

if TYPE_CHECKING:
    from pytest_trigger_batches.model import TriggerBatch

# -- limits and messages -------------------------------------------------------------

MAX_ITEMS = 1000
"""Items per batch since SDK 4.3.1 (500 before): the streaming endpoint's limit, the most
any endpoint allows."""
STREAMING_MAX_ITEMS = MAX_ITEMS
"""`POST /api/v3/batches`: the largest `runCount`."""
ONE_SHOT_MAX_ITEMS = 500
"""`POST /api/v2/tasks/batch` and `POST /api/v1/tasks/batch`: items per request."""
TASK_BATCH_MAX_ITEMS = 100
"""`POST /api/v1/tasks/{taskId}/batch`: items per request."""

MAX_IDEMPOTENCY_KEY_LENGTH = 2048
"""The longest idempotency key, in the body or the `idempotency-key` header."""

MAX_ITEM_BYTES = 3 * 1024 * 1024
"""The largest item of a streamed batch, an NDJSON line (3 MiB)."""
TRIGGER_MAX_BODY = MAX_ITEM_BYTES
"""`POST /api/v1/tasks/{taskId}/trigger` and `.../batch`: the largest body (3 MiB too)."""
CREATE_BATCH_MAX_BODY = 128 * 1024
"""`POST /api/v3/batches`: the largest body (its items come separately)."""
ONE_SHOT_MAX_BODY = 1_000_000
"""`POST /api/v2/tasks/batch` and `POST /api/v1/tasks/batch`: the largest body (1 MB)."""

QUEUE_SIZE_LIMIT = 10_000
"""Runs an environment's queue holds before triggers are refused."""


def queue_limit_message(subject: str) -> str:
    """The platform's text for a trigger refused because the queue is full.

    `subject` is a task id (`send-email`), or `"3 tasks"` for a whole one-shot batch.
    """
    return (
        f"Cannot trigger {subject} as the queue size limit for this environment has been "
        f"reached. The maximum size is {QUEUE_SIZE_LIMIT}"
    )


def payload_too_large_message(size: int) -> str:
    """The platform's text for an item of `size` bytes over `MAX_ITEM_BYTES`.

    Sizes in KB to one decimal, rounded as JavaScript's `toFixed(1)` does (halves up:
    3,145,984 bytes are 3072.25 KB, written 3072.3).
    """
    # size / 1024 is exact in binary, so toFixed's rounding is integer arithmetic here.
    actual, limit = ((n * 10 + 512) // 1024 for n in (size, MAX_ITEM_BYTES))
    return (
        f"Batch item payload is too large ({actual // 10}.{actual % 10} KB). Maximum allowed "
        f"size is {limit // 10}.{limit % 10} KB. Reduce the payload size or offload large "
        f"data to external storage."
    )


def collapsed_suffix(failed: int) -> str:
    """How the server ends the one entry standing for `failed` queue-limit failures.

    Also for one failure: the server writes "(1 items in this batch ...)".
    """
    return f"({failed} items in this batch failed with the same error)"


QUEUE_LIMIT = "QUEUE_SIZE_LIMIT_EXCEEDED"
ERROR_CODES = (
    "TRIGGER_ERROR",
    "TRIGGER_FAILED",
    "ENVIRONMENT_NOT_FOUND",
    "ITEM_ERROR",
    QUEUE_LIMIT,
    "UNEXPECTED_ERROR",
    "PAYLOAD_TOO_LARGE",
)
"""The codes the platform writes on error entries (the column is free text; these are
the ones its code produces)."""
_CODES_OR_ABSENT = (*ERROR_CODES, None)

ENVIRONMENTS = _KEY_ENVIRONMENTS  # written once, with the key format, in `redact`
"""The environments a secret key names (`tr_<environment>_...`)."""
DEVELOPMENT = "dev"
"""The DEVELOPMENT environment's name: its runs get a default `ttl`."""

# What follows `batch_` / `run_`: every generator the platform has used is still valid
# in bodies. Case-sensitive.
_CUID = r"c[0-9a-z]{24}"  # c, 8 of time, 4 of counter, 4 of fingerprint, 8 random
_NANOID = r"[1-9a-km-z]{21}"  # v3 batches and runs before 2026-07
_RUN_OPS = r"[0-9a-v]{24}[0-9a-z][12]"  # base32hex time + random, region/shard, version
_BASE62 = r"[0-9A-Za-z]{27}"  # from before the run-ops cutover
_ID_BODY = rf"(?:{_CUID}|{_NANOID}|{_RUN_OPS}|{_BASE62})"
ID_FORMATS = "a 25-char cuid, 21-char nanoid, 26-char run-ops id or 27-char base62 id"
"""The id formats, as failure messages name them."""
BATCH_ID_RE = re.compile(rf"batch_{_ID_BODY}")
RUN_ID_RE = re.compile(rf"run_{_ID_BODY}")
# All of a batch's runs checked in one pass, joined by spaces: a regex call per id was
# a quarter of building a 1,000-run batch.
_RUNS_RE = re.compile(rf"run_{_ID_BODY}(?: run_{_ID_BODY})*")
# With check_ids=False an id may be any text that fits in a URL path segment.
_READABLE = r"[^\s/?#%]+"
_READABLE_RE = re.compile(_READABLE)
_READABLE_RUNS_RE = re.compile(rf"{_READABLE}(?: {_READABLE})*")
READABLE_ID = "a non-empty string without spaces, '/', '?', '#' or '%'"


def whole_number(
    value: object,
    *,
    parameter: str,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """Return `value` if it is an int (not a bool) from `minimum` to `maximum` (inclusive).

    Otherwise raise `TypeError` (not an int, or a bool: JSON has no such thing as `True`
    items) or `ValueError` (out of range), with a message naming `parameter` and the
    valid range, e.g. ``run_count must be a whole number from 1 to 1000; got 1001``.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        if (minimum is None or value >= minimum) and (maximum is None or value <= maximum):
            return value
        error: type[Exception] = ValueError
    else:
        error = TypeError
    if minimum is not None and maximum is not None:
        valid = f" from {minimum} to {maximum}"
    elif minimum is not None:
        valid = f" >= {minimum}"
    elif maximum is not None:
        valid = f" <= {maximum}"
    else:
        valid = ""
    raise error(f"{parameter} must be a whole number{valid}; got {shown(value)}")


def is_whole_number(value: object) -> bool:
    """An int that is not a bool (JSON has no such thing as `True` items)."""
    return isinstance(value, int) and not isinstance(value, bool)


# A batch's phase: its status plus whether run creation has finished (counts present).
Phase = tuple[str, bool]
TRANSITIONS: frozenset[tuple[Phase, Phase]] = frozenset(
    {
        # streaming batches (SDK 4.3.1 and later)
        (("PENDING", False), ("PROCESSING", False)),
        # Items never finished arriving: a batchTriggerAndWait batch is aborted 30 minutes
        # after creation. Only unsealed batches are: never from PROCESSING.
        (("PENDING", False), ("ABORTED", False)),
        (("PROCESSING", False), ("ABORTED", True)),  # every item failed
        (("PROCESSING", False), ("PARTIAL_FAILED", True)),
        (("PROCESSING", False), ("PENDING", True)),  # all created, waiting to finish
        (("PENDING", True), ("COMPLETED", True)),
        (("PARTIAL_FAILED", True), ("COMPLETED", True)),
        # legacy batches (v3, early v4): no counts
        (("PENDING", False), ("COMPLETED", False)),
    }
)
FINAL_STATUSES = frozenset({BatchStatus.COMPLETED.value, BatchStatus.ABORTED.value})


def _closure(steps: frozenset[tuple[Phase, Phase]]) -> frozenset[tuple[Phase, Phase]]:
    reachable = set(steps)
    while True:
        longer = {(a, d) for a, b in reachable for c, d in reachable if b == c} - reachable
        if not longer:
            return frozenset(reachable)
        reachable |= longer


REACHABLE = _closure(TRANSITIONS)
"""Phase pairs one or more transitions apart: two polls may miss the states between."""


def phase(batch: TriggerBatch) -> Phase:
    """The batch's status and whether its run creation has finished."""
    return (batch.status.value, batch.successful_run_count is not None)


def transition_problem(before: TriggerBatch, after: TriggerBatch) -> str | None:
    """Why the platform could not move from `before` to `after`, or None if it could."""
    if after.id != before.id:
        return f"the batch id changed from {shown(before.id)} to {shown(after.id)}"
    if after.run_count != before.run_count:
        return f"runCount changed from {before.run_count} to {after.run_count} (it never changes)"
    if after.created_at != before.created_at:
        return "createdAt changed (it never changes)"
    if after.idempotency_key != before.idempotency_key:
        return "idempotencyKey changed (it never changes)"
    old, new = phase(before), phase(after)
    if old != new and old[0] in FINAL_STATUSES:
        return f"{old[0]} is final; a batch never leaves it"
    if after.updated_at < before.updated_at:
        return "updatedAt went backwards"
    if old == new:
        if old[1] and _outcome_changed(before, after):
            return "runs or errors changed after run creation had finished"
        if not set(before.runs) <= set(after.runs):
            return "runs disappeared"
        return None
    if (old, new) not in REACHABLE:
        return f"{_name(new)} never follows {_name(old)}"
    if old[1] and _outcome_changed(before, after):
        return "runs or errors changed after run creation had finished"
    return None


def _outcome_changed(before: TriggerBatch, after: TriggerBatch) -> bool:
    # errors[] has no defined order: two retrievals may list the same entries differently.
    return before.runs != after.runs or (
        before.errors != after.errors and set(before.errors) != set(after.errors)
    )


def _name(p: Phase) -> str:
    return f"{p[0]} ({'after' if p[1] else 'before'} run creation)"


def problems(batch: TriggerBatch, *, ids_minted: bool = False) -> list[str]:
    """Every platform invariant `batch` breaks, as readable sentences (empty when valid).

    `ids_minted`: the factory made the batch's ids itself, so their format and
    uniqueness are not checked again (public construction always checks them).
    """
    found: list[str] = []
    add = found.append
    if not ids_minted:
        _check_ids(batch, add)
    try:
        whole_number(batch.run_count, parameter="runCount", minimum=1, maximum=MAX_ITEMS)
    except (TypeError, ValueError) as problem:
        add(str(problem))
        return found  # every count rule below depends on it
    key = batch.idempotency_key
    if key is not None and (
        not isinstance(key, str) or not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH
    ):
        add(f"idempotencyKey must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} characters or absent")
    if batch.updated_at < batch.created_at:
        add("updatedAt must not be before createdAt")
    if len(batch.runs) > batch.run_count:
        add(f"runs holds {len(batch.runs)} ids but runCount is {batch.run_count}")

    successful, failed = batch.successful_run_count, batch.failed_run_count
    if (successful is None) != (failed is None):
        add("successfulRunCount and failedRunCount are both present or both absent")
        return found
    if successful is None or failed is None:
        _check_before_run_creation(batch, add)
    else:
        wrong = []
        for name, count in (("successfulRunCount", successful), ("failedRunCount", failed)):
            try:
                whole_number(count, parameter=name, minimum=0)
            except (TypeError, ValueError) as problem:
                wrong.append(str(problem))
        if wrong:
            found.extend(wrong)
            return found  # the rules below add and compare the counts
        _check_after_run_creation(batch, successful, failed, add)
    completed = batch.processing_completed_at
    if completed is not None and not batch.created_at <= completed <= batch.updated_at:
        add("processingCompletedAt must lie between createdAt and updatedAt")
    return found


def _check_ids(batch: TriggerBatch, add: AddProblem) -> None:
    strict = batch.check_ids
    if strict:
        if not isinstance(batch.id, str) or not BATCH_ID_RE.fullmatch(batch.id):
            add(f"id must be 'batch_' + {ID_FORMATS}; got {shown(batch.id)}")
    elif not isinstance(batch.id, str) or not _READABLE_RE.fullmatch(batch.id):
        add(f"id must be {READABLE_ID} (with check_ids=False); got {shown(batch.id)}")
    runs = batch.runs
    if not runs:
        return
    try:
        joined = " ".join(runs)  # TypeError if any is not a string
    except TypeError:
        joined = ""
    # The space count too: an id holding a space would otherwise pass as two.
    joined_ok = joined.count(" ") == len(runs) - 1
    if not (joined_ok and (_RUNS_RE if strict else _READABLE_RUNS_RE).fullmatch(joined)):
        single = RUN_ID_RE if strict else _READABLE_RE
        bad = next(r for r in runs if not isinstance(r, str) or not single.fullmatch(r))
        if strict:
            add(f"runs must be run ids ('run_' + {ID_FORMATS}); got {shown(bad)}")
        else:
            add(f"runs must be {READABLE_ID} (with check_ids=False); got {shown(bad)}")
    elif len(set(runs)) != len(runs):
        add("runs must not repeat a run id")


def _check_before_run_creation(batch: TriggerBatch, add: AddProblem) -> None:
    status = batch.status.value
    if batch.errors:
        add("errors appear only once run creation has finished (with the counts)")
    if batch.processing_completed_at is not None and (status != BatchStatus.ABORTED or batch.runs):
        # The one exception: a batch whose items never finished arriving is aborted
        # with processingCompletedAt set, and no runs or counts.
        add(
            "processingCompletedAt is set only once run creation has finished, or on an "
            "ABORTED batch whose items never finished arriving (no runs, no counts)"
        )
    if status == "PROCESSING" and batch.runs:
        add("a PROCESSING batch has no runs yet (runs appear with the counts)")
    if status == "COMPLETED" and len(batch.runs) != batch.run_count:
        add(
            f"a COMPLETED batch without counts (legacy) holds all its runs: "
            f"runCount is {batch.run_count} but runs holds {len(batch.runs)}"
        )
    if status == "PARTIAL_FAILED":
        add("a PARTIAL_FAILED batch has finished run creation, so it has counts")


def _check_after_run_creation(
    batch: TriggerBatch, successful: int, failed: int, add: AddProblem
) -> None:
    status = batch.status.value
    if successful + failed != batch.run_count:
        add(
            f"successfulRunCount + failedRunCount must equal runCount: "
            f"{successful} + {failed} != {batch.run_count}"
        )
    if len(batch.runs) != successful:
        add(
            f"runs holds the created runs, so len(runs) == successfulRunCount: "
            f"{len(batch.runs)} != {successful}"
        )
    if batch.processing_completed_at is None:
        add("processingCompletedAt is set once run creation has finished")
    allowed = _statuses_for(failed, batch.run_count)
    if status not in allowed:
        add(
            f"with {failed} of {batch.run_count} items failed the status is "
            f"{' or '.join(allowed)}, not {status}"
        )
    _check_errors(batch, failed, add)


def _statuses_for(failed: int, run_count: int) -> tuple[str, ...]:
    if failed == 0:
        return ("PENDING", "COMPLETED")
    if failed == run_count:
        return ("ABORTED",)
    return ("PARTIAL_FAILED", "COMPLETED")


def _check_errors(batch: TriggerBatch, failed: int, add: AddProblem) -> None:
    # In any order: errors[] has no defined order (the order failures were recorded).
    errors = batch.errors
    if not errors:
        if failed:
            add(f"one error entry per failed item: failedRunCount is {failed}, errors has 0")
        return
    every_index = [e.index for e in errors]
    indices = [i for i in every_index if type(i) is int]  # not bool: JSON has no such index
    if len(indices) != len(every_index):
        not_numbers = [i for i in every_index if type(i) is not int]
        add(f"error indices must be whole numbers; got {shown(not_numbers)}")
    if len(set(indices)) != len(indices):
        add(f"error indices must be unique; got {shown(sorted(indices))}")
    out_of_range = [i for i in indices if not 0 <= i < batch.run_count]
    if out_of_range:
        add(f"error indices must lie in 0..{batch.run_count - 1}; got {shown(out_of_range)}")
    # Comprehensions, not a loop of ifs: this runs over up to 1,000 entries per batch.
    bad_codes = [e.error_code for e in errors if e.error_code not in _CODES_OR_ABSENT]
    if bad_codes:
        add(
            f"errorCode must be one of {', '.join(ERROR_CODES)} or absent; "
            f"got {shown(bad_codes[0])}"
        )
    bad_tasks = [
        e.index
        for e in errors
        if type(e.task_identifier) is not str or not e.task_identifier.strip()
    ]
    if bad_tasks:
        add(f"error {bad_tasks[0]}: taskIdentifier must be a task id")
    not_text = [e.index for e in errors if type(e.error) is not str]
    if not_text:
        add(f"error {not_text[0]}: error must be the message string")
    if failed and all(e.error_code == QUEUE_LIMIT for e in errors):
        if len(errors) != 1:
            add(
                f"when every failure is {QUEUE_LIMIT} they collapse into one error entry; "
                f"got {len(errors)}"
            )
        elif isinstance(errors[0].error, str) and not errors[0].error.endswith(
            collapsed_suffix(failed)
        ):
            add(f"the collapsed {QUEUE_LIMIT} entry ends {shown(collapsed_suffix(failed))}")
    elif len(errors) != failed:
        add(
            f"one error entry per failed item: failedRunCount is {failed}, errors has {len(errors)}"
        )


if TYPE_CHECKING:
    from collections.abc import Callable

    AddProblem = Callable[[str], None]


# --- realtime: shape-stream subscriptions (realtime.v1.runs.ts, realtimeClient.server.ts) ---
REALTIME_UNSAFE_TAG = re.compile(r'[\x00-\x1f\x7f\\"]')
"""Characters a tag of `GET /realtime/v1/runs?tags=` may not hold (`electricShape.server.ts`)."""
REALTIME_DEFAULT_WINDOW = "24h"
"""The `createdAt` window of a tag subscription when none is given."""
REALTIME_MAX_WINDOW_MS = 24 * 60 * 60 * 1000
"""The widest `createdAt` window (`REALTIME_MAXIMUM_CREATED_AT_FILTER_AGE_IN_MS`)."""

# --- bulkqueues: queues and bulk actions ---------------------------------------------------

QUEUE_PAGE_SIZE = 25
"""Queues a page lists unless `perPage` says (`QueueListPresenter.server.ts`)."""
QUEUE_MAX_PAGE_SIZE = 100
"""A larger `perPage` is read as this."""
ENVIRONMENT_CONCURRENCY_LIMIT = 100
"""An environment's `maximumConcurrencyLimit` as it is created by default
(`DEFAULT_ENV_EXECUTION_CONCURRENCY_LIMIT`): a queue override may not exceed it."""
QUEUE_NOT_FOUND = "queue-not-found"
"""The retrieve and pause routes' 404 (their own code, not the builder's text)."""
QUEUE_OVERRIDE_NOT_FOUND = "Queue not found"
QUEUE_NOT_OVERRIDDEN = "Queue is not overridden"
QUEUE_OVERRIDE_ONE_OF = "Provide exactly one of `concurrencyLimit` or `percent`"
QUEUE_OVERRIDE_MAXIMUM = 100_000
"""The body schema's largest `concurrencyLimit`."""


def queue_limit_too_high(limit: str, maximum: int) -> str:
    """The override's refusal of a limit above the environment's."""
    return f"Concurrency limit ({limit}) cannot exceed the environment limit ({maximum})"


BULK_ACTION_MAX_BODY = 1024 * 1024
"""`POST /api/v1/bulk-actions`'s largest body (`MAX_CREATE_BODY_SIZE`)."""
BULK_ACTION_MAX_RUN_IDS = 500
"""`BULK_ACTION_MAX_RUN_IDS`: more ids must be a filter."""
BULK_ACTION_BATCH_SIZE = 100
"""Runs a bulk action processes a step (`BULK_ACTION_BATCH_SIZE`)."""
BULK_ACTION_MAX_REPLAYS = 3
"""Bulk replays PENDING at once in an environment (`BULK_ACTION_MAX_CONCURRENT_REPLAYS`)."""
BULK_ONE_OF = "Exactly one of filter or runIds must be provided"
BULK_ONE_FILTER = "At least one filter must be provided"


def too_many_run_ids(count: int) -> str:
    """The create route's refusal of more than `BULK_ACTION_MAX_RUN_IDS` ids."""
    return (
        f"Too many runIds ({count}). Maximum is {BULK_ACTION_MAX_RUN_IDS}. "
        "Use a filter to select more runs."
    )


def too_many_replays() -> str:
    """The service's 429 for a replay over the concurrent-replay cap."""
    return (
        f"You can only run {BULK_ACTION_MAX_REPLAYS} bulk replays at a time in this "
        "environment. Wait for an in-progress replay to finish before starting another."
    )


def bulk_action_final(bulk_id: str, status: str) -> str:
    """The abort's 409 for a bulk action that is already COMPLETED or ABORTED."""
    return f"Bulk action group already {status.lower()}: {bulk_id}"


# -- runops: changes to a run ----------------------------------------------------------

METADATA_MAX_BYTES = 262_144
"""The largest metadata a run may hold, as UTF-8 JSON (`TASK_RUN_METADATA_MAXIMUM_SIZE`)."""
METADATA_MAX_BODY = 2 * 1024 * 1024
"""`PUT /api/v1/runs/{runId}/metadata`: the largest body (2 MiB)."""
METADATA_UPDATABLE_MS = 3_600_000
"""A finished run's metadata can be changed for an hour after it finished."""

_UNSAFE_METADATA_SEGMENTS = frozenset({"__proto__", "constructor", "prototype"})
_METADATA_PATH_SPLIT = re.compile(r"""[.[\]'"]+""")


def safe_metadata_key(key: str) -> bool:
    """Whether a metadata operation may touch `key`: no `__proto__` key, and no
    `__proto__`, `constructor` or `prototype` segment in a `$.` path."""
    if not key.startswith("$."):
        return key != "__proto__"
    return not any(part in _UNSAFE_METADATA_SEGMENTS for part in _METADATA_PATH_SPLIT.split(key))


# --- tokens: public access tokens (the two auth routes, one-time use) ---

CLAIMS_UNAUTHORIZED = "Invalid or Missing API key"
"""`POST /api/v1/auth/jwt/claims`: its 401, whatever is wrong with the credential."""
PUBLIC_TOKEN_DEFAULT_EXPIRY = "15m"
"""`POST /api/v1/auth/public-tokens`: the lifetime of a token the body gives none."""
PUBLIC_TOKEN_MAX_LIFETIME_S = 30 * 24 * 60 * 60
"""`POST /api/v1/auth/public-tokens`: the longest lifetime it mints (30 days)."""


def one_time_use_message(route_kind: str, task: str = "") -> str:
    """The 422 text for a one-time-use token that already made a run or a batch.

    `route_kind`: "trigger" (a run of `task`), "create-batch" (`POST /api/v3/batches`)
    or "batch-trigger" (the one-shot batch routes).
    """
    if route_kind == "trigger":
        return f"Cannot trigger {task} with a one-time use token as it has already been used."
    if route_kind == "create-batch":
        return "Cannot create batch with a one-time use token as it has already been used."
    return "Cannot batch trigger with a one-time use token as it has already been used."


# --- waitpoints: waitpoint tokens (docs/platform.md §12) ---------------------------------

WAITPOINT_CREATE_MAX_BODY = 10 * 1024
"""`POST /api/v1/waitpoints/tokens`: the largest body (10 KiB)."""
WAITPOINT_MAX_TAGS = 10
"""The most tags a waitpoint token takes."""
WAITPOINT_TIMEOUT_CODE = "TRIGGER_WAITPOINT_TIMEOUT"
"""The `code` of the error a timed-out token holds as its output."""
WAITPOINT_NOT_FOUND = "Waitpoint not found"
WAITPOINT_BAD_HASH = "Invalid URL, hash doesn't match"
WAITPOINT_CALLBACK_FAILED = "Failed to complete HTTP callback"
WAITPOINT_COMPLETE_FAILED = "Failed to complete waitpoint token"
WAITPOINT_NO_LENGTH = "Content-Length header is required"


def waitpoint_tags_message(count: int) -> str:
    """The 422 for a token created with more than `WAITPOINT_MAX_TAGS` tags."""
    return f"Waitpoints can only have {WAITPOINT_MAX_TAGS} tags, you're trying to set {count}."


# -- results and large payloads (results) ----------------------------------------------

RUN_RESULT_NOT_FOUND = "Run either doesn't exist or is not finished"
"""`GET /api/v1/runs/{runId}/result`: 404 for an unknown run and for a run with no result."""
BATCH_RESULTS_NOT_FOUND = "Batch not found"
"""`GET /api/v1/batches/{batchId}/results`: 404 for an unknown batch."""
RESULT_UNAUTHORIZED = "Invalid or Missing API Key"
"""The two result routes' 401, whatever is wrong with the credential."""
PACKET_UNAUTHORIZED = "Invalid or Missing API key"
"""The packet routes' 401, whatever is wrong with the credential."""
INVALID_PACKET_PATH = "Invalid packet storage path"
"""A packet name that is empty, absolute, has a backslash or a `.`/`..`/empty segment: 400."""
SERVER_OFFLOAD_BYTES = 512 * 1024
"""A payload sent inline whose stored text has this many bytes or more is moved to the
object store by the platform (`TASK_PAYLOAD_OFFLOAD_THRESHOLD`)."""
SDK_OFFLOAD_BYTES = 128 * 1024
"""The SDK (4.x) uploads a payload or output whose text has this many bytes or more itself
(`OFFLOAD_IO_PACKET_LENGTH_LIMIT`) and sends an `application/store` reference instead."""
PACKET_URL_SECONDS = 300
"""How long a presigned packet URL is good for."""
PROJECT_REF = "proj_pytesttriggerbatches"
"""The project every mock environment belongs to, as object-store keys name it."""
TASK_RUN_CANCELLED = "TASK_RUN_CANCELLED"
"""The error code of a cancelled run's result (`TaskRunErrorCodes`)."""
OBJECT_STORE_ERRORS = {
    "AccessDenied": (403, "Access Denied"),
    "Expired": (403, "Request has expired"),
    "SignatureDoesNotMatch": (
        403,
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
    ),
    "NoSuchKey": (404, "The specified key does not exist."),
}
"""How the object store refuses a presigned URL: (status, message) by error code (an
expired URL is `AccessDenied` too)."""
