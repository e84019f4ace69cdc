from __future__ import annotations

import strawberry
from sqlalchemy import any_, func, or_, select
from strawberry.types import Info

from protocol.roles import Role as RoleValue
from subgraphs.identity import models
from subgraphs.identity.loaders import UserByIdLoader
from subgraphs.identity.service import delegation
from subgraphs.identity.service.access import (
    ACCOUNT_ADMINS,
    ACCOUNT_READERS,
    DELEGATORS,
    USER_COUNT_READERS,
    ensure_may_read_account,
)
from subgraphs.identity.service.user_counts import user_counts as count_users
from subgraphs.identity.types import (
    DelegationGrant,
    ImpersonationEntry,
    Role,
    User,
    UserAuditEntry,
    UserCount,
    UserStatus,
)
from subgraphs.kit.errors import NotFoundError
from subgraphs.kit.ids import require_uuid
from subgraphs.kit.jobs import history as job_history
from subgraphs.kit.jobs.types import JobRun
from subgraphs.kit.pagination import Connection, KeysetOrder, paginate
from subgraphs.kit.permissions import allow


@strawberry.type
class Query:
    @strawberry.field(
        extensions=[allow(RoleValue.ADMIN)],
        description="Runs of the scheduled jobs of every subgraph, newest first (admins).",
    )
    async def job_runs(
        self,
        info: Info,
        name: str | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[JobRun]:
        async with info.context.sessions() as session:
            page = await job_history.job_runs(session, name=name, first=first, after=after)
        for edge in page.edges:
            edge.node = JobRun.of(edge.node)  # type: ignore[assignment]
        return page  # type: ignore[return-value]

    @strawberry.field(
        extensions=[allow(*DELEGATORS)],
        description="The services the caller lets act as it (scheduled reports), newest first.",
    )
    async def my_delegation_grants(
        self, info: Info, include_revoked: bool = False
    ) -> list[DelegationGrant]:
        viewer = await info.context.get_viewer()
        async with info.context.sessions() as session:
            rows = await delegation.user_grants(
                session, viewer.user_id, include_revoked=include_revoked
            )
        return [DelegationGrant.from_row(r) for r in rows]

    @strawberry.field(extensions=[allow()], description="The logged-in account.")
    async def me(self, info: Info) -> User:
        viewer = await info.context.get_viewer()
        row = await info.context.loaders.get(UserByIdLoader).load(viewer.user_id)
        if row is None:
            raise NotFoundError("User", viewer.user_id)
        return User.from_row(row)

    @strawberry.field(
        extensions=[allow()], description="An account; staff see any, others only their own."
    )
    async def user(self, info: Info, id: strawberry.ID) -> User:
        viewer = await info.context.get_viewer()
        key = require_uuid(id, "User")
        ensure_may_read_account(viewer, key)
        row = await info.context.loaders.get(UserByIdLoader).load(key)
        if row is None:
            raise NotFoundError("User", id)
        return User.from_row(row)

    @strawberry.field(extensions=[allow(*ACCOUNT_READERS)])
    async def users(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        role: Role | None = None,  # type: ignore[valid-type]
        status: UserStatus | None = None,
        search: str | None = None,
    ) -> Connection[User]:
        stmt = select(models.User)
        if role is not None:
            stmt = stmt.where(any_(models.User.roles) == role.value)
        if status is not None:
            stmt = stmt.where(models.User.status == status.value)
        if search:
            pattern = f"%{search.strip().lower()}%"
            stmt = stmt.where(
                or_(
                    func.lower(models.User.email).like(pattern),
                    func.lower(models.User.name).like(pattern),
                )
            )
        order = KeysetOrder((models.User.created_at, models.User.id))
        async with info.context.sessions() as session:
            return await paginate(
                session, stmt, order, first=first, after=after, to_node=User.from_row
            )

    @strawberry.field(
        extensions=[allow(*USER_COUNT_READERS)],
        description="Accounts by role and status, one row per pair some account holds (an "
        "account with two roles counts under both): admins and managers (as `users`).",
    )
    async def user_counts(self, info: Info) -> list[UserCount]:
        async with info.context.sessions() as session:
            rows = await count_users(session)
        return [
            UserCount(role=Role(r.role), status=UserStatus(r.status), count=r.count) for r in rows
        ]

    @strawberry.field(extensions=[allow(*ACCOUNT_ADMINS)], description="Changes to one account.")
    async def user_audit_log(
        self, info: Info, user_id: strawberry.ID, first: int | None = 20, after: str | None = None
    ) -> Connection[UserAuditEntry]:
        key = require_uuid(user_id, "User")
        stmt = select(models.UserAudit).where(models.UserAudit.user_id == key)
        order = KeysetOrder((models.UserAudit.at, models.UserAudit.id), descending=True)
        async with info.context.sessions() as session:
            return await paginate(
                session,
                stmt,
                order,
                first=first,
                after=after,
                to_node=lambda r: UserAuditEntry(
                    action=r.action,
                    at=r.at,
                    actor_id=strawberry.ID(str(r.actor_id)) if r.actor_id else None,
                    impersonator_id=(
                        strawberry.ID(str(r.impersonator_id)) if r.impersonator_id else None
                    ),
                    before=r.before,
                    after=r.after,
                ),
            )

    @strawberry.field(extensions=[allow(*ACCOUNT_READERS)])
    async def impersonation_log(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[ImpersonationEntry]:
        stmt = select(models.ImpersonationLog)
        order = KeysetOrder(
            (models.ImpersonationLog.started_at, models.ImpersonationLog.id), descending=True
        )
        async with info.context.sessions() as session:
            return await paginate(
                session,
                stmt,
                order,
                first=first,
                after=after,
                to_node=lambda r: ImpersonationEntry(
                    staff_user_id=strawberry.ID(str(r.staff_user_id)),
                    client_user_id=strawberry.ID(str(r.client_user_id)),
                    reason=r.reason,
                    started_at=r.started_at,
                    ended_at=r.ended_at,
                ),
            )
