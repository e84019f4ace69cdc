"""The roles an Athena account can hold, carried in access tokens."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    SALES_AGENT = "sales_agent"
    SALES_SUPPORT = "sales_support"
    DISPATCHER = "dispatcher"
    ACCOUNTING = "accounting"
    CLIENT = "client"
    VENDOR = "vendor"
    DRIVER = "driver"


#: Roles that work for the operator, as opposed to its clients and vendors.
STAFF_ROLES: frozenset[Role] = frozenset(
    {
        Role.ADMIN,
        Role.MANAGER,
        Role.SALES_AGENT,
        Role.SALES_SUPPORT,
        Role.DISPATCHER,
        Role.ACCOUNTING,
    }
)


def scopes_for(roles: frozenset[Role] | set[Role]) -> list[str]:
    """OAuth-style scopes carried in tokens, for `@requiresScopes` in the graph."""
    scopes = {f"role:{role.value}" for role in roles}
    if roles & STAFF_ROLES:
        scopes.add("staff")
    return sorted(scopes)
