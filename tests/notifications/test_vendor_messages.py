"""Vendor and driver messages (issue 14 §1), decided by notifications from vendors' and charters' events.

The alert events are the ones vendors' own services write (its compliance
job, its cancellation announcement, its recovery search), read back from
its outbox; the moved mails then reach a real local SMTP server through
the delivery worker's pass, as vendors' own mailers' tests asserted before
the sending moved here. The driver's event comes from charters' real
assignment mutation.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import Table, select

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.charters.models import outbox as charters_outbox
from subgraphs.charters.service.events import DRIVER_ASSIGNED
from subgraphs.notifications import app as notifications_app
from subgraphs.notifications.channels import channels_from
from subgraphs.notifications.models import Message
from subgraphs.notifications.service import facts, vendor_messages
from subgraphs.notifications.service.delivery import deliver_due
from subgraphs.notifications.service.preferences import set_user_preferences
from subgraphs.notifications.service.templates import install_defaults
from subgraphs.vendors.models import VendorAssignment
from subgraphs.vendors.models import outbox as vendors_outbox
from subgraphs.vendors.service import cancellation_alerts, recovery_alerts
from subgraphs.vendors.service.compliance_job import ALERT_TOPIC as CERTIFICATION_ALERT
from subgraphs.vendors.service.compliance_job import run as run_compliance_job
from tests.charters.ops import ASSIGN, fleet_driver, fleet_vehicle
from tests.support.charters_fixtures import CREATE_CHARTER, future_local, register_client
from tests.vendors.test_alert_emails import vendor_with
from tests.vendors.test_recovery_alerts import REQUIRED, announcement, the_field

STAFF = "compliance-desk@athena.example"
MEMPHIS = (35.1495, -90.0490)  # ~420 miles from the default hub (Dallas)


def mail_settings(settings: Any, port: int, **more: Any) -> Any:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_starttls": False,
            "smtp_use_tls": False,
            "smtp_timeout_seconds": 2.0,
            "notifications_tracking_secret": "t" * 40,
            "notifications_public_url": "https://athena.example",
            **more,
        }
    )


def settings_with(monkeypatch: Any, settings: Any, **more: Any) -> None:
    changed = settings.model_copy(update=more)
    monkeypatch.setattr(vendor_messages, "get_settings", lambda: changed)


async def events_of(sessions: Any, table: Table, topic: str) -> list[dict[str, Any]]:
    """An outbox's rows as its relay delivers them (id, time, payload)."""
    async with sessions() as session:
        rows = (
            await session.execute(select(table).where(table.c.topic == topic).order_by(table.c.id))
        ).all()
    return [
        {
            "id": f"{table.schema}:{row.id}",
            "occurredAt": row.created_at.isoformat(),
            "payload": row.payload,
        }
        for row in rows
    ]


def ev(payload: dict[str, Any], at: datetime | None = None) -> dict[str, Any]:
    return {
        "id": f"test:{uuid.uuid4()}",
        "payload": payload,
        "occurredAt": (at or datetime.now(UTC)).isoformat(),
    }


async def handle(sessions: Any, handler: Any, event: dict[str, Any]) -> Any:
    async with sessions() as session, session.begin():
        return await handler(session, event)


async def messages(sessions: Any, kind: str) -> list[Message]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(Message)
                .where(Message.kind == kind)
                .order_by(Message.created_at, Message.recipient)
            )
        )


def received(inbox: Any) -> list[tuple[list[str], EmailMessage]]:
    mails = [(to, message_from_bytes(raw, policy=policy.default)) for _, to, raw in inbox.received]
    return sorted(mails, key=lambda m: (str(m[1]["Subject"]), m[0]))


def text_of(mail: EmailMessage) -> str:
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


@pytest.fixture
async def templates(sessions: Any) -> None:
    async with sessions() as s, s.begin():
        await install_defaults(s)


async def know_vendor(sessions: Any, **payload: Any) -> uuid.UUID:
    vendor_id = uuid.uuid4()
    async with sessions() as s, s.begin():
        await facts.apply_vendor_event(
            s,
            ev(
                {
                    "vendorId": str(vendor_id),
                    "status": "active",
                    "compliant": True,
                    **payload,
                }
            ),
        )
    return vendor_id


async def know_charter(sessions: Any, charter_id: uuid.UUID, **payload: Any) -> None:
    async with sessions() as s, s.begin():
        await facts.apply_charter_event(
            s,
            ev(
                {
                    "charterId": str(charter_id),
                    "reference": "CH-2026-000321",
                    "status": "booked",
                    "clientId": str(uuid.uuid4()),
                    "pickupAt": (datetime.now(UTC) + timedelta(days=20)).isoformat(),
                    "pickupTimeZone": "America/Chicago",
                    "pickupAddress": "FedExForum, Memphis, TN",
                    "pickupLatitude": str(MEMPHIS[0]),
                    "pickupLongitude": str(MEMPHIS[1]),
                    "passengerCount": 40,
                    **payload,
                }
            ),
        )


# -- certification alerts -----------------------------------------------------------------------


async def test_certification_alerts_reach_the_contacts_and_the_staff_desk_over_smtp(
    sessions, settings, smtp, templates, monkeypatch
) -> None:
    inbox, port = smtp
    settings_with(monkeypatch, settings, compliance_alert_staff_email=STAFF)
    await vendor_with(sessions, "Acme Coaches", {"dot": 7, "insurance": -1})
    await run_compliance_job(sessions)
    alerts = await events_of(sessions, vendors_outbox, CERTIFICATION_ALERT)
    assert len(alerts) == 2

    for alert in alerts:
        await handle(sessions, vendor_messages.on_certification_alert, alert)
        await handle(sessions, vendor_messages.on_certification_alert, alert)  # redelivered
    config = mail_settings(settings, port)
    sent = await deliver_due(sessions, channels_from(config), config)

    assert sent == 6  # two alerts, three addresses each: decided once per event
    mails = received(inbox)
    assert [to for to, _ in mails] == [
        ["compliance-desk@athena.example"],
        ["office@acme.example"],
        ["pat@acme.example"],
    ] * 2
    dot, insurance = mails[0][1], mails[3][1]
    assert dot["Subject"] == "[Athena] DOT certification DOT-42 expires in 7 days"
    assert insurance["Subject"].startswith(
        "[Athena] Insurance certification INSURANCE-42 expired on "
    )
    assert "Hello Acme Coaches" in text_of(dot)
    assert "suspended" in text_of(insurance)
    assert "suspended" not in text_of(dot)
    rows = await messages(sessions, "vendor_compliance_alert")
    assert {r.vendor_id for r in rows} == {uuid.UUID(alerts[0]["payload"]["vendorId"])}
    assert {r.status for r in rows} == {"sent"}


# -- cancellations ------------------------------------------------------------------------------


async def test_a_cancelled_assignment_is_mailed_with_the_pickup_in_its_zone(
    sessions, settings, smtp, templates
) -> None:
    inbox, port = smtp
    vendor_id = await vendor_with(sessions, "Delta Coaches", {})
    charter_id = uuid.uuid4()
    released = VendorAssignment(
        id=uuid.uuid4(),
        charter_id=charter_id,
        charter_vehicle_id=uuid.uuid4(),
        vendor_id=vendor_id,
        amount=Decimal("900.00"),
        status="cancelled",
    )
    async with sessions() as s, s.begin():
        await cancellation_alerts.announce(
            s,
            [released],
            {
                "reference": "CH-2026-000042",
                "pickupAt": "2026-12-05T15:00:00+00:00",
                "pickupTimeZone": "America/Chicago",
                "pickupAddress": "FedExForum, Memphis, TN",
                "cancellationReason": "Game postponed",
            },
        )
    [event] = await events_of(sessions, vendors_outbox, cancellation_alerts.TOPIC)

    await handle(sessions, vendor_messages.on_assignment_cancelled, event)
    await handle(sessions, vendor_messages.on_assignment_cancelled, event)
    config = mail_settings(settings, port)
    await deliver_due(sessions, channels_from(config), config)

    mails = received(inbox)
    assert [to for to, _ in mails] == [["office@delta.example"], ["pat@delta.example"]]
    mail = mails[0][1]
    # 15:00 UTC is 9:00 AM in Memphis (CST): the pickup's own time
    assert mail["Subject"] == "[Athena] Cancelled: CH-2026-000042 on Dec 5, 2026, 9:00 AM"
    body = text_of(mail)
    assert "Hello Delta Coaches" in body
    assert "Charter CH-2026-000042 has been cancelled" in body
    assert "Pickup: FedExForum, Memphis, TN" in body
    assert "Reason: Game postponed" in body
    assert "(America/Chicago)" in body


# -- recovery alerts ----------------------------------------------------------------------------


async def test_each_vendor_vendors_alerted_is_mailed_once_and_the_declined_one_never(
    sessions, settings, smtp, templates
) -> None:
    inbox, port = smtp
    field = await the_field(sessions)
    payload = announcement(field["declined"])
    async with sessions() as s, s.begin():
        alerted = await recovery_alerts.alert_vendors(
            s, payload, required=REQUIRED, today=date.today()
        )
    events = await events_of(sessions, vendors_outbox, recovery_alerts.ALERT_TOPIC)
    assert [e["payload"]["vendorId"] for e in events] == [str(v) for v in alerted]

    for event in events:
        await handle(sessions, vendor_messages.on_recovery_alert, event)
        await handle(sessions, vendor_messages.on_recovery_alert, event)
    config = mail_settings(settings, port)
    await deliver_due(sessions, channels_from(config), config)

    mails = received(inbox)
    assert sorted(to[0] for to, _ in mails) == [
        "office@arlington.example",
        "office@fortworth.example",
        "pat@arlington.example",
        "pat@fortworth.example",
    ]
    assert all(m["Subject"].startswith("[Athena] Recovery: CH-2026-000777, ") for _, m in mails)
    body = text_of(mails[0][1])
    assert "Pickup: 1 Main St, Dallas" in body
    assert "Vehicle: Motorcoach, 56 seats" in body
    assert "Distance from your base:" in body
    rows = await messages(sessions, "vendor_recovery_alert")
    assert {r.vendor_id for r in rows} == {field["arlington"], field["fort worth"]}


# -- new jobs -----------------------------------------------------------------------------------


async def test_an_offered_job_is_mailed_to_the_vendor_once(sessions, templates) -> None:
    vendor_id = await know_vendor(sessions, name="Heartland Motorcoach", email="jobs@heart.example")
    charter_id = uuid.uuid4()
    await know_charter(sessions, charter_id)
    offer = {
        "assignmentId": str(uuid.uuid4()),
        "charterId": str(charter_id),
        "charterVehicleId": str(uuid.uuid4()),
        "vendorId": str(vendor_id),
        "status": "offered",
        "amount": "900.00",
        "capacity": 56,
    }
    event = ev(offer)

    await handle(sessions, vendor_messages.on_assignment_changed, event)
    await handle(sessions, vendor_messages.on_assignment_changed, event)
    await handle(
        sessions, vendor_messages.on_assignment_changed, ev({**offer, "status": "confirmed"})
    )

    [message] = await messages(sessions, "vendor_new_job")
    assert (message.recipient, message.vendor_id, message.charter_id) == (
        "jobs@heart.example",
        vendor_id,
        charter_id,
    )
    assert message.status == "queued"
    assert message.variables["vendor_name"] == "Heartland Motorcoach"
    assert message.variables["charter_reference"] == "CH-2026-000321"
    assert message.variables["pickup_time_zone"] == "America/Chicago"
    assert message.variables["vehicle_description"] == "56-seat vehicle"
    assert str(message.subject).startswith("[Athena] New job CH-2026-000321: ")


async def test_a_vendor_not_known_yet_gets_nothing_decided(sessions, templates) -> None:
    event = ev({"vendorId": str(uuid.uuid4()), "status": "offered", "charterId": None})

    assert await handle(sessions, vendor_messages.on_assignment_changed, event) == []


# -- drivers ------------------------------------------------------------------------------------


async def test_the_driver_charters_assigns_hears_of_the_trip_in_the_pickup_zone(
    sessions, staff, vehicle_type, templates
) -> None:
    vtype = await vehicle_type(capacity=56)
    data = {
        "clientId": await register_client(staff),
        "tripType": "ONE_WAY",
        "passengerCount": 40,
        "pickupLocal": future_local(20, 9),
        "pickupTimeZone": "America/Denver",
        "stops": [
            {"type": "PICKUP", "address": "1701 Wynkoop St, Denver"},
            {"type": "DROPOFF", "address": "Red Rocks Amphitheatre"},
        ],
        "vehicles": [{"vehicleTypeId": vtype["id"], "cost": "900.00"}],
    }
    charter = (await staff(CREATE_CHARTER, {"input": data})).ok()["createCharter"]["charter"]
    driver = await fleet_driver(staff)
    vehicle = await fleet_vehicle(staff, vtype["id"])
    cv = charter["vehicles"][0]["id"]
    assigned = await staff(ASSIGN, {"cv": cv, "vehicle": vehicle["id"], "driver": driver["id"]})
    assert assigned.ok()["assignCharterVehicle"]["userErrors"] == []
    [event] = await events_of(sessions, charters_outbox, DRIVER_ASSIGNED)
    user_id = uuid.UUID(event["payload"]["driverUserId"])
    async with sessions() as s, s.begin():
        await facts.apply_user_event(
            s,
            ev(
                {
                    "userId": str(user_id),
                    "email": "dana.driver@athena.example",
                    "name": "Dana Driver",
                    "roles": ["driver"],
                    "active": True,
                }
            ),
        )
        # The driver opted in to texts: the trip goes by SMS too.
        owner = Viewer(user_id=user_id, roles=frozenset({Role.DRIVER}))
        await set_user_preferences(
            s, user_id, {"sms_opt_in": True, "sms_phone": "+13035550123"}, owner
        )

    await handle(sessions, vendor_messages.on_driver_assigned, event)
    await handle(sessions, vendor_messages.on_driver_assigned, event)

    rows = await messages(sessions, "driver_trip_assigned")
    assert sorted((r.channel, r.recipient, r.status) for r in rows) == [
        ("email", "dana.driver@athena.example", "queued"),
        ("sms", "+13035550123", "queued"),
    ]
    email = next(r for r in rows if r.channel == "email")
    assert email.recipient_user_id == user_id
    assert email.variables["pickup_time_zone"] == "America/Denver"
    assert email.variables["driver_name"] == "Dana Driver"
    assert email.variables["charter_reference"] == charter["reference"]
    assert "9:00" in str(email.subject)  # 9 AM where the trip starts, whoever reads it
    assert "(America/Denver)" in str(email.body_text)
    assert f"{vehicle['plate']} (56 seats)" in str(email.body_text)


async def test_a_driver_who_switched_e_mail_off_gets_no_mail(sessions, templates) -> None:
    user_id = uuid.uuid4()
    async with sessions() as s, s.begin():
        await facts.apply_user_event(
            s, ev({"userId": str(user_id), "email": "quiet@athena.example", "roles": ["driver"]})
        )
        owner = Viewer(user_id=user_id, roles=frozenset({Role.DRIVER}))
        await set_user_preferences(s, user_id, {"email": False}, owner)
    event = ev(
        {
            "charterId": str(uuid.uuid4()),
            "driverUserId": str(user_id),
            "reference": "CH-2026-000999",
            "pickupAt": "2026-12-20T16:00:00+00:00",
            "pickupTimeZone": "America/Denver",
        }
    )

    await handle(sessions, vendor_messages.on_driver_assigned, event)

    [row] = await messages(sessions, "driver_trip_assigned")
    assert (row.status, row.channel) == ("suppressed", "email")


# -- bid opportunities --------------------------------------------------------------------------


async def test_a_far_charter_is_offered_once_to_each_able_vendor_near_its_pickup(
    sessions, templates
) -> None:
    near = {"latitude": 35.10, "longitude": -89.95, "serviceRadiusMiles": "100"}
    able = await know_vendor(sessions, name="Bluff City Coach", email="bids@bluff.example", **near)
    await know_vendor(
        sessions, name="Lapsed Lines", email="x@lapsed.example", **{**near, "compliant": False}
    )
    await know_vendor(
        sessions, name="Paused Bus", email="x@paused.example", **{**near, "status": "suspended"}
    )
    await know_vendor(  # Nashville: 200 miles off, 50 miles of service area
        sessions,
        name="Music City",
        email="x@music.example",
        latitude=36.16,
        longitude=-86.78,
        serviceRadiusMiles="50",
    )
    charter_id = uuid.uuid4()
    group, handler = notifications_app.PROJECTIONS[facts.CHARTER_CHANGED]
    payload = {
        "charterId": str(charter_id),
        "reference": "CH-2026-000555",
        "status": "quote",
        "clientId": str(uuid.uuid4()),
        "pickupAt": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "pickupTimeZone": "America/Chicago",
        "pickupAddress": "FedExForum, Memphis, TN",
        "pickupLatitude": str(MEMPHIS[0]),
        "pickupLongitude": str(MEMPHIS[1]),
        "passengerCount": 48,
        "quoteRevision": 1,
        "isTemplate": False,
    }

    # The app's one handler of the stream: the client messages, then the bids (chained).
    await handle(sessions, handler, ev(payload))
    await handle(sessions, handler, ev({**payload, "status": "booked"}))  # booked: once still

    assert group == "notifications.charters"
    [offer] = await messages(sessions, "vendor_bid_opportunity")
    assert (offer.recipient, offer.vendor_id, offer.charter_id) == (
        "bids@bluff.example",
        able,
        charter_id,
    )
    assert offer.idempotency_key == f"bid_opportunity:{charter_id}:{able}"
    assert 400 < int(offer.variables["miles_from_hub"]) < 440
    assert offer.variables["pickup_time_zone"] == "America/Chicago"
    assert offer.variables["passenger_count"] == 48
    assert str(offer.subject).startswith("[Athena] Open for bids: CH-2026-000555, ")


async def test_a_charter_near_the_hub_is_offered_to_nobody(sessions, templates) -> None:
    await know_vendor(
        sessions,
        name="Dallas Coach",
        email="bids@dallas.example",
        latitude=32.78,
        longitude=-96.80,
        serviceRadiusMiles="100",
    )
    charter_id = uuid.uuid4()
    await know_charter(sessions, charter_id, pickupLatitude="32.7767", pickupLongitude="-96.7970")

    await handle(sessions, vendor_messages.on_charter_changed, ev({"charterId": str(charter_id)}))

    assert await messages(sessions, "vendor_bid_opportunity") == []
