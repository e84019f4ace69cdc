"""Reports' root queries for dashboards (issue 16)."""

from __future__ import annotations

import strawberry


@strawberry.type
class DashboardsQueries:
    pass
