"""Vendor profile and lifecycle mutations."""

from __future__ import annotations

from decimal import Decimal

import strawberry
from strawberry.types import Info

from protocol.roles import Role
from subgraphs.kit.payloads import transact
from subgraphs.kit.permissions import allow
from subgraphs.vendors.enums import ContactKind, VendorStatus, VendorType
from subgraphs.vendors.mutations.common import parse_id
from subgraphs.vendors.mutations.payloads import VendorPayload
from subgraphs.vendors.service import vendors
from subgraphs.vendors.service.access import MANAGE, STAFF_EDIT
from subgraphs.vendors.types import Vendor


@strawberry.input
class ContactInput:
    kind: ContactKind
    name: str
    email: str | None = None
    phone: str | None = None


@strawberry.input
class VendorInput:
    business_name: str | None = None
    legal_name: str | None = None
    vendor_type: VendorType | None = None
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
    base_latitude: float | None = None
    base_longitude: float | None = None
    service_radius_miles: int | None = None
    service_states: list[str] | None = None
    payment_terms: str | None = None
    preferred: bool | None = None
    contacts: list[ContactInput] | None = None


def profile_from(data: VendorInput) -> vendors.VendorProfile:
    def coordinate(value: float | None) -> Decimal | None:
        return Decimal(str(value)).quantize(Decimal("0.000001")) if value is not None else None

    return vendors.VendorProfile(
        business_name=data.business_name,
        legal_name=data.legal_name,
        vendor_type=data.vendor_type.value if data.vendor_type else None,
        email=data.email,
        phone=data.phone,
        address_line=data.address_line,
        city=data.city,
        state=data.state.upper() if data.state else data.state,
        postal_code=data.postal_code,
        dot_number=data.dot_number,
        mc_number=data.mc_number,
        tax_id=data.tax_id,
        vehicle_count=data.vehicle_count,
        vehicle_types=data.vehicle_types,
        max_passenger_capacity=data.max_passenger_capacity,
        base_latitude=coordinate(data.base_latitude),
        base_longitude=coordinate(data.base_longitude),
        service_radius_miles=data.service_radius_miles,
        service_states=[s.upper() for s in data.service_states]
        if data.service_states
        else data.service_states,
        payment_terms=data.payment_terms,
        preferred=data.preferred,
        contacts=[
            {"kind": c.kind.value, "name": c.name, "email": c.email, "phone": c.phone}
            for c in data.contacts
        ]
        if data.contacts is not None
        else None,
    )


def _payload(row: object, errors: list) -> VendorPayload:  # type: ignore[type-arg]
    return VendorPayload(vendor=Vendor.from_row(row) if row else None, user_errors=errors)  # type: ignore[arg-type]


@strawberry.type
class VendorMutations:
    @strawberry.mutation(
        extensions=[allow(*STAFF_EDIT)], description="A new vendor starts pending."
    )
    async def create_vendor(self, info: Info, input: VendorInput) -> VendorPayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(info, lambda s: vendors.create(s, profile_from(input), viewer))
        return _payload(row, errors)

    @strawberry.mutation(extensions=[allow(*STAFF_EDIT, Role.VENDOR)])
    async def update_vendor(
        self, info: Info, id: strawberry.ID, input: VendorInput
    ) -> VendorPayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info, lambda s: vendors.update(s, parse_id(id, "id"), profile_from(input), viewer)
        )
        return _payload(row, errors)

    @strawberry.mutation(
        extensions=[allow(*MANAGE)],
        description="Approve (pending -> active), suspend, reactivate, deactivate, reject or ban.",
    )
    async def set_vendor_status(
        self, info: Info, id: strawberry.ID, status: VendorStatus, reason: str | None = None
    ) -> VendorPayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info,
            lambda s: vendors.set_status(
                s, parse_id(id, "id"), status.value, viewer, reason=reason
            ),
        )
        return _payload(row, errors)

    @strawberry.mutation(
        extensions=[allow(*MANAGE)], description="Link a vendor-role login to a vendor."
    )
    async def link_vendor_user(
        self, info: Info, vendor_id: strawberry.ID, user_id: strawberry.ID
    ) -> VendorPayload:
        viewer = await info.context.get_viewer()

        async def work(session):  # type: ignore[no-untyped-def]
            vendor_key = parse_id(vendor_id, "vendorId")
            await vendors.link_user(session, vendor_key, parse_id(user_id, "userId"), viewer)
            return await vendors.get(session, vendor_key)

        row, errors = await transact(info, work)
        return _payload(row, errors)
