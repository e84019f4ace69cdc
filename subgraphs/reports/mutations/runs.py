"""Reports' root mutations for runs (issue 16)."""

from __future__ import annotations

import strawberry


@strawberry.type
class RunsMutations:
    pass
