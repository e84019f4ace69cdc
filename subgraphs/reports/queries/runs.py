"""Reports' root queries for runs (issue 16)."""

from __future__ import annotations

import strawberry


@strawberry.type
class RunsQueries:
    pass
