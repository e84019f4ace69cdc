"""Local wall time and instants: a pickup keeps its local time and zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.kit import recurrence

#: How long a charter holds its vehicles when no end time is given.
DEFAULT_DURATION = timedelta(hours=4)


def zone(name: str, field: str = "pickupTimeZone") -> ZoneInfo:
    return recurrence.zone(name, code=Code.INVALID_TIME_ZONE, field=field)


def to_instant(local: datetime, time_zone: str, field: str = "pickupTimeZone") -> datetime:
    """The UTC instant of a local wall time; the earlier one when ambiguous."""
    return recurrence.to_instant(local, time_zone, code=Code.INVALID_TIME_ZONE, field=field)


def now() -> datetime:
    return datetime.now(UTC)
