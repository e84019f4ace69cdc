"""Certification alerts: the daily job announces each one with whom to tell.

The mails themselves are the notifications subgraph's (issue 14 §1): they reach a
real SMTP server in tests/notifications/test_vendor_messages.py. `Inbox` here is
the aiosmtpd handler the vendors tests that follow a mail to its end use.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from subgraphs.vendors.app import create_app
from subgraphs.vendors.models import Certification, Vendor, VendorContact, outbox
from subgraphs.vendors.service.compliance_job import ALERT_TOPIC, run
from tests.support.live_server import serve


class Inbox:
    """What the SMTP server accepted: (envelope recipients, parsed message)."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    async def wait_for(
        self, count: int, within: float = 10.0
    ) -> list[tuple[list[str], EmailMessage]]:
        for _ in range(int(within / 0.05)):  # delivered on aiosmtpd's own thread
            if len(self.received) >= count:
                break
            await asyncio.sleep(0.05)
        return sorted(self.received, key=lambda r: str(r[1]["Subject"]))


async def vendor_with(
    sessions: Any, name: str, certs: dict[str, int], today: date | None = None
) -> uuid.UUID:
    """A vendor whose certifications expire `certs[type]` days after `today` (default: UTC's)."""
    today = today or datetime.now(UTC).date()
    vendor_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        session.add(
            Vendor(
                id=vendor_id,
                business_name=name,
                vendor_type="owner_operator",
                status="active",
                email="office@" + name.split()[0].lower() + ".example",
                vehicle_types=[],
                service_states=[],
            )
        )
        await session.flush()
        session.add(
            VendorContact(
                vendor_id=vendor_id,
                kind="primary",
                name="Pat Primary",
                email="pat@" + name.split()[0].lower() + ".example",
            )
        )
        for cert_type, days in certs.items():
            session.add(
                Certification(
                    vendor_id=vendor_id,
                    cert_type=cert_type,
                    number=f"{cert_type.upper()}-42",
                    issued_on=today - timedelta(days=400),
                    expires_on=today + timedelta(days=days),
                    status="active",
                )
            )
    return vendor_id


async def alert_payloads(sessions: Any) -> list[dict[str, Any]]:
    async with sessions() as session:
        rows = await session.scalars(
            select(outbox.c.payload).where(outbox.c.topic == ALERT_TOPIC).order_by(outbox.c.id)
        )
        return list(rows)


async def test_each_alert_due_is_announced_once_with_the_vendors_addresses(sessions):
    await vendor_with(sessions, "Acme Coaches", {"dot": 7, "insurance": -1})
    await run(sessions)
    await run(sessions)  # the same day again: nothing more

    alerts = sorted(await alert_payloads(sessions), key=lambda a: a["certificationType"])
    assert [(a["certificationType"], a["kind"], a["daysLeft"]) for a in alerts] == [
        ("dot", "7_days", 7),
        ("insurance", "expired", -1),
    ]
    for alert in alerts:
        # Vendors names whom to tell (primary contacts, then the vendor's own address);
        # notifications mails them and the staff desk (tests/notifications/test_vendor_messages.py).
        assert alert["recipients"] == ["pat@acme.example", "office@acme.example"]
        assert alert["vendorName"] == "Acme Coaches"
        assert alert["number"] == f"{alert['certificationType'].upper()}-42"


async def test_the_vendors_app_runs_the_job_on_its_runner_and_announces_the_alerts(
    sessions, subgraph_settings, tmp_path
):
    # The runner runs the job for the operator's day (Chicago's, which is still yesterday
    # for hours after midnight UTC); seeded just before that midnight and run just after,
    # 30 days would be 29. Start clear of it.
    zone = ZoneInfo(subgraph_settings.operator_time_zone)
    now = datetime.now(zone)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), zone)
    if (midnight - now).total_seconds() < 30:
        await asyncio.sleep((midnight - now).total_seconds() + 1)
    operator_today = datetime.now(zone).date()
    await vendor_with(sessions, "Boone Buses", {"mc": 30, "dot": 400}, today=operator_today)
    app_settings = subgraph_settings.model_copy(
        update={"documents_dir": tmp_path, "compliance_job_enabled": True}
    )
    app = create_app(app_settings)

    async with serve(app):
        runner = app.state.services.extra["jobs"]
        assert [job.cron for job in runner.jobs.values()] == ["0 6 * * *"]
        await runner.run_now("vendors.compliance")

    [alert] = await alert_payloads(sessions)
    assert (alert["certificationType"], alert["kind"], alert["daysLeft"]) == ("mc", "30_days", 30)
    assert alert["recipients"] == ["pat@boone.example", "office@boone.example"]
