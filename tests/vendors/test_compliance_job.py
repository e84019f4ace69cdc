"""The daily compliance job: expiry, alerts once each, suspension on expired insurance."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, func, select

from subgraphs.vendors.compliance_job import main as job_cli
from subgraphs.vendors.models import (
    Certification,
    CertificationAlert,
    DailyRun,
    Vendor,
    VendorAudit,
    VendorContact,
    outbox,
)
from subgraphs.vendors.service.compliance_job import ALERT_TOPIC, alert_kind, run

D = date(2030, 6, 3)


async def make_vendor(
    sessions: Any,
    name: str,
    certs: dict[str, int],
    *,
    status: str = "active",
    email: str | None = None,
) -> tuple[uuid.UUID, dict[str, uuid.UUID]]:
    """A vendor with certifications expiring `days` after D, keyed by a label.

    Labels are `type` or `type:anything`, so one vendor can hold two of a type.
    """
    vendor = Vendor(
        id=uuid.uuid4(),
        business_name=name,
        vendor_type="fleet_operator",
        status=status,
        email=email,
        vehicle_types=[],
        service_states=[],
    )
    ids = {}
    async with sessions() as session, session.begin():
        session.add(vendor)
        await session.flush()
        for label, days in certs.items():
            row = Certification(
                id=uuid.uuid4(),
                vendor_id=vendor.id,
                cert_type=label.split(":")[0],
                number=f"{label.upper()}-1",
                issued_on=D - timedelta(days=400),
                expires_on=D + timedelta(days=days),
                status="active",
            )
            session.add(row)
            ids[label] = row.id
    return vendor.id, ids


async def alerts(sessions: Any) -> list[tuple[uuid.UUID, str]]:
    async with sessions() as session:
        rows = await session.execute(
            select(CertificationAlert.certification_id, CertificationAlert.kind)
        )
        return sorted(rows.all())


async def alert_events(sessions: Any) -> list[dict[str, Any]]:
    async with sessions() as session:
        rows = await session.scalars(
            select(outbox.c.payload).where(outbox.c.topic == ALERT_TOPIC).order_by(outbox.c.id)
        )
        return list(rows)


def test_alert_kind_thresholds():
    assert [alert_kind(D + timedelta(days=n), D) for n in (31, 30, 16, 15, 8, 7, 0, -1)] == [
        None,
        "30_days",
        "30_days",
        "15_days",
        "15_days",
        "7_days",
        "7_days",
        "expired",
    ]


async def test_expired_certifications_are_marked_and_audited_as_the_system(sessions):
    vendor_id, certs = await make_vendor(
        sessions, "Lapsed Lines", {"dot": -1, "mc": 0, "business_license": 200}
    )

    summary = await run(sessions, today=D)

    async with sessions() as session:
        statuses = dict(
            (
                await session.execute(
                    select(Certification.cert_type, Certification.status).where(
                        Certification.vendor_id == vendor_id
                    )
                )
            ).all()
        )
        audit = (
            await session.execute(
                select(VendorAudit.entity_id, VendorAudit.action, VendorAudit.actor_id).where(
                    VendorAudit.entity == "certification"
                )
            )
        ).all()
    assert summary.expired == 1
    # Valid through its expiry date: MC expiring today is still active.
    assert statuses == {"dot": "expired", "mc": "active", "business_license": "active"}
    assert audit == [(certs["dot"], "status:expired", None)]


async def test_each_alert_is_sent_once_across_reruns_and_consecutive_days(sessions):
    _, certs = await make_vendor(
        sessions,
        "Countdown Coaches",
        {
            "dot": 31,  # nothing today; 30-day alert tomorrow
            "mc": 30,  # 30-day alert today only
            "insurance": 16,  # 30-day today; 15-day tomorrow
            "business_license": 15,
            "vehicle_registration": 7,
            "safety_inspection": 0,  # 7-day today; expired tomorrow
            "driver_background_check": -3,  # expired today
        },
    )
    day_one = {
        (certs["mc"], "30_days"),
        (certs["insurance"], "30_days"),
        (certs["business_license"], "15_days"),
        (certs["vehicle_registration"], "7_days"),
        (certs["safety_inspection"], "7_days"),
        (certs["driver_background_check"], "expired"),
    }

    first = await run(sessions, today=D)
    again = await run(sessions, today=D)
    after_day_one = await alerts(sessions)
    # Even without the day's run record, the alert rows alone prevent repeats.
    async with sessions() as session, session.begin():
        await session.execute(delete(DailyRun))
    forced = await run(sessions, today=D)
    next_day = await run(sessions, today=D + timedelta(days=1))
    events = await alert_events(sessions)

    assert first.alerts == {"30_days": 2, "15_days": 1, "7_days": 2, "expired": 1}
    assert again.skipped
    assert again.alerts == {}
    assert set(after_day_one) == day_one
    assert forced.alerts == {}
    assert next_day.alerts == {"30_days": 1, "15_days": 1, "expired": 1}
    assert set(await alerts(sessions)) == day_one | {
        (certs["dot"], "30_days"),
        (certs["insurance"], "15_days"),
        (certs["safety_inspection"], "expired"),
    }
    # One outbox event (one e-mail) per alert row, never more.
    assert len(events) == len(day_one) + 3
    assert len({(e["certificationId"], e["kind"]) for e in events}) == len(events)


async def test_concurrent_runs_on_one_day_send_once(sessions):
    _, certs = await make_vendor(sessions, "Twin Runs", {"dot": 7, "mc": -1})

    results = await asyncio.gather(run(sessions, today=D), run(sessions, today=D))

    assert sorted(r.skipped for r in results) == [False, True]
    assert set(await alerts(sessions)) == {(certs["dot"], "7_days"), (certs["mc"], "expired")}
    assert len(await alert_events(sessions)) == 2
    async with sessions() as session:
        run_row = await session.scalar(select(DailyRun))
    assert run_row is not None
    assert run_row.finished_at is not None
    assert run_row.summary["alerts"] == {"7_days": 1, "expired": 1}


async def test_alert_events_name_the_vendors_contacts(sessions):
    vendor_id, certs = await make_vendor(
        sessions, "Mailable Motors", {"insurance": 15}, email="office@mailable.example"
    )
    async with sessions() as session, session.begin():
        session.add_all(
            [
                VendorContact(
                    vendor_id=vendor_id, kind="primary", name="Ann", email="ann@mailable.example"
                ),
                VendorContact(
                    vendor_id=vendor_id, kind="dispatch", name="Dan", email="dan@mailable.example"
                ),
            ]
        )

    await run(sessions, today=D)

    [event] = await alert_events(sessions)
    assert event == {
        "alertId": event["alertId"],
        "kind": "15_days",
        "certificationId": str(certs["insurance"]),
        "certificationType": "insurance",
        "number": "INSURANCE-1",
        "expiresOn": (D + timedelta(days=15)).isoformat(),
        "daysLeft": 15,
        "vendorId": str(vendor_id),
        "vendorName": "Mailable Motors",
        "recipients": ["ann@mailable.example", "office@mailable.example"],
    }


async def test_vendors_whose_insurance_expired_are_suspended_and_audited(sessions):
    lapsed, _ = await make_vendor(sessions, "Lapsed Insurance", {"insurance": -1, "dot": 90})
    renewed, _ = await make_vendor(
        sessions, "Renewed Insurance", {"insurance": -1, "insurance:new": 300}
    )
    never, _ = await make_vendor(sessions, "Never Insured", {"dot": 90})
    pending, _ = await make_vendor(
        sessions, "Pending Insurance", {"insurance": -1}, status="pending"
    )

    summary = await run(sessions, today=D)
    again = await run(sessions, today=D + timedelta(days=1))

    async with sessions() as session:
        status = dict((await session.execute(select(Vendor.id, Vendor.status))).all())
        reason = await session.scalar(select(Vendor.status_reason).where(Vendor.id == lapsed))
        audit = (
            await session.execute(
                select(
                    VendorAudit.vendor_id,
                    VendorAudit.actor_id,
                    VendorAudit.before,
                    VendorAudit.after,
                ).where(VendorAudit.entity == "vendor")
            )
        ).all()
        status_events = list(
            await session.scalars(
                select(outbox.c.payload).where(outbox.c.topic == "vendors.vendor_status_changed")
            )
        )
    assert summary.suspended == 1
    assert again.suspended == 0
    assert status == {lapsed: "suspended", renewed: "active", never: "active", pending: "pending"}
    assert reason == f"Insurance expired on {(D - timedelta(days=1)).isoformat()}."
    assert len(audit) == 1
    vendor_id, actor_id, before, after = audit[0]
    assert (vendor_id, actor_id) == (lapsed, None)
    assert before["status"] == "active"
    assert after["status"] == "suspended"
    assert status_events == [
        {"vendorId": str(lapsed), "status": "suspended", "previousStatus": "active"}
    ]


async def test_the_command_line_runs_the_job_once_a_day(sessions, capsys):
    await make_vendor(sessions, "Cli Coaches", {"dot": 7})

    assert await job_cli(["--today", D.isoformat()]) == 0
    first = json.loads(capsys.readouterr().out)
    assert await job_cli(["--today", D.isoformat()]) == 0
    second = json.loads(capsys.readouterr().out)

    assert first["alerts"] == {"7_days": 1}
    assert first["skipped"] is False
    assert second["skipped"] is True
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(CertificationAlert)) == 1
