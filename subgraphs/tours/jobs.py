"""Tours' scheduled jobs (the kit's job runner; cron in the operator's time zone)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from subgraphs.kit.jobs import ScheduledJob
    from subgraphs.kit.settings import Settings


def jobs(settings: Settings) -> list[ScheduledJob]:
    from subgraphs.kit.jobs import ScheduledJob
    from subgraphs.tours.service.departures import cutoff_job
    from subgraphs.tours.service.waitlist import offer_expiry_job

    return [
        # Departures short of their minimum at the booking cutoff are cancelled, refunded.
        ScheduledJob("tours.departure_cutoff", settings.tours_departure_cutoff_cron, cutoff_job),
        # Waitlist offers past their hold lapse; their seats go to the next in line.
        ScheduledJob("tours.offer_expiry", settings.tours_offer_expiry_cron, offer_expiry_job),
    ]
