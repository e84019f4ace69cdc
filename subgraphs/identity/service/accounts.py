"""Staff management of accounts: create, edit, roles, disable and enable."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import any_, func, select
from sqlalchemy.exc import IntegrityError

from subgraphs.identity import passwords
from subgraphs.identity.error_codes import IdentityErrorCode as Code
from subgraphs.identity.models import User
from subgraphs.identity.service import audit, delegation, events
from subgraphs.identity.service.sessions import Revocations, revoke_user_sessions
from subgraphs.identity.service.validation import (
    MAX_NAME,
    MAX_PHONE,
    normalise_email,
    parse_roles,
    password_problems,
    raise_if,
    text_problems,
)
from subgraphs.kit.errors import Problem, ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class NewUser:
    email: str
    name: str
    roles: list[str]
    password: str
    phone: str | None = None
    client_id: uuid.UUID | None = None


async def get_user(session: AsyncSession, user_id: uuid.UUID, *, lock: bool = False) -> User:
    stmt = select(User).where(User.id == user_id)
    if lock:
        stmt = stmt.with_for_update()
    user = await session.scalar(stmt)
    if user is None:
        raise ServiceError.of(Code.NOT_FOUND, f"User {user_id} was not found.", "id")
    return user


async def find_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(func.lower(User.email) == email.lower()))


async def create_user(
    session: AsyncSession,
    data: NewUser,
    *,
    actor_id: uuid.UUID | None,
    impersonator_id: uuid.UUID | None = None,
) -> User:
    problems: list[Problem] = []
    try:
        email = normalise_email(data.email)
    except ServiceError as exc:
        problems.extend(exc.problems)
        email = ""
    problems += text_problems(data.name, "name", "Name", max_length=MAX_NAME, required=True)
    problems += text_problems(data.phone, "phone", "Phone", max_length=MAX_PHONE, required=False)
    problems += password_problems(data.password)
    try:
        roles = parse_roles(data.roles)
    except ServiceError as exc:
        problems.extend(exc.problems)
        roles = []
    if data.client_id is not None and "client" not in roles:
        problems.append(Problem(Code.INVALID, "Only client accounts act for a client.", "clientId"))
    raise_if(problems)
    # Checked here for a clear message; the unique index decides under races.
    if await find_by_email(session, email) is not None:
        raise ServiceError.of(Code.EMAIL_TAKEN, "An account with this e-mail exists.", "email")
    user = User(
        email=email,
        name=data.name.strip(),
        phone=(data.phone or "").strip() or None,
        roles=roles,
        status="active",
        password_hash=await passwords.hash_password(data.password),
        client_id=data.client_id,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent create won the unique index
        raise ServiceError.of(
            Code.EMAIL_TAKEN, "An account with this e-mail exists.", "email"
        ) from exc
    audit.record(
        session,
        user_id=user.id,
        actor_id=actor_id,
        impersonator_id=impersonator_id,
        action="create",
        before=None,
        after=audit.snapshot(user),
    )
    await events.announce(session, user)
    return user


async def update_profile(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    name: str | None,
    phone: str | None,
    actor_id: uuid.UUID | None,
    impersonator_id: uuid.UUID | None = None,
) -> User:
    problems: list[Problem] = []
    if name is not None:
        problems += text_problems(name, "name", "Name", max_length=MAX_NAME, required=True)
    if phone is not None:
        problems += text_problems(phone, "phone", "Phone", max_length=MAX_PHONE, required=False)
    raise_if(problems)
    user = await get_user(session, user_id, lock=True)
    before = audit.snapshot(user)
    announced = events.user_facts(user)
    if name is not None:
        user.name = name.strip()
    if phone is not None:
        user.phone = phone.strip() or None
    audit.record(
        session,
        user_id=user.id,
        actor_id=actor_id,
        impersonator_id=impersonator_id,
        action="update_profile",
        before=before,
        after=audit.snapshot(user),
    )
    await events.announce_if_changed(session, user, announced)
    return user


async def _ensure_not_last_admin(session: AsyncSession, user: User) -> None:
    if "admin" not in user.roles or user.status != "active":
        return
    admins = await session.scalar(
        select(func.count())
        .select_from(User)
        .where(any_(User.roles) == "admin", User.status == "active", User.id != user.id)
    )
    if not admins:
        raise ServiceError.of(
            Code.LAST_ADMIN, "The last active admin cannot be disabled or lose the admin role."
        )


async def set_roles(
    session: AsyncSession,
    user_id: uuid.UUID,
    roles: list[str],
    *,
    actor_id: uuid.UUID | None,
    revocations: Revocations,
    impersonator_id: uuid.UUID | None = None,
) -> User:
    """Replace the roles; taking any role away ends every session of the user.

    Tokens carry roles: a demoted user's tokens would keep the old power
    until they expire (issue 8, finding 5), so they end now and the user
    logs in again with the new roles. Only adding roles keeps the sessions.
    """
    chosen = parse_roles(roles)
    user = await get_user(session, user_id, lock=True)
    if "admin" not in chosen:
        await _ensure_not_last_admin(session, user)
    before = audit.snapshot(user)
    announced = events.user_facts(user)
    removed = set(user.roles) - set(chosen)
    user.roles = chosen
    if removed:
        await revoke_user_sessions(session, revocations, user.id, reason="roles_reduced")
    audit.record(
        session,
        user_id=user.id,
        actor_id=actor_id,
        impersonator_id=impersonator_id,
        action="set_roles",
        before=before,
        after=audit.snapshot(user),
    )
    await events.announce_if_changed(session, user, announced)
    return user


async def set_status(
    session: AsyncSession,
    user_id: uuid.UUID,
    status: str,
    *,
    actor_id: uuid.UUID | None,
    revocations: Revocations,
    impersonator_id: uuid.UUID | None = None,
) -> User:
    if status not in ("active", "disabled"):
        raise ServiceError.of(Code.INVALID, "Status must be active or disabled.", "status")
    user = await get_user(session, user_id, lock=True)
    if status == "disabled":
        if actor_id == user.id:
            raise ServiceError.of(Code.FORBIDDEN, "You cannot disable your own account.", "id")
        await _ensure_not_last_admin(session, user)
    before = audit.snapshot(user)
    announced = events.user_facts(user)
    user.status = status
    if status == "disabled":
        await revoke_user_sessions(session, revocations, user.id, reason="account_disabled")
        # Its grants too: a disabled account's scheduled reports stop for good.
        await delegation.revoke_user_grants(session, revocations, user.id)
    audit.record(
        session,
        user_id=user.id,
        actor_id=actor_id,
        impersonator_id=impersonator_id,
        action=f"set_status:{status}",
        before=before,
        after=audit.snapshot(user),
    )
    await events.announce_if_changed(session, user, announced)
    return user


async def set_client(
    session: AsyncSession,
    user_id: uuid.UUID,
    client_id: uuid.UUID | None,
    *,
    actor_id: uuid.UUID | None,
    impersonator_id: uuid.UUID | None = None,
) -> User:
    """Link a client account to the client company it acts for (or unlink it)."""
    user = await get_user(session, user_id, lock=True)
    if client_id is not None and "client" not in user.roles:
        raise ServiceError.of(Code.INVALID, "Only client accounts act for a client.", "clientId")
    before = audit.snapshot(user)
    announced = events.user_facts(user)
    user.client_id = client_id
    audit.record(
        session,
        user_id=user.id,
        actor_id=actor_id,
        impersonator_id=impersonator_id,
        action="set_client",
        before=before,
        after=audit.snapshot(user),
    )
    await events.announce_if_changed(session, user, announced)
    return user
