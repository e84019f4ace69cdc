"""What the business tells a person about their own account: resets, first passwords, MFA.

Identity owns accounts and decides when one of these is due; notifications
words and sends them (issue 14 §1 moved identity's own reset mailer here).

| kind | cause | key |
| --- | --- | --- |
| password_reset | `identity.password_reset_requested` (no `purpose`, or `reset`) | the event |
| set_password | the same topic with `purpose: set_password` (a client account made by a quote accepted by link, `identity/service/client_signup.py`) | the event |
| mfa_enrolled | `identity.mfa_enrolled` (the owner confirmed two-step sign-in) | the event |

All three are transactional: they secure something the recipient owns, so
topic opt-outs and the e-mail switch do not silence them. They go to the
address the event names, not to the `UserFact` e-mail: the reset code must
reach the address it was asked for, whatever order identity's streams
arrive in (the fact only lends a name and a locale when known).

A reset or set-password event whose token has already expired decides
nothing (a consumer catching up after an outage must not mail dead codes);
the raw token lives only in identity's outbox and in this message.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from subgraphs.kit.settings import get_settings
from subgraphs.notifications.models import UserFact
from subgraphs.notifications.service import facts
from subgraphs.notifications.service.messages import Decision, Recipient, queue
from subgraphs.notifications.service.preferences import DEFAULTS, user_preferences

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.notifications.models import Message

log = logging.getLogger(__name__)

RESET_REQUESTED = "identity.password_reset_requested"
MFA_ENROLLED = "identity.mfa_enrolled"
#: The `purpose` identity gives a first password's token (`client_signup.SET_PASSWORD`).
SET_PASSWORD = "set_password"  # noqa: S105 (a purpose, not a password)
#: What identity's MFA enrolment enrols (TOTP only, `identity/service/mfa.py`).
MFA_METHOD = "an authenticator app"


def _now() -> datetime:
    return datetime.now(UTC)


def _moment(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


async def account_recipient(
    session: AsyncSession, address: str, user_id: uuid.UUID | None
) -> Recipient:
    """The event's address, with the account's name, locale and choices when known."""
    fact = await session.get(UserFact, user_id) if user_id else None
    return Recipient(
        address=address,
        name=(fact.name or None) if fact else None,
        user_id=user_id,
        locale=fact.locale if fact else "en",
        preferences=await user_preferences(session, user_id) if user_id else DEFAULTS,
    )


async def on_password_mail(
    session: AsyncSession, event: dict[str, Any], now: datetime | None = None
) -> Message | None:
    """A reset code, or a new client's first-password link; once per event."""
    now = now or _now()
    payload = facts.payload_of(event)
    address = str(payload.get("email") or "").strip()
    token = str(payload.get("token") or "")
    event_id = event.get("id")
    if not address or not token or not event_id:
        log.warning("password mail %s: no address, token or event id", event_id)
        return None
    expires = _moment(payload.get("expiresAt"))
    if expires is not None and expires <= now:
        log.info("password mail %s not decided: its token expired at %s", event_id, expires)
        return None
    issued = facts.event_time(event) or now
    if expires is not None:
        minutes = max(1, round((expires - issued).total_seconds() / 60))
    else:
        minutes = get_settings().password_reset_ttl_seconds // 60
    user_id = facts.uuid_or_none(payload.get("userId"))
    recipient = await account_recipient(session, address, user_id)
    if payload.get("purpose") == SET_PASSWORD:
        kind = "set_password"
        link = facts.portal_link(f"/set-password?token={token}") or token
        variables: dict[str, Any] = {
            "set_password_link": link,
            "expires_minutes": minutes,
            "charter_reference": payload.get("charterReference"),
        }
    else:
        kind = "password_reset"
        variables = {
            "reset_code": token,
            "reset_link": facts.portal_link(f"/reset-password?token={token}"),
            "expires_minutes": minutes,
        }
    return await queue(
        session,
        Decision(
            kind=kind,
            channel="email",
            recipient=recipient,
            variables={**variables, "recipient_name": recipient.name},
            event_id=str(event_id),
            client_id=facts.uuid_or_none(payload.get("clientId")),
        ),
        now,
    )


async def on_mfa_enrolled(
    session: AsyncSession, event: dict[str, Any], now: datetime | None = None
) -> Message | None:
    """Tell the owner two-step sign-in was turned on: if it was not them, they learn it."""
    now = now or _now()
    payload = facts.payload_of(event)
    address = str(payload.get("email") or "").strip()
    event_id = event.get("id")
    if not address or not event_id:
        log.warning("mfa_enrolled %s: no address or event id", event_id)
        return None
    at = _moment(payload.get("at")) or facts.event_time(event) or now
    recipient = await account_recipient(session, address, facts.uuid_or_none(payload.get("userId")))
    return await queue(
        session,
        Decision(
            kind="mfa_enrolled",
            channel="email",
            recipient=recipient,
            variables={
                "recipient_name": recipient.name,
                "method": MFA_METHOD,
                "enrolled_at": at.isoformat(),
                "time_zone": get_settings().operator_time_zone,
            },
            event_id=str(event_id),
        ),
        now,
    )


#: topic -> (consumer group, handler), for the app.
CONSUMERS: dict[str, tuple[str, Any]] = {
    RESET_REQUESTED: ("notifications.password-mails", on_password_mail),
    MFA_ENROLLED: ("notifications.mfa-enrolled", on_mfa_enrolled),
}
