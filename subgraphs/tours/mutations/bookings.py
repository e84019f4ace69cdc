"""Tours' mutations for bookings (issue 15)."""

from __future__ import annotations

import strawberry


@strawberry.type
class BookingsMutations:
    pass
