"""Charters' dataloaders: one statement per kind of row per request."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from subgraphs.charters import models
from subgraphs.charters.service import (
    portal_dashboard,
    sales_figures,
    vehicle_type_summary,
    vendor_recoveries,
)
from subgraphs.kit.loaders import (
    ByIdLoader,
    ByParentIdLoader,
    SessionLoader,
    group_by_key,
    latest_per_parent,
)
from subgraphs.kit.pages_by_parent import PagesByParentLoader

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


class CharterByIdLoader(ByIdLoader[models.Charter]):
    model = models.Charter


class CharterVehicleByIdLoader(ByIdLoader[models.CharterVehicle]):
    model = models.CharterVehicle


class VehicleTypeByIdLoader(ByIdLoader[models.VehicleType]):
    model = models.VehicleType


class VehicleByIdLoader(ByIdLoader[models.Vehicle]):
    model = models.Vehicle


class DriverByIdLoader(ByIdLoader[models.Driver]):
    model = models.Driver


class SeriesByIdLoader(ByIdLoader[models.CharterSeries]):
    model = models.CharterSeries


class StopsByCharterIdLoader(ByParentIdLoader[models.Stop]):
    model = models.Stop
    parent_column = "charter_id"
    order_by = ("charter_id", "position")


class VehiclesByCharterIdLoader(ByParentIdLoader[models.CharterVehicle]):
    model = models.CharterVehicle
    parent_column = "charter_id"
    order_by = ("charter_id", "position", "id")
    # The trip's time range is written with the assignment and read by SQL only (the
    # double-booking constraints and overlap queries); converting it per row was 3 %
    # of a board's CPU.
    unread = ("busy",)


#: The most revisions `Charter.quoteRevisions` shows (the newest ones).
MAX_QUOTE_REVISIONS = 100


class QuoteRevisionsByCharterIdLoader(SessionLoader[uuid.UUID, list[models.QuoteRevision]]):
    """The newest `MAX_QUOTE_REVISIONS` revisions of each charter, oldest first."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[list[models.QuoteRevision]]:
        newest = await latest_per_parent(
            session, models.QuoteRevision, "charter_id", ("revision",), keys, MAX_QUOTE_REVISIONS
        )
        return [list(reversed(rows)) for rows in newest]


class ChangeCasesPageByCharterIdLoader(PagesByParentLoader):
    """`Charter.changeCases` pages, oldest first."""

    model = models.ChangeCase
    parent_column = "charter_id"
    order_by = ("created_at", "id")


class ChangeCaseEventsByCaseIdLoader(ByParentIdLoader[models.ChangeCaseEvent]):
    model = models.ChangeCaseEvent
    parent_column = "change_case_id"
    order_by = ("change_case_id", "at", "id")


class AuditPageByCharterIdLoader(PagesByParentLoader):
    """`Charter.auditLog` pages, newest first."""

    model = models.AuditEntry
    parent_column = "charter_id"
    order_by = ("at", "seq")
    descending = True


class InstancesPageBySeriesIdLoader(PagesByParentLoader):
    """`CharterSeries.instances` pages, in date order."""

    model = models.Charter
    parent_column = "series_id"
    order_by = ("occurrence_date", "id")


class SeriesMembersBySeriesIdLoader(SessionLoader[uuid.UUID, list[uuid.UUID]]):
    """Each series' instances in date order, for "instance N of M"."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[list[uuid.UUID]]:
        rows = await session.execute(
            select(models.Charter.series_id, models.Charter.id)
            .where(models.Charter.series_id.in_(keys))
            .order_by(models.Charter.series_id, models.Charter.occurrence_date, models.Charter.id)
        )
        members: dict[Any, list[uuid.UUID]] = {}
        for series_id, charter_id in rows.all():
            members.setdefault(series_id, []).append(charter_id)
        return [members.get(key, []) for key in keys]


class FirstChartersByClientLoader(
    SessionLoader[tuple[uuid.UUID, int, str | None], tuple[list[models.Charter], int]]
):
    """First pages of many clients' charters in two statements (window + count).

    Keys are (client id, page size, status filter); later pages (`after`)
    are single-client range scans and need no batching.
    """

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[tuple[uuid.UUID, int, str | None]]
    ) -> list[tuple[list[models.Charter], int]]:
        results: dict[tuple[uuid.UUID, int, str | None], tuple[list[models.Charter], int]] = {}
        for status in {k[2] for k in keys}:
            group = [k for k in keys if k[2] == status]
            clients = list({k[0] for k in group})
            size = max(k[1] for k in group) + 1
            charter = models.Charter
            scope = [charter.client_id.in_(clients), charter.is_template.is_(False)]
            if status is not None:
                scope.append(charter.status == status)
            ranked = (
                select(
                    charter.id,
                    func.row_number()
                    .over(
                        partition_by=charter.client_id,
                        order_by=(charter.pickup_at.desc(), charter.id.desc()),
                    )
                    .label("rank"),
                )
                .where(*scope)
                .subquery()
            )
            rows = list(
                await session.scalars(
                    select(charter)
                    .join(ranked, ranked.c.id == charter.id)
                    .where(ranked.c.rank <= size)
                    .order_by(charter.client_id, charter.pickup_at.desc(), charter.id.desc())
                )
            )
            counts = dict(
                (
                    await session.execute(
                        select(charter.client_id, func.count())
                        .where(*scope)
                        .group_by(charter.client_id)
                    )
                ).all()
            )
            for key in group:
                mine = [r for r in rows if r.client_id == key[0]][: key[1] + 1]
                results[key] = (mine, int(counts.get(key[0], 0)))
        return [results[k] for k in keys]


class DriverIdByUserIdLoader(SessionLoader[uuid.UUID, uuid.UUID | None]):
    """The fleet driver linked to each user account (driver portals)."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[uuid.UUID | None]:
        rows = await session.execute(
            select(models.Driver.user_id, models.Driver.id).where(models.Driver.user_id.in_(keys))
        )
        found: dict[uuid.UUID, uuid.UUID] = dict(rows.all())  # type: ignore[arg-type]
        return [found.get(key) for key in keys]


class VendorIdByUserIdLoader(SessionLoader[uuid.UUID, uuid.UUID | None]):
    """The vendor each vendor-role account works for (vendors' projection)."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[uuid.UUID | None]:
        rows = await session.execute(
            select(models.VendorAccount.user_id, models.VendorAccount.vendor_id).where(
                models.VendorAccount.user_id.in_(keys)
            )
        )
        found: dict[uuid.UUID, uuid.UUID] = dict(rows.all())  # type: ignore[arg-type]
        return [found.get(key) for key in keys]


class VendorAccessByCharterIdLoader(SessionLoader[uuid.UUID, dict[uuid.UUID, list[str]]]):
    """Which vendors may read each charter, and why (vendors' projection)."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[dict[uuid.UUID, list[str]]]:
        access = models.VendorCharterAccess
        rows = await session.execute(
            select(access.charter_id, access.vendor_id, access.reasons).where(
                access.charter_id.in_(keys)
            )
        )
        found: dict[uuid.UUID, dict[uuid.UUID, list[str]]] = {}
        for charter_id, vendor_id, reasons in rows.all():
            found.setdefault(charter_id, {})[vendor_id] = list(reasons)
        return [found.get(key, {}) for key in keys]


class OpenQuoteCountByAgentLoader(SessionLoader[uuid.UUID, int]):
    """`User.openQuoteCount` of many agents in one statement."""

    async def load_batch(self, session: AsyncSession, keys: Sequence[uuid.UUID]) -> list[int]:
        counts = await sales_figures.open_quote_counts(session, keys, now=datetime.now(UTC))
        return [counts[key] for key in keys]


class UpcomingDepartureCountByAgentLoader(SessionLoader[tuple[uuid.UUID, int], int]):
    """`User.upcomingDepartureCount(days:)`: one statement per distinct `days` asked."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[tuple[uuid.UUID, int]]
    ) -> list[int]:
        now = datetime.now(UTC)
        found: dict[tuple[uuid.UUID, int], int] = {}
        for days in {days for _agent, days in keys}:
            agents = [agent for agent, d in keys if d == days]
            counts = await sales_figures.upcoming_departure_counts(
                session, agents, now=now, days=days
            )
            found.update({(agent, days): counts[agent] for agent in agents})
        return [found[key] for key in keys]


# --- dispatch board (issue 13: readiness tasks, confirmations, positions) -------------


class TasksByCharterIdLoader(ByParentIdLoader[models.DispatchTask]):
    """Every readiness task of each charter (a plan's worth: a few per vehicle)."""

    model = models.DispatchTask
    parent_column = "charter_id"
    order_by = ("charter_id", "due_at", "id")


#: The most confirmations `CharterVehicle.confirmations` shows (the newest ones).
MAX_CONFIRMATIONS = 50


class ConfirmationsByVehicleIdLoader(SessionLoader[uuid.UUID, list[models.Confirmation]]):
    """Each charter vehicle's newest `MAX_CONFIRMATIONS` confirmations, oldest first."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[list[models.Confirmation]]:
        newest = await latest_per_parent(
            session,
            models.Confirmation,
            "charter_vehicle_id",
            ("confirmed_at", "id"),
            keys,
            MAX_CONFIRMATIONS,
        )
        return [list(reversed(rows)) for rows in newest]


class VendorAssignmentFactsByVehicleIdLoader(ByParentIdLoader[models.VendorAssignmentFact]):
    """Vendors' assignments of each charter vehicle as charters knows them, oldest first."""

    model = models.VendorAssignmentFact
    parent_column = "charter_vehicle_id"
    order_by = ("charter_vehicle_id", "as_of", "assignment_id")


class LatestPositionByVehicleIdLoader(ByParentIdLoader[models.LatestPosition]):
    """The newest GPS fix of each charter vehicle (none or one)."""

    model = models.LatestPosition
    parent_column = "charter_vehicle_id"
    order_by = ("charter_vehicle_id",)


# --- recovery (issue 13 section 3) -----------------------------------------------------


class RecoveryCaseByIdLoader(ByIdLoader[models.RecoveryCase]):
    model = models.RecoveryCase


class _OpenRecoveryLoader(SessionLoader[uuid.UUID, list[Any]]):
    """Open recovery cases per parent, oldest first (at most two per vehicle: vendor, driver)."""

    parent_column: str

    async def load_batch(self, session: AsyncSession, keys: Sequence[uuid.UUID]) -> list[list[Any]]:
        table = models.RecoveryCase.__table__
        rows = (
            await session.execute(
                select(table)
                .where(table.c[self.parent_column].in_(keys), table.c.status != "resolved")
                .order_by(table.c.opened_at, table.c.id)
            )
        ).all()
        grouped: dict[Any, list[Any]] = {key: [] for key in keys}
        for row in rows:
            grouped[getattr(row, self.parent_column)].append(row)
        return [grouped[key] for key in keys]


class OpenRecoveryByVehicleIdLoader(_OpenRecoveryLoader):
    parent_column = "charter_vehicle_id"


class OpenRecoveryByCharterIdLoader(_OpenRecoveryLoader):
    parent_column = "charter_id"


# --- the driver app's trip (issue 13 §5) ------------------------------------------------


class StopVisitsByCharterVehicleIdLoader(ByParentIdLoader[models.StopVisit]):
    model = models.StopVisit
    parent_column = "charter_vehicle_id"
    order_by = ("charter_vehicle_id", "stop_id")


class TripNotesByCharterVehicleIdLoader(ByParentIdLoader[models.TripNote]):
    model = models.TripNote
    parent_column = "charter_vehicle_id"
    order_by = ("charter_vehicle_id", "created_at", "id")


class TripPhotosByCharterVehicleIdLoader(ByParentIdLoader[models.TripPhoto]):
    model = models.TripPhoto
    parent_column = "charter_vehicle_id"
    order_by = ("charter_vehicle_id", "uploaded_at", "id")


class ChecklistCompletionsByCharterVehicleIdLoader(ByParentIdLoader[models.ChecklistCompletion]):
    model = models.ChecklistCompletion
    parent_column = "charter_vehicle_id"
    order_by = ("charter_vehicle_id", "completed_at")


#: Retired checklist items listed at the most (the newest), beside the active ones.
RETIRED_SHOWN = 50


class ChecklistItemsLoader(SessionLoader[bool, list[Any]]):
    """The checklist's items, in order: key True for the active ones only, False for all."""

    async def load_batch(self, session: AsyncSession, keys: Sequence[bool]) -> list[list[Any]]:
        table = models.ChecklistItem.__table__
        rows = (
            await session.execute(select(table).order_by(table.c.position, table.c.label))
        ).all()
        active = [r for r in rows if r.active]
        # Retired items pile up over the years: the newest RETIRED_SHOWN are enough to read.
        retired = sorted((r for r in rows if not r.active), key=lambda r: r.updated_at)
        everything = sorted(
            [*active, *retired[-RETIRED_SHOWN:]], key=lambda r: (r.position, r.label)
        )
        return [active if active_only else everything for active_only in keys]


# --- contact attempts and special instructions (issue 13 §2) --------------------------


class ContactAttemptsPageByCharterIdLoader(PagesByParentLoader):
    """`Charter.contactAttempts` pages, newest first."""

    model = models.ContactAttempt
    parent_column = "charter_id"
    order_by = ("attempted_at", "id")
    descending = True


class SpecialInstructionsByCharterIdLoader(ByParentIdLoader[models.SpecialInstruction]):
    """Each charter's live special instructions (at most `instructions.MAX_PER_CHARTER`).

    Every reader's rows come from this one statement; which of them a reader
    sees is `service/instructions.visible_to`, per row.
    """

    model = models.SpecialInstruction
    parent_column = "charter_id"
    order_by = ("charter_id", "created_at", "id")

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[list[models.SpecialInstruction]]:
        table = self.model.__table__
        stmt = (
            select(table)
            .where(table.c.charter_id.in_(keys), table.c.removed_at.is_(None))
            .order_by(table.c.charter_id, table.c.created_at, table.c.id)
        )
        return group_by_key((await session.execute(stmt)).all(), keys, "charter_id")


# --- documents, legal terms and signatures (issue 14 §2-3) ----------------------------------


class DocumentsByCharterIdLoader(ByParentIdLoader[models.CharterDocument]):
    """Each charter's documents (at most `documents.MAX_DOCUMENTS_PER_CHARTER`).

    Every reader's rows come from this one statement; which of them a reader
    sees is `documents.visible`, per row.
    """

    model = models.CharterDocument
    parent_column = "charter_id"
    order_by = ("charter_id", "created_at", "id")


class DocumentVersionsByDocumentIdLoader(ByParentIdLoader[models.CharterDocumentVersion]):
    """Each document's versions, oldest first (at most `documents.MAX_VERSIONS`)."""

    model = models.CharterDocumentVersion
    parent_column = "document_id"
    order_by = ("document_id", "version")


class DocumentByIdLoader(ByIdLoader[models.CharterDocument]):
    model = models.CharterDocument


class LegalTermsByIdLoader(ByIdLoader[models.LegalTermsVersion]):
    model = models.LegalTermsVersion


class SignaturesPageByCharterIdLoader(PagesByParentLoader):
    """`Charter.signatures` pages, newest first."""

    model = models.CharterSignature
    parent_column = "charter_id"
    order_by = ("signed_at", "id")
    descending = True


# --- the client portal's dashboard (issue 14 §2) ----------------------------------------------


class _DashboardListLoader(SessionLoader[tuple[uuid.UUID, int], list[models.Charter]]):
    """One dashboard list of many clients: one statement per distinct `first`."""

    @staticmethod
    def statement(clients: Sequence[uuid.UUID], now: datetime, first: int) -> Any:
        raise NotImplementedError

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[tuple[uuid.UUID, int]]
    ) -> list[list[models.Charter]]:
        now = datetime.now(UTC)
        found: dict[tuple[uuid.UUID, int], list[models.Charter]] = {k: [] for k in keys}
        for first in {k[1] for k in keys}:
            clients = sorted({k[0] for k in keys if k[1] == first})
            if first == 0:
                continue
            for row in await session.scalars(self.statement(clients, now, first)):
                found[(row.client_id, first)].append(row)
        return [found[k] for k in keys]


class UpcomingTripsByClientLoader(_DashboardListLoader):
    statement = staticmethod(portal_dashboard.upcoming_trips)


class QuotesAwaitingAnswerByClientLoader(_DashboardListLoader):
    statement = staticmethod(portal_dashboard.quotes_awaiting_answer)


# --- report figures (issue 16 §2) --------------------------------------------------------------


class VehicleTypeSummaryByCharterIdLoader(SessionLoader[uuid.UUID, str | None]):
    """`Charter.vehicleTypeSummary` of many charters in one statement."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[str | None]:
        return await vehicle_type_summary.vehicle_type_summaries(session, keys)


class RecoveryCountByVendorLoader(
    SessionLoader[tuple[uuid.UUID, datetime | None, datetime | None], int]
):
    """`Vendor.recoveryCount(from:, to:)`: one statement per distinct window asked.

    Keys carry the arguments as asked; the defaults (the 90 days to now) are filled
    in here with one `now` for the batch, so every vendor of a request counts the
    same window in the same statement.
    """

    async def load_batch(
        self,
        session: AsyncSession,
        keys: Sequence[tuple[uuid.UUID, datetime | None, datetime | None]],
    ) -> list[int]:
        now = datetime.now(UTC)
        found: dict[tuple[uuid.UUID, datetime | None, datetime | None], int] = {}
        for asked in {(start, end) for _vendor, start, end in keys}:
            vendors = [vendor for vendor, s, e in keys if (s, e) == asked]
            start, end = vendor_recoveries.window(*asked, now)
            counts = await vendor_recoveries.recovery_counts(session, vendors, start, end)
            found.update({(vendor, *asked): counts[vendor] for vendor in vendors})
        return [found[key] for key in keys]
