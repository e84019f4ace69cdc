"""Promo codes: managed by managers, applied to charters by sales staff, never overspent.

Redemption is one conditional UPDATE in PostgreSQL:

    UPDATE promo_codes SET uses = uses + 1
    WHERE id = :id AND active AND (max_uses IS NULL OR uses < max_uses)
      AND <valid today> RETURNING id

so of any number of concurrent redemptions of a code with N uses left,
exactly N see a row come back; the rest get a user error saying why (read
after the update failed). A check constraint (`uses <= max_uses`) holds
the same line if anything else ever writes the column. The redemption row
(the usage log) is written in the same transaction; one code per charter
and, for once-per-client codes, one redemption per client are unique
indexes, and a violation rolls the use back with it.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.pricing.engine.inputs import Promo
from subgraphs.pricing.error_codes import PricingErrorCode as Code
from subgraphs.pricing.models import DISCOUNT_TYPES, CharterFact, PromoCode, PromoRedemption
from subgraphs.pricing.service import facts
from subgraphs.pricing.service.access import ensure_may_price
from subgraphs.pricing.service.rules import TRIP_TYPES, _known_vehicle_types, ensure_editor

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,49}$")
#: Charter statuses whose quote may still change (a code applied or removed).
OPEN_STATUSES = frozenset({"quote"})


@dataclass
class PromoInput:
    code: str | None = None
    description: str | None = None
    discount_type: str | None = None
    value: Decimal | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    max_uses: int | None = None
    once_per_client: bool | None = None
    minimum_amount: Decimal | None = None
    vehicle_type_ids: list[uuid.UUID] | None = None
    trip_types: list[str] | None = None


async def _problems(session: AsyncSession, values: dict[str, Any]) -> list[Problem]:
    problems = []
    if not CODE.match(values.get("code") or ""):
        problems.append(Problem(Code.INVALID, "A code is 3 to 50 letters, digits, - or _.", "code"))
    kind, value = values.get("discount_type"), values.get("value")
    if kind not in DISCOUNT_TYPES:
        problems.append(Problem(Code.INVALID, f"Unknown discount type {kind!r}.", "discountType"))
    if value is None or value <= 0:
        problems.append(Problem(Code.OUT_OF_RANGE, "A discount is above zero.", "value"))
    elif kind == "percentage" and value > 100:
        problems.append(Problem(Code.OUT_OF_RANGE, "A percentage is at most 100.", "value"))
    a, b = values.get("valid_from"), values.get("valid_until")
    if a is not None and b is not None and a > b:
        problems.append(Problem(Code.INVALID, "The code expires before it starts.", "validUntil"))
    if values.get("max_uses") is not None and values["max_uses"] < 1:
        problems.append(Problem(Code.OUT_OF_RANGE, "At least one use.", "maxUses"))
    if values.get("minimum_amount") is not None and values["minimum_amount"] < 0:
        problems.append(
            Problem(Code.OUT_OF_RANGE, "A minimum cannot be negative.", "minimumAmount")
        )
    unknown = sorted(set(values.get("trip_types") or []) - set(TRIP_TYPES))
    if unknown:
        problems.append(Problem(Code.INVALID, f"Unknown trip types {unknown}.", "tripTypes"))
    problems += await _known_vehicle_types(
        session, values.get("vehicle_type_ids") or [], "vehicleTypeIds"
    )
    return problems


def _values(given: PromoInput) -> dict[str, Any]:
    values = {f.name: getattr(given, f.name) for f in fields(given)}
    values = {k: v for k, v in values.items() if v is not None}
    if "code" in values:
        values["code"] = values["code"].strip().upper()
    return values


async def create(session: AsyncSession, given: PromoInput, actor: Viewer) -> PromoCode:
    ensure_editor(actor)
    values = {"once_per_client": False, **_values(given)}
    problems = await _problems(session, values)
    if problems:
        raise ServiceError(problems)
    promo = PromoCode(id=uuid.uuid4(), uses=0, active=True, created_by=actor.user_id, **values)
    session.add(promo)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise ServiceError.of(Code.CONFLICT, f"Code {values['code']} exists.", "code") from None
    return promo


async def get(session: AsyncSession, promo_id: uuid.UUID, *, lock: bool = False) -> PromoCode:
    stmt = select(PromoCode).where(PromoCode.id == promo_id)
    promo = await session.scalar(stmt.with_for_update() if lock else stmt)
    if promo is None:
        raise ServiceError.of(Code.NOT_FOUND, f"Promo code {promo_id} does not exist.", "id")
    return promo


async def update_code(
    session: AsyncSession, promo_id: uuid.UUID, given: PromoInput, actor: Viewer
) -> PromoCode:
    ensure_editor(actor)
    promo = await get(session, promo_id, lock=True)
    changes = _values(given)
    if "code" in changes and changes["code"] != promo.code:
        raise ServiceError.of(
            Code.INVALID, "A code's text is what clients were given: create a new code.", "code"
        )
    values = {f.name: getattr(promo, f.name) for f in fields(PromoInput)} | changes
    problems = await _problems(session, values)
    if values.get("max_uses") is not None and values["max_uses"] < promo.uses:
        problems.append(Problem(Code.OUT_OF_RANGE, f"Already used {promo.uses} times.", "maxUses"))
    if problems:
        raise ServiceError(problems)
    for key, value in changes.items():
        setattr(promo, key, value)
    await session.flush()
    return promo


async def set_active(
    session: AsyncSession, promo_id: uuid.UUID, active: bool, actor: Viewer
) -> PromoCode:
    ensure_editor(actor)
    promo = await get(session, promo_id, lock=True)
    promo.active = active
    await session.flush()
    return promo


async def _why_not(session: AsyncSession, code: str, today: date) -> Problem:
    promo = await session.scalar(select(PromoCode).where(PromoCode.code == code))
    if promo is None:
        return Problem(Code.PROMO_UNKNOWN, f"There is no code {code}.", "code")
    if not promo.active:
        return Problem(Code.PROMO_INACTIVE, f"Code {code} is no longer active.", "code")
    if promo.valid_from is not None and today < promo.valid_from:
        return Problem(
            Code.PROMO_NOT_YET_VALID, f"Code {code} is valid from {promo.valid_from}.", "code"
        )
    if promo.valid_until is not None and today > promo.valid_until:
        return Problem(Code.PROMO_EXPIRED, f"Code {code} expired on {promo.valid_until}.", "code")
    return Problem(
        Code.PROMO_USED_UP, f"Code {code} has been used {promo.uses} times, its limit.", "code"
    )


def _eligibility(promo: PromoCode, charter: CharterFact) -> Problem | None:
    if promo.trip_types and charter.trip_type not in promo.trip_types:
        return Problem(
            Code.PROMO_INELIGIBLE, f"Code {promo.code} is not for this trip type.", "code"
        )
    if promo.vehicle_type_ids and not set(promo.vehicle_type_ids) & set(
        charter.vehicle_type_ids or []
    ):
        return Problem(
            Code.PROMO_INELIGIBLE, f"Code {promo.code} is not for these vehicle types.", "code"
        )
    return None


async def apply(
    session: AsyncSession, charter_id: uuid.UUID, code: str, actor: Viewer, today: date
) -> PromoRedemption:
    """Redeem `code` on a charter still being quoted; one use, exactly, or a user error."""
    charter = await facts.charter(session, charter_id)
    ensure_may_price(actor, charter.sales_agent_id)
    if charter.status not in OPEN_STATUSES:
        raise ServiceError.of(Code.QUOTE_CLOSED, "The charter is no longer a quote.", "charterId")
    code = code.strip().upper()
    held = await session.scalar(
        select(PromoRedemption.id).where(PromoRedemption.charter_id == charter_id)
    )
    if held is not None:
        raise ServiceError.of(
            Code.PROMO_ALREADY_APPLIED, "The charter has a code: remove it first.", "code"
        )
    promo = await session.scalar(select(PromoCode).where(PromoCode.code == code))
    if promo is not None:
        ineligible = _eligibility(promo, charter)
        if ineligible is not None:
            raise ServiceError(ineligible)
    used = await session.scalar(
        update(PromoCode)
        .where(
            PromoCode.code == code,
            PromoCode.active,
            or_(PromoCode.max_uses.is_(None), PromoCode.uses < PromoCode.max_uses),
            or_(PromoCode.valid_from.is_(None), PromoCode.valid_from <= today),
            or_(PromoCode.valid_until.is_(None), PromoCode.valid_until >= today),
        )
        .values(uses=PromoCode.uses + 1)
        .returning(PromoCode.id)
    )
    if used is None or promo is None:
        raise ServiceError(await _why_not(session, code, today))
    once = promo.once_per_client  # read now: a failed flush expires the instance
    redemption = PromoRedemption(
        id=uuid.uuid4(),
        promo_code_id=promo.id,
        charter_id=charter_id,
        client_id=charter.client_id,
        once_per_client=once,
        actor_id=actor.user_id,
    )
    session.add(redemption)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        # The caller's transaction rolls back, taking the use with it.
        if once:
            raise ServiceError.of(
                Code.PROMO_ALREADY_USED_BY_CLIENT,
                f"Code {code} can be used once per client.",
                "code",
            ) from None
        raise ServiceError.of(
            Code.PROMO_ALREADY_APPLIED, "The charter has a code: remove it first.", "code"
        ) from None
    return redemption


async def remove(session: AsyncSession, charter_id: uuid.UUID, actor: Viewer) -> bool:
    """Take the code off a charter still being quoted, giving its use back."""
    charter = await facts.charter(session, charter_id)
    ensure_may_price(actor, charter.sales_agent_id)
    if charter.status not in OPEN_STATUSES:
        raise ServiceError.of(Code.QUOTE_CLOSED, "The charter is no longer a quote.", "charterId")
    redemption = await session.scalar(
        delete(PromoRedemption)
        .where(PromoRedemption.charter_id == charter_id)
        .returning(PromoRedemption.promo_code_id)
    )
    if redemption is None:
        return False
    await session.execute(
        update(PromoCode)
        .where(and_(PromoCode.id == redemption, PromoCode.uses > 0))
        .values(uses=PromoCode.uses - 1)
    )
    return True


def to_engine(promo: PromoCode) -> Promo:
    return Promo(
        code=promo.code,
        discount_type=promo.discount_type,
        value=promo.value,
        minimum_amount=promo.minimum_amount,
        vehicle_types=frozenset(promo.vehicle_type_ids or ()),
        trip_types=frozenset(promo.trip_types or ()),
        valid_from=None,  # validity was checked when the code was redeemed
        valid_until=None,
    )
