"""`identity.user_changed`: each change of what others copy writes one outbox row.

Sales and charters learn users only from these events, so each one carries
the user's whole announced state; a change that fails writes nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from db.demo import identity as identity_demo
from protocol.roles import Role
from subgraphs.identity.models import User, outbox
from subgraphs.identity.service import accounts
from subgraphs.identity.service.events import TOPIC, announce_all
from subgraphs.kit.errors import ServiceError
from tests.identity.conftest import PASSWORD


async def user_events(sessions: Any, user_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    async with sessions() as session:
        payloads = await session.scalars(
            select(outbox.c.payload).where(outbox.c.topic == TOPIC).order_by(outbox.c.id)
        )
        return [p for p in payloads if user_id is None or p["userId"] == str(user_id)]


def facts(user: User, **changes: Any) -> dict[str, Any]:
    values = {
        "userId": str(user.id),
        "email": user.email,
        "name": user.name,
        "roles": list(user.roles),
        "active": True,
        "clientId": None,
        "vendorId": None,
    }
    values.update(changes)
    return values


async def test_creating_a_user_announces_it(sessions):
    client_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        user = await accounts.create_user(
            session,
            accounts.NewUser(
                email="  Kim.Buyer@Example.com ",
                name=" Kim Buyer ",
                roles=["client"],
                password=PASSWORD,
                client_id=client_id,
            ),
            actor_id=None,
        )

    assert await user_events(sessions) == [
        {
            "userId": str(user.id),
            "email": "kim.buyer@example.com",
            "name": "Kim Buyer",
            "roles": ["client"],
            "active": True,
            "clientId": str(client_id),
            "vendorId": None,
        }
    ]


async def test_a_new_name_is_announced_and_a_new_phone_is_not(sessions, make_user):
    user = await make_user("sales_agent", name="Sam Seller")

    async with sessions() as session, session.begin():
        await accounts.update_profile(
            session, user.id, name="Samantha Seller", phone=None, actor_id=None
        )
    async with sessions() as session, session.begin():
        await accounts.update_profile(session, user.id, name=None, phone="555-0100", actor_id=None)

    assert await user_events(sessions, user.id) == [
        facts(user),
        facts(user, name="Samantha Seller"),
    ]


async def test_new_roles_are_announced(sessions, make_user, revocations):
    user = await make_user("sales_agent")

    async with sessions() as session, session.begin():
        await accounts.set_roles(
            session, user.id, ["dispatcher"], actor_id=None, revocations=revocations
        )

    assert (await user_events(sessions, user.id))[1:] == [facts(user, roles=["dispatcher"])]


async def test_disabling_and_enabling_are_announced(sessions, make_user, revocations):
    user = await make_user("sales_agent")

    for status in ("disabled", "active"):
        async with sessions() as session, session.begin():
            await accounts.set_status(
                session, user.id, status, actor_id=None, revocations=revocations
            )

    assert (await user_events(sessions, user.id))[1:] == [
        facts(user, active=False),
        facts(user, active=True),
    ]


async def test_linking_a_client_is_announced(sessions, make_user):
    user = await make_user("client")
    company = uuid.uuid4()

    for link in (company, None):
        async with sessions() as session, session.begin():
            await accounts.set_client(session, user.id, link, actor_id=None)

    assert (await user_events(sessions, user.id))[1:] == [
        facts(user, clientId=str(company)),
        facts(user, clientId=None),
    ]


async def test_setting_what_is_already_there_announces_nothing(sessions, make_user, revocations):
    user = await make_user("sales_agent")

    async with sessions() as session, session.begin():
        await accounts.set_roles(
            session, user.id, ["sales_agent"], actor_id=None, revocations=revocations
        )
        await accounts.set_status(
            session, user.id, "active", actor_id=None, revocations=revocations
        )

    assert await user_events(sessions, user.id) == [facts(user)]


async def test_failed_changes_announce_nothing(sessions, make_user, revocations):
    admin = await make_user("admin")
    taken = await make_user("client")
    before = await user_events(sessions)

    with pytest.raises(ServiceError) as last_admin:
        async with sessions() as session, session.begin():
            await accounts.set_roles(
                session, admin.id, ["manager"], actor_id=None, revocations=revocations
            )
    with pytest.raises(ServiceError) as own_account:
        async with sessions() as session, session.begin():
            await accounts.set_status(
                session, admin.id, "disabled", actor_id=admin.id, revocations=revocations
            )
    with pytest.raises(ServiceError) as duplicate:
        async with sessions() as session, session.begin():
            await accounts.create_user(
                session,
                accounts.NewUser(
                    email=taken.email, name="Copy", roles=["client"], password=PASSWORD
                ),
                actor_id=None,
            )
    with pytest.raises(ServiceError) as not_a_client:
        async with sessions() as session, session.begin():
            await accounts.set_client(session, admin.id, uuid.uuid4(), actor_id=None)

    assert [
        e.value.problems[0].code for e in (last_admin, own_account, duplicate, not_a_client)
    ] == [
        "LAST_ADMIN",
        "FORBIDDEN",
        "EMAIL_TAKEN",
        "INVALID",
    ]
    assert await user_events(sessions) == before
    assert len(before) == 2


async def test_demo_accounts_are_announced_like_any_other(sessions):
    async with sessions() as session, session.begin():
        added = await identity_demo.load(session)

    announced = await user_events(sessions)
    assert added == len(Role) + len(identity_demo.EXTRA_AGENTS)
    assert sorted((e["email"], tuple(e["roles"])) for e in announced) == sorted(
        [(identity_demo.demo_email(role), (role.value,)) for role in Role]
        + [(email, ("sales_agent",)) for email, _ in identity_demo.EXTRA_AGENTS]
    )


async def test_announce_all_repeats_every_users_current_state(sessions, make_user):
    agent = await make_user("sales_agent")
    client = await make_user("client")

    async with sessions() as session, session.begin():
        count = await announce_all(session)

    assert count == 2
    assert (await user_events(sessions))[2:] == [facts(agent), facts(client)]
