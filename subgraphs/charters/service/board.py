"""The dispatch board: sold charters departing in a window, soonest first.

The board's rows are charters; what a dispatcher reads on each (open
tasks, dispatch status and confirmations per vehicle, "instance N of M" of
a series, the latest position) are fields of Charter and CharterVehicle
resolved through loaders, so the board costs the same few statements
however many charters it shows. `Subscription.dispatchBoard` streams the
changes of the same window.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select

from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import Charter
from subgraphs.charters.service.tasks import TASKED
from subgraphs.kit.errors import ServiceError

#: The board's window when none is given: departures in the next two days.
DEFAULT_WINDOW = timedelta(days=2)
#: The widest window a board query reads (a month of departures).
MAX_WINDOW = timedelta(days=31)


def window(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """[from, to) of a board: now .. now + 2 days unless given, at most a month wide."""
    start = start or now
    end = end or start + DEFAULT_WINDOW
    if start.tzinfo is None or end.tzinfo is None:
        raise ServiceError.of(Code.INVALID, "Give times with their offset.", "from")
    if end <= start:
        raise ServiceError.of(Code.INVALID, "`to` must be after `from`.", "to")
    if end - start > MAX_WINDOW:
        raise ServiceError.of(Code.OUT_OF_RANGE, "A board spans at most 31 days.", "to")
    return start, end


def departing(start: datetime, end: datetime) -> Select[Any]:
    """Sold, unfinished charters departing in [start, end)."""
    return select(Charter).where(
        Charter.is_template.is_(False),
        Charter.status.in_(sorted(TASKED)),
        Charter.pickup_at >= start,
        Charter.pickup_at < end,
    )
