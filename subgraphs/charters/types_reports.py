"""Charters' report figures (issue 16 §2 and §4) as GraphQL types: thin views of the services.

The rules are in `service/utilisation.py`, `service/qc_backlog.py` and
`service/vendor_recoveries.py`; who reads what in `service/access.py`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from subgraphs.charters import loaders as L
from subgraphs.charters.service import qc_backlog, utilisation, vendor_recoveries
from subgraphs.charters.service.access import VENDOR_RECOVERY_OWN, may_read_vendor_recoveries
from subgraphs.charters.service.utilisation import TypeHours, VehicleHours
from subgraphs.charters.types import Charter, Vehicle, VehicleType
from subgraphs.kit.errors import BadUserInputError, ForbiddenError, ServiceError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.pagination import Edge, PageInfo
from subgraphs.kit.permissions import allow

# --- vehicle utilisation ----------------------------------------------------------------------


@strawberry.type(description="One active vehicle's booked and available hours in the window.")
class VehicleUtilisationRow:
    vehicle: Vehicle
    vehicle_type: VehicleType
    booked_hours: Decimal = strawberry.field(
        description="Hours of the window its booked trips cover (overlaps merged), 2 places."
    )
    available_hours: Decimal = strawberry.field(
        description="The window's hours less those blacked out for its type, 2 places."
    )
    utilisation: Decimal | None = strawberry.field(
        description="bookedHours / availableHours, 4 places; null when nothing is available."
    )

    @classmethod
    def of(cls, row: VehicleHours) -> VehicleUtilisationRow:
        return cls(
            vehicle=Vehicle.from_row(row.vehicle),
            vehicle_type=VehicleType.from_row(row.vehicle_type),
            booked_hours=row.booked_hours,
            available_hours=row.available_hours,
            utilisation=row.utilisation,
        )


@strawberry.type(description="A vehicle type's active vehicles together.")
class VehicleTypeUtilisationRow:
    vehicle_type: VehicleType
    vehicles: int = strawberry.field(description="Its active vehicles.")
    booked_hours: Decimal = strawberry.field(description="The sum of its vehicles' booked hours.")
    available_hours: Decimal = strawberry.field(
        description="The sum of its vehicles' available hours."
    )
    utilisation: Decimal | None = strawberry.field(
        description="bookedHours / availableHours, 4 places; null when nothing is available."
    )

    @classmethod
    def of(cls, row: TypeHours) -> VehicleTypeUtilisationRow:
        return cls(
            vehicle_type=VehicleType.from_row(row.vehicle_type),
            vehicles=row.vehicles,
            booked_hours=row.booked_hours,
            available_hours=row.available_hours,
            utilisation=row.utilisation,
        )


@strawberry.type(description="Booked hours over available hours, per vehicle and per type.")
class VehicleUtilisation:
    from_: datetime = strawberry.field(name="from", description="The window's start (included).")
    to: datetime = strawberry.field(description="The window's end (excluded).")
    vehicles: list[VehicleUtilisationRow] = strawberry.field(
        description="Every active vehicle, by type name then plate."
    )
    by_type: list[VehicleTypeUtilisationRow] = strawberry.field(
        description="Every type with an active vehicle, by name."
    )

    @classmethod
    def of(cls, figures: utilisation.Utilisation) -> VehicleUtilisation:
        return cls(
            from_=figures.start,
            to=figures.end,
            vehicles=[VehicleUtilisationRow.of(v) for v in figures.vehicles],
            by_type=[VehicleTypeUtilisationRow.of(t) for t in figures.by_type],
        )


# --- the QC backlog ---------------------------------------------------------------------------


@strawberry.enum(description="What waits in the quality-control backlog.")
class QcBacklogKind(Enum):
    CHANGE_CASE = "change_case"
    DISPATCH_TASK = "dispatch_task"


@strawberry.type(description="An open change case or an overdue dispatch task.")
class QcBacklogItem:
    id: strawberry.ID = strawberry.field(description="The change case's or the task's id.")
    kind: QcBacklogKind
    opened_at: datetime = strawberry.field(
        description="When the case was created, or the task became overdue."
    )
    age_days: int = strawberry.field(description="Whole days from openedAt to now.")
    age_bucket: str = strawberry.field(
        description='"0-2 days", "3-7 days", "8-30 days" or "over 30 days".'
    )
    description: str = strawberry.field(
        description="The case's number, status and title, or the task's step and status."
    )
    charter_id: strawberry.Private[object]

    @strawberry.field
    async def charter(self, info: Info) -> Charter:
        row = await info.context.loaders.get(L.CharterByIdLoader).load(self.charter_id)
        return Charter.from_row(row)

    @classmethod
    def of(cls, item: qc_backlog.BacklogItem) -> QcBacklogItem:
        return cls(
            id=strawberry.ID(str(item.id)),
            kind=QcBacklogKind(item.kind.value),
            opened_at=item.opened_at,
            age_days=item.age_days,
            age_bucket=item.age_bucket,
            description=item.description,
            charter_id=item.charter_id,
        )


@strawberry.type(description="How many items of a kind are in an age bucket.")
class QcBacklogBucket:
    kind: QcBacklogKind
    age_bucket: str
    count: int


@strawberry.type(description="The QC backlog, oldest first, with its counts by kind and age.")
class QcBacklogConnection:
    edges: list[Edge[QcBacklogItem]]
    page_info: PageInfo
    total_count: int = strawberry.field(description="Items of both kinds, all pages.")
    buckets: list[QcBacklogBucket] = strawberry.field(
        description="Every kind and age bucket (zeros included), all pages: at most 8."
    )

    @classmethod
    def of(cls, page: qc_backlog.BacklogPage, after: str | None) -> QcBacklogConnection:
        edges = [
            Edge(cursor=cursor, node=QcBacklogItem.of(item))
            for item, cursor in zip(page.items, page.cursors, strict=True)
        ]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=page.total_count,
            buckets=[
                QcBacklogBucket(kind=QcBacklogKind(kind.value), age_bucket=label, count=count)
                for (kind, label), count in page.counts.items()
            ],
        )


# --- vendors' recoveries ----------------------------------------------------------------------


@strawberry.federation.type(keys=["id"])
class Vendor:
    """Vendors' vendor (its description is theirs); charters adds its recovery count."""

    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Vendor:
        return cls(id=id)

    @strawberry.field(
        extensions=[allow()],
        description=(
            "Recovery cases opened in [from, to) (default the 90 days to now; at most 366 days) "
            "on charter vehicles this vendor held when the case opened. Staff (admins, "
            "managers, dispatch, sales support) and the vendor's own users; others get null "
            "and FORBIDDEN."
        ),
    )
    async def recovery_count(
        self,
        info: Info,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> int | None:
        viewer = await info.context.get_viewer()
        key = parse_uuid(self.id)
        mine = None
        if viewer.user_id is not None and viewer.has_any_role(*VENDOR_RECOVERY_OWN):
            mine = await info.context.loaders.get(L.VendorIdByUserIdLoader).load(viewer.user_id)
        if not may_read_vendor_recoveries(viewer, key, mine):
            raise ForbiddenError("You may not see this vendor's recoveries.")
        try:
            vendor_recoveries.window(from_, to, datetime.now(UTC))
        except ServiceError as exc:
            problem = exc.problems[0]
            raise BadUserInputError(problem.message, field=problem.field) from exc
        if key is None:
            return 0
        loader = info.context.loaders.get(L.RecoveryCountByVendorLoader)
        return int(await loader.load((key, from_, to)))
