"""Reports' root mutations for dashboards (issue 16)."""

from __future__ import annotations

import strawberry


@strawberry.type
class DashboardsMutations:
    pass
