"""Reports' root mutations for templates (issue 16)."""

from __future__ import annotations

import strawberry


@strawberry.type
class TemplatesMutations:
    @strawberry.field(description="PLACEHOLDER until templates land; removed by them.")
    def reports_placeholder(self) -> bool:
        return True
