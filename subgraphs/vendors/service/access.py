"""Who may see and change which vendor data, from the verified viewer only.

Staff see every vendor; a vendor user sees only the vendor it is linked to
(`vendor_users`), and nothing of any other vendor.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import select

from protocol.roles import STAFF_ROLES, Role
from subgraphs.kit.errors import ServiceError
from subgraphs.vendors.error_codes import VendorErrorCode as Code
from subgraphs.vendors.models import VendorUser

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

MANAGE = (Role.ADMIN, Role.MANAGER)
STAFF_EDIT = (Role.ADMIN, Role.MANAGER, Role.SALES_SUPPORT, Role.DISPATCHER)
SEE_TAX_ID = (Role.ADMIN, Role.ACCOUNTING)
STAFF = tuple(STAFF_ROLES)
#: Verifying (or rejecting) a certification is a manager's act (seed 000). A
#: certification these roles record is verified at once, by them; anyone
#: else's (a vendor user's, sales support's, dispatch's) waits for them.
VERIFY_CERTIFICATIONS = MANAGE
#: Who sees where a bid stands among the others (rank, lowest, difference):
#: staff only. For a vendor any relative position of an open bid is an oracle
#: of its competitors' amounts (security review finding 7).
SEE_BID_STANDING = STAFF
#: Who marks a submitted bid under review (both seeds): the staff who decide bids.
REVIEW_BIDS = STAFF_EDIT
#: Who writes the rated vendor's public reply to a rating: its own users only,
#: never staff on its behalf (the reply speaks for the vendor).
RESPOND_TO_RATINGS = (Role.VENDOR,)
#: Vendor fields (`VendorProfile` names) a vendor user may change on its own
#: vendor: contact details and service area. Everything else (legal and
#: business name, type, tax id, DOT and MC numbers, payment terms, fleet,
#: the preferred flag) is regulated or commercial and changes only by staff
#: with `STAFF_EDIT` (security review finding 8).
VENDOR_SELF_SERVICE_FIELDS = frozenset(
    {
        "email",
        "phone",
        "address_line",
        "city",
        "state",
        "postal_code",
        "contacts",
        "base_latitude",
        "base_longitude",
        "service_radius_miles",
        "service_states",
    }
)


#: Who reads the report figures of vendors (issue 16): the bid analytics and the
#: vendor performance table, cross-vendor figures for the staff who award bids and
#: dispatch the work. A vendor reads its own bid statistics (`Vendor.bidStatistics`)
#: and nothing of another vendor's.
READ_VENDOR_FIGURES = (Role.ADMIN, Role.MANAGER, Role.DISPATCHER)
READ_OWN_BID_STATISTICS = (*READ_VENDOR_FIGURES, Role.VENDOR)
#: Who reads what waits for approval (the admin dashboard): those who approve it.
READ_PENDING_APPROVALS = MANAGE


async def vendor_of(session: AsyncSession, viewer: Viewer) -> uuid.UUID | None:
    """The vendor a vendor-role viewer belongs to, if any."""
    if viewer.user_id is None or not viewer.has_any_role(Role.VENDOR):
        return None
    return await session.scalar(
        select(VendorUser.vendor_id).where(VendorUser.user_id == viewer.user_id)
    )


async def ensure_vendor_scope(
    session: AsyncSession,
    viewer: Viewer,
    vendor_id: uuid.UUID,
    *,
    staff_roles: tuple[Role, ...] = STAFF,
) -> None:
    """Staff with one of `staff_roles`, or the vendor itself; else FORBIDDEN."""
    if viewer.has_any_role(*staff_roles):
        return
    if await vendor_of(session, viewer) == vendor_id:
        return
    raise ServiceError.of(Code.FORBIDDEN, "You cannot act for this vendor.")


def ensure_role(viewer: Viewer, roles: tuple[Role, ...], action: str) -> None:
    if not viewer.has_any_role(*roles):
        raise ServiceError.of(Code.FORBIDDEN, f"Your role cannot {action}.")


#: Who reads the fields vendors adds to charters (issue 9, portals): staff, and a
#: vendor user (each sees its own vendor's entries only, see `types.may_see_vendor`).
#: Clients and drivers never see vendor identities, costs or compliance: FORBIDDEN.
CHARTER_FIELD_READERS: dict[str, tuple[Role, ...]] = {
    "Charter.bids": (*STAFF, Role.VENDOR),
    "Charter.vendorCompliance": (*STAFF, Role.VENDOR),
    "CharterVehicle.vendor": (*STAFF, Role.VENDOR),
    "CharterVehicle.vendorAssignment": (*STAFF, Role.VENDOR),
}
