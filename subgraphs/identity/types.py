"""Identity's GraphQL types: thin views over rows, loaded through loaders."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from protocol.roles import Role as RoleValue
from subgraphs.identity import models
from subgraphs.identity.loaders import PortalUsersByClientIdLoader, UserByIdLoader
from subgraphs.identity.service.access import (
    ACCOUNT_VIEWERS,
    ensure_may_read_account,
    may_read_account,
)
from subgraphs.kit.errors import ForbiddenError, UnauthenticatedError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.payloads import UserError

Role = strawberry.enum(
    Enum("Role", {r.name: r.value for r in RoleValue}),  # type: ignore[misc]
    description="What an account may do; an account holds one or more.",
)


@strawberry.enum
class UserStatus(Enum):
    ACTIVE = "active"
    DISABLED = "disabled"


@strawberry.type(description="How many accounts hold a role in a status (two roles: twice).")
class UserCount:
    role: Role  # type: ignore[valid-type]
    status: UserStatus
    count: int


async def _may_see_private(info: Info, user: User) -> bool:
    if user._owner_is_viewer:
        return True
    viewer = await info.context.get_viewer()
    return may_read_account(viewer, user._row.id)


@strawberry.federation.type(keys=["id"], description="An account: staff, client, vendor or driver.")
class User:
    id: strawberry.ID
    name: str
    status: UserStatus
    roles: list[Role]  # type: ignore[valid-type]
    created_at: datetime
    _row: strawberry.Private[Any]
    #: Set when the account is the one just logged in (no token yet on this request).
    _owner_is_viewer: strawberry.Private[bool] = False

    @strawberry.field(description="Visible to the account itself and to staff.")
    async def email(self, info: Info) -> str:
        if not await _may_see_private(info, self):
            raise ForbiddenError("Only staff and the account itself see its e-mail.")
        return str(self._row.email)

    @strawberry.field(description="Visible to the account itself and to staff.")
    async def phone(self, info: Info) -> str | None:
        if not await _may_see_private(info, self):
            raise ForbiddenError("Only staff and the account itself see its phone.")
        return self._row.phone  # type: ignore[no-any-return]

    @strawberry.field(description="For client accounts: the client company it acts for.")
    async def client_id(self, info: Info) -> strawberry.ID | None:
        if not await _may_see_private(info, self):
            raise ForbiddenError()
        value = self._row.client_id
        return strawberry.ID(str(value)) if value else None

    @strawberry.field
    async def mfa_enabled(self, info: Info) -> bool:
        if not await _may_see_private(info, self):
            raise ForbiddenError()
        return bool(self._row.mfa_enabled)

    @classmethod
    def from_row(cls, row: models.User, *, owner_is_viewer: bool = False) -> User:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            status=UserStatus(row.status),
            roles=[Role(r) for r in row.roles],
            created_at=row.created_at,
            _row=row,
            _owner_is_viewer=owner_is_viewer,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> User | None:
        """The same rule as `Query.user`: the account itself and staff, nobody else."""
        key = parse_uuid(id)
        if key is None:
            return None
        ensure_may_read_account(await info.context.get_viewer(), key)
        row = await info.context.loaders.get(UserByIdLoader).load(key)
        return cls.from_row(row) if row else None


@strawberry.federation.type(keys=["id"])
class Client:
    """Sales' client company; identity adds the portal accounts that act for it."""

    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Client:
        return cls(id=id)

    @strawberry.field(
        description="The client portal accounts of this company: staff only (others get "
        "null and FORBIDDEN)."
    )
    async def portal_users(self, info: Info) -> list[User] | None:
        viewer = await info.context.get_viewer()
        if not viewer.is_authenticated:
            raise UnauthenticatedError()
        if not viewer.has_any_role(*ACCOUNT_VIEWERS):
            raise ForbiddenError("Only staff see a client's portal accounts.")
        key = parse_uuid(self.id)
        if key is None:
            return []
        rows = await info.context.loaders.get(PortalUsersByClientIdLoader).load(key)
        return [User.from_row(row) for row in rows]


@strawberry.type
class UserAuditEntry:
    action: str
    at: datetime
    actor_id: strawberry.ID | None
    impersonator_id: strawberry.ID | None = strawberry.field(
        default=None, description="The staff member acting as `actorId`, when impersonating."
    )
    before: JSON | None
    after: JSON | None


@strawberry.type
class ImpersonationEntry:
    staff_user_id: strawberry.ID
    client_user_id: strawberry.ID
    reason: str | None
    started_at: datetime
    ended_at: datetime | None


@strawberry.type
class AuthPayload:
    access_token: str | None = None
    access_token_expires_at: datetime | None = None
    refresh_token: str | None = None
    user: User | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UserPayload:
    user: User | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class OkPayload:
    ok: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class MfaEnrolmentPayload:
    secret: str | None = None
    otpauth_uri: str | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class MfaConfirmationPayload:
    recovery_codes: list[str] | None = strawberry.field(
        default=None, description="Shown once; store them somewhere safe."
    )
    user: User | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CreateUserInput:
    email: str
    name: str
    roles: list[Role]  # type: ignore[valid-type]
    password: str
    phone: str | None = None
    client_id: strawberry.ID | None = strawberry.field(
        default=None, description="For client accounts: the client company it acts for."
    )


@strawberry.input
class UpdateUserInput:
    name: str | None = None
    phone: str | None = None


@strawberry.type(description="A service's standing permission to act (read-only) as the account.")
class DelegationGrant:
    id: strawberry.ID
    audience: str = strawberry.field(description="The service that may use it: reports.")
    purpose: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, row: models.DelegationGrant) -> DelegationGrant:
        return cls(
            id=strawberry.ID(str(row.id)),
            audience=row.audience,
            purpose=row.purpose,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )


@strawberry.type
class DelegationGrantPayload:
    grant: DelegationGrant | None = None
    secret: str | None = strawberry.field(
        default=None,
        description="Given once, when the grant is created; only its hash is kept.",
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)
