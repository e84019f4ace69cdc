"""Tours' root queries for waitlist (issue 15)."""

from __future__ import annotations

import strawberry


@strawberry.type
class WaitlistQueries:
    pass
