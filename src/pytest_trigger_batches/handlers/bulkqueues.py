"""Queues (`/api/v1/queues...`) and bulk actions (`/api/v1/bulk-actions...`).

Queues: list, retrieve by id or by type and name, pause and resume, concurrency
override and reset. Bulk actions: create (cancel or replay), list, retrieve, abort.
docs/platform.md §13.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import unquote

from pytest_trigger_batches.errors import PlatformError, json_bytes
from pytest_trigger_batches.handlers import query
from pytest_trigger_batches.handlers.validate import (
    bulk_action_body,
    date_text_ms,
    json_body,
    override_queue_body,
    pause_queue_body,
    reset_queue_body,
)
from pytest_trigger_batches.listing import RunFilter
from pytest_trigger_batches.pipeline import Reply
from pytest_trigger_batches.rules import (
    BULK_ACTION_MAX_RUN_IDS,
    QUEUE_MAX_PAGE_SIZE,
    QUEUE_NOT_FOUND,
    QUEUE_NOT_OVERRIDDEN,
    QUEUE_OVERRIDE_NOT_FOUND,
    QUEUE_PAGE_SIZE,
    too_many_run_ids,
)
from pytest_trigger_batches.statuses import FILTER_STATUSES

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pytest_trigger_batches.backend import TriggerBackend
    from pytest_trigger_batches.pipeline import Context

_MALFORMED_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_QUEUE_TYPES = ("task", "custom", "id")


# -- queues ------------------------------------------------------------------------------


def list_queues(context: Context, backend: TriggerBackend) -> Reply:
    """A page of the environment's queues (`page`, `perPage`), with their counts."""
    issues: list[dict[str, object]] = []
    page = query.positive_int(context, "page", issues)
    per_page = query.positive_int(context, "perPage", issues)
    if issues:
        raise query.query_errors(issues)
    size = min(per_page or QUEUE_PAGE_SIZE, QUEUE_MAX_PAGE_SIZE)
    body = backend.list_queues(context.environment, context.now_ms, page=page or 1, per_page=size)
    return Reply(200, json_bytes(body))


def retrieve_queue(context: Context, backend: TriggerBackend) -> Reply:
    """One queue, by id (`?type=id`, the default) or by `type` (task, custom) and name."""
    wanted = query.one(context, "type")
    type_ = "id" if wanted is None else wanted
    if type_ not in _QUEUE_TYPES:
        raise query.query_errors([_enum_issue(type_)])
    context.authorize("read", [("queues", None)])
    queue = backend.queue(context.environment, _queue_param(context, type_), type_, QUEUE_NOT_FOUND)
    [item] = backend.queue_items([queue], context.now_ms, percent=True)
    return Reply(200, json_bytes(item))


def pause_queue(context: Context, backend: TriggerBackend) -> Reply:
    """Pause (`action: "pause"`) or resume a queue; the queue as it is then."""
    body = pause_queue_body(json_body(context.body))
    type_ = body.get("type", "id")
    queue = backend.queue(context.environment, _queue_param(context, type_), type_, QUEUE_NOT_FOUND)
    backend.pause_queue(queue, paused=body["action"] == "pause")
    [item] = backend.queue_items([queue], context.now_ms, percent=False)
    return Reply(200, json_bytes(item))


def override_queue(context: Context, backend: TriggerBackend) -> Reply:
    """Override a queue's concurrency limit (`concurrencyLimit` or `percent`)."""
    body = override_queue_body(json_body(context.body))
    type_ = body.get("type", "id")
    queue = backend.queue(
        context.environment, _queue_param(context, type_), type_, QUEUE_OVERRIDE_NOT_FOUND
    )
    limit, percent = body.get("concurrencyLimit"), body.get("percent")
    backend.override_queue(
        queue,
        context.now_ms,
        limit=None if limit is None else int(limit),
        percent=None if percent is None else float(percent),
    )
    [item] = backend.queue_items([queue], context.now_ms, percent=False)
    return Reply(200, json_bytes(item))


def reset_queue(context: Context, backend: TriggerBackend) -> Reply:
    """A queue's concurrency limit back to its base; 400 when it was not overridden."""
    body = reset_queue_body(json_body(context.body))
    type_ = body.get("type", "id")
    queue = backend.queue(
        context.environment, _queue_param(context, type_), type_, QUEUE_OVERRIDE_NOT_FOUND
    )
    if not backend.reset_queue(queue):
        raise PlatformError.message(400, QUEUE_NOT_OVERRIDDEN)
    [item] = backend.queue_items([queue], context.now_ms, percent=False)
    return Reply(200, json_bytes(item))


def _queue_param(context: Context, type_: str) -> str:
    """The path's queue, `%2F` read as `/`; a name (not an id) is decoded once more, as
    `decodeURIComponent` does (a malformed escape throws: the builder's 500)."""
    param = context.params["queueParam"].replace("%2F", "/")
    if type_ == "id":
        return param
    if _MALFORMED_ESCAPE.search(param):
        raise PlatformError.message(500, "Internal Server Error")
    try:
        return unquote(param, errors="strict").replace("%2F", "/")
    except UnicodeDecodeError:
        raise PlatformError.message(500, "Internal Server Error") from None


def _enum_issue(value: str) -> dict[str, object]:
    joined = " | ".join(f"'{option}'" for option in _QUEUE_TYPES)
    return {
        "received": value,
        "code": "invalid_enum_value",
        "options": list(_QUEUE_TYPES),
        "path": ["type"],
        "message": f"Invalid enum value. Expected {joined}, received '{value}'",
    }


# -- bulk actions ------------------------------------------------------------------------


def create_bulk_action(context: Context, backend: TriggerBackend) -> Reply:
    """A bulk cancel or replay over `runIds` or a `filter`: `202 {id}`."""
    body = bulk_action_body(json_body(context.body))
    run_ids = body.get("runIds")
    if run_ids is not None and len(run_ids) > BULK_ACTION_MAX_RUN_IDS:
        raise PlatformError.message(400, too_many_run_ids(len(run_ids)))
    action = backend.create_bulk_action(
        environment=context.environment,
        kind="CANCEL" if body["action"] == "cancel" else "REPLAY",
        run_ids=run_ids,
        query=_run_filter(body.get("filter") or {}),
        name=body.get("name"),
        region=body.get("targetRegion"),
        now_ms=context.now_ms,
    )
    return Reply(202, json_bytes({"id": action.id}))


def list_bulk_actions(context: Context, backend: TriggerBackend) -> Reply:
    """The environment's bulk actions, newest first, a page at a time."""
    issues: list[dict[str, object]] = []
    size = query.page_size(context, issues)
    if issues:
        raise query.query_errors(issues)
    found = backend.list_bulk_actions(
        context.environment,
        size=size,
        after=query.one(context, "page[after]"),
        before=query.one(context, "page[before]"),
    )
    body = {"data": [action.body() for action in found.actions], "pagination": found.pagination}
    return Reply(200, json_bytes(body))


def retrieve_bulk_action(context: Context, backend: TriggerBackend) -> Reply:
    """A bulk action and its counts (a PENDING one first works through a page of runs)."""
    action = backend.bulk_action(context.params["bulkActionId"], context.environment)
    if action is None:
        raise context.not_found()
    get = context.method == "GET"
    return Reply(200, json_bytes(backend.poll_bulk_action(action, context.now_ms, get=get)))


def abort_bulk_action(context: Context, backend: TriggerBackend) -> Reply:
    """Stop a PENDING bulk action: `200 {id}`; a finished one is the 409."""
    action = backend.bulk_action(context.params["bulkActionId"], context.environment)
    if action is None:
        raise PlatformError.message(404, "Resource not found")
    backend.abort_bulk_action(action)
    return Reply(200, json_bytes({"id": action.id}))


def _listed(value: object) -> list[str]:
    """A string-or-list filter as a list."""
    if isinstance(value, list):
        return [str(each) for each in value]
    return [] if value is None else [str(value)]


def _moment(value: object) -> int | None:
    """`dateOrNumberToMs`: a number is epoch ms, a string a date."""
    if isinstance(value, str):
        return date_text_ms(value)
    if isinstance(value, bool) or value is None:
        return int(bool(value))
    return int(value) if isinstance(value, int | float) else None


def _run_filter(given: Mapping[str, object]) -> RunFilter:
    """`bulkActionFilterToRunListFilters`: the run list's filters from a bulk filter."""
    statuses = _listed(given.get("status"))
    queues = given.get("queue")
    queue_list = queues if isinstance(queues, list) else [] if queues is None else [queues]
    bulk = given.get("bulkAction")
    is_test = given.get("isTest")
    return RunFilter(
        size=0,
        statuses=set().union(*(FILTER_STATUSES[s] for s in statuses)) if statuses else None,
        tasks=_listed(given.get("taskIdentifier")),
        tags=frozenset(_listed(given.get("tag"))),
        batch_id=str(given["batch"]) if given.get("batch") else None,
        versions=_listed(given.get("version")),
        queues=[
            f"task/{q['name']}" if q.get("type") == "task" else str(q.get("name"))
            for q in queue_list
            if isinstance(q, dict)
        ],
        regions=_listed(given.get("region")),
        machines=_listed(given.get("machine")),
        is_test=is_test if isinstance(is_test, bool) else None,
        start_ms=_moment(given["from"]) if "from" in given else None,
        end_ms=_moment(given["to"]) if "to" in given else None,
        period=str(given["period"]) if given.get("period") else None,
        schedule_or_error=bool(given.get("schedule")),
        bulk_id=str(bulk).removeprefix("bulk_") if bulk else None,
    )
