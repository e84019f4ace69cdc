"""Who may read and do what in tours: the whole policy is the constants below.

- Tour staff (admins, managers, dispatchers) run the catalogue: tours,
  schedules, departures (generate, change, cancel), blackout dates and the
  booking rules (`ToursConfig`: admins and managers).
- Staff who sell (the above plus sales agents and sales support) read and
  work every booking and waitlist entry: book for a customer, modify,
  cancel, set statuses and waitlist priorities.
- A customer with an account (any signed-in account that is not staff)
  reads and changes only its own bookings and waitlist entries
  (`Booking.user_id`, `WaitlistEntry.user_id` = its user id).
- Anyone, anonymous included, reads the active catalogue, availability and
  calendars, books, joins a waitlist and looks a booking up by reference
  plus e-mail; anonymous writes and lookups are rate limited per address.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from protocol.roles import Role

if TYPE_CHECKING:
    from protocol.viewer import Viewer

RUN_CATALOGUE = (Role.ADMIN, Role.MANAGER, Role.DISPATCHER)
EDIT_CONFIG = (Role.ADMIN, Role.MANAGER)
WORK_BOOKINGS = (*RUN_CATALOGUE, Role.SALES_AGENT, Role.SALES_SUPPORT)
#: Staff-only fields: a departure's bookings, charter and seat holds' owners, a blackout's
#: sold departures, a tour's schedules, inactive tours, every booking's change log.
READ_OPERATIONS = WORK_BOOKINGS


def works_bookings(viewer: Viewer) -> bool:
    return viewer.has_any_role(*WORK_BOOKINGS)


def runs_catalogue(viewer: Viewer) -> bool:
    return viewer.has_any_role(*RUN_CATALOGUE)


def owns(viewer: Viewer, owner_id: uuid.UUID | None) -> bool:
    """A customer's own booking or waitlist entry (made while signed in as this account)."""
    return owner_id is not None and viewer.user_id == owner_id


def may_read_booking(viewer: Viewer, owner_id: uuid.UUID | None) -> bool:
    return works_bookings(viewer) or owns(viewer, owner_id)
