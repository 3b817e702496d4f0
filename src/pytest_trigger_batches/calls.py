"""Recorded calls: every request that reached the origin, with secrets redacted."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from pytest_trigger_batches.pipeline import ApiResponse, Disconnect, Outcome, Request, Unserved
from pytest_trigger_batches.records import TriggerAnswer
from pytest_trigger_batches.redact import redact_many, redact_more, shown_header

__all__ = ["CallOutcome", "RecordedCall", "TriggerAnswer", "TriggeredItem", "record"]

CallOutcome = Literal["answered", "timeout", "connect_error", "unexpected"]
_VERSION_RE = re.compile(r"/api/v(\d+)/")
_MAX_RECORDED_BODY = 1 << 20


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """One request to the Trigger.dev origin and what became of it, keys redacted.

    - `route`: the route that served it (`GET /api/v1/batches/{batchId}`), None if none.
    - `params`: the route's path parameters, percent-decoded (`{"batchId": ...}`).
    - `body`: the request body parsed as JSON (None if empty or not JSON).
    - `outcome`: "answered", "timeout", "connect_error" (faults), or "unexpected" (a
      request the mock does not serve, and no route of the test answered it).
    - `stubbed`: answered by a route the test added (`add_route` or a respx route).
    """

    method: str
    url: str
    path: str
    headers: Mapping[str, str]
    status_code: int | None
    outcome: CallOutcome
    route: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    body: object = None
    stubbed: bool = False

    @property
    def batch_id(self) -> str | None:
        """The `batchId` path parameter, if the route has one."""
        return self.params.get("batchId")

    @property
    def api_version(self) -> int | None:
        """The API version in the path (`/api/v2/...` is 2), if any."""
        found = _VERSION_RE.match(self.path)
        return int(found.group(1)) if found else None

    def __str__(self) -> str:
        result = self.status_code if self.outcome == "answered" else self.outcome
        return f"{self.method} {self.url} -> {result}"


@dataclass(frozen=True, slots=True)
class TriggeredItem:
    """One item the application sent to a trigger route, as it sent it (keys redacted).

    - `route`: the route it went to (`"POST /api/v3/batches/{batchId}/items"`).
    - `task`, `index` (its index in its batch; 0 for a single trigger), `payload`
      (parsed when the SDK sent it as JSON text), `options`.
    - `batch_id`: the batch it went to or was answered with; None for a single trigger
      and for a one-shot request refused before a batch existed.
    - `answer` (keyword): how the platform took it: "created", "cached",
      "deduplicated" or "refused" (`TriggerAnswer`).
    """

    route: str
    task: str
    index: int
    payload: object
    options: Mapping[str, object]
    batch_id: str | None
    answer: TriggerAnswer = field(default="created", kw_only=True)

    def __str__(self) -> str:
        if self.batch_id:
            where = f"{self.batch_id}[{self.index}]"
        else:  # a single trigger, or a batch request refused before it made a batch
            where = "single trigger" if self.route.endswith("/trigger") else f"item {self.index}"
        payload = json.dumps(self.payload, default=str)
        answer = "" if self.answer == "created" else f" ({self.answer})"
        cut = f"{payload[:120]}{'...' if len(payload) > 120 else ''}"
        return f"{self.task} {where}: {cut}{answer}"


def record(
    request: Request,
    path: str,
    outcome: Outcome | None,
    *,
    status_code: int | None = None,
    stubbed: bool = False,
) -> RecordedCall:
    """The record of `request`: from the pipeline's `outcome`, or a transport's answer."""
    kind: CallOutcome = "answered" if status_code is not None else "unexpected"
    route = None
    params: dict[str, str] = {}
    if outcome is not None:
        answer = outcome.answer
        stubbed = stubbed or outcome.stubbed
        if outcome.route is not None and not isinstance(answer, Unserved):
            route, params = outcome.route.name, outcome.params
        if isinstance(answer, ApiResponse):
            kind, status_code = "answered", answer.status_code
        elif isinstance(answer, Disconnect):
            kind = answer.kind
    # Every text of the call redacted in one pass (the environment's key read once).
    headers = request.headers
    names = [name for name in headers if name.lower() != "authorization"]
    texts = [request.method, request.url, path, *params.values()]
    shown = redact_many([*texts, *(headers[name] for name in names)])
    method, url, shown_path = shown[:3]
    plain = dict(zip(names, shown[len(texts) :], strict=True))
    # Set slot by slot: the frozen dataclass's __init__ was a third of recording a call.
    call = object.__new__(RecordedCall)
    put = _CALL_SLOTS
    put["method"](call, method)
    put["url"](call, url)
    put["path"](call, shown_path)
    put["headers"](
        call,
        {
            name: plain[name] if name in plain else shown_header(name, value)
            for name, value in headers.items()
        },
    )
    put["status_code"](call, status_code)
    put["outcome"](call, kind)
    put["route"](call, route)
    put["params"](call, dict(zip(params, shown[3 : len(texts)], strict=True)) if params else {})
    put["body"](call, _parsed(request.body, ndjson="ndjson" in headers.get("content-type", "")))
    put["stubbed"](call, stubbed)
    return call


_CALL_SLOTS = {name: getattr(RecordedCall, name).__set__ for name in RecordedCall.__slots__}


def _loads(text: str, *, ndjson: bool) -> object:
    if ndjson:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return json.loads(text)


def _parsed(body: bytes, *, ndjson: bool) -> object:
    """The body as JSON; NDJSON as a list of its lines; None if neither (or too large).

    Redacted after the call's other texts (`redact_more`).
    """
    if not body or len(body) > _MAX_RECORDED_BODY:
        return None
    try:
        text = body.decode("utf-8")
        if "\\u" not in text:  # no escapes: redacting the text is redacting the values
            return _loads(redact_more(text), ndjson=ndjson)
        # An escaped key ("\\u0074r_...") is plain text only once parsed: redact then.
        return json.loads(redact_more(json.dumps(_loads(text, ndjson=ndjson))))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
