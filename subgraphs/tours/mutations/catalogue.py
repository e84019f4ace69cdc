"""Tours' mutations for catalogue (issue 15)."""

from __future__ import annotations

import strawberry


@strawberry.type
class CatalogueMutations:
    @strawberry.field(description="PLACEHOLDER until the catalogue lands; removed by it.")
    def tours_placeholder(self) -> bool:
        return True
