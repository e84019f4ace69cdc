"""Local wall time and instants: a pickup keeps its local time and zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.kit.errors import ServiceError

#: How long a charter holds its vehicles when no end time is given.
DEFAULT_DURATION = timedelta(hours=4)


def zone(name: str, field: str = "pickupTimeZone") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ServiceError.of(
            Code.INVALID_TIME_ZONE, f"{name!r} is not an IANA time zone.", field
        ) from exc


def to_instant(local: datetime, time_zone: str, field: str = "pickupTimeZone") -> datetime:
    """The UTC instant of a local wall time; the earlier one when ambiguous."""
    return local.replace(tzinfo=zone(time_zone, field), fold=0).astimezone(UTC)


def now() -> datetime:
    return datetime.now(UTC)
