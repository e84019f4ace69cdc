"""Who may read and do what in reports: the whole policy is the constants below.

- Managers and admins create and edit shared templates and schedules.
- Any staff member runs the templates shared with them (and its own private
  ones), saves private templates and dashboards, and schedules its own.
- Clients, vendors and drivers have no reports: their portals have their own
  figures.
Runs use the runner's own token through the router, so a report never shows
a row its reader could not read in the graph itself.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from protocol.roles import STAFF_ROLES, Role

if TYPE_CHECKING:
    from protocol.viewer import Viewer

USE_REPORTS = tuple(sorted(STAFF_ROLES))
MANAGE_SHARED = (Role.ADMIN, Role.MANAGER)
#: Broken templates are listed for admins (and managers, who own shared ones).
READ_BROKEN = MANAGE_SHARED


def manages_shared(viewer: Viewer) -> bool:
    return viewer.has_any_role(*MANAGE_SHARED)


def owns(viewer: Viewer, owner_id: uuid.UUID | None) -> bool:
    return owner_id is not None and viewer.user_id == owner_id


def may_run(viewer: Viewer, shared: bool, owner_id: uuid.UUID | None) -> bool:
    return viewer.has_any_role(*USE_REPORTS) and (shared or owns(viewer, owner_id))


def may_edit(viewer: Viewer, shared: bool, owner_id: uuid.UUID | None) -> bool:
    return manages_shared(viewer) if shared else owns(viewer, owner_id)
