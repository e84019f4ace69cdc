"""Row snapshots and diffs for audit logs: JSON-ready, only what changed."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect

#: Bookkeeping columns that say nothing about the change itself.
SKIPPED = frozenset({"created_at", "updated_at"})


def plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
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
