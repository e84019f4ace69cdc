"""Tours' root queries for calendar (issue 15)."""

from __future__ import annotations

import strawberry


@strawberry.type
class CalendarQueries:
    pass
