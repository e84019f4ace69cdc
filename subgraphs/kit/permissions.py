"""Permission checks declared next to the field they guard.

    @strawberry.field(extensions=[allow(Role.ADMIN, Role.MANAGER)])

`allow()` with no roles admits any logged-in user. A missing login is
`UNAUTHENTICATED`; a login with the wrong role is `FORBIDDEN`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from strawberry.permission import BasePermission, PermissionExtension

from subgraphs.kit.errors import ForbiddenError, UnauthenticatedError

if TYPE_CHECKING:
    from strawberry.types import Info

    from protocol.roles import Role


class RoleRequired(BasePermission):
    message = "You are not allowed to do this."

    def __init__(self, roles: tuple[Role, ...]) -> None:
        self.roles = roles

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        viewer = await info.context.get_viewer()
        if not viewer.is_authenticated:
            raise UnauthenticatedError()
        if self.roles and not viewer.has_any_role(*self.roles):
            raise ForbiddenError()
        return True


def allow(*roles: Role) -> PermissionExtension:
    return PermissionExtension(permissions=[RoleRequired(roles)], use_directives=False)
