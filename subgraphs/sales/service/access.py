"""Who may read and change which client, from the verified viewer only.

The whole policy is the constants below:

- every staff role reads every client (`READ_CLIENTS`);
- a client account reads only its own company (`viewer.client_id`);
- vendors and drivers read nothing of sales;
- `EDIT_CLIENTS` create and edit clients, but a sales agent edits only the
  clients it owns; `EDIT_ANY_CLIENT` edit every client and choose or change
  a client's owning agent.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from protocol.roles import STAFF_ROLES, Role
from subgraphs.kit.errors import ServiceError
from subgraphs.sales.error_codes import SalesErrorCode as Code

if TYPE_CHECKING:
    from protocol.viewer import Viewer
    from subgraphs.sales.models import Client

STAFF = tuple(sorted(STAFF_ROLES))
#: Who reads clients through `client`, `clients` and entity references.
READ_CLIENTS = STAFF
#: Who reads the one client record of its own company (token `client_id`).
READ_OWN_CLIENT = (Role.CLIENT,)
#: Who edits every client and assigns clients to agents.
EDIT_ANY_CLIENT = (Role.ADMIN, Role.MANAGER, Role.SALES_SUPPORT)
#: Who creates clients and edits them (sales agents: only the ones they own).
EDIT_CLIENTS = (*EDIT_ANY_CLIENT, Role.SALES_AGENT)
#: Client fields only staff read (internal CRM notes).
STAFF_ONLY_FIELDS = frozenset({"notes"})


def may_read_client(viewer: Viewer, client_id: uuid.UUID) -> bool:
    if viewer.has_any_role(*READ_CLIENTS):
        return True
    return viewer.has_any_role(*READ_OWN_CLIENT) and viewer.client_id == client_id


def may_edit_client(viewer: Viewer, client: Client) -> bool:
    if viewer.has_any_role(*EDIT_ANY_CLIENT):
        return True
    return (
        viewer.has_any_role(Role.SALES_AGENT)
        and viewer.user_id is not None
        and client.sales_agent_id == viewer.user_id
    )


def ensure_may_edit(viewer: Viewer, client: Client) -> None:
    if not may_edit_client(viewer, client):
        raise ServiceError.of(
            Code.FORBIDDEN, "Only the client's own sales agent or a manager may change it.", "id"
        )


def ensure_may_assign(viewer: Viewer, agent_id: uuid.UUID | None, field: str) -> None:
    """Agents create clients for themselves; only `EDIT_ANY_CLIENT` name another agent."""
    if viewer.has_any_role(*EDIT_ANY_CLIENT):
        return
    if agent_id != viewer.user_id:
        raise ServiceError.of(
            Code.FORBIDDEN, "Only a manager or sales support assigns a client to an agent.", field
        )


# Leads ---------------------------------------------------------------------
#
# - `EDIT_ANY_LEAD` read and edit every lead (unassigned ones included) and
#   choose or change a lead's agent;
# - a sales agent reads and edits only the leads it owns; its new lead is
#   its own;
# - every other role (dispatch, accounting, clients, vendors, drivers) reads
#   nothing of leads: the pipeline is sales' own business.

#: Who reads and edits every lead and assigns leads to agents.
EDIT_ANY_LEAD = (Role.ADMIN, Role.MANAGER, Role.SALES_SUPPORT)
#: Who reads leads and changes them (sales agents: only their own).
EDIT_LEADS = (*EDIT_ANY_LEAD, Role.SALES_AGENT)
READ_LEADS = EDIT_LEADS


def sees_every_lead(viewer: Viewer) -> bool:
    return viewer.has_any_role(*EDIT_ANY_LEAD)


def may_read_lead(viewer: Viewer, agent_id: uuid.UUID | None) -> bool:
    """Whether the viewer reads a lead owned by `agent_id` (None: unassigned)."""
    if sees_every_lead(viewer):
        return True
    return (
        viewer.has_any_role(Role.SALES_AGENT)
        and viewer.user_id is not None
        and agent_id == viewer.user_id
    )


def ensure_may_edit_lead(viewer: Viewer, agent_id: uuid.UUID | None, field: str = "id") -> None:
    if not may_read_lead(viewer, agent_id):
        raise ServiceError.of(
            Code.FORBIDDEN, "Only the lead's own sales agent or a manager may change it.", field
        )


def ensure_may_assign_lead(viewer: Viewer, agent_id: uuid.UUID | None, field: str) -> None:
    """Agents keep their leads; only `EDIT_ANY_LEAD` leave one unassigned or name an agent."""
    if sees_every_lead(viewer):
        return
    if agent_id != viewer.user_id:
        raise ServiceError.of(
            Code.FORBIDDEN, "Only a manager or sales support assigns a lead to an agent.", field
        )


# The assignment queue ----------------------------------------------------------
#
# Managers decide who is in the round-robin and how much each agent takes;
# sales support, who assigns leads by hand, reads the queue to see who is
# capped today. Manual assignment (`assignLead`) is `EDIT_ANY_LEAD`.

#: Who adds, changes and removes queue entries.
MANAGE_QUEUE = (Role.ADMIN, Role.MANAGER)
#: Who reads the queue (`leadQueue`).
READ_QUEUE = (*MANAGE_QUEUE, Role.SALES_SUPPORT)


# The agent dashboard -----------------------------------------------------------
#
# An agent reads its own figures (`User.salesDashboard`); admins, managers and
# sales support read any agent's and the cross-agent table (`salesTeam`).
# Anyone else, and an agent asking about a colleague, gets null and FORBIDDEN.

#: Who reads every agent's dashboard and the team table.
READ_ANY_DASHBOARD = (Role.ADMIN, Role.MANAGER, Role.SALES_SUPPORT)
#: Who reads its own dashboard, and nobody else's.
READ_OWN_DASHBOARD = (Role.SALES_AGENT,)


def may_read_dashboard(viewer: Viewer, user_id: uuid.UUID | None) -> bool:
    if viewer.has_any_role(*READ_ANY_DASHBOARD):
        return True
    return (
        viewer.has_any_role(*READ_OWN_DASHBOARD)
        and viewer.user_id is not None
        and viewer.user_id == user_id
    )
