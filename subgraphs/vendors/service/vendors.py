"""A vendor's profile and lifecycle (pending -> active <-> suspended ...).

Staff edit any field; a vendor user edits only its contact details and
service area (`access.VENDOR_SELF_SERVICE_FIELDS`): its legal name, tax id,
DOT and MC numbers, payment terms and the rest are regulated or commercial
facts that staff change (security review finding 8). A vendor user's
update naming any other field is refused as a whole, one `FORBIDDEN` user
error per field, and changes nothing.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.kit.outbox import emit
from subgraphs.vendors import states
from subgraphs.vendors.error_codes import VendorErrorCode as Code
from subgraphs.vendors.models import VENDOR_TYPES, Vendor, VendorContact, VendorUser, outbox
from subgraphs.vendors.service import audit
from subgraphs.vendors.service.access import (
    MANAGE,
    STAFF_EDIT,
    VENDOR_SELF_SERVICE_FIELDS,
    ensure_role,
    ensure_vendor_scope,
)
from subgraphs.vendors.service.charter_access import ServiceArea, announce_offers_of

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

#: Caps of the profile's lists (finding 11: every list the API returns is bounded).
MAX_CONTACTS = 20
MAX_VEHICLE_TYPES = 20
MAX_SERVICE_STATES = 60

_STATE = re.compile(r"^[A-Z]{2}$")
_DIGITS = re.compile(r"^[0-9]{1,12}$")


@dataclass
class VendorProfile:
    """Editable vendor fields; None means "leave as is" on update."""

    business_name: str | None = None
    legal_name: str | None = None
    vendor_type: str | None = None
    email: str | None = None
    phone: str | None = None
    address_line: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    dot_number: str | None = None
    mc_number: str | None = None
    tax_id: str | None = None
    vehicle_count: int | None = None
    vehicle_types: list[str] | None = None
    max_passenger_capacity: int | None = None
    base_latitude: Decimal | None = None
    base_longitude: Decimal | None = None
    service_radius_miles: int | None = None
    service_states: list[str] | None = None
    payment_terms: str | None = None
    preferred: bool | None = None
    contacts: list[dict[str, Any]] | None = field(default=None)


def profile_problems(p: VendorProfile, *, creating: bool) -> list[Problem]:
    problems: list[Problem] = []
    if creating and not (p.business_name or "").strip():
        problems.append(Problem(Code.REQUIRED, "Business name is required.", "businessName"))
    if p.business_name is not None and len(p.business_name) > 200:
        problems.append(Problem(Code.TOO_LONG, "Business name is longer than 200.", "businessName"))
    if creating and p.vendor_type is None:
        problems.append(Problem(Code.REQUIRED, "Vendor type is required.", "vendorType"))
    if p.vendor_type is not None and p.vendor_type not in VENDOR_TYPES:
        problems.append(
            Problem(Code.INVALID, f"Unknown vendor type {p.vendor_type!r}.", "vendorType")
        )
    if p.email:
        try:
            validate_email(p.email, check_deliverability=False)
        except EmailNotValidError as exc:
            problems.append(Problem(Code.INVALID, f"E-mail is not valid: {exc}", "email"))
    if p.state is not None and not _STATE.match(p.state):
        problems.append(Problem(Code.INVALID, "State is a two-letter code such as TX.", "state"))
    for name, value in (("dotNumber", p.dot_number), ("mcNumber", p.mc_number)):
        if value is not None and not _DIGITS.match(value):
            problems.append(Problem(Code.INVALID, "Use digits only.", name))
    for name, value, low, high in (
        ("vehicleCount", p.vehicle_count, 0, 10000),
        ("maxPassengerCapacity", p.max_passenger_capacity, 1, 200),
        ("serviceRadiusMiles", p.service_radius_miles, 1, 5000),
    ):
        if value is not None and not low <= value <= high:
            problems.append(Problem(Code.OUT_OF_RANGE, f"Must be between {low} and {high}.", name))
    if p.base_latitude is not None and not -90 <= p.base_latitude <= 90:
        problems.append(Problem(Code.OUT_OF_RANGE, "Latitude must be within ±90.", "baseLatitude"))
    if p.base_longitude is not None and not -180 <= p.base_longitude <= 180:
        problems.append(
            Problem(Code.OUT_OF_RANGE, "Longitude must be within ±180.", "baseLongitude")
        )
    for name, values, cap in (
        ("contacts", p.contacts, MAX_CONTACTS),
        ("vehicleTypes", p.vehicle_types, MAX_VEHICLE_TYPES),
        ("serviceStates", p.service_states, MAX_SERVICE_STATES),
    ):
        if values is not None and len(values) > cap:
            problems.append(Problem(Code.OUT_OF_RANGE, f"At most {cap} entries.", name))
    for state in p.service_states or []:
        if not _STATE.match(state):
            problems.append(
                Problem(Code.INVALID, f"{state!r} is not a state code.", "serviceStates")
            )
    return problems


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def staff_only_fields(profile: VendorProfile) -> list[str]:
    """The fields this update sets that a vendor user may not change."""
    return [
        f.name
        for f in fields(profile)
        if getattr(profile, f.name) is not None and f.name not in VENDOR_SELF_SERVICE_FIELDS
    ]


VENDOR_CHANGED = "vendors.vendor_changed"


async def announce_vendor(session: AsyncSession, vendor: Vendor) -> None:
    """`vendors.vendor_changed`: the facts others keep of a vendor (finance bills and syncs it).

    The whole set each time, so a consumer that missed one event is right after the next.
    """
    await emit(
        session,
        outbox,
        VENDOR_CHANGED,
        {
            "vendorId": str(vendor.id),
            "name": vendor.business_name,
            "status": vendor.status,
            "paymentTerms": vendor.payment_terms,
            "email": vendor.email,
            "address": {
                "line1": vendor.address_line,
                "city": vendor.city,
                "region": vendor.state,
                "postalCode": vendor.postal_code,
            },
        },
    )


async def get(
    session: AsyncSession, vendor_id: uuid.UUID, *, lock: bool = False, field: str = "vendorId"
) -> Vendor:
    """`field`: the caller's GraphQL argument naming the vendor (`id` or `vendorId`)."""
    stmt = select(Vendor).where(Vendor.id == vendor_id)
    if lock:
        stmt = stmt.with_for_update()
    vendor = await session.scalar(stmt)
    if vendor is None:
        raise ServiceError.of(Code.NOT_FOUND, f"Vendor {vendor_id} does not exist.", field)
    return vendor


def _apply(vendor: Vendor, profile: VendorProfile) -> None:
    for f in fields(profile):
        value = getattr(profile, f.name)
        if f.name != "contacts" and value is not None:
            setattr(vendor, f.name, value.strip() if isinstance(value, str) else value)


async def _replace_contacts(
    session: AsyncSession, vendor: Vendor, contacts: list[dict[str, Any]]
) -> None:
    existing = await session.scalars(
        select(VendorContact).where(VendorContact.vendor_id == vendor.id)
    )
    for row in existing:
        await session.delete(row)
    for contact in contacts:
        session.add(VendorContact(vendor_id=vendor.id, **contact))


async def create(session: AsyncSession, profile: VendorProfile, actor: Viewer) -> Vendor:
    ensure_role(actor, STAFF_EDIT, "create vendors")
    problems = profile_problems(profile, creating=True)
    if problems:
        raise ServiceError(problems)
    vendor = Vendor(id=uuid.uuid4(), status="pending", vehicle_types=[], service_states=[])
    _apply(vendor, profile)
    session.add(vendor)
    await session.flush()
    if profile.contacts:
        await _replace_contacts(session, vendor, profile.contacts)
    audit.record(
        session,
        vendor_id=vendor.id,
        entity="vendor",
        entity_id=vendor.id,
        action="create",
        actor=actor,
        before=None,
        after=audit.row_snapshot(vendor),
    )
    await announce_vendor(session, vendor)
    return vendor


async def update(
    session: AsyncSession, vendor_id: uuid.UUID, profile: VendorProfile, actor: Viewer
) -> Vendor:
    """Staff edit any vendor; a vendor user its own contact details and service area."""
    vendor = await get(session, vendor_id, lock=True, field="id")
    await ensure_vendor_scope(session, actor, vendor.id, staff_roles=STAFF_EDIT)
    if not actor.has_any_role(*STAFF_EDIT):
        staff_only = staff_only_fields(profile)
        if staff_only:
            raise ServiceError(
                [
                    Problem(
                        Code.FORBIDDEN,
                        f"Only staff change {_camel(name)}; ask your account manager.",
                        _camel(name),
                    )
                    for name in staff_only
                ]
            )
    problems = profile_problems(profile, creating=False)
    if problems:
        raise ServiceError(problems)
    before = audit.row_snapshot(vendor)
    area = ServiceArea.of(vendor)
    _apply(vendor, profile)
    if profile.contacts is not None:
        await _replace_contacts(session, vendor, profile.contacts)
    if ServiceArea.of(vendor) != area:
        await announce_offers_of(session, vendor.id, area)
    audit.record(
        session,
        vendor_id=vendor.id,
        entity="vendor",
        entity_id=vendor.id,
        action="update",
        actor=actor,
        before=before,
        after=audit.row_snapshot(vendor),
    )
    await announce_vendor(session, vendor)
    return vendor


async def set_status(
    session: AsyncSession,
    vendor_id: uuid.UUID,
    status: str,
    actor: Viewer | None,
    *,
    reason: str | None = None,
) -> Vendor:
    """Move along `states.VENDOR`; a person doing it must be a manager (approval).

    `actor` None is the daily compliance job (suspension on expired insurance).
    """
    if actor is not None:
        ensure_role(actor, MANAGE, "change a vendor's status")
    if reason is not None and len(reason) > 500:
        raise ServiceError.of(Code.TOO_LONG, "Reason is longer than 500 characters.", "reason")
    vendor = await get(session, vendor_id, lock=True, field="id")  # setVendorStatus(id:)
    states.VENDOR.check(vendor.status, status)
    before = audit.row_snapshot(vendor)
    area = ServiceArea.of(vendor)
    if status == "active" and vendor.status == "pending":
        vendor.approved_by = actor.user_id if actor else None
        vendor.approved_at = datetime.now(UTC)
    vendor.status = status
    vendor.status_reason = reason
    audit.record(
        session,
        vendor_id=vendor.id,
        entity="vendor",
        entity_id=vendor.id,
        action=f"status:{status}",
        actor=actor,
        before=before,
        after=audit.row_snapshot(vendor),
    )
    await emit(
        session,
        outbox,
        "vendors.vendor_status_changed",
        {"vendorId": str(vendor.id), "status": status, "previousStatus": before["status"]},
    )
    await announce_vendor(session, vendor)
    if ServiceArea.of(vendor) != area:  # offered only while active
        await announce_offers_of(session, vendor.id, area)
    return vendor


async def link_user(
    session: AsyncSession, vendor_id: uuid.UUID, user_id: uuid.UUID, actor: Viewer
) -> VendorUser:
    ensure_role(actor, MANAGE, "link users to vendors")
    vendor = await get(session, vendor_id)
    link = VendorUser(user_id=user_id, vendor_id=vendor.id)
    session.add(link)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise ServiceError.of(
            Code.CONFLICT, "This user is already linked to a vendor.", "userId"
        ) from exc
    audit.record(
        session,
        vendor_id=vendor.id,
        entity="vendor_user",
        entity_id=user_id,
        action="link_user",
        actor=actor,
        before=None,
        after={"user_id": str(user_id)},
    )
    return link


def masked_tax_id(tax_id: str | None) -> str | None:
    if not tax_id:
        return tax_id
    return "•" * max(len(tax_id) - 4, 0) + tax_id[-4:]
