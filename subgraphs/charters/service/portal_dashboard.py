"""The client portal's dashboard lists (issue 14 §2; seed 002 phase 5).

Two short lists on a client company, read by its own client users (and by
staff, and by staff viewing as the client): the trips still ahead, soonest
first, and the quotes waiting for the client's answer, newest first. Each is
one statement for any number of clients (a window per client), so a page of
clients costs what one does.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select

from subgraphs.charters.models import Charter, CharterVehicle
from subgraphs.kit.errors import BadUserInputError

#: The most rows a dashboard list shows: the portal links to `myCharters` for the rest.
MAX_FIRST = 50
#: A trip that started is still "upcoming" until it completes.
UPCOMING_STATUSES = ("booked", "confirmed")
UNDER_WAY = "in_progress"


def check_first(first: int) -> int:
    if not 0 <= first <= MAX_FIRST:
        raise BadUserInputError(f"`first` must be between 0 and {MAX_FIRST}.", field="first")
    return first


def upcoming_trips(clients: Sequence[uuid.UUID], now: datetime, first: int) -> Select[Any]:
    """Booked and confirmed trips whose pickup is ahead, and trips under way; soonest first."""
    scope = and_(
        Charter.client_id.in_(clients),
        Charter.is_template.is_(False),
        or_(
            and_(Charter.status.in_(UPCOMING_STATUSES), Charter.pickup_at > now),
            Charter.status == UNDER_WAY,
        ),
    )
    return _first_per_client(scope, (Charter.pickup_at.asc(), Charter.id.asc()), first)


def quotes_awaiting_answer(clients: Sequence[uuid.UUID], now: datetime, first: int) -> Select[Any]:
    """Open quotes with a price and a pickup still ahead (acceptable now); newest first."""
    priced = exists().where(CharterVehicle.charter_id == Charter.id, CharterVehicle.cost > 0)
    scope = and_(
        Charter.client_id.in_(clients),
        Charter.is_template.is_(False),
        Charter.status == "quote",
        Charter.pickup_at > now,
        priced,
    )
    return _first_per_client(scope, (Charter.created_at.desc(), Charter.id.desc()), first)


def _first_per_client(scope: Any, order: tuple[Any, ...], first: int) -> Select[Any]:
    ranked = (
        select(
            Charter.id,
            func.row_number().over(partition_by=Charter.client_id, order_by=order).label("rank"),
        )
        .where(scope)
        .subquery()
    )
    return (
        select(Charter)
        .join(ranked, ranked.c.id == Charter.id)
        .where(ranked.c.rank <= first)
        .order_by(Charter.client_id, ranked.c.rank)
    )
