"""Who may read and change a charter, decided from the verified viewer only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.kit.auth.roles import Role
from subgraphs.kit.errors import ServiceError

if TYPE_CHECKING:
    from subgraphs.charters.models import Charter
    from subgraphs.kit.auth.viewer import Viewer

#: Staff who may edit any charter; a sales agent edits only their own.
EDIT_ANY = (Role.ADMIN, Role.MANAGER, Role.SALES_SUPPORT)
EDITORS = (*EDIT_ANY, Role.SALES_AGENT)
READERS = (*EDITORS, Role.DISPATCHER, Role.ACCOUNTING)
DISPATCH = (Role.ADMIN, Role.MANAGER, Role.DISPATCHER)
FLEET = (Role.ADMIN, Role.MANAGER, Role.DISPATCHER)
REASSIGNERS = (Role.ADMIN, Role.MANAGER, Role.SALES_SUPPORT)
APPROVERS = (Role.ADMIN, Role.MANAGER, Role.SALES_SUPPORT)
MANAGERS = (Role.ADMIN, Role.MANAGER)


def ensure_can_edit(viewer: Viewer, charter: Charter) -> None:
    if viewer.has_any_role(*EDIT_ANY):
        return
    if viewer.has_any_role(Role.SALES_AGENT) and charter.sales_agent_id in (None, viewer.user_id):
        return
    raise ServiceError.of(
        Code.FORBIDDEN, f"You cannot edit {charter.reference}: it belongs to another agent."
    )


def ensure_role(viewer: Viewer, roles: tuple[Role, ...], action: str) -> None:
    if not viewer.has_any_role(*roles):
        raise ServiceError.of(Code.FORBIDDEN, f"Your role cannot {action}.")
