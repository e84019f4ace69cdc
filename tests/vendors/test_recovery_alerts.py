"""Recovery alerts (issue 13 section 3): vendors near a lost charter vehicle hear of it by mail.

Vendors decides whom to alert; the notifications subgraph sends the mails (issue 14 §1).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from db.embedded import free_port
from subgraphs.charters.models import RecoveryCase
from subgraphs.charters.models import outbox as charters_outbox
from subgraphs.charters.service import recovery
from subgraphs.charters.service.vendor_assignments import apply_assignment_event
from subgraphs.kit.consumer import EventConsumer
from subgraphs.kit.outbox import OutboxRelay
from subgraphs.notifications.channels import channels_from
from subgraphs.notifications.models import Message
from subgraphs.notifications.service import vendor_messages
from subgraphs.notifications.service.delivery import deliver_due
from subgraphs.notifications.service.templates import install_defaults
from subgraphs.vendors.models import Certification, Vendor, VendorAudit, VendorContact, outbox
from subgraphs.vendors.service import recovery_alerts
from tests.charters.ops import book
from tests.vendors.test_alert_emails import Inbox

REQUIRED = ("dot", "mc", "insurance")
DALLAS = (Decimal("32.7767"), Decimal("-96.7970"))


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


async def vendor(
    sessions: Any,
    name: str,
    base: tuple[str, str] | None,
    radius: int | None,
    *,
    status: str = "active",
    certs: tuple[str, ...] = REQUIRED,
) -> uuid.UUID:
    today = datetime.now(UTC).date()
    vendor_id = uuid.uuid4()
    slug = name.split()[0].lower()
    async with sessions() as session, session.begin():
        session.add(
            Vendor(
                id=vendor_id,
                business_name=name,
                vendor_type="fleet_operator",
                status=status,
                email=f"office@{slug}.example",
                base_latitude=Decimal(base[0]) if base else None,
                base_longitude=Decimal(base[1]) if base else None,
                service_radius_miles=radius,
                vehicle_types=[],
                service_states=[],
            )
        )
        await session.flush()
        session.add(
            VendorContact(
                vendor_id=vendor_id, kind="primary", name="Pat", email=f"pat@{slug}.example"
            )
        )
        for cert_type in certs:
            session.add(
                Certification(
                    vendor_id=vendor_id,
                    cert_type=cert_type,
                    number=f"{cert_type.upper()}-1",
                    issued_on=today - timedelta(days=100),
                    expires_on=today + timedelta(days=300),
                    status="active",
                )
            )
    return vendor_id


async def the_field(sessions: Any) -> dict[str, uuid.UUID]:
    """Vendors around Dallas: two that qualify, and one for each reason not to."""
    return {
        "arlington": await vendor(sessions, "Arlington Coaches", ("32.7357", "-97.1081"), 60),
        "fort worth": await vendor(sessions, "Fortworth Lines", ("32.7555", "-97.3308"), 100),
        "declined": await vendor(sessions, "Declining Tours", ("32.7800", "-96.8000"), 50),
        "houston": await vendor(sessions, "Houston Motorcoach", ("29.7604", "-95.3698"), 50),
        "suspended": await vendor(
            sessions, "Suspended Bus", ("32.7767", "-96.7970"), 80, status="suspended"
        ),
        "uninsured": await vendor(
            sessions, "Uninsured Transit", ("32.7767", "-96.7970"), 80, certs=("dot", "mc")
        ),
        "no area": await vendor(sessions, "Nowhere Coach", None, None),
    }


def announcement(declined: uuid.UUID, **extra: Any) -> dict[str, Any]:
    """`charters.recovery_opened` as charters writes it."""
    return {
        "caseId": str(uuid.uuid4()),
        "charterId": str(uuid.uuid4()),
        "charterVehicleId": str(uuid.uuid4()),
        "reference": "CH-2026-000777",
        "reason": "vendor_declined",
        "pickupAt": "2026-12-01T15:00:00+00:00",
        "pickupAddress": "1 Main St, Dallas",
        "pickupLatitude": str(DALLAS[0]),
        "pickupLongitude": str(DALLAS[1]),
        "vehicleTypeId": str(uuid.uuid4()),
        "vehicleTypeName": "Motorcoach",
        "capacity": 56,
        "excludeVendorIds": [str(declined)],
        **extra,
    }


async def topic_payloads(sessions: Any, topic: str) -> list[dict[str, Any]]:
    async with sessions() as session:
        rows = await session.scalars(
            select(outbox.c.payload).where(outbox.c.topic == topic).order_by(outbox.c.id)
        )
        return list(rows)


async def drain(consumer: EventConsumer, until: Any, rounds: int = 200) -> None:
    """Consume until `until()` holds (or give up after `rounds` short reads)."""
    await consumer.ensure_group()
    for _ in range(rounds):
        if until():
            return
        await consumer.consume_once()


async def test_only_active_compliant_vendors_covering_the_pickup_are_alerted_once(sessions):
    field = await the_field(sessions)
    payload = announcement(field["declined"])

    async with sessions() as session, session.begin():
        first = await recovery_alerts.alert_vendors(
            session, payload, required=REQUIRED, today=date.today()
        )
    async with sessions() as session, session.begin():
        again = await recovery_alerts.alert_vendors(session, payload, required=REQUIRED)

    # Nearest base first: Arlington is ~18 miles from the pickup, Fort Worth ~31.
    assert first == [field["arlington"], field["fort worth"]]
    assert again == []
    alerts = await topic_payloads(sessions, recovery_alerts.ALERT_TOPIC)
    assert [(a["vendorId"], a["recipients"]) for a in alerts] == [
        (str(field["arlington"]), ["pat@arlington.example", "office@arlington.example"]),
        (str(field["fort worth"]), ["pat@fortworth.example", "office@fortworth.example"]),
    ]
    assert all(a["caseId"] == payload["caseId"] for a in alerts)
    told = await topic_payloads(sessions, recovery_alerts.ALERTED_TOPIC)
    assert [t["vendorIds"] for t in told] == [
        [str(field["arlington"]), str(field["fort worth"])],
        [],
    ]
    async with sessions() as session:
        audited = set(
            await session.scalars(
                select(VendorAudit.vendor_id).where(
                    VendorAudit.action == recovery_alerts.ALERT_ACTION,
                    VendorAudit.entity_id == uuid.UUID(payload["caseId"]),
                )
            )
        )
    assert audited == {field["arlington"], field["fort worth"]}


async def test_vendors_charters_already_named_are_not_alerted(sessions):
    field = await the_field(sessions)
    payload = announcement(field["declined"], excludeVendorIds=[str(field["arlington"])])

    async with sessions() as session, session.begin():
        alerted = await recovery_alerts.alert_vendors(session, payload, required=REQUIRED)

    # The declining vendor qualifies otherwise: only the exclusion keeps it out.
    assert alerted == [field["declined"], field["fort worth"]]


async def test_a_pickup_without_coordinates_alerts_nobody_and_says_so(sessions):
    field = await the_field(sessions)
    payload = announcement(field["declined"], pickupLatitude=None, pickupLongitude=None)

    async with sessions() as session, session.begin():
        alerted = await recovery_alerts.alert_vendors(session, payload, required=REQUIRED)

    assert alerted == []
    assert await topic_payloads(sessions, recovery_alerts.ALERT_TOPIC) == []
    [told] = await topic_payloads(sessions, recovery_alerts.ALERTED_TOPIC)
    assert told == {"caseId": payload["caseId"], "charterId": payload["charterId"], "vendorIds": []}


async def test_a_vendor_decline_in_charters_mails_the_vendors_near_the_pickup(
    sessions, redis, settings, smtp, staff, bookable_charter
):
    """The whole chain over real streams: charters -> vendors -> SMTP, and back to charters."""
    inbox, port = smtp
    field = await the_field(sessions)
    charter = await bookable_charter(
        days=1,
        stops=[
            {
                "type": "PICKUP",
                "address": "1 Main St, Dallas",
                "latitude": float(DALLAS[0]),
                "longitude": float(DALLAS[1]),
            },
            {"type": "DROPOFF", "address": "9 Lake Rd, Fort Worth"},
        ],
    )
    await book(staff, charter["id"])
    assignment = uuid.uuid4()
    start = datetime.now(UTC) - timedelta(minutes=2)
    for i, status in enumerate(("offered", "declined")):
        async with sessions() as session, session.begin():
            await apply_assignment_event(
                session,
                {
                    "id": f"vendors:{i}",
                    "occurredAt": (start + timedelta(minutes=i)).isoformat(),
                    "payload": {
                        "assignmentId": str(assignment),
                        "charterId": charter["id"],
                        "charterVehicleId": charter["vehicles"][0]["id"],
                        "vendorId": str(field["declined"]),
                        "status": status,
                        "amount": "900.00",
                    },
                },
            )
    mail_settings = settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "notifications_from": "Athena Dispatch <dispatch@athena.example>",
        }
    )
    async with sessions() as session, session.begin():
        await install_defaults(session)
    # Test-only consumer groups: the session's running apps may read the same streams.
    vendors_side = EventConsumer(
        redis,
        sessions,
        topic=recovery_alerts.RECOVERY_OPENED,
        group="test.recovery-alerts",
        handler=recovery_alerts.recovery_handler(REQUIRED),
        block_ms=50,
    )
    # Vendors decides whom to alert; notifications words and sends (issue 14 §1).
    notifications_side = EventConsumer(
        redis,
        sessions,
        topic=recovery_alerts.ALERT_TOPIC,
        group="test.notifications-recovery-alerts",
        handler=vendor_messages.on_recovery_alert,
        block_ms=50,
    )
    charters_side = EventConsumer(
        redis,
        sessions,
        topic=recovery.RECOVERY_ALERTED,
        group="test.charters-recovery-alerts",
        handler=recovery.apply_alerted_event,
        block_ms=50,
    )
    case_alerted: list[str] = []

    async def alerted_on_case() -> list[str]:
        async with sessions() as session:
            rows = await session.scalars(select(RecoveryCase.alerted_vendor_ids))
            return [v for row in rows for v in row]

    async def decided() -> int:
        async with sessions() as session:
            return len(list(await session.scalars(select(Message.id))))

    await OutboxRelay(sessions, charters_outbox, redis).publish_pending()
    await drain(vendors_side, lambda: False, rounds=3)
    await OutboxRelay(sessions, outbox, redis).publish_pending()
    await notifications_side.ensure_group()
    for _ in range(200):
        if await decided() >= 4:
            break
        await notifications_side.consume_once()
    await deliver_due(sessions, channels_from(mail_settings), mail_settings)
    for _ in range(200):
        await charters_side.ensure_group()
        await charters_side.consume_once()
        case_alerted = await alerted_on_case()
        if case_alerted:
            break
        await asyncio.sleep(0.01)
    received = await inbox.wait_for(4)

    # One mail per address (each its own delivery and log row): the primary contact, the office.
    assert sorted(to for to, _ in received) == [
        ["office@arlington.example"],
        ["office@fortworth.example"],
        ["pat@arlington.example"],
        ["pat@fortworth.example"],
    ]
    message = received[0][1]
    assert message["Subject"].startswith(f"[Athena] Recovery: {charter['reference']}, ")
    assert message["From"] == "Athena Dispatch <dispatch@athena.example>"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "1 Main St, Dallas" in body
    assert f"{charter['vehicles'][0]['capacity']} seats" in body
    assert case_alerted == [str(field["arlington"]), str(field["fort worth"])]
    assert len(inbox.received) == 4
    # The vendor that let the trip go is never told.
    assert not any("declining" in addr for to, _ in received for addr in to)
