"""Who wants to hear what: per client company and per person (seed 001 section 1).

A company or person with no row has the defaults: every topic on, e-mail on,
SMS off until an explicit opt-in (TCPA). The decision to send reads them
through `allows`: transactional messages (password resets, receipts) ignore
topic opt-outs and the e-mail switch; every other message honours all of
them; SMS always needs the opt-in and a valid phone.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from subgraphs.kit.errors import ServiceError
from subgraphs.notifications.error_codes import NotificationsErrorCode as Code
from subgraphs.notifications.models import (
    PREFERENCE_TOPICS,
    ClientPreferences,
    PreferencesAudit,
    UserPreferences,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

#: E.164: a plus, a country code not starting with 0, at most 15 digits in all
E164 = re.compile(r"^\+[1-9]\d{7,14}$")


@dataclass(frozen=True, slots=True)
class Preferences:
    quotes: bool = True
    reminders: bool = True
    follow_ups: bool = True
    marketing: bool = True
    email: bool = True
    sms_opt_in: bool = False
    sms_phone: str | None = None

    @classmethod
    def of(cls, row: ClientPreferences | UserPreferences | None) -> Preferences:
        if row is None:
            return cls()
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})


DEFAULTS = Preferences()


def allows(prefs: Preferences, topic: str | None, channel: str, *, transactional: bool) -> bool:
    """Whether a message on `topic` (None: none) may go out on `channel` to `prefs`' owner."""
    if channel == "sms":
        return (
            prefs.sms_opt_in
            and prefs.sms_phone is not None
            and (transactional or topic is None or bool(getattr(prefs, topic)))
        )
    if transactional:
        return True
    if not prefs.email:
        return False
    return topic is None or bool(getattr(prefs, topic))


def _checked(before: Preferences, changes: dict[str, Any]) -> Preferences:
    unknown = set(changes) - {f.name for f in fields(Preferences)}
    if unknown:
        raise ValueError(f"unknown preference(s): {sorted(unknown)}")
    after = replace(before, **changes)
    phone = after.sms_phone
    if phone is not None:
        phone = re.sub(r"[\s().-]", "", phone)
        if not E164.match(phone):
            raise ServiceError.of(
                Code.INVALID_PHONE,
                "Give the phone number in international form, e.g. +13125550100.",
                "smsPhone",
            )
        after = replace(after, sms_phone=phone)
    if after.sms_opt_in and after.sms_phone is None:
        raise ServiceError.of(
            Code.REQUIRED, "Opting in to text messages needs a phone number.", "smsPhone"
        )
    return after


async def client_preferences(session: AsyncSession, client_id: uuid.UUID) -> Preferences:
    return Preferences.of(await session.get(ClientPreferences, client_id))


async def user_preferences(session: AsyncSession, user_id: uuid.UUID) -> Preferences:
    return Preferences.of(await session.get(UserPreferences, user_id))


async def set_client_preferences(
    session: AsyncSession, client_id: uuid.UUID, changes: dict[str, Any], actor: Viewer
) -> Preferences:
    """Change some of a company's choices; the rest stay. Audited."""
    return await _set(session, ClientPreferences, {"client_id": client_id}, changes, actor)


async def set_user_preferences(
    session: AsyncSession, user_id: uuid.UUID, changes: dict[str, Any], actor: Viewer
) -> Preferences:
    """Change some of a person's choices; the rest stay. Audited."""
    return await _set(session, UserPreferences, {"user_id": user_id}, changes, actor)


async def _set(
    session: AsyncSession,
    model: type[ClientPreferences] | type[UserPreferences],
    owner: dict[str, uuid.UUID],
    changes: dict[str, Any],
    actor: Viewer,
) -> Preferences:
    [key] = owner.values()
    row = await session.get(model, key, with_for_update=True)
    before = Preferences.of(row)
    after = _checked(before, changes)
    if row is None:
        row = model(**owner)
        session.add(row)
    for name, value in asdict(after).items():
        setattr(row, name, value)
    row.updated_by = actor.user_id
    old, new = asdict(before), asdict(after)
    changed = {k for k in new if old[k] != new[k]}
    if changed:
        session.add(
            PreferencesAudit(
                **owner,
                actor_id=actor.user_id,
                impersonator_id=actor.impersonator_id,
                before={k: old[k] for k in changed},
                after={k: new[k] for k in changed},
            )
        )
    await session.flush()
    return after


async def many_client_preferences(
    session: AsyncSession, client_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Preferences]:
    rows = await session.scalars(
        select(ClientPreferences).where(ClientPreferences.client_id.in_(client_ids))
    )
    return {r.client_id: Preferences.of(r) for r in rows}


async def many_user_preferences(
    session: AsyncSession, user_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Preferences]:
    rows = await session.scalars(
        select(UserPreferences).where(UserPreferences.user_id.in_(user_ids))
    )
    return {r.user_id: Preferences.of(r) for r in rows}


__all__ = [
    "DEFAULTS",
    "PREFERENCE_TOPICS",
    "Preferences",
    "allows",
    "client_preferences",
    "many_client_preferences",
    "many_user_preferences",
    "set_client_preferences",
    "set_user_preferences",
    "user_preferences",
]
