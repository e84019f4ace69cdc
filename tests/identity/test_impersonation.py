"""impersonation: staff view the portal as a client, on record, with limits."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from protocol.roles import Role
from subgraphs.identity.models import AuthSession, ImpersonationLog, User
from subgraphs.identity.service import accounts, impersonation, mfa, password_reset
from subgraphs.identity.service.sessions import rotate_refresh_token
from subgraphs.kit.errors import ForbiddenError, Problem, ServiceError
from tests.identity.conftest import PASSWORD, claims_of

NOT_WHILE_IMPERSONATING = "NOT_ALLOWED_WHILE_IMPERSONATING"


@pytest.fixture
def start(sessions, signing_key, settings):
    async def do(staff: User, client: User, *, already_impersonating: bool = False):
        async with sessions() as session, session.begin():
            return await impersonation.start(
                session,
                signing_key,
                settings,
                staff_id=staff.id,
                staff_roles=frozenset(Role(r) for r in staff.roles),
                already_impersonating=already_impersonating,
                client_user_id=client.id,
                reason="Customer asked about invoice",
                ip="198.51.100.4",
            )

    return do


async def refused(call) -> tuple[Problem, ...]:
    with pytest.raises(ServiceError) as caught:
        await call
    return caught.value.problems


async def test_start_issues_tokens_carrying_both_identities_and_logs_it(start, make_user, sessions):
    staff = await make_user("sales_support")
    client = await make_user("client")

    pair = await start(staff, client)

    claims = claims_of(pair.access_token)
    assert (claims["sub"], claims["act"], claims["roles"]) == (
        str(client.id),
        {"sub": str(staff.id)},
        ["client"],
    )
    async with sessions() as session:
        logs = (await session.scalars(select(ImpersonationLog))).all()
        auth = await session.get(AuthSession, pair.session_id)
    assert [
        (e.staff_user_id, e.client_user_id, e.session_id, e.reason, e.ended_at) for e in logs
    ] == [(staff.id, client.id, pair.session_id, "Customer asked about invoice", None)]
    assert (auth.user_id, auth.impersonator_id) == (client.id, staff.id)


@pytest.mark.parametrize("target_roles", [("manager",), ("vendor",), ("client", "sales_agent")])
async def test_a_target_that_is_not_only_a_client_is_refused(
    start, make_user, count_rows, target_roles
):
    staff = await make_user("admin")
    target = await make_user(*target_roles)

    problems = await refused(start(staff, target))

    assert problems == (
        Problem("NOT_A_CLIENT", "Only client accounts can be viewed as.", "userId"),
    )
    assert await count_rows(ImpersonationLog) == 0
    assert await count_rows(AuthSession) == 0


async def test_a_role_not_allowed_to_impersonate_is_refused(start, make_user, count_rows):
    dispatcher = await make_user("dispatcher")
    client = await make_user("client")

    with pytest.raises(ForbiddenError) as caught:
        await start(dispatcher, client)

    assert caught.value.message == "Your role cannot view the portal as a client."
    assert await count_rows(ImpersonationLog) == 0


async def test_an_impersonated_session_cannot_impersonate_again(start, make_user, count_rows):
    staff = await make_user("manager")
    client = await make_user("client")

    problems = await refused(start(staff, client, already_impersonating=True))

    assert problems == (
        Problem(NOT_WHILE_IMPERSONATING, "An impersonated session cannot impersonate."),
    )
    assert await count_rows(ImpersonationLog) == 0
    assert await count_rows(AuthSession) == 0


async def test_an_impersonated_session_cannot_change_the_password(
    sessions, make_user, throttle, revocations
):
    client = await make_user("client")
    before = client.password_hash

    async def change():
        async with sessions() as session, session.begin():
            await password_reset.change_password(
                session,
                throttle,
                client.id,
                current_password=PASSWORD,
                new_password="an entirely new one",
                impersonating=True,
                revocations=revocations,
                current_session_id=None,
            )

    problems = await refused(change())

    assert [p.code for p in problems] == [NOT_WHILE_IMPERSONATING]
    async with sessions() as session:
        assert (await session.get(User, client.id)).password_hash == before


async def test_an_impersonated_session_cannot_touch_mfa(sessions, make_user, throttle):
    staff = await make_user("manager")
    client = await make_user("client")

    async def enrol():
        async with sessions() as session, session.begin():
            await mfa.start_enrolment(session, client.id, impersonator_id=staff.id)

    async def confirm():
        async with sessions() as session, session.begin():
            await mfa.confirm_enrolment(
                session, throttle, client.id, "123456", impersonator_id=staff.id
            )

    async def disable():
        async with sessions() as session, session.begin():
            await mfa.disable(session, throttle, client.id, "123456", impersonator_id=staff.id)

    for call in (enrol(), confirm(), disable()):
        assert [p.code for p in await refused(call)] == [NOT_WHILE_IMPERSONATING]
    async with sessions() as session:
        row = await session.get(User, client.id)
    assert (row.mfa_pending_secret, row.mfa_enabled) == (None, False)


async def test_stop_ends_the_log_entry_and_revokes_the_session(
    start, make_user, sessions, revocations
):
    staff = await make_user("admin")
    client = await make_user("client")
    pair = await start(staff, client)

    async with sessions() as session, session.begin():
        stopped = await impersonation.stop(
            session, session_id=pair.session_id, revocations=revocations
        )

    assert stopped is True
    async with sessions() as session:
        entry = await session.scalar(select(ImpersonationLog))
        auth = await session.get(AuthSession, pair.session_id)
    assert entry.ended_at is not None
    assert entry.ended_at >= entry.started_at
    assert auth.revoked_reason == "impersonation_ended"


async def test_stop_outside_an_impersonated_session_does_nothing(sessions, count_rows, revocations):
    async with sessions() as session, session.begin():
        stopped = await impersonation.stop(session, session_id=None, revocations=revocations)

    assert stopped is False
    assert await count_rows(ImpersonationLog) == 0


async def test_a_refreshed_impersonated_session_keeps_both_identities(
    start, make_user, sessions, signing_key, settings, throttle, revocations
):
    staff = await make_user("sales_support")
    client = await make_user("client")
    pair = await start(staff, client)

    async with sessions() as session, session.begin():
        refreshed = await rotate_refresh_token(
            session,
            pair.refresh_token,
            signing_key,
            settings,
            revocations=revocations,
            throttle=throttle,
        )

    claims = claims_of(refreshed.access_token)
    assert (claims["sub"], claims["act"]) == (str(client.id), {"sub": str(staff.id)})


async def test_a_disabled_client_cannot_be_viewed_as(
    start, make_user, sessions, count_rows, revocations
):
    staff = await make_user("manager")
    client = await make_user("client")
    async with sessions() as session, session.begin():
        await accounts.set_status(
            session, client.id, "disabled", actor_id=staff.id, revocations=revocations
        )

    problems = await refused(start(staff, client))

    assert problems == (Problem("ACCOUNT_DISABLED", "This account is disabled.", "userId"),)
    assert await count_rows(ImpersonationLog) == 0
