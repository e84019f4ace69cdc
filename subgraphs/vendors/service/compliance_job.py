"""The daily compliance job: expiry, alerts, suspensions, stale bids.

One run per day (UTC), in one transaction:

1. active (and still pending) certifications past their expiry date become `expired`
   (audited, actor None = the system);
2. alerts: a certification expiring within 30, 15 or 7 days gets the most
   urgent of those alerts, and an expired one the `expired` alert, each
   at most once ever: the insert into `certification_alerts` (unique
   certification + kind, ON CONFLICT DO NOTHING) decides who sends, and the
   `vendors.certification_alert` outbox event (the e-mail) is written in
   the same transaction;
3. active vendors whose insurance has expired (they held one, none is
   valid now) are suspended, audited, with the reason;
4. submitted bids past `valid_until` expire (`service.bids`).

Running twice is harmless: the `daily_runs` row (job, day) is inserted
first, so a second run that day, even concurrent on another replica,
waits on the first's row and then finds the day done. A run that fails
rolls back entirely, its `daily_runs` row included, so a retry redoes it.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert

from subgraphs.kit.outbox import emit
from subgraphs.vendors.models import (
    Certification,
    CertificationAlert,
    DailyRun,
    Vendor,
    VendorContact,
    outbox,
)
from subgraphs.vendors.service import bids as bids_service
from subgraphs.vendors.service import certifications, vendors

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

JOB = "vendors.compliance"
ALERT_TOPIC = "vendors.certification_alert"
#: (kind, alert when at most this many days are left), most urgent first.
THRESHOLDS: tuple[tuple[str, int], ...] = (("7_days", 7), ("15_days", 15), ("30_days", 30))
#: An `expired` alert is still sent for certifications expired this recently.
EXPIRED_ALERT_WINDOW_DAYS = 30
#: Vendors that are no longer in business with us get no alerts.
SILENT_VENDOR_STATUSES = ("inactive", "rejected", "banned")


@dataclass
class Summary:
    run_on: date
    skipped: bool = False
    expired: int = 0
    alerts: dict[str, int] = field(default_factory=dict)
    suspended: int = 0
    bids_expired: int = 0

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["run_on"] = self.run_on.isoformat()
        return data


def alert_kind(expires_on: date, today: date) -> str | None:
    """Which alert a certification is due today, if any."""
    days = (expires_on - today).days
    if days < 0:
        return "expired"
    for kind, within in THRESHOLDS:
        if days <= within:
            return kind
    return None


async def run(
    sessions: async_sessionmaker[AsyncSession],
    *,
    today: date | None = None,
    now: datetime | None = None,
) -> Summary:
    """Run the job for `today` (default: the UTC date); see the module docstring."""
    now = now or datetime.now(UTC)
    today = today or now.date()
    if now.date() != today:  # a chosen day: act as at its start
        now = datetime.combine(today, time.min, tzinfo=UTC)
    summary = Summary(run_on=today)
    async with sessions() as session, session.begin():
        claimed = await session.scalar(
            insert(DailyRun)
            .values(job=JOB, run_on=today)
            .on_conflict_do_nothing(index_elements=[DailyRun.job, DailyRun.run_on])
            .returning(DailyRun.job)
        )
        if claimed is None:
            log.info("compliance job already ran on %s", today)
            summary.skipped = True
            return summary
        summary.expired = await expire_certifications(session, today)
        summary.alerts = await send_alerts(session, today)
        summary.suspended = await suspend_uninsured(session, today)
        summary.bids_expired = await bids_service.expire_stale_bids(session, now)
        await session.execute(
            update(DailyRun)
            .where(DailyRun.job == JOB, DailyRun.run_on == today)
            .values(finished_at=func.now(), summary=summary.as_json())
        )
    log.info("compliance job for %s: %s", today, summary.as_json())
    return summary


async def expire_certifications(session: AsyncSession, today: date) -> int:
    ids = list(
        await session.scalars(
            select(Certification.id)
            .where(
                Certification.status.in_(("active", "pending_verification")),
                Certification.expires_on < today,
            )
            .order_by(Certification.id)
        )
    )
    for certification_id in ids:
        await certifications.set_status(session, certification_id, "expired", None)
    await session.flush()
    return len(ids)


async def _recipients(
    session: AsyncSession, vendor_ids: set[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """Each vendor's primary contacts' e-mails, then the vendor's own e-mail."""
    found: dict[uuid.UUID, list[str]] = defaultdict(list)
    if not vendor_ids:
        return found
    contacts = await session.execute(
        select(VendorContact.vendor_id, VendorContact.email)
        .where(
            VendorContact.vendor_id.in_(vendor_ids),
            VendorContact.kind == "primary",
            VendorContact.email.is_not(None),
        )
        .order_by(VendorContact.vendor_id, VendorContact.name)
    )
    for vendor_id, email in contacts:
        if email:
            found[vendor_id].append(email)
    own = await session.execute(
        select(Vendor.id, Vendor.email).where(Vendor.id.in_(vendor_ids), Vendor.email.is_not(None))
    )
    for vendor_id, email in own:
        if email:
            found[vendor_id].append(email)
    return {k: list(dict.fromkeys(v)) for k, v in found.items()}


async def send_alerts(session: AsyncSession, today: date) -> dict[str, int]:
    rows = (
        await session.execute(
            select(Certification, Vendor.business_name)
            .join(Vendor, Vendor.id == Certification.vendor_id)
            .where(
                Vendor.status.not_in(SILENT_VENDOR_STATUSES),
                Certification.expires_on <= today + timedelta(days=THRESHOLDS[-1][1]),
                (Certification.status == "active")
                | and_(
                    Certification.status == "expired",
                    Certification.expires_on >= today - timedelta(days=EXPIRED_ALERT_WINDOW_DAYS),
                ),
            )
            .order_by(Certification.expires_on, Certification.id)
        )
    ).all()
    due: list[tuple[Certification, str, str]] = []
    for cert, name in rows:
        kind = alert_kind(cert.expires_on, today)
        # A manually expired certification with days left gets no countdown alert.
        if kind is not None and (kind == "expired") == (cert.status == "expired"):
            due.append((cert, name, kind))
    recipients = await _recipients(session, {cert.vendor_id for cert, _, _ in due})
    sent: dict[str, int] = {}
    for cert, vendor_name, kind in due:
        # The unique (certification, kind) row decides: only its inserter sends.
        inserted = await session.scalar(
            insert(CertificationAlert)
            .values(id=uuid.uuid4(), certification_id=cert.id, kind=kind, sent_on=today)
            .on_conflict_do_nothing(constraint="uq_certification_alerts_once")
            .returning(CertificationAlert.id)
        )
        if inserted is None:
            continue
        await emit(
            session,
            outbox,
            ALERT_TOPIC,
            {
                "alertId": str(inserted),
                "kind": kind,
                "certificationId": str(cert.id),
                "certificationType": cert.cert_type,
                "number": cert.number,
                "expiresOn": cert.expires_on.isoformat(),
                "daysLeft": (cert.expires_on - today).days,
                "vendorId": str(cert.vendor_id),
                "vendorName": vendor_name,
                "recipients": recipients.get(cert.vendor_id, []),
            },
        )
        sent[kind] = sent.get(kind, 0) + 1
    return sent


async def suspend_uninsured(session: AsyncSession, today: date) -> int:
    insurance = Certification.__table__.alias("insurance")
    valid = Certification.__table__.alias("valid")
    expired_insurance = exists().where(
        insurance.c.vendor_id == Vendor.id,
        insurance.c.cert_type == "insurance",
        insurance.c.status == "expired",
    )
    valid_insurance = exists().where(
        valid.c.vendor_id == Vendor.id,
        valid.c.cert_type == "insurance",
        valid.c.status == "active",
        valid.c.expires_on >= today,
    )
    rows = (
        await session.execute(
            select(Vendor.id, func.max(Certification.expires_on))
            .join(
                Certification,
                and_(Certification.vendor_id == Vendor.id, Certification.cert_type == "insurance"),
            )
            .where(Vendor.status == "active", expired_insurance, ~valid_insurance)
            .group_by(Vendor.id)
            .order_by(Vendor.id)
        )
    ).all()
    for vendor_id, last_expiry in rows:
        await vendors.set_status(
            session,
            vendor_id,
            "suspended",
            None,
            reason=f"Insurance expired on {last_expiry.isoformat()}.",
        )
    await session.flush()
    return len(rows)
