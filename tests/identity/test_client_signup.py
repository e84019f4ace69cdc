"""Frictionless new clients (issue 14 §2): identity's consumer of `charters.quote_accepted_by_link`.

The handler runs against the real database (directly, concurrently, and
replayed) and once end to end: a quote accepted by link through the charters
subgraph over HTTP, its event carried by Redis to identity's consumer, the
set-password token then setting a password the new client logs in with.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from sqlalchemy import select

from db.engine import make_engine, session_factory
from subgraphs.identity.models import PasswordResetToken, User, UserAudit, outbox
from subgraphs.identity.service import client_signup
from subgraphs.identity.service.events import TOPIC as USER_CHANGED
from subgraphs.identity.service.password_reset import TOPIC as PASSWORD_MAIL
from subgraphs.kit.consumer import EventConsumer
from subgraphs.kit.settings import get_settings
from tests.charters.test_accept_quote import BY_LINK, LINK, _terms
from tests.charters.test_legal_terms import publish
from tests.identity.conftest import LOGIN, claims_of

RESET = """mutation($token: String!, $password: String!) {
  resetPassword(token: $token, newPassword: $password) { ok userErrors { field code } } }"""


def event(email: str, client_id: uuid.UUID, name: str | None = "Pat Lee") -> dict[str, Any]:
    return {
        "id": f"charters:{uuid.uuid4().int % 10**9}",
        "topic": client_signup.QUOTE_ACCEPTED_BY_LINK,
        "occurredAt": "2026-11-30T12:00:00+00:00",
        "payload": {
            "charterId": str(uuid.uuid4()),
            "clientId": str(client_id),
            "email": email,
            "name": name,
            "signatureId": str(uuid.uuid4()),
        },
    }


async def handle(sessions: Any, message: dict[str, Any]) -> None:
    async with sessions() as session, session.begin():
        await client_signup.apply_signup_event(session, message)


async def users(sessions: Any, email: str) -> list[User]:
    async with sessions() as session:
        return list(await session.scalars(select(User).where(User.email == email.lower())))


async def mails(sessions: Any, email: str) -> list[dict[str, Any]]:
    async with sessions() as session:
        rows = await session.scalars(
            select(outbox.c.payload).where(outbox.c.topic == PASSWORD_MAIL).order_by(outbox.c.id)
        )
        return [p for p in rows if p["email"] == email.lower()]


async def test_a_new_email_gets_a_client_account_for_the_company_and_a_set_password_mail(
    sessions, count_rows
):
    company = uuid.uuid4()

    await handle(sessions, event("New.Client@Example.com", company, "  Pat   Lee "))

    [user] = await users(sessions, "new.client@example.com")
    assert (user.roles, user.client_id, user.name, user.status) == (
        ["client"],
        company,
        "Pat Lee",
        "active",
    )
    [mail] = await mails(sessions, "new.client@example.com")
    assert (mail["userId"], mail["purpose"]) == (str(user.id), "set_password")
    assert await count_rows(PasswordResetToken, PasswordResetToken.user_id == user.id) == 1
    assert await count_rows(UserAudit, UserAudit.action == "client_signup") == 1
    async with sessions() as session:
        announced = list(
            await session.scalars(select(outbox.c.payload).where(outbox.c.topic == USER_CHANGED))
        )
    assert [(a["userId"], a["clientId"]) for a in announced] == [(str(user.id), str(company))]


async def test_concurrent_and_replayed_events_make_one_account_and_one_mail(sessions, count_rows):
    company = uuid.uuid4()
    first = event("race@example.com", company)
    # Two replicas handle two acceptances of one e-mail at once, each in its own connection.
    engines = [make_engine(get_settings().database_url, pool_size=1) for _ in range(2)]
    try:
        await asyncio.gather(
            handle(session_factory(engines[0]), first),
            handle(session_factory(engines[1]), event("RACE@example.com", company)),
        )
    finally:
        for engine in engines:
            await engine.dispose()
    await handle(sessions, first)  # redelivered after a crash before the acknowledgement

    [user] = await users(sessions, "race@example.com")
    assert len(await mails(sessions, "race@example.com")) == 1
    assert await count_rows(PasswordResetToken, PasswordResetToken.user_id == user.id) == 1


async def test_an_existing_account_is_neither_duplicated_nor_relinked(
    sessions, make_user, count_rows, caplog
):
    other_company = uuid.uuid4()
    existing = await make_user("client", email="taken@example.com")
    async with sessions() as session, session.begin():
        row = await session.get(User, existing.id)
        assert row is not None
        row.client_id = other_company

    with caplog.at_level(logging.INFO, logger=client_signup.__name__):
        await handle(sessions, event("Taken@Example.com", uuid.uuid4()))

    [user] = await users(sessions, "taken@example.com")
    assert (user.id, user.client_id) == (existing.id, other_company)
    assert await mails(sessions, "taken@example.com") == []
    assert await count_rows(PasswordResetToken) == 0
    assert any(
        "not linked" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records
    )


async def test_a_link_acceptance_reaches_identity_through_redis_and_the_client_sets_a_password(
    staff, bookable_charter, sessions, redis, gql, mint
):
    company = uuid.uuid4()
    charter = await bookable_charter(clientId=str(company))
    terms = (await publish(staff, "TERMS_AND_CONDITIONS"))["terms"]
    token = (await staff(LINK, {"id": charter["id"]})).ok()["createQuoteLink"]["token"]
    email = f"fresh-{uuid.uuid4().hex[:8]}@example.com"

    accepted = (
        await staff.as_user(None)(BY_LINK, {"token": token, "email": email, "terms": _terms(terms)})
    ).ok()["acceptQuoteByLink"]
    assert accepted["userErrors"] == []
    # Charters' relay publishes the event to its Redis stream; identity's consumer reads it.
    consumer = EventConsumer(
        redis,
        sessions,
        topic=client_signup.QUOTE_ACCEPTED_BY_LINK,
        group="test.client-signups",
        handler=client_signup.apply_signup_event,
    )
    await consumer.ensure_group()
    handled = 0
    for _ in range(20):  # each read waits at most its block time for the relay
        handled += await consumer.consume_once()
        if handled:
            break
    assert handled == 1

    [user] = await users(sessions, email)
    assert (user.roles, user.client_id) == (["client"], company)
    [mail] = await mails(sessions, email)
    reset = (await gql(RESET, {"token": mail["token"], "password": "a new long password"})).ok()
    assert reset["resetPassword"] == {"ok": True, "userErrors": []}
    login = (await gql(LOGIN, {"email": email, "password": "a new long password"})).ok()["login"]
    assert login["userErrors"] == []
    assert claims_of(login["accessToken"])["client_id"] == str(company)
