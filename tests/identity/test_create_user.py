"""accounts.create_user: validation, uniqueness, audit; nothing half-written."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from subgraphs.identity.models import User, UserAudit
from subgraphs.identity.service import accounts
from subgraphs.kit.errors import Problem, ServiceError
from tests.identity.conftest import PASSWORD


def new_user(**overrides: object) -> accounts.NewUser:
    values: dict[str, object] = {
        "email": "grace@example.com",
        "name": "Grace Hopper",
        "roles": ["dispatcher"],
        "password": PASSWORD,
        "phone": None,
    }
    values.update(overrides)
    return accounts.NewUser(**values)  # type: ignore[arg-type]


async def refused(sessions, data: accounts.NewUser) -> tuple[Problem, ...]:
    with pytest.raises(ServiceError) as caught:
        async with sessions() as session, session.begin():
            await accounts.create_user(session, data, actor_id=None)
    return caught.value.problems


async def test_creates_the_user_and_audits_the_creation(sessions, make_user):
    admin = await make_user("admin")

    async with sessions() as session, session.begin():
        user = await accounts.create_user(
            session,
            new_user(email=" Grace@Example.COM ", phone=" +1 555 0100 "),
            actor_id=admin.id,
        )

    async with sessions() as session:
        stored = await session.get(User, user.id)
        audit = (await session.scalars(select(UserAudit).where(UserAudit.user_id == user.id))).all()
    assert (stored.email, stored.name, stored.phone, stored.status, stored.roles) == (
        "grace@example.com",
        "Grace Hopper",
        "+1 555 0100",
        "active",
        ["dispatcher"],
    )
    assert stored.password_hash.startswith("$argon2id$")
    assert len(audit) == 1
    entry = audit[0]
    assert (entry.actor_id, entry.action, entry.before) == (admin.id, "create", None)
    assert entry.after == {
        "email": "grace@example.com",
        "name": "Grace Hopper",
        "phone": "+1 555 0100",
        "status": "active",
        "roles": ["dispatcher"],
        "mfa_enabled": False,
        "client_id": None,
    }


async def test_malformed_email_is_refused_and_nothing_is_written(sessions, count_rows):
    problems = await refused(sessions, new_user(email="grace.example.com"))

    assert [(p.code, p.field) for p in problems] == [("INVALID_EMAIL", "email")]
    assert problems[0].message.startswith("E-mail is not valid: ")
    assert await count_rows(User) == 0
    assert await count_rows(UserAudit) == 0


async def test_empty_name_is_required_and_nothing_is_written(sessions, count_rows):
    problems = await refused(sessions, new_user(name="   "))

    assert problems == (Problem("REQUIRED", "Name is required.", "name"),)
    assert await count_rows(User) == 0
    assert await count_rows(UserAudit) == 0


async def test_over_long_name_is_refused_and_nothing_is_written(sessions, count_rows):
    problems = await refused(sessions, new_user(name="n" * 201))

    assert problems == (Problem("TOO_LONG", "Name is longer than 200 characters.", "name"),)
    assert await count_rows(User) == 0


async def test_over_long_phone_is_refused(sessions, count_rows):
    problems = await refused(sessions, new_user(phone="1" * 41))

    assert problems == (Problem("TOO_LONG", "Phone is longer than 40 characters.", "phone"),)
    assert await count_rows(User) == 0


async def test_weak_password_is_refused_and_nothing_is_written(sessions, count_rows):
    problems = await refused(sessions, new_user(password="short"))

    assert problems == (
        Problem("WEAK_PASSWORD", "Password needs at least 10 characters.", "password"),
    )
    assert await count_rows(User) == 0


async def test_unknown_role_is_refused_and_nothing_is_written(sessions, count_rows):
    problems = await refused(sessions, new_user(roles=["dispatcher", "pilot"]))

    assert problems == (Problem("INVALID", "Unknown role(s): pilot.", "roles"),)
    assert await count_rows(User) == 0


async def test_no_role_is_refused(sessions, count_rows):
    problems = await refused(sessions, new_user(roles=[]))

    assert problems == (Problem("REQUIRED", "At least one role is required.", "roles"),)
    assert await count_rows(User) == 0


async def test_every_problem_is_reported_at_once(sessions, count_rows):
    problems = await refused(sessions, new_user(email="", name="", password="x", roles=["pilot"]))

    assert [(p.code, p.field) for p in problems] == [
        ("REQUIRED", "email"),
        ("REQUIRED", "name"),
        ("WEAK_PASSWORD", "password"),
        ("INVALID", "roles"),
    ]
    assert await count_rows(User) == 0


async def test_duplicate_email_is_refused_whatever_its_case(sessions, make_user, count_rows):
    existing = await make_user("client", email="grace@example.com")

    problems = await refused(sessions, new_user(email="GRACE@example.com"))

    assert problems == (Problem("EMAIL_TAKEN", "An account with this e-mail exists.", "email"),)
    assert await count_rows(User) == 1
    assert await count_rows(UserAudit) == 1
    async with sessions() as session:
        assert (await session.get(User, existing.id)).name == "Test User"
