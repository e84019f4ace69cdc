"""Vendors' GraphQL types: thin views; relations via loaders; portal scope here.

A vendor user sees its own vendor only: every path to a Vendor (queries,
entity references, CharterVehicle.vendor) goes through `may_see_vendor`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.federation.schema_directives import Key
from strawberry.scalars import JSON
from strawberry.types import Info

from protocol.roles import Role
from subgraphs.kit.errors import BadUserInputError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.pages_by_parent import PageKey
from subgraphs.kit.pagination import Connection
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money
from subgraphs.vendors import loaders as L
from subgraphs.vendors import models
from subgraphs.vendors.enums import (
    AssignmentStatus,
    BidStatus,
    CertificationStatus,
    CertificationType,
    ContactKind,
    OnboardingStatus,
    VendorStatus,
    VendorType,
)
from subgraphs.vendors.service import bids as bid_rules
from subgraphs.vendors.service.access import (
    CHARTER_FIELD_READERS,
    READ_OWN_BID_STATISTICS,
    SEE_BID_STANDING,
    SEE_TAX_ID,
    STAFF,
)
from subgraphs.vendors.service.certifications import compliance_of, days_until
from subgraphs.vendors.service.vendors import MAX_CONTACTS, masked_tax_id

if TYPE_CHECKING:
    from subgraphs.vendors.types_reports import VendorBidStatistics

#: Caps of the list fields that are not connections (finding 11: no unbounded lists).
MAX_CERTIFICATIONS = 100
MAX_CHARTER_BIDS = 100


def gid(value: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(str(value))


def today() -> date:
    return datetime.now(UTC).date()


async def may_see_vendor(info: Info, vendor_id: uuid.UUID) -> bool:
    viewer = await info.context.get_viewer()
    if viewer.is_staff:
        return True
    if viewer.user_id is not None and viewer.has_any_role(Role.VENDOR):
        own = await info.context.loaders.get(L.VendorIdOfUserLoader).load(viewer.user_id)
        return own == vendor_id
    return False


@strawberry.federation.type(keys=[Key(fields="id", resolvable=False)])
class User:
    id: strawberry.ID


@strawberry.type
class Document:
    id: strawberry.ID
    filename: str
    content_type: str
    size_bytes: int
    sha256: str = strawberry.field(description="Hex SHA-256 of the stored bytes.")
    uploaded_at: datetime

    @strawberry.field(
        description="GET it from the vendors subgraph with your bearer token (staff or the owning vendor)."
    )
    def download_path(self) -> str:
        return f"/documents/{self.id}"

    @classmethod
    def from_row(cls, row: models.Document) -> Document:
        return cls(
            id=gid(row.id),
            filename=row.filename,
            content_type=row.content_type,
            size_bytes=row.size_bytes,
            sha256=row.sha256,
            uploaded_at=row.uploaded_at,
        )


@strawberry.type
class Certification:
    id: strawberry.ID
    type: CertificationType
    number: str
    issued_on: date
    expires_on: date
    status: CertificationStatus
    verified_at: datetime | None = strawberry.field(
        description="When a manager verified it; null while PENDING_VERIFICATION."
    )
    rejected_at: datetime | None
    rejection_reason: str | None = strawberry.field(
        description="Why a manager rejected it (REJECTED only)."
    )
    notes: str | None
    _row: strawberry.Private[Any]

    @strawberry.field(description="Negative once expired.")
    def days_until_expiration(self) -> int:
        return days_until(self.expires_on, today())

    @strawberry.field(description="The manager who verified it.")
    def verified_by(self) -> User | None:
        return User(id=gid(self._row.verified_by)) if self._row.verified_by else None

    @strawberry.field(description="The manager who rejected it.")
    def rejected_by(self) -> User | None:
        return User(id=gid(self._row.rejected_by)) if self._row.rejected_by else None

    @strawberry.field
    async def document(self, info: Info) -> Document | None:
        if self._row.document_id is None:
            return None
        row = await info.context.loaders.get(L.DocumentByIdLoader).load(self._row.document_id)
        return Document.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: models.Certification) -> Certification:
        return cls(
            id=gid(row.id),
            type=CertificationType(row.cert_type),
            number=row.number,
            issued_on=row.issued_on,
            expires_on=row.expires_on,
            status=CertificationStatus(row.status),
            verified_at=row.verified_at,
            rejected_at=row.rejected_at,
            rejection_reason=row.rejection_reason,
            notes=row.notes,
            _row=row,
        )


@strawberry.type
class Contact:
    kind: ContactKind
    name: str
    email: str | None
    phone: str | None


@strawberry.type
class Fleet:
    vehicle_count: int
    vehicle_types: list[str]
    max_passenger_capacity: int | None


@strawberry.type
class ServiceArea:
    base_latitude: float | None
    base_longitude: float | None
    radius_miles: int | None
    states: list[str]


@strawberry.type
class Compliance:
    is_compliant: bool
    missing: list[CertificationType] = strawberry.field(
        description="Required types without a verified, unexpired certification."
    )
    awaiting_verification: list[CertificationType] = strawberry.field(
        description="Of `missing`, those with a certification waiting for a manager's check."
    )


@strawberry.type(description="Exact averages (two places) of the six categories, 1 to 5.")
class RatingAverages:
    overall: Decimal | None
    vehicle_condition: Decimal | None
    driver_professionalism: Decimal | None
    on_time: Decimal | None
    communication: Decimal | None
    value: Decimal | None


@strawberry.type
class RatingSummary:
    count: int
    averages: RatingAverages


@strawberry.type(description="A rating of a vendor for one completed charter.")
class Rating:
    id: strawberry.ID
    charter_id: strawberry.ID
    overall: Decimal
    vehicle_condition: Decimal
    driver_professionalism: Decimal
    on_time: Decimal
    communication: Decimal
    value: Decimal
    comment: str | None
    response: str | None
    responded_at: datetime | None
    created_at: datetime
    _row: strawberry.Private[Any]

    @strawberry.field
    def rated_by(self) -> User:
        return User(id=gid(self._row.rated_by))

    @classmethod
    def from_row(cls, row: models.Rating) -> Rating:
        return cls(
            id=gid(row.id),
            charter_id=gid(row.charter_id),
            overall=row.overall,
            vehicle_condition=row.vehicle_condition,
            driver_professionalism=row.driver_professionalism,
            on_time=row.on_time,
            communication=row.communication,
            value=row.value,
            comment=row.comment,
            response=row.response,
            responded_at=row.responded_at,
            created_at=row.created_at,
            _row=row,
        )


@strawberry.type(description="One change to a vendor or its compliance: who, when, before, after.")
class VendorAuditEntry:
    id: strawberry.ID
    entity: str
    entity_id: strawberry.ID
    action: str
    at: datetime
    before: JSON | None
    after: JSON | None
    _actor_id: strawberry.Private[uuid.UUID | None]
    _impersonator_id: strawberry.Private[uuid.UUID | None]

    @strawberry.field(description="Who did it (from their token); null for the daily job.")
    def actor(self) -> User | None:
        return User(id=gid(self._actor_id)) if self._actor_id else None

    @strawberry.field(
        description="The staff member who acted as `actor` (impersonation), if any: the real person."
    )
    def impersonator(self) -> User | None:
        return User(id=gid(self._impersonator_id)) if self._impersonator_id else None

    @classmethod
    def from_row(cls, row: models.VendorAudit) -> VendorAuditEntry:
        return cls(
            id=gid(row.id),
            entity=row.entity,
            entity_id=gid(row.entity_id),
            action=row.action,
            at=row.at,
            before=row.before,
            after=row.after,
            _actor_id=row.actor_id,
            _impersonator_id=row.impersonator_id,
        )


@strawberry.type(description="An external onboarding form, received through the webhook.")
class OnboardingSubmission:
    id: strawberry.ID
    submission_id: str
    status: OnboardingStatus
    business_name: str | None
    email: str | None
    payload: JSON
    received_at: datetime
    _vendor_id: strawberry.Private[uuid.UUID | None]

    @strawberry.field(description="The vendor created on approval.")
    async def vendor(self, info: Info) -> Vendor | None:
        return await vendor_or_none(info, self._vendor_id)

    @classmethod
    def from_row(cls, row: models.OnboardingSubmission) -> OnboardingSubmission:
        return cls(
            id=gid(row.id),
            submission_id=row.submission_id,
            status=OnboardingStatus(row.status),
            business_name=row.payload.get("businessName"),
            email=row.payload.get("email"),
            payload=row.payload,
            received_at=row.received_at,
            _vendor_id=row.vendor_id,
        )


@strawberry.federation.type(keys=["id"], description="An affiliate operator.")
class Vendor:
    id: strawberry.ID
    name: str = strawberry.field(description="The business name.")
    legal_name: str | None
    vendor_type: VendorType
    status: VendorStatus
    email: str | None
    phone: str | None
    address_line: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    dot_number: str | None
    mc_number: str | None
    payment_terms: str | None
    preferred: bool
    approved_at: datetime | None
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: models.Vendor) -> Vendor:
        return cls(
            id=gid(row.id),
            name=row.business_name,
            legal_name=row.legal_name,
            vendor_type=VendorType(row.vendor_type),
            status=VendorStatus(row.status),
            email=row.email,
            phone=row.phone,
            address_line=row.address_line,
            city=row.city,
            state=row.state,
            postal_code=row.postal_code,
            dot_number=row.dot_number,
            mc_number=row.mc_number,
            payment_terms=row.payment_terms,
            preferred=row.preferred,
            approved_at=row.approved_at,
            _row=row,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Vendor | None:
        key = parse_uuid(id)
        return await vendor_or_none(info, key)

    @strawberry.field(description="Whole for admins and accounting; masked for others.")
    async def tax_id(self, info: Info) -> str | None:
        viewer = await info.context.get_viewer()
        if viewer.has_any_role(*SEE_TAX_ID):
            return self._row.tax_id  # type: ignore[no-any-return]
        return masked_tax_id(self._row.tax_id)

    @strawberry.field
    def fleet(self) -> Fleet:
        row = self._row
        return Fleet(
            vehicle_count=row.vehicle_count,
            vehicle_types=list(row.vehicle_types or []),
            max_passenger_capacity=row.max_passenger_capacity,
        )

    @strawberry.field
    def service_area(self) -> ServiceArea:
        row = self._row
        return ServiceArea(
            base_latitude=float(row.base_latitude) if row.base_latitude is not None else None,
            base_longitude=float(row.base_longitude) if row.base_longitude is not None else None,
            radius_miles=row.service_radius_miles,
            states=list(row.service_states or []),
        )

    @strawberry.field(description=f"At most {MAX_CONTACTS} (a vendor's input is capped).")
    async def contacts(self, info: Info) -> list[Contact]:
        rows = await info.context.loaders.get(L.ContactsByVendorIdLoader).load(self._row.id)
        return [
            Contact(kind=ContactKind(r.kind), name=r.name, email=r.email, phone=r.phone)
            for r in rows[:MAX_CONTACTS]
        ]

    @strawberry.field(
        description=f"The `first` certifications expiring last (at most {MAX_CERTIFICATIONS}), "
        "ordered by type, then expiry."
    )
    async def certifications(
        self, info: Info, first: int = MAX_CERTIFICATIONS
    ) -> list[Certification]:
        if not 0 <= first <= MAX_CERTIFICATIONS:
            raise BadUserInputError(f"`first` must be between 0 and {MAX_CERTIFICATIONS}.")
        # The same loader as `compliance` (one statement for both); a vendor holds tens.
        rows = await info.context.loaders.get(L.CertificationsByVendorIdLoader).load(self._row.id)
        latest = {
            r.id for r in sorted(rows, key=lambda r: (r.expires_on, r.id), reverse=True)[:first]
        }
        return [Certification.from_row(r) for r in rows if r.id in latest]

    @strawberry.field(description="Uploaded compliance documents, newest first.")
    async def documents(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[Document]:
        loader = info.context.loaders.get(L.DocumentsPageByVendorIdLoader)
        page = await loader.load(PageKey.of(self._row.id, first, after))
        return page.connection(Document.from_row)

    @strawberry.field(description="Holds every required certification, verified and unexpired.")
    async def compliance(self, info: Info) -> Compliance:
        rows = await info.context.loaders.get(L.CertificationsByVendorIdLoader).load(self._row.id)
        result = compliance_of(rows, info.context.settings.required_certifications, today())
        return Compliance(
            is_compliant=result.is_compliant,
            missing=[CertificationType(m) for m in result.missing],
            awaiting_verification=[CertificationType(m) for m in result.awaiting_verification],
        )

    @strawberry.field(description="How many ratings and their exact averages.")
    async def rating_summary(self, info: Info) -> RatingSummary:
        summary = await info.context.loaders.get(L.RatingSummaryByVendorIdLoader).load(self._row.id)
        return RatingSummary(
            count=summary.count,
            averages=RatingAverages(**summary.averages),
        )

    @strawberry.field(description="Ratings, newest first.")
    async def ratings(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[Rating]:
        loader = info.context.loaders.get(L.RatingsPageByVendorIdLoader)
        page = await loader.load(PageKey.of(self._row.id, first, after))
        return page.connection(Rating.from_row)

    @strawberry.field(
        extensions=[allow(*READ_OWN_BID_STATISTICS)],
        description="This vendor's bids submitted in [from, to) (default: the 90 days to "
        "now): won, lost, win rate, distance from the lowest. Staff who award bids, and the "
        "vendor's own users.",
    )
    async def bid_statistics(
        self,
        info: Info,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> Annotated[VendorBidStatistics, strawberry.lazy("subgraphs.vendors.types_reports")] | None:
        # Imported here: types_reports builds on this module's Vendor.
        from subgraphs.vendors.types_reports import bid_statistics_of

        return await bid_statistics_of(info, self._row.id, from_, to)

    @strawberry.field(
        extensions=[allow(*STAFF)],
        description="Staff only: changes to this vendor, newest first.",
    )
    async def audit_log(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[VendorAuditEntry]:
        loader = info.context.loaders.get(L.AuditPageByVendorIdLoader)
        page = await loader.load(PageKey.of(self._row.id, first, after))
        return page.connection(VendorAuditEntry.from_row)


async def vendor_or_none(info: Info, vendor_id: uuid.UUID | None) -> Vendor | None:
    """The vendor if it exists and the viewer may see it; never another vendor's data."""
    if vendor_id is None or not await may_see_vendor(info, vendor_id):
        return None
    row = await info.context.loaders.get(L.VendorByIdLoader).load(vendor_id)
    return Vendor.from_row(row) if row else None


@strawberry.type
class VendorAssignment:
    id: strawberry.ID
    charter_vehicle_id: strawberry.ID
    charter_id: strawberry.ID
    amount: Money
    status: AssignmentStatus
    decline_reason: str | None
    created_at: datetime
    _vendor_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def vendor(self, info: Info) -> Vendor | None:
        return await vendor_or_none(info, self._vendor_id)

    @strawberry.field(
        description="The charter served (null, with an error, if you may not read it)."
    )
    def charter(self) -> Charter | None:
        return Charter(id=self.charter_id)

    @strawberry.field(description="The charter vehicle served.")
    def charter_vehicle(self) -> CharterVehicle | None:
        return CharterVehicle(id=self.charter_vehicle_id)

    @classmethod
    def from_row(cls, row: models.VendorAssignment) -> VendorAssignment:
        return cls(
            id=gid(row.id),
            charter_vehicle_id=gid(row.charter_vehicle_id),
            charter_id=gid(row.charter_id),
            amount=Money(row.amount),
            status=AssignmentStatus(row.status),
            decline_reason=row.decline_reason,
            created_at=row.created_at,
            _vendor_id=row.vendor_id,
        )


@strawberry.type(
    description="A vendor's offer for a charter or one of its vehicles. Ranked among the "
    "charter's submitted and accepted bids: rank 1 is the lowest amount, ties by earliest "
    "submission. The standing (rank, lowest, difference) is for staff only: null for vendors, "
    "since any relative position would reveal competitors' amounts."
)
class Bid:
    id: strawberry.ID
    charter_id: strawberry.ID
    charter_vehicle_id: strawberry.ID | None = strawberry.field(
        description="Null when the bid is for the whole charter."
    )
    amount: Money
    vehicle_type: str
    vehicle_count: int
    valid_until: datetime
    notes: str | None
    status: BidStatus = strawberry.field(
        description="A submitted bid past `validUntil` reads as EXPIRED."
    )
    submitted_at: datetime | None
    decided_at: datetime | None
    decision_reason: str | None
    created_at: datetime
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: models.Bid) -> Bid:
        return cls(
            id=gid(row.id),
            charter_id=gid(row.charter_id),
            charter_vehicle_id=gid(row.charter_vehicle_id) if row.charter_vehicle_id else None,
            amount=Money(row.amount),
            vehicle_type=row.vehicle_type,
            vehicle_count=row.vehicle_count,
            valid_until=row.valid_until,
            notes=row.notes,
            status=BidStatus(bid_rules.effective_status(row, datetime.now(UTC))),
            submitted_at=row.submitted_at,
            decided_at=row.decided_at,
            decision_reason=row.decision_reason,
            created_at=row.created_at,
            _row=row,
        )

    @strawberry.field
    async def vendor(self, info: Info) -> Vendor | None:
        return await vendor_or_none(info, self._row.vendor_id)

    @strawberry.field(description="Null, with an error, if you may no longer read the charter.")
    def charter(self) -> Charter | None:
        return Charter(id=self.charter_id)

    @strawberry.field
    def charter_vehicle(self) -> CharterVehicle | None:
        return CharterVehicle(id=self.charter_vehicle_id) if self.charter_vehicle_id else None

    @strawberry.field(
        description="Staff only (null for vendors). 1 = lowest; null unless submitted "
        "(and valid) or accepted."
    )
    async def rank(self, info: Info) -> int | None:
        ranking = await self._ranking(info)
        return ranking.rank if ranking else None

    @strawberry.field(
        description="Staff only (null for vendors): at the lowest amount among the charter's "
        "ranked bids."
    )
    async def is_lowest(self, info: Info) -> bool | None:
        ranking = await self._ranking(info)
        return ranking.is_lowest if ranking else None

    @strawberry.field(description="Staff only (null for vendors): the amount above the lowest.")
    async def difference_from_lowest(self, info: Info) -> Money | None:
        ranking = await self._ranking(info)
        return Money(ranking.difference_from_lowest) if ranking else None

    async def _ranking(self, info: Info) -> bid_rules.Ranking | None:
        """The bid's standing among the charter's bids; None for anyone but staff."""
        viewer = await info.context.get_viewer()
        if not viewer.has_any_role(*SEE_BID_STANDING):
            return None
        rows = await info.context.loaders.get(L.BidsByCharterIdLoader).load(self._row.charter_id)
        return bid_rules.rank_bids(rows, datetime.now(UTC)).get(self._row.id)


@strawberry.type(
    description="A charter far from the operator's hub and inside your service radius, "
    "open to your bid (great-circle miles)."
)
class BidOpportunity:
    charter: Charter
    reference: str
    status: str
    pickup_at: datetime
    pickup_address: str | None
    passenger_count: int
    miles_from_hub: float
    miles_from_base: float

    @strawberry.field(description="The charter's vehicles, to bid on one of them.")
    async def vehicles(self, info: Info) -> list[CharterVehicle]:
        loader = info.context.loaders.get(L.CharterVehicleFactsByCharterIdLoader)
        rows = await loader.load(parse_uuid(self.charter.id))
        return [CharterVehicle(id=gid(r.charter_vehicle_id)) for r in rows]


async def bids_seen_by(info: Info, rows: list[models.Bid]) -> list[models.Bid]:
    """Staff see every bid; a vendor user only its own vendor's; anyone else none."""
    viewer = await info.context.get_viewer()
    if viewer.is_staff:
        return rows
    if viewer.user_id is None or not viewer.has_any_role(Role.VENDOR):
        return []
    own = await info.context.loaders.get(L.VendorIdOfUserLoader).load(viewer.user_id)
    return [r for r in rows if own is not None and r.vendor_id == own]


@strawberry.federation.type(keys=["id"])
class CharterVehicle:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> CharterVehicle:
        return cls(id=id)

    @strawberry.field(
        extensions=[allow(*CHARTER_FIELD_READERS["CharterVehicle.vendor"])],
        description="The vendor currently assigned, if any (and visible to you).",
    )
    async def vendor(self, info: Info) -> Vendor | None:
        assignment = await self._assignment(info)
        return await vendor_or_none(info, assignment.vendor_id) if assignment else None

    @strawberry.field(extensions=[allow(*CHARTER_FIELD_READERS["CharterVehicle.vendorAssignment"])])
    async def vendor_assignment(self, info: Info) -> VendorAssignment | None:
        assignment = await self._assignment(info)
        if assignment is None or not await may_see_vendor(info, assignment.vendor_id):
            return None
        return VendorAssignment.from_row(assignment)

    async def _assignment(self, info: Info) -> models.VendorAssignment | None:
        key = parse_uuid(self.id)
        if key is None:
            return None
        loader = info.context.loaders.get(L.HoldingAssignmentByCharterVehicleIdLoader)
        return await loader.load(key)  # type: ignore[no-any-return]


@strawberry.type
class VendorComplianceEntry:
    vendor: Vendor | None
    is_compliant: bool
    missing: list[CertificationType]


@strawberry.type
class CharterVendorCompliance:
    all_vendors_compliant: bool | None = strawberry.field(
        description="True when every vendor assigned to the charter's vehicles is compliant"
        " (for a vendor user: every one of its own entries); null when no vendor is assigned,"
        ' so that "no vendors" never reads as compliant.'
    )
    assigned_vendor_count: int = strawberry.field(
        description="How many distinct vendors hold the charter's vehicles (that you may see)."
    )
    vendors: list[VendorComplianceEntry] = strawberry.field(
        description="One entry per assigned vendor: bounded by the charter's vehicles."
    )


@strawberry.federation.type(keys=["id"])
class Charter:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Charter:
        return cls(id=id)

    @strawberry.field(
        extensions=[allow(*CHARTER_FIELD_READERS["Charter.bids"])],
        description="Bids on this charter: staff see all, best rank first; a vendor only its "
        f"own, newest first. The first `first` (at most {MAX_CHARTER_BIDS}).",
    )
    async def bids(self, info: Info, first: int = 50) -> list[Bid] | None:
        if not 0 <= first <= MAX_CHARTER_BIDS:
            raise BadUserInputError(f"`first` must be between 0 and {MAX_CHARTER_BIDS}.")
        key = parse_uuid(self.id)
        if key is None:
            return []
        rows = await info.context.loaders.get(L.BidsByCharterIdLoader).load(key)
        visible = await bids_seen_by(info, rows)
        viewer = await info.context.get_viewer()
        if viewer.has_any_role(*SEE_BID_STANDING):
            ranking = bid_rules.rank_bids(rows, datetime.now(UTC))
            unranked = len(rows) + 1
            ordered = sorted(
                visible,
                key=lambda r: (ranking[r.id].rank if r.id in ranking else unranked, r.created_at),
            )
        else:  # no order that hints at the standing
            ordered = sorted(visible, key=lambda r: (r.created_at, str(r.id)), reverse=True)
        return [Bid.from_row(r) for r in ordered[:first]]

    @strawberry.field(
        extensions=[allow(*CHARTER_FIELD_READERS["Charter.vendorCompliance"])],
        description="Compliance of the vendors assigned to this charter's vehicles.",
    )
    async def vendor_compliance(self, info: Info) -> CharterVendorCompliance | None:
        key = parse_uuid(self.id)
        assignments = (
            await info.context.loaders.get(L.HoldingAssignmentsByCharterIdLoader).load(key)
            if key
            else []
        )
        vendor_ids = list(dict.fromkeys(a.vendor_id for a in assignments))
        # Portal scope: a vendor user sees (and is summarised over) its own entry only,
        # never another vendor's compliance.
        vendor_ids = [v for v in vendor_ids if await may_see_vendor(info, v)]
        certs = await info.context.loaders.get(L.CertificationsByVendorIdLoader).load_many(
            vendor_ids
        )
        required = info.context.settings.required_certifications
        entries = []
        for vendor_id, rows in zip(vendor_ids, certs, strict=True):
            result = compliance_of(rows, required, today())
            entries.append(
                VendorComplianceEntry(
                    vendor=await vendor_or_none(info, vendor_id),
                    is_compliant=result.is_compliant,
                    missing=[CertificationType(m) for m in result.missing],
                )
            )
        return CharterVendorCompliance(
            all_vendors_compliant=all(e.is_compliant for e in entries) if entries else None,
            assigned_vendor_count=len(entries),
            vendors=entries,
        )
