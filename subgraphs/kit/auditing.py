"""Row snapshots and diffs for audit logs: JSON-ready, only what changed."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import inspect

if TYPE_CHECKING:
    from protocol.viewer import Viewer

T = TypeVar("T")

#: Bookkeeping columns that say nothing about the change itself.
SKIPPED = frozenset({"created_at", "updated_at"})


def plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def row_snapshot(row: Any, skip: Iterable[str] = SKIPPED) -> dict[str, Any]:
    skipped = set(skip)
    return {
        attr.key: plain(getattr(row, attr.key))
        for attr in inspect(row).mapper.column_attrs
        if attr.key not in skipped
    }


def changed_only(
    old: dict[str, Any] | None, new: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None] | None:
    """Reduce a before/after pair to the keys that differ; None when nothing did."""
    if old is None or new is None:
        return old, new
    changed = {k for k in new if old.get(k) != new.get(k)}
    if not changed:
        return None
    return {k: old.get(k) for k in changed}, {k: new[k] for k in changed}


def audit_row(
    model: Callable[..., T],
    actor: Viewer | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    **columns: Any,
) -> T | None:
    """An audit row of `model` for a change, or None when nothing changed.

    The one place that says who an entry names: the actor and, in an
    impersonated session, the real person behind it (`act.sub`; issue 8,
    finding 6). `model` has `actor_id`, `impersonator_id`, `before`, `after`.
    """
    diff = changed_only(before, after)
    if diff is None:
        return None
    return model(
        **columns,
        actor_id=actor.user_id if actor else None,
        impersonator_id=actor.impersonator_id if actor else None,
        before=diff[0],
        after=diff[1],
    )
