"""Bulk actions: a cancel or a replay of the runs a filter (or a list of ids) selects.

The platform counts the runs when the action is made, then a background job works
through them a page at a time, cancelling or replaying each as the single-run routes
do, and marks the action COMPLETED after the last page (`BulkActionV2.server.ts`).
The records here hold what the action selected and how far it got; the backend does
the cancels and replays. docs/platform.md §13.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field

from pytest_trigger_batches.errors import PlatformError
from pytest_trigger_batches.timefmt import iso_ms

__all__ = ["BulkAction", "BulkActionPage", "BulkActionStore"]


@dataclass(slots=True, eq=False)
class BulkAction:
    """One bulk action (the platform's `BulkActionGroup`)."""

    id: str
    """`bulk_` + its internal id (a cuid)."""
    environment: str
    type: str
    """CANCEL or REPLAY."""
    created_ms: int
    run_ids: list[str] = field(repr=False)
    """The runs it selected when it was made, in the order it works through them."""
    name: str | None = None
    region: str | None = None
    """A replay's `targetRegion`: where the new runs go."""
    status: str = "PENDING"
    done: int = 0
    """How many of `run_ids` it has worked through."""
    success: int = 0
    failure: int = 0
    completed_ms: int | None = None

    @property
    def internal_id(self) -> str:
        """Its id without `bulk_`, as runs (and `filter[bulkAction]`) carry it."""
        return self.id.removeprefix("bulk_")

    def body(self) -> dict[str, object]:
        """As `apiBulkActionObject` writes it (absent name and completedAt left out)."""
        out: dict[str, object] = {"id": self.id}
        if self.name is not None:
            out["name"] = self.name
        out.update(
            type=self.type,
            status=self.status,
            counts={"total": len(self.run_ids), "success": self.success, "failure": self.failure},
            createdAt=iso_ms(self.created_ms),
        )
        if self.completed_ms is not None:
            out["completedAt"] = iso_ms(self.completed_ms)
        return out


@dataclass(frozen=True, slots=True)
class BulkActionPage:
    """One page of the list, and its cursors."""

    actions: list[BulkAction]
    pagination: dict[str, str]


class BulkActionStore:
    """Every bulk action, in the order they were made."""

    def __init__(self) -> None:
        self._actions: dict[str, BulkAction] = {}

    def add(self, action: BulkAction) -> None:
        """Keep `action`."""
        self._actions[action.id] = action

    def get(self, bulk_id: str, environment: str) -> BulkAction | None:
        """The action `bulk_id` of `environment` (another's is None)."""
        found = self._actions.get(bulk_id)
        return found if found is not None and found.environment == environment else None

    def pending_replays(self, environment: str) -> int:
        """How many replays of `environment` are still PENDING."""
        return sum(
            1
            for action in self._actions.values()
            if action.environment == environment
            and action.type == "REPLAY"
            and action.status == "PENDING"
        )

    def page(
        self, environment: str, *, size: int, after: str | None, before: str | None
    ) -> BulkActionPage:
        """The list's keyset page, newest first (`ApiBulkActionPresenter.list`): both
        cursors, or one that does not decode, throw (the platform's 500)."""
        if after and before:
            raise PlatformError.message(500, "Internal Server Error")
        cursor = _decode(after or before)
        forward = not before
        mine = sorted(
            (a for a in self._actions.values() if a.environment == environment),
            key=_place,
            reverse=forward,
        )
        if cursor is not None:
            mine = [a for a in mine if (_place(a) < cursor if forward else _place(a) > cursor)]
        rows = mine[: size + 1]
        more = len(rows) > size
        shown = rows[:size] if forward else rows[:size][::-1]
        pagination: dict[str, str] = {}
        if shown and (more or not forward):
            pagination["next"] = _encode(shown[-1])
        if shown and ((forward and bool(after)) or (not forward and more)):
            pagination["previous"] = _encode(shown[0])
        return BulkActionPage(shown, pagination)


def _place(action: BulkAction) -> tuple[int, str]:
    return (action.created_ms, action.internal_id)


def _encode(action: BulkAction) -> str:
    raw = json.dumps({"createdAt": action.created_ms, "id": action.internal_id})
    raw = raw.replace(", ", ",").replace(": ", ":")
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()


def _decode(cursor: str | None) -> tuple[int, str] | None:
    """A cursor's place; one that is not base64url JSON of {createdAt, id} throws."""
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        parsed = json.loads(text)
    except (binascii.Error, ValueError):
        parsed = None
    created = parsed.get("createdAt") if isinstance(parsed, dict) else None
    internal = parsed.get("id") if isinstance(parsed, dict) else None
    if isinstance(created, bool) or not isinstance(created, int | float):
        raise PlatformError.message(500, "Internal Server Error")
    if not isinstance(internal, str):
        raise PlatformError.message(500, "Internal Server Error")
    return (int(created), internal)
