"""Whom to write to, from the facts other subgraphs announced, with their preferences.

A client company is written to at its e-mail (sales' client record) with
the company's preferences; a person (a client user, a vendor user, a
driver, staff) at their account's e-mail with their own preferences. SMS
goes to the phone the preferences name (the opt-in carries it). A
recipient notifications knows nothing of yet is None: the consumer then
decides nothing (and says so in the log), since the facts arrive by their
own streams and may lag.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from subgraphs.notifications.models import ClientFact, UserFact, VendorFact
from subgraphs.notifications.service.messages import Recipient
from subgraphs.notifications.service.preferences import client_preferences, user_preferences

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


async def client_recipient(
    session: AsyncSession, client_id: uuid.UUID, channel: str = "email"
) -> Recipient | None:
    fact = await session.get(ClientFact, client_id)
    prefs = await client_preferences(session, client_id)
    address = prefs.sms_phone if channel == "sms" else (fact.email if fact else None)
    if address is None:
        return None
    return Recipient(
        address=address,
        name=fact.name if fact else None,
        locale=fact.locale if fact else "en",
        preferences=prefs,
    )


async def user_recipient(
    session: AsyncSession, user_id: uuid.UUID, channel: str = "email"
) -> Recipient | None:
    fact = await session.get(UserFact, user_id)
    prefs = await user_preferences(session, user_id)
    address = prefs.sms_phone if channel == "sms" else (fact.email if fact else None)
    if address is None:
        return None
    return Recipient(
        address=address,
        name=fact.name if fact else None,
        user_id=user_id,
        locale=fact.locale if fact else "en",
        preferences=prefs,
    )


async def vendor_recipient(session: AsyncSession, vendor_id: uuid.UUID) -> Recipient | None:
    """A vendor company's dispatch e-mail: operational alerts, so the defaults apply."""
    fact = await session.get(VendorFact, vendor_id)
    if fact is None or not fact.email:
        return None
    return Recipient(address=fact.email, name=fact.name)
