"""Windows and rounding shared by vendors' report figures (issue 16).

A figure's window is `[from, to)` in UTC; a missing end defaults so that a
dashboard can ask with no arguments. Averages round half up to 2 places as
`ratingSummary` does; ratios are the kit's (`subgraphs.kit.figures`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from subgraphs.kit.errors import ServiceError
from subgraphs.vendors.error_codes import VendorErrorCode as Code

TWO_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class Window:
    """`[start, end)` in UTC."""

    start: datetime
    end: datetime

    @classmethod
    def of(
        cls,
        start: datetime | None,
        end: datetime | None,
        *,
        default_days: int,
        now: datetime,
    ) -> Window:
        """The window asked for; `end` defaults to now, `start` to `default_days` before it.

        A window that is empty or backwards is refused (naming the argument):
        it would answer zeros that look like a quiet period.
        """
        for value, field in ((start, "from"), (end, "to")):
            if value is not None and value.tzinfo is None:
                raise ServiceError.of(
                    Code.INVALID, f"`{field}` needs a time zone (a UTC instant).", field
                )
        to = (end or now).astimezone(UTC)
        since = (start or to - timedelta(days=default_days)).astimezone(UTC)
        if since >= to:
            raise ServiceError.of(Code.OUT_OF_RANGE, "`from` must be before `to`.", "from")
        return cls(since, to)


def two_places(value: Decimal | int | None) -> Decimal | None:
    """Half-up to two places (as `ratingSummary` rounds its averages); None stays None."""
    if value is None:
        return None
    return Decimal(value).quantize(TWO_PLACES, ROUND_HALF_UP)
