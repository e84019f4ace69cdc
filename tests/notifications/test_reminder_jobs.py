"""The reminder jobs: deposits and balances 7 and 2 days ahead, trips the day before (issue 14 §1).

Run at chosen moments; a second run (a retry, a second replica) decides nothing new.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from protocol.viewer import ANONYMOUS
from subgraphs.kit.settings import get_settings
from subgraphs.notifications.jobs import (
    ATTACHMENTS_PURGE,
    PAYMENT_REMINDERS,
    TRIP_REMINDERS,
    jobs,
    run_payment_reminders,
    run_trip_reminders,
)
from subgraphs.notifications.models import Message
from subgraphs.notifications.service import facts
from subgraphs.notifications.service.preferences import set_client_preferences
from subgraphs.notifications.service.templates import install_defaults

EMAIL = "trips@lakeside.example"
TODAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def ev(payload: dict[str, Any], at: datetime = NOW) -> dict[str, Any]:
    return {"id": f"test:{uuid.uuid4()}", "payload": payload, "occurredAt": at.isoformat()}


@pytest.fixture
async def client(sessions) -> uuid.UUID:
    client_id = uuid.uuid4()
    async with sessions() as s, s.begin():
        await install_defaults(s)
        await facts.apply_client_event(
            s,
            ev({"clientId": str(client_id), "name": "Lakeside Tours", "email": EMAIL}),
        )
    return client_id


async def charter(
    sessions,
    client_id: uuid.UUID,
    *,
    status: str = "booked",
    pickup_at: datetime = NOW + timedelta(days=30),
    zone: str = "America/Chicago",
) -> uuid.UUID:
    charter_id = uuid.uuid4()
    async with sessions() as s, s.begin():
        await facts.apply_charter_event(
            s,
            ev(
                {
                    "charterId": str(charter_id),
                    "reference": f"CH-2026-{charter_id.int % 1000000:06d}",
                    "status": status,
                    "pickupAt": pickup_at.isoformat(),
                    "pickupTimeZone": zone,
                    "clientId": str(client_id),
                    "pickupAddress": "233 S Wacker Dr, Chicago, IL",
                    "passengerCount": 40,
                }
            ),
        )
    return charter_id


async def instalment(
    sessions,
    charter_id: uuid.UUID,
    client_id: uuid.UUID,
    kind: str,
    due_on: date,
    outstanding: str = "300.00",
) -> uuid.UUID:
    installment_id = uuid.uuid4()
    async with sessions() as s, s.begin():
        await facts.apply_installment_event(
            s,
            ev(
                {
                    "installmentId": str(installment_id),
                    "charterId": str(charter_id),
                    "clientId": str(client_id),
                    "kind": kind,
                    "sequence": 1,
                    "amount": "300.00",
                    "outstanding": outstanding,
                    "dueOn": due_on.isoformat(),
                    "removed": False,
                    "occurredAt": NOW.isoformat(),
                }
            ),
        )
    return installment_id


async def messages(sessions) -> list[Message]:
    async with sessions() as s:
        return list(await s.scalars(select(Message).order_by(Message.idempotency_key)))


async def test_open_instalments_due_in_7_and_2_days_are_reminded_once(sessions, client) -> None:
    booked = await charter(sessions, client)
    deposit = await instalment(sessions, booked, client, "deposit", TODAY + timedelta(days=7))
    balance = await instalment(sessions, booked, client, "balance", TODAY + timedelta(days=2))
    # not reminded: due in 5 days, already paid, or its charter cancelled
    await instalment(sessions, booked, client, "balance", TODAY + timedelta(days=5))
    await instalment(sessions, booked, client, "balance", TODAY + timedelta(days=2), "0.00")
    cancelled = await charter(sessions, client, status="cancelled")
    await instalment(sessions, cancelled, client, "deposit", TODAY + timedelta(days=7))

    assert await run_payment_reminders(sessions, TODAY, NOW) == 2
    assert await run_payment_reminders(sessions, TODAY, NOW) == 0  # a rerun, a second replica
    found = {m.idempotency_key: m for m in await messages(sessions)}
    assert set(found) == {f"deposit_reminder:{deposit}:7", f"balance_reminder:{balance}:2"}
    reminder = found[f"deposit_reminder:{deposit}:7"]
    assert (reminder.recipient, reminder.status, reminder.charter_id) == (EMAIL, "queued", booked)
    assert reminder.variables["amount_due"] == {"amount": "300.00", "currency": "USD"}
    assert reminder.variables["days_left"] == 7
    assert reminder.variables["due_on"] == (TODAY + timedelta(days=7)).isoformat()
    assert found[f"balance_reminder:{balance}:2"].variables["days_left"] == 2


async def test_a_client_who_turned_reminders_off_gets_them_suppressed(sessions, client) -> None:
    async with sessions() as s, s.begin():
        await set_client_preferences(s, client, {"reminders": False}, ANONYMOUS)
    booked = await charter(sessions, client)
    await instalment(sessions, booked, client, "deposit", TODAY + timedelta(days=7))
    assert await run_payment_reminders(sessions, TODAY, NOW) == 1
    [message] = await messages(sessions)
    assert (message.kind, message.status) == ("deposit_reminder", "suppressed")


async def test_an_sms_opt_in_adds_a_text_with_its_own_key(sessions, client) -> None:
    async with sessions() as s, s.begin():
        await set_client_preferences(
            s, client, {"sms_opt_in": True, "sms_phone": "+13125550100"}, ANONYMOUS
        )
    booked = await charter(sessions, client)
    deposit = await instalment(sessions, booked, client, "deposit", TODAY + timedelta(days=2))
    assert await run_payment_reminders(sessions, TODAY, NOW) == 2
    channels = {(m.channel, m.recipient, m.idempotency_key) for m in await messages(sessions)}
    assert channels == {
        ("email", EMAIL, f"deposit_reminder:{deposit}:2"),
        ("sms", "+13125550100", f"deposit_reminder:{deposit}:2:sms"),
    }


async def test_a_trip_is_reminded_the_day_before_where_it_starts(sessions, client) -> None:
    # 2026-07-03 20:00 UTC is 15:00 in Chicago (July 3) and 05:00 in Tokyo (July 4).
    now = datetime(2026, 7, 3, 20, 0, tzinfo=UTC)
    tomorrow_morning = await charter(
        sessions, client, pickup_at=datetime(2026, 7, 4, 14, 30, tzinfo=UTC)
    )
    # 03:00 UTC on July 5 is 22:00 on July 4 in Chicago: still tomorrow there
    tomorrow_night = await charter(
        sessions, client, pickup_at=datetime(2026, 7, 5, 3, 0, tzinfo=UTC)
    )
    # not tomorrow where they start: the day after in Chicago; today in Tokyo
    await charter(sessions, client, pickup_at=datetime(2026, 7, 5, 14, 30, tzinfo=UTC))
    await charter(
        sessions, client, pickup_at=datetime(2026, 7, 4, 14, 30, tzinfo=UTC), zone="Asia/Tokyo"
    )
    # not a trip any more
    await charter(
        sessions, client, status="cancelled", pickup_at=datetime(2026, 7, 4, 15, 0, tzinfo=UTC)
    )

    assert await run_trip_reminders(sessions, now) == 2
    assert await run_trip_reminders(sessions, now + timedelta(hours=1)) == 0
    found = {m.idempotency_key: m for m in await messages(sessions)}
    assert set(found) == {f"trip_reminder:{tomorrow_morning}", f"trip_reminder:{tomorrow_night}"}
    reminder = found[f"trip_reminder:{tomorrow_morning}"]
    assert reminder.variables["pickup_time_zone"] == "America/Chicago"
    assert reminder.variables["pickup_at"] == "2026-07-04T14:30:00+00:00"
    assert "9:30" in (reminder.body_text or "")  # 14:30 UTC is 9:30 AM in Chicago (CDT)


async def test_a_trip_reminder_waits_for_the_morning_of_the_day_before(sessions, client) -> None:
    # 06:00 UTC is 01:00 in Chicago: the trip is tomorrow, but nobody is mailed at 1 AM
    early = datetime(2026, 7, 3, 6, 0, tzinfo=UTC)
    trip = await charter(sessions, client, pickup_at=datetime(2026, 7, 4, 14, 30, tzinfo=UTC))
    assert await run_trip_reminders(sessions, early) == 0
    assert await run_trip_reminders(sessions, early + timedelta(hours=9)) == 1  # 10:00 there
    [message] = await messages(sessions)
    assert message.idempotency_key == f"trip_reminder:{trip}"


def test_the_jobs_are_declared_with_their_schedules() -> None:
    declared = {job.name: job.cron for job in jobs(get_settings())}
    assert declared == {
        PAYMENT_REMINDERS: get_settings().notifications_payment_reminders_cron,
        TRIP_REMINDERS: get_settings().notifications_trip_reminders_cron,
        ATTACHMENTS_PURGE: get_settings().notifications_attachments_purge_cron,
    }
