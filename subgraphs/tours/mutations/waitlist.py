"""Tours' mutations for waitlist (issue 15)."""

from __future__ import annotations

import strawberry


@strawberry.type
class WaitlistMutations:
    pass
