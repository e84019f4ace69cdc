"""Frictionless new clients (issue 14 §2): an account for whoever accepted a quote by link.

Charters books the quote and records the signature first, then announces
`charters.quote_accepted_by_link` (charter, client company, e-mail, typed
name) through its outbox; identity consumes it here, with the kit's durable
consumer. So the booking never waits on identity, an identity outage only
delays the account (the event waits in the stream), and a rolled-back
acceptance asks for nothing.

A new e-mail gets a client account linked to the quote's company, with no
usable password, and the set-password mail: a single-use token announced
as `identity.password_reset_requested` with `purpose: set_password` (the
mailers of that event send it; the token lasts `SET_PASSWORD_TTL`, longer
than a reset's hour, since a first visit may come days later).

No duplicate account, even when two acceptances of one new e-mail are
handled at once (two replicas of identity): the insert is `ON CONFLICT DO
NOTHING` against the unique index on the lower-cased e-mail, and only the
transaction that inserted the row mails. A replayed event finds the
account it made and does nothing again.

An e-mail that already has an account gets none: an anonymous link holder
must not be able to attach an existing login to a company, so the account
is left as it is (a client of another company, a client of no company, a
staff account) and the handling log says so.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from subgraphs.identity import passwords
from subgraphs.identity.models import PasswordResetToken, User, outbox
from subgraphs.identity.opaque_tokens import new_token
from subgraphs.identity.service import audit, events
from subgraphs.identity.service.accounts import find_by_email
from subgraphs.identity.service.password_reset import TOPIC as PASSWORD_MAIL
from subgraphs.identity.service.validation import MAX_NAME, normalise_email
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.outbox import emit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)

#: Charters' event (`subgraphs/charters/service/acceptance.py`).
QUOTE_ACCEPTED_BY_LINK = "charters.quote_accepted_by_link"
GROUP = "identity.client-signups"
SET_PASSWORD_TTL = timedelta(days=3)
#: The `purpose` of the password mail event: a first password, not a reset.
SET_PASSWORD = "set_password"  # noqa: S105 (a purpose, not a password)


async def apply_signup_event(session: AsyncSession, event: dict[str, Any]) -> None:
    """Handle one `charters.quote_accepted_by_link` in the consumer's transaction."""
    payload = event.get("payload") or {}
    try:
        email = normalise_email(str(payload.get("email") or ""))
        client_id = uuid.UUID(str(payload["clientId"]))
    except (ServiceError, KeyError, ValueError):
        # Charters validated both; a malformed event is logged, not retried forever.
        log.warning("client signup: event %s has no usable e-mail or client", event.get("id"))
        return
    user = await sign_up(session, email, client_id, _name(payload.get("name"), email))
    if user is not None:
        log.info("client signup: account %s made for client %s", user.id, client_id)
        return
    existing = await find_by_email(session, email)
    if existing is None:  # the conflicting row was committed to get here; kept for the type
        return
    if "client" in existing.roles and existing.client_id == client_id:
        log.info("client signup: %s already has an account for client %s", email, client_id)
    else:
        log.warning(
            "client signup: %s already has an account (%s, roles %s, client %s): not linked to "
            "client %s (charter %s)",
            email,
            existing.id,
            ",".join(existing.roles),
            existing.client_id,
            client_id,
            payload.get("charterId"),
        )


async def sign_up(
    session: AsyncSession, email: str, client_id: uuid.UUID, name: str
) -> User | None:
    """A new client account and its set-password mail; None if the e-mail has an account."""
    unusable = await passwords.hash_password(secrets.token_urlsafe(32))
    user_id = await session.scalar(
        insert(User)
        .values(
            id=uuid.uuid4(),
            email=email,
            name=name,
            roles=["client"],
            status="active",
            password_hash=unusable,
            client_id=client_id,
        )
        .on_conflict_do_nothing()
        .returning(User.id)
    )
    if user_id is None:
        return None
    user = (await session.scalars(select(User).where(User.id == user_id))).one()
    audit.record(
        session,
        user_id=user.id,
        actor_id=None,
        action="client_signup",
        before=None,
        after=audit.snapshot(user),
    )
    await events.announce(session, user)
    raw, hashed = new_token()
    expires = datetime.now(UTC) + SET_PASSWORD_TTL
    session.add(PasswordResetToken(user_id=user.id, token_hash=hashed, expires_at=expires))
    await emit(
        session,
        outbox,
        PASSWORD_MAIL,
        {
            "userId": str(user.id),
            "email": user.email,
            "token": raw,
            "expiresAt": expires,
            "purpose": SET_PASSWORD,
        },
    )
    return user


def _name(typed: object, email: str) -> str:
    """The name typed at signing; the e-mail's local part if there was none."""
    name = " ".join(str(typed or "").split()) or email.split("@", 1)[0]
    return name[:MAX_NAME]
