"""Account messages (issue 14 §1): resets, first passwords and MFA, decided and sent by notifications.

The events are the ones identity's own services write (read back from its
outbox); one test follows a reset from identity's GraphQL API over Redis to
a notifications app whose worker mails it to a real local SMTP server, and
the mailed code then resets the password (what identity's own mailer test
proved before the mail moved here).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from typing import Any

import httpx
import pyotp
from sqlalchemy import select

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.identity.models import outbox as identity_outbox
from subgraphs.identity.rate_limit import Throttle, ThrottlePolicy
from subgraphs.identity.service import accounts, client_signup, mfa, password_reset
from subgraphs.notifications.app import create_app
from subgraphs.notifications.models import Message
from subgraphs.notifications.service import account_messages
from subgraphs.notifications.service import facts as notification_facts
from subgraphs.notifications.service.preferences import set_user_preferences
from subgraphs.notifications.service.templates import install_defaults
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import serve

PASSWORD = "a long enough passphrase"
REQUEST = "mutation($email: String!) { requestPasswordReset(email: $email) { ok } }"
RESET = """mutation($token: String!, $password: String!) {
  resetPassword(token: $token, newPassword: $password) { ok userErrors { code } } }"""
LOGIN = """mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken userErrors { code } } }"""


async def make_user(sessions: Any, email: str, name: str = "Ada Lovelace") -> uuid.UUID:
    async with sessions() as session, session.begin():
        user = await accounts.create_user(
            session,
            accounts.NewUser(email=email, name=name, roles=["client"], password=PASSWORD),
            actor_id=None,
        )
        return user.id


async def identity_events(sessions: Any, topic: str) -> list[dict[str, Any]]:
    """Identity's outbox rows as its relay delivers them (id, time, payload)."""
    async with sessions() as session:
        rows = (
            await session.execute(
                select(identity_outbox)
                .where(identity_outbox.c.topic == topic)
                .order_by(identity_outbox.c.id)
            )
        ).all()
    return [
        {
            "id": f"identity:{row.id}",
            "occurredAt": row.created_at.isoformat(),
            "payload": row.payload,
        }
        for row in rows
    ]


async def messages(sessions: Any, kind: str) -> list[Message]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(Message).where(Message.kind == kind).order_by(Message.created_at)
            )
        )


async def handle(sessions: Any, handler: Any, event: dict[str, Any], **kw: Any) -> Any:
    async with sessions() as session, session.begin():
        return await handler(session, event, **kw)


def throttle(redis: Any, settings: Any) -> Throttle:
    return Throttle(redis, ThrottlePolicy.from_settings(settings), "198.51.100.20")


async def request_reset(sessions: Any, redis: Any, settings: Any, email: str) -> None:
    async with sessions() as session, session.begin():
        await password_reset.request_reset(
            session, throttle(redis, settings), email, ttl_seconds=3600
        )


def with_portal(monkeypatch: Any, settings: Any, **more: Any) -> None:
    changed = settings.model_copy(update={"portal_url": "https://portal.example/", **more})
    monkeypatch.setattr(account_messages, "get_settings", lambda: changed)
    monkeypatch.setattr(notification_facts, "get_settings", lambda: changed)  # portal links


async def test_a_reset_is_decided_once_per_event_with_the_code_and_link(
    sessions, redis, settings, monkeypatch
) -> None:
    with_portal(monkeypatch, settings)
    async with sessions() as s, s.begin():
        await install_defaults(s)
    user_id = await make_user(sessions, "ada@example.com")
    await request_reset(sessions, redis, settings, "ADA@example.com")
    [event] = await identity_events(sessions, password_reset.TOPIC)

    first = await handle(sessions, account_messages.on_password_mail, event)
    again = await handle(sessions, account_messages.on_password_mail, event)

    token = event["payload"]["token"]
    assert first is not None
    assert again is None
    [message] = await messages(sessions, "password_reset")
    assert (message.recipient, message.recipient_user_id) == ("ada@example.com", user_id)
    assert (message.status, message.transactional) == ("queued", True)
    assert message.variables["reset_code"] == token
    assert message.variables["reset_link"] == f"https://portal.example/reset-password?token={token}"
    assert message.variables["expires_minutes"] == 60
    assert message.subject == "[Athena] Reset your password"
    assert f"Your reset code: {token}" in str(message.body_text)


async def test_a_reset_goes_out_even_with_e_mail_switched_off(sessions, redis, settings) -> None:
    """Transactional: the owner's opt-outs never keep them from their own account."""
    async with sessions() as s, s.begin():
        await install_defaults(s)
    user_id = await make_user(sessions, "grace@example.com")
    async with sessions() as s, s.begin():
        owner = Viewer(user_id=user_id, roles=frozenset({Role.CLIENT}))
        await set_user_preferences(s, user_id, {"email": False, "marketing": False}, owner)
    await request_reset(sessions, redis, settings, "grace@example.com")
    [event] = await identity_events(sessions, password_reset.TOPIC)

    await handle(sessions, account_messages.on_password_mail, event)

    [message] = await messages(sessions, "password_reset")
    assert message.status == "queued"
    assert message.variables["reset_link"] is None  # no portal configured: the code alone


async def test_an_expired_token_is_never_mailed(sessions, redis, settings) -> None:
    await make_user(sessions, "late@example.com")
    await request_reset(sessions, redis, settings, "late@example.com")
    [event] = await identity_events(sessions, password_reset.TOPIC)

    later = datetime.now(UTC) + timedelta(hours=2)
    decided = await handle(sessions, account_messages.on_password_mail, event, now=later)

    assert decided is None
    assert await messages(sessions, "password_reset") == []


async def test_a_new_client_account_gets_the_set_password_mail(
    sessions, settings, monkeypatch
) -> None:
    with_portal(monkeypatch, settings)
    async with sessions() as s, s.begin():
        await install_defaults(s)
        user = await client_signup.sign_up(s, "new.client@example.com", uuid.uuid4(), "Pat Lee")
    assert user is not None
    async with sessions() as s, s.begin():
        # identity announced the account too: notifications greets it by name
        [changed] = await identity_events(sessions, "identity.user_changed")
        await notification_facts.apply_user_event(s, changed)
    [event] = await identity_events(sessions, password_reset.TOPIC)

    await handle(sessions, account_messages.on_password_mail, event)
    await handle(sessions, account_messages.on_password_mail, event)

    token = event["payload"]["token"]
    assert await messages(sessions, "password_reset") == []
    [message] = await messages(sessions, "set_password")
    assert (message.recipient, message.recipient_name) == ("new.client@example.com", "Pat Lee")
    assert message.variables["set_password_link"] == (
        f"https://portal.example/set-password?token={token}"
    )
    assert message.variables["expires_minutes"] == 3 * 24 * 60
    assert message.subject == "[Athena] Choose your password"
    assert "Hello Pat Lee" in str(message.body_text)


async def test_confirming_mfa_tells_the_owner_once(sessions, redis, settings) -> None:
    async with sessions() as s, s.begin():
        await install_defaults(s)
    user_id = await make_user(sessions, "mfa@example.com")
    async with sessions() as s, s.begin():
        enrolment = await mfa.start_enrolment(s, user_id, impersonator_id=None)
    async with sessions() as s, s.begin():
        await mfa.confirm_enrolment(
            s,
            throttle(redis, settings),
            user_id,
            pyotp.TOTP(enrolment.secret).now(),
            impersonator_id=None,
        )
    [event] = await identity_events(sessions, mfa.MFA_ENROLLED)

    await handle(sessions, account_messages.on_mfa_enrolled, event)
    await handle(sessions, account_messages.on_mfa_enrolled, event)

    [message] = await messages(sessions, "mfa_enrolled")
    assert (message.recipient, message.transactional, message.status) == (
        "mfa@example.com",
        True,
        "queued",
    )
    assert message.variables["method"] == "an authenticator app"
    assert message.variables["enrolled_at"] == event["payload"]["at"]
    assert message.variables["time_zone"] == settings.operator_time_zone
    assert message.subject == "[Athena] Two-step sign-in is on"


async def test_the_reset_mail_arrives_over_smtp_and_its_code_resets_the_password(
    sessions, settings, identity_server, smtp
) -> None:
    """identity's API -> its outbox -> Redis -> notifications' consumer -> worker -> SMTP."""
    inbox, port = smtp
    await make_user(sessions, "ada@example.com")
    app = create_app(
        settings.model_copy(
            update={
                "smtp_host": "127.0.0.1",
                "smtp_port": port,
                "smtp_starttls": False,
                "smtp_use_tls": False,
                "notifications_worker_enabled": True,
                "notifications_jobs_enabled": False,
            }
        )
    )
    async with httpx.AsyncClient(timeout=30) as http, serve(app):
        gql = GraphQLClient(identity_server.graphql_url, http)
        assert (await gql(REQUEST, {"email": "ADA@example.com"})).ok()
        for _ in range(300):  # the relay, the consumer, then the worker's next pass
            if inbox.received:
                break
            await asyncio.sleep(0.1)
        assert len(inbox.received) == 1
        _, to, raw = inbox.received[0]
        mail = message_from_bytes(raw, policy=policy.default)
        plain = mail.get_body(preferencelist=("plain",))
        assert plain is not None
        text = plain.get_content()
        code = re.search(r"Your reset code: (\S+)", text)
        assert code is not None
        reset = await gql(RESET, {"token": code.group(1), "password": "a new long passphrase"})
        login = await gql(LOGIN, {"email": "ada@example.com", "password": "a new long passphrase"})

    assert to == ["ada@example.com"]
    assert mail["Subject"] == "[Athena] Reset your password"
    assert reset.ok()["resetPassword"] == {"ok": True, "userErrors": []}
    assert login.ok()["login"]["accessToken"]
    [message] = await messages(sessions, "password_reset")
    assert message.status == "sent"
