"""Reading the waitlist: a customer its own entries, staff a tour's day in line order."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry.types import Info

from subgraphs.kit.errors import UnauthenticatedError
from subgraphs.kit.ids import require_uuid
from subgraphs.kit.permissions import allow
from subgraphs.tours.service import waitlist
from subgraphs.tours.service.access import WORK_BOOKINGS
from subgraphs.tours.types.waitlist import TourWaitlistEntry, TourWaitlistStatus


@strawberry.type
class WaitlistQueries:
    @strawberry.field(
        extensions=[allow()],
        description="The signed-in customer's own waitlist entries, latest day first.",
    )
    async def my_tour_waitlist_entries(self, info: Info) -> list[TourWaitlistEntry]:
        viewer = await info.context.get_viewer()
        if viewer.user_id is None:  # allow() admits only signed-in callers
            raise UnauthenticatedError()
        async with info.context.sessions() as session:
            rows = await waitlist.entries_of(session, viewer.user_id)
        return [TourWaitlistEntry.from_row(r) for r in rows]

    @strawberry.field(
        extensions=[allow(*WORK_BOOKINGS)],
        description="A tour's waitlist for a day (staff), in the order offers are made: "
        "highest priority, then oldest.",
    )
    async def tour_waitlist(
        self,
        info: Info,
        tour_id: strawberry.ID,
        date: date,
        status: TourWaitlistStatus | None = None,
    ) -> list[TourWaitlistEntry]:
        key = require_uuid(tour_id, "Tour")
        async with info.context.sessions() as session:
            rows = await waitlist.line_for(
                session, key, date, status.value if status is not None else None
            )
        return [TourWaitlistEntry.from_row(r) for r in rows]
