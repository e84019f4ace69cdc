"""Reports' root queries for schedules (issue 16)."""

from __future__ import annotations

import strawberry


@strawberry.type
class SchedulesQueries:
    pass
