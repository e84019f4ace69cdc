"""The quality-control backlog (issue 16 §2 and §4): what waits on the office, by age.

Two kinds of item, oldest first:

- an open change case: its status is not final in the change-case machine
  (`states.CHANGE_CASE`: a status no move leaves, implemented or cancelled; a
  rejected case still waits to be closed), open since it was created;
- an overdue dispatch task: still open (`tasks.OPEN`) and flagged by the
  overdue job (`overdue_since`), open since it became overdue.

An item's age is the whole days from then to now, and its bucket one of
`BUCKETS`. The page and the counts are two statements whatever the backlog's
size: one for the page (a keyset over the union of both kinds), one counting
every kind and bucket; the charters come through the charter loader.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, String, case, func, literal, select, tuple_, union_all
from sqlalchemy.dialects.postgresql import UUID

from subgraphs.charters import states
from subgraphs.charters.models import ChangeCase, DispatchTask
from subgraphs.charters.service.tasks import OPEN as OPEN_TASK_STATUSES
from subgraphs.kit.errors import BadUserInputError
from subgraphs.kit.pagination import decode_cursor, encode_cursor, page_size

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


class BacklogKind(StrEnum):
    CHANGE_CASE = "change_case"
    DISPATCH_TASK = "dispatch_task"


@dataclass(frozen=True)
class Bucket:
    label: str
    #: The youngest age (whole days) in the bucket; the next bucket's start ends it.
    from_days: int


#: The age buckets, youngest first.
BUCKETS = (
    Bucket("0-2 days", 0),
    Bucket("3-7 days", 3),
    Bucket("8-30 days", 8),
    Bucket("over 30 days", 31),
)
DAY = timedelta(days=1)

#: Change-case statuses no move leaves: a case in any other status is open.
FINAL_CHANGE_STATUSES = frozenset(
    s for s in states.CHANGE_CASE.states if not states.CHANGE_CASE.allowed(s)
)
OPEN_CHANGE_STATUSES = tuple(sorted(states.CHANGE_CASE.states - FINAL_CHANGE_STATUSES))

TASK_LABELS = {
    "vehicle_assigned": "Assign a vehicle",
    "vendor_assigned": "Assign a vendor",
    "vendor_confirmed": "Vendor to confirm",
    "driver_assigned": "Assign a driver",
    "driver_confirmed": "Driver to confirm",
    "route_verified": "Verify the route",
    "documents_ready": "Ready the documents",
}


@dataclass(frozen=True)
class BacklogItem:
    kind: BacklogKind
    id: uuid.UUID
    charter_id: uuid.UUID
    opened_at: datetime
    age_days: int
    age_bucket: str
    description: str


@dataclass(frozen=True)
class BacklogPage:
    items: list[BacklogItem]
    cursors: list[str]
    has_next_page: bool
    total_count: int
    #: (kind, bucket label) -> count, every pair present.
    counts: dict[tuple[BacklogKind, str], int]


def age_days(opened_at: datetime, now: datetime) -> int:
    """Whole days from `opened_at` to `now` (0 for a moment not yet passed)."""
    return max(0, (now - opened_at) // DAY)


def bucket_of(days: int) -> str:
    return next(b.label for b in reversed(BUCKETS) if days >= b.from_days)


def _backlog() -> Any:
    """Both kinds as one relation: kind, id, charter, opened at, and what to say of it."""
    cases = select(
        literal(BacklogKind.CHANGE_CASE.value, String).label("kind"),
        ChangeCase.id.label("id"),
        ChangeCase.charter_id.label("charter_id"),
        ChangeCase.created_at.label("opened_at"),
        ChangeCase.case_number.label("label"),
        ChangeCase.title.label("detail"),
        ChangeCase.status.label("status"),
    ).where(ChangeCase.status.in_(OPEN_CHANGE_STATUSES))
    tasks = select(
        literal(BacklogKind.DISPATCH_TASK.value, String).label("kind"),
        DispatchTask.id.label("id"),
        DispatchTask.charter_id.label("charter_id"),
        DispatchTask.overdue_since.label("opened_at"),
        DispatchTask.kind.label("label"),
        literal(None, String).label("detail"),
        DispatchTask.status.label("status"),
    ).where(
        DispatchTask.overdue_since.is_not(None),
        DispatchTask.status.in_(OPEN_TASK_STATUSES),
    )
    return union_all(cases, tasks).subquery("backlog")


def _description(row: Any) -> str:
    status = row.status.replace("_", " ")
    if row.kind == BacklogKind.CHANGE_CASE:
        return f"{row.label} ({status}): {row.detail}"
    return f"{TASK_LABELS.get(row.label, row.label.replace('_', ' '))} ({status}): overdue"


async def backlog_page(
    session: AsyncSession, *, first: int | None, after: str | None, now: datetime
) -> BacklogPage:
    size = page_size(first)
    backlog = _backlog()
    stamp = DateTime(timezone=True)

    # 1. every kind and bucket counted (the bucket from the age, as `bucket_of` says)
    at = literal(now, stamp)
    bucket = case(
        *(
            (backlog.c.opened_at > at - b.from_days * DAY, earlier.label)
            for earlier, b in pairwise(BUCKETS)
        ),
        else_=BUCKETS[-1].label,
    )
    counted = (
        await session.execute(
            select(backlog.c.kind, bucket, func.count()).group_by(backlog.c.kind, bucket)
        )
    ).all()
    counts = {(kind, b.label): 0 for kind in BacklogKind for b in BUCKETS}
    for kind, label, count in counted:
        counts[(BacklogKind(kind), label)] = count

    # 2. the page, oldest first (the id breaks ties)
    stmt = select(backlog)
    if after:
        opened, ident = decode_cursor(after, 2)
        try:
            bound = (datetime.fromisoformat(opened), uuid.UUID(ident))
        except (TypeError, ValueError):
            raise BadUserInputError("The cursor `after` is not valid.") from None
        stmt = stmt.where(
            tuple_(backlog.c.opened_at, backlog.c.id)
            > tuple_(literal(bound[0], stamp), literal(bound[1], UUID(as_uuid=True)))
        )
    rows = (
        await session.execute(stmt.order_by(backlog.c.opened_at, backlog.c.id).limit(size + 1))
    ).all()
    items = []
    for row in rows[:size]:
        days = age_days(row.opened_at, now)
        items.append(
            BacklogItem(
                kind=BacklogKind(row.kind),
                id=row.id,
                charter_id=row.charter_id,
                opened_at=row.opened_at,
                age_days=days,
                age_bucket=bucket_of(days),
                description=_description(row),
            )
        )
    return BacklogPage(
        items=items,
        cursors=[encode_cursor([i.opened_at.isoformat(), str(i.id)]) for i in items],
        has_next_page=len(rows) > size,
        total_count=sum(counts.values()),
        counts=counts,
    )
