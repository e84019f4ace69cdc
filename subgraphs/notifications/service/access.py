"""Who may read and do what in notifications: the whole policy is the constants below.

- A client company's preferences: its own client users read and change them;
  staff who work clients (admins, managers, sales support, and the client's
  sales agent: any agent, as sales lets agents edit the clients they sell;
  notifications cannot tell whose a client is without sales' data, so agents
  get it for every client) read and change them on its behalf.
- A person's own preferences: that person (any signed-in account), and admins.
- Templates: admins edit and publish; staff read and preview.
- The delivery log: staff read it (sales staff for their work: leads, quotes,
  charters); a client reads the messages sent to its own company.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from protocol.roles import STAFF_ROLES, Role

if TYPE_CHECKING:
    from protocol.viewer import Viewer

STAFF = tuple(sorted(STAFF_ROLES))
#: `Client.notificationPreferences` and `updateClientNotificationPreferences`, for any client
WORK_CLIENT_PREFERENCES = (Role.ADMIN, Role.MANAGER, Role.SALES_SUPPORT, Role.SALES_AGENT)
#: the same, for the caller's own company
OWN_CLIENT_PREFERENCES = (Role.CLIENT,)
#: `User.notificationPreferences` of anyone, and changing them
WORK_USER_PREFERENCES = (Role.ADMIN,)
#: templates: edit and publish versions / read and preview
EDIT_TEMPLATES = (Role.ADMIN,)
READ_TEMPLATES = STAFF
#: the delivery log of every message
READ_DELIVERY_LOG = STAFF


def may_work_client_preferences(viewer: Viewer, client_id: uuid.UUID) -> bool:
    if viewer.has_any_role(*WORK_CLIENT_PREFERENCES):
        return True
    return viewer.has_any_role(*OWN_CLIENT_PREFERENCES) and viewer.client_id == client_id


def may_work_user_preferences(viewer: Viewer, user_id: uuid.UUID) -> bool:
    return viewer.user_id == user_id or viewer.has_any_role(*WORK_USER_PREFERENCES)


def may_read_client_messages(viewer: Viewer, client_id: uuid.UUID) -> bool:
    """Staff read every message; a client user those sent to its own company."""
    if viewer.has_any_role(*READ_DELIVERY_LOG):
        return True
    return viewer.has_any_role(*OWN_CLIENT_PREFERENCES) and viewer.client_id == client_id
