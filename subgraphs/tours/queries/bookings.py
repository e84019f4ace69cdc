"""Tours' root queries for bookings (issue 15)."""

from __future__ import annotations

import strawberry


@strawberry.type
class BookingsQueries:
    pass
