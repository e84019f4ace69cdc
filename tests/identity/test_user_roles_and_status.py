"""accounts.set_roles / set_status: audited, and the last admin is protected."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from subgraphs.identity.models import AuthSession, User, UserAudit
from subgraphs.identity.service import accounts
from subgraphs.kit.errors import Problem, ServiceError


async def audit_of(sessions, user_id: uuid.UUID) -> list[UserAudit]:
    async with sessions() as session:
        rows = await session.scalars(
            select(UserAudit).where(UserAudit.user_id == user_id).order_by(UserAudit.at)
        )
        return list(rows)


async def stored(sessions, user_id: uuid.UUID) -> User:
    async with sessions() as session:
        user = await session.get(User, user_id)
    assert user is not None
    return user


def snapshot(user: User, **changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "email": user.email,
        "name": user.name,
        "phone": None,
        "status": "active",
        "roles": list(user.roles),
        "mfa_enabled": False,
        "client_id": None,
    }
    values.update(changes)
    return values


async def test_set_roles_is_audited_with_actor_before_and_after(sessions, make_user, revocations):
    admin = await make_user("admin")
    agent = await make_user("sales_agent")

    async with sessions() as session, session.begin():
        await accounts.set_roles(
            session,
            agent.id,
            ["manager", "sales_agent"],
            actor_id=admin.id,
            revocations=revocations,
        )

    assert (await stored(sessions, agent.id)).roles == ["manager", "sales_agent"]
    entries = await audit_of(sessions, agent.id)
    assert [(e.action, e.actor_id) for e in entries] == [("create", None), ("set_roles", admin.id)]
    assert entries[1].before == snapshot(agent, roles=["sales_agent"])
    assert entries[1].after == snapshot(agent, roles=["manager", "sales_agent"])


async def test_set_status_is_audited_and_disabling_revokes_sessions(
    sessions, make_user, revocations
):
    admin = await make_user("admin")
    driver = await make_user("driver")
    async with sessions() as session, session.begin():
        session.add(
            AuthSession(user_id=driver.id, expires_at=datetime.now(UTC) + timedelta(days=1))
        )

    async with sessions() as session, session.begin():
        await accounts.set_status(
            session, driver.id, "disabled", actor_id=admin.id, revocations=revocations
        )

    assert (await stored(sessions, driver.id)).status == "disabled"
    entry = (await audit_of(sessions, driver.id))[-1]
    assert (entry.action, entry.actor_id) == ("set_status:disabled", admin.id)
    assert entry.before == snapshot(driver)
    assert entry.after == snapshot(driver, status="disabled")
    async with sessions() as session:
        revoked = (await session.scalars(select(AuthSession.revoked_reason))).all()
    assert revoked == ["account_disabled"]


async def test_enabling_again_is_audited(sessions, make_user, revocations):
    admin = await make_user("admin")
    driver = await make_user("driver")
    async with sessions() as session, session.begin():
        await accounts.set_status(
            session, driver.id, "disabled", actor_id=admin.id, revocations=revocations
        )

    async with sessions() as session, session.begin():
        await accounts.set_status(
            session, driver.id, "active", actor_id=admin.id, revocations=revocations
        )

    entry = (await audit_of(sessions, driver.id))[-1]
    assert (entry.action, entry.before["status"], entry.after["status"]) == (
        "set_status:active",
        "disabled",
        "active",
    )


async def test_last_admin_cannot_lose_the_admin_role(sessions, make_user, revocations):
    admin = await make_user("admin")

    with pytest.raises(ServiceError) as caught:
        async with sessions() as session, session.begin():
            await accounts.set_roles(
                session, admin.id, ["manager"], actor_id=admin.id, revocations=revocations
            )

    assert caught.value.problems == (
        Problem("LAST_ADMIN", "The last active admin cannot be disabled or lose the admin role."),
    )
    assert (await stored(sessions, admin.id)).roles == ["admin"]
    assert [e.action for e in await audit_of(sessions, admin.id)] == ["create"]


async def test_last_admin_cannot_be_disabled(sessions, make_user, revocations):
    admin = await make_user("admin")

    with pytest.raises(ServiceError) as caught:
        async with sessions() as session, session.begin():
            await accounts.set_status(
                session, admin.id, "disabled", actor_id=None, revocations=revocations
            )

    assert [p.code for p in caught.value.problems] == ["LAST_ADMIN"]
    assert (await stored(sessions, admin.id)).status == "active"
    assert [e.action for e in await audit_of(sessions, admin.id)] == ["create"]


async def test_an_admin_may_lose_the_role_while_another_admin_is_active(
    sessions, make_user, revocations
):
    first = await make_user("admin")
    second = await make_user("admin")

    async with sessions() as session, session.begin():
        await accounts.set_roles(
            session, second.id, ["manager"], actor_id=first.id, revocations=revocations
        )

    assert (await stored(sessions, second.id)).roles == ["manager"]


async def test_a_disabled_admin_does_not_count_as_another_admin(sessions, make_user, revocations):
    first = await make_user("admin")
    second = await make_user("admin")
    async with sessions() as session, session.begin():
        await accounts.set_status(
            session, second.id, "disabled", actor_id=first.id, revocations=revocations
        )

    with pytest.raises(ServiceError) as caught:
        async with sessions() as session, session.begin():
            await accounts.set_roles(
                session, first.id, ["manager"], actor_id=None, revocations=revocations
            )

    assert [p.code for p in caught.value.problems] == ["LAST_ADMIN"]
    assert (await stored(sessions, first.id)).roles == ["admin"]


async def test_an_admin_cannot_disable_their_own_account(sessions, make_user, revocations):
    admin = await make_user("admin")
    await make_user("admin")

    with pytest.raises(ServiceError) as caught:
        async with sessions() as session, session.begin():
            await accounts.set_status(
                session, admin.id, "disabled", actor_id=admin.id, revocations=revocations
            )

    assert caught.value.problems == (
        Problem("FORBIDDEN", "You cannot disable your own account.", "id"),
    )
    assert (await stored(sessions, admin.id)).status == "active"


async def test_unknown_user_is_not_found(sessions, count_rows, revocations):
    missing = uuid.uuid4()

    with pytest.raises(ServiceError) as caught:
        async with sessions() as session, session.begin():
            await accounts.set_roles(
                session, missing, ["client"], actor_id=None, revocations=revocations
            )

    assert caught.value.problems == (Problem("NOT_FOUND", f"User {missing} was not found.", "id"),)
    assert await count_rows(UserAudit) == 0
