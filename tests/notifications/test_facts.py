"""Notifications' projections of other subgraphs' facts: idempotent, and never older over newer."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from subgraphs.identity.models import User
from subgraphs.identity.service.events import user_facts
from subgraphs.notifications.models import (
    CharterFact,
    ClientFact,
    InstallmentFact,
    UserFact,
    VendorFact,
)
from subgraphs.notifications.service import facts
from subgraphs.pricing.models import QuoteCalculation
from subgraphs.pricing.service.quotes import accepted_payload

T0 = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


def ev(payload: dict[str, Any], at: datetime = T0) -> dict[str, Any]:
    return {"id": f"test:{uuid.uuid4()}", "payload": payload, "occurredAt": at.isoformat()}


def charter_payload(charter_id: uuid.UUID, client_id: uuid.UUID, **over: Any) -> dict[str, Any]:
    """The shape of `charters.service.events.charter_changed`'s payload."""
    return {
        "charterId": str(charter_id),
        "reference": "CH-2026-000123",
        "status": "quote",
        "pickupAt": "2026-12-20T15:30:00+00:00",
        "pickupTimeZone": "America/Chicago",
        "quoteRevision": 1,
        "clientId": str(client_id),
        "salesAgentId": None,
        "isTemplate": False,
        "pickupAddress": "233 S Wacker Dr, Chicago, IL",
        "pickupLatitude": "41.8789",
        "pickupLongitude": "-87.6359",
        "version": 1,
        "passengerCount": 48,
        "tripType": "one_way",
        "vehicles": [],
        "vehicleCost": None,
        "cancelledAt": None,
        "cancellationFee": None,
        "cancellationReason": None,
        "changes": ["created"],
        **over,
    }


async def test_a_client_is_kept_once_and_an_older_event_changes_nothing(sessions) -> None:
    client_id = uuid.uuid4()
    payload = {
        "clientId": str(client_id),
        "action": "created",
        "name": "Lakeside Tours",
        "type": "corporate",
        "status": "active",
        "email": "trips@lakeside.example",
    }
    event = ev(payload)
    async with sessions() as s, s.begin():
        assert await facts.apply_client_event(s, event)
        assert await facts.apply_client_event(s, event)  # the same again: the same row
    older = ev({**payload, "name": "Old Name", "email": "old@lakeside.example"}, T0 - timedelta(1))
    async with sessions() as s, s.begin():
        assert not await facts.apply_client_event(s, older)
    async with sessions() as s:
        fact = await s.get(ClientFact, client_id)
        assert fact is not None
        assert (fact.name, fact.email, fact.status, fact.locale) == (
            "Lakeside Tours",
            "trips@lakeside.example",
            "active",
            "en",
        )
    newer = ev({**payload, "email": "new@lakeside.example"}, T0 + timedelta(1))
    async with sessions() as s, s.begin():
        assert await facts.apply_client_event(s, newer)
    async with sessions() as s:
        assert (await s.get(ClientFact, client_id)).email == "new@lakeside.example"  # type: ignore[union-attr]


async def test_a_user_from_identitys_own_payload(sessions) -> None:
    user = User(
        id=uuid.uuid4(),
        email="dana@lakeside.example",
        name="Dana Whitfield",
        roles=["client"],
        status="active",
        client_id=uuid.uuid4(),
    )
    async with sessions() as s, s.begin():
        assert await facts.apply_user_event(s, ev(user_facts(user)))
    async with sessions() as s:
        fact = await s.get(UserFact, user.id)
        assert fact is not None
        assert (fact.email, fact.name, fact.roles, fact.client_id, fact.status) == (
            "dana@lakeside.example",
            "Dana Whitfield",
            ["client"],
            user.client_id,
            "active",
        )


async def test_a_charter_keeps_its_pickup_zone_revision_and_its_accepted_total(sessions) -> None:
    charter_id, client_id = uuid.uuid4(), uuid.uuid4()
    async with sessions() as s, s.begin():
        assert await facts.apply_charter_event(s, ev(charter_payload(charter_id, client_id)))
    accepted = QuoteCalculation(
        id=uuid.uuid4(),
        charter_id=charter_id,
        client_id=client_id,
        subtotal=Decimal("1200.00"),
        discount=Decimal("0.00"),
        tax=Decimal("34.50"),
        total=Decimal("1234.50"),
        lines=[],
    )
    async with sessions() as s, s.begin():
        assert await facts.apply_quote_accepted(s, ev(accepted_payload(accepted)))
        assert not await facts.apply_quote_accepted(s, ev(accepted_payload(accepted)))
    later = charter_payload(
        charter_id, client_id, status="booked", quoteRevision=2, changes=["status"]
    )
    async with sessions() as s, s.begin():
        assert await facts.apply_charter_event(s, ev(later, T0 + timedelta(hours=1)))
        # an older event arriving late changes nothing
        assert not await facts.apply_charter_event(
            s, ev(charter_payload(charter_id, client_id), T0 - timedelta(hours=1))
        )
    async with sessions() as s:
        fact = await s.get(CharterFact, charter_id)
        assert fact is not None
        assert fact.status == "booked"
        assert fact.total == Decimal("1234.50")  # the charter's own event kept pricing's total
        assert fact.pickup_time_zone == "America/Chicago"
        assert fact.pickup_at == datetime(2026, 12, 20, 15, 30, tzinfo=UTC)
        assert fact.quote_revision == 2
        assert fact.pickup_address == "233 S Wacker Dr, Chicago, IL"
        assert fact.pickup_latitude == 41.8789
        assert fact.passenger_count == 48
        assert fact.reference == "CH-2026-000123"
        assert fact.data["tripType"] == "one_way"


async def test_an_accepted_total_before_the_charter_is_known_waits_for_it(sessions) -> None:
    charter_id, client_id = uuid.uuid4(), uuid.uuid4()
    async with sessions() as s, s.begin():
        await facts.apply_quote_accepted(
            s, ev({"charterId": str(charter_id), "clientId": str(client_id), "total": "900.00"})
        )
        await facts.apply_quote_priced(
            s,
            ev(
                {
                    "charterId": str(charter_id),
                    "total": "880.00",
                    "calculatedAt": T0.isoformat(),
                }
            ),
        )
    async with sessions() as s, s.begin():
        # charters' event, whatever its time, wins over the placeholder
        assert await facts.apply_charter_event(
            s, ev(charter_payload(charter_id, client_id, status="booked"), T0 - timedelta(days=30))
        )
    async with sessions() as s:
        fact = await s.get(CharterFact, charter_id)
        assert fact is not None
        assert (fact.status, fact.total, fact.data["quotedTotal"]) == (
            "booked",
            Decimal("900.00"),
            "880.00",
        )


async def test_an_older_price_calculation_never_replaces_a_newer_one(sessions) -> None:
    charter_id = uuid.uuid4()

    def priced(total: str, at: datetime) -> dict[str, Any]:
        return ev({"charterId": str(charter_id), "total": total, "calculatedAt": at.isoformat()})

    async with sessions() as s, s.begin():
        assert await facts.apply_quote_priced(s, priced("1000.00", T0))
        assert not await facts.apply_quote_priced(s, priced("950.00", T0 - timedelta(hours=1)))
        assert await facts.apply_quote_priced(s, priced("1100.00", T0 + timedelta(hours=1)))
    async with sessions() as s:
        assert (await s.get(CharterFact, charter_id)).data["quotedTotal"] == "1100.00"  # type: ignore[union-attr]


async def test_a_vendor_is_kept(sessions) -> None:
    vendor_id = uuid.uuid4()
    payload = {
        "vendorId": str(vendor_id),
        "name": "Lakeshore Coach Lines",
        "status": "active",
        "paymentTerms": "net_30",
        "email": "dispatch@lakeshore.example",
        "address": {"line1": "1 Main", "city": "Chicago", "region": "IL", "postalCode": "60601"},
    }
    async with sessions() as s, s.begin():
        assert await facts.apply_vendor_event(s, ev(payload))
        assert not await facts.apply_vendor_event(
            s, ev({**payload, "name": "Old"}, T0 - timedelta(1))
        )
    async with sessions() as s:
        fact = await s.get(VendorFact, vendor_id)
        assert fact is not None
        assert (fact.name, fact.email, fact.status) == (
            "Lakeshore Coach Lines",
            "dispatch@lakeshore.example",
            "active",
        )


def instalment(installment_id: uuid.UUID, charter_id: uuid.UUID, outstanding: str, at: datetime):
    return ev(
        {
            "installmentId": str(installment_id),
            "charterId": str(charter_id),
            "clientId": str(uuid.uuid4()),
            "kind": "deposit",
            "sequence": 1,
            "amount": "300.00",
            "outstanding": outstanding,
            "dueOn": "2026-12-07",
            "removed": False,
            "occurredAt": at.isoformat(),
        },
        at - timedelta(seconds=5),  # the outbox row's time: its transaction's start
    )


async def test_an_instalment_follows_payments_newest_first_and_a_removed_one_wants_nothing(
    sessions,
) -> None:
    installment_id, charter_id = uuid.uuid4(), uuid.uuid4()
    async with sessions() as s, s.begin():
        assert await facts.apply_installment_event(
            s, instalment(installment_id, charter_id, "300.00", T0)
        )
        assert await facts.apply_installment_event(
            s, instalment(installment_id, charter_id, "100.00", T0 + timedelta(minutes=1))
        )
        # the first again (a redelivery) is older than what is held
        assert not await facts.apply_installment_event(
            s, instalment(installment_id, charter_id, "300.00", T0)
        )
    async with sessions() as s:
        fact = await s.get(InstallmentFact, installment_id)
        assert fact is not None
        assert (fact.kind, fact.amount, fact.outstanding, fact.due_on) == (
            "deposit",
            Decimal("300.00"),
            Decimal("100.00"),
            date(2026, 12, 7),
        )
    removed = ev(
        {
            "installmentId": str(installment_id),
            "charterId": str(charter_id),
            "outstanding": "0.00",
            "removed": True,
            "occurredAt": (T0 + timedelta(minutes=2)).isoformat(),
        }
    )
    async with sessions() as s, s.begin():
        assert await facts.apply_installment_event(s, removed)
        # a removal of one never known writes nothing
        assert not await facts.apply_installment_event(
            s,
            ev({**removed["payload"], "installmentId": str(uuid.uuid4())}),
        )
    async with sessions() as s:
        assert (await s.get(InstallmentFact, installment_id)).outstanding == Decimal("0.00")  # type: ignore[union-attr]
