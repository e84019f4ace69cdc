"""Certification alerts reach a real SMTP server (aiosmtpd on a free port)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from db.embedded import free_port
from subgraphs.kit.outbox import OutboxRelay
from subgraphs.kit.settings import Settings
from subgraphs.vendors.app import create_app
from subgraphs.vendors.mailer import CERTIFICATION_ALERTS
from subgraphs.vendors.models import Certification, Vendor, VendorContact, outbox
from subgraphs.vendors.service.compliance_job import run
from tests.support.live_server import serve

STAFF = "compliance-desk@athena.example"


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


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def mail_settings(settings: Settings, port: int, **extra: Any) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_from": "Athena Compliance <compliance@athena.example>",
            "compliance_alert_staff_email": STAFF,
            **extra,
        }
    )


async def vendor_with(sessions: Any, name: str, certs: dict[str, int]) -> uuid.UUID:
    today = datetime.now(UTC).date()
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


async def test_the_alert_consumer_mails_the_primary_contact_and_staff(
    sessions, redis, settings, smtp
):
    inbox, port = smtp
    await vendor_with(sessions, "Acme Coaches", {"dot": 7, "insurance": -1})
    await run(sessions)
    await OutboxRelay(sessions, outbox, redis).publish_pending()
    consumer = CERTIFICATION_ALERTS.consumer(
        redis, sessions, mail_settings(settings, port), block_ms=50
    )
    await consumer.ensure_group()

    deadline = asyncio.get_running_loop().time() + 10
    while len(inbox.received) < 2 and asyncio.get_running_loop().time() < deadline:
        await consumer.consume_once()
    received = await inbox.wait_for(2)
    # The same events again (at-least-once delivery) send nothing more.
    await consumer.consume_once(pending=True)

    assert len(received) == 2
    (dot_to, dot), (ins_to, ins) = received
    assert dot_to == ins_to == ["pat@acme.example", "office@acme.example", STAFF]
    assert dot["Subject"] == "[Athena] DOT certification DOT-42 expires in 7 days"
    assert ins["Subject"].startswith("[Athena] Insurance certification INSURANCE-42 expired on ")
    assert dot["From"] == "Athena Compliance <compliance@athena.example>"
    assert "Hello Acme Coaches" in dot.get_content()
    assert "suspended" in ins.get_content()
    assert len(inbox.received) == 2


async def test_the_vendors_app_runs_the_job_on_its_runner_and_mails_the_alerts(
    sessions, subgraph_settings, tmp_path, smtp
):
    inbox, port = smtp
    await vendor_with(sessions, "Boone Buses", {"mc": 30, "dot": 400})
    app_settings = mail_settings(
        subgraph_settings,
        port,
        documents_dir=tmp_path,
        compliance_job_enabled=True,
        compliance_mailer_enabled=True,
    )
    app = create_app(app_settings)

    async with serve(app):
        runner = app.state.services.extra["jobs"]
        assert [job.cron for job in runner.jobs.values()] == ["0 6 * * *"]
        await runner.run_now("vendors.compliance")
        received = await inbox.wait_for(1)
        await asyncio.sleep(0.2)  # nothing more is coming

    assert len(inbox.received) == 1
    [(to, message)] = received
    assert to == ["pat@boone.example", "office@boone.example", STAFF]
    assert message["Subject"] == "[Athena] MC certification MC-42 expires in 30 days"
