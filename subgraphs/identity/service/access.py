"""Who may do what in identity, stated once, as data.

The role tuples are the `allow(...)` gates of identity's fields; the
impersonation rule says, per staff role, which clients it may "view as".
Services and resolvers use these names and never spell roles out.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from protocol.roles import STAFF_ROLES, Role
from subgraphs.kit.errors import ForbiddenError, UnauthenticatedError

if TYPE_CHECKING:
    import uuid
    from collections.abc import Iterable

    from protocol.viewer import Viewer

#: Account management (create, edit, roles, client link, disable, enable)
#: and the account audit log.
ACCOUNT_ADMINS = (Role.ADMIN,)
#: The list of accounts and the impersonation log.
ACCOUNT_READERS = (Role.ADMIN, Role.MANAGER)
#: `userCounts` (accounts by role and status, the admin dashboard): the list's readers,
#: since the counts are what the list shows, summed.
USER_COUNT_READERS = ACCOUNT_READERS
#: Who may read another account (name, roles, e-mail...): staff only; anyone
#: reads their own account. Applies to root fields and to `_entities` alike.
ACCOUNT_VIEWERS = STAFF_ROLES


#: Delegation grants (a service acting for the user, read-only): any staff account
#: grants for itself (`createDelegationGrant`, `myDelegationGrants`,
#: `revokeDelegationGrant` of its own); admins revoke anyone's.
DELEGATORS = STAFF_ROLES
GRANT_ADMINS = (Role.ADMIN,)


def may_revoke_others_grants(roles: Iterable[Role]) -> bool:
    return bool(set(roles) & set(GRANT_ADMINS))


def may_read_account(viewer: Viewer, user_id: uuid.UUID) -> bool:
    return viewer.user_id == user_id or bool(viewer.roles & ACCOUNT_VIEWERS)


def ensure_may_read_account(viewer: Viewer, user_id: uuid.UUID) -> None:
    """UNAUTHENTICATED for anonymous callers, FORBIDDEN for others' accounts.

    The same rule for `user(id)` and for `_entities`: the review read any
    user's name and roles anonymously through `_entities` (issue 8, finding 10).
    """
    if not viewer.is_authenticated:
        raise UnauthenticatedError()
    if not may_read_account(viewer, user_id):
        raise ForbiddenError("Only staff and the account itself see an account.")


class ClientScope(StrEnum):
    """Which client accounts a staff role may view the portal as."""

    #: Any client account.
    ANY = "any"
    #: Only clients the staff member owns (is the sales agent of).
    OWN = "own"


#: "View as client" (issue 8, finding 6): managers, admins and sales support
#: for any client; a sales agent only for its own clients: accounts of a client
#: company whose sales agent it is. Client ownership lives in sales; identity
#: keeps it from `sales.client_changed` (`service/client_agents.py`), so an
#: account of no company, or of a company sales has not announced, is no
#: agent's own (refused with FORBIDDEN).
IMPERSONATION_SCOPE: dict[Role, ClientScope] = {
    Role.ADMIN: ClientScope.ANY,
    Role.MANAGER: ClientScope.ANY,
    Role.SALES_SUPPORT: ClientScope.ANY,
    Role.SALES_AGENT: ClientScope.OWN,
}
#: The gate of `startImpersonation`: every role with some scope.
IMPERSONATORS = tuple(IMPERSONATION_SCOPE)


def impersonation_scope(staff_roles: Iterable[Role]) -> ClientScope | None:
    """The widest scope any of the roles has (`ANY` over `OWN`); None: no client at all."""
    scopes = {IMPERSONATION_SCOPE[r] for r in staff_roles if r in IMPERSONATION_SCOPE}
    if ClientScope.ANY in scopes:
        return ClientScope.ANY
    return ClientScope.OWN if ClientScope.OWN in scopes else None


def ensure_may_impersonate(scope: ClientScope | None, *, owns_client: bool) -> None:
    """Raise FORBIDDEN unless the scope admits this client.

    `owns_client`: the staff member is the sales agent of the client account's
    company (`client_agents.owns_client`); only an `OWN` scope asks.
    """
    if scope is ClientScope.ANY or (scope is ClientScope.OWN and owns_client):
        return
    if scope is ClientScope.OWN:
        raise ForbiddenError("You may view the portal only as your own clients.")
    raise ForbiddenError("Your role cannot view the portal as a client.")
