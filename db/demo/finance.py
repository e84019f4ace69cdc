"""Finance demo data: accepted prices, plans, invoices in every status and aging bucket, payments.

The booked demo charters are priced by pricing's own engine and price list
(`quotes.quote_many`, which keeps the quote a booked charter owes and
announces it), so `charter { quote { total } balance { owed } }` agree.
Finance learns its facts (clients, charters, accepted prices) through its
own event handlers, fed the payloads its sources announce: the apps are not
running while the demo loads.

Vendors' facts (vendors, their logins, assignments with agreed amounts)
come from vendors' own outbox, replayed into finance's handlers in order:
the events the running consumers will deliver again (the handlers are
idempotent). The confirmed assignments are billed, one bill per status.

Invoices, payments, bills and a refund go through finance's services as an
accounting user (bills approved by a manager).
Two things the services cannot do are done directly and said so below:
they date everything today, so some sent invoices are moved into the past
(one per aging bucket); and the overdue ones are then marked overdue by
the invoice transition table. Three booked charters keep their deposits
unpaid and uninvoiced, so "one check pays three deposits" can be shown.
Runs once: it skips everything when finance holds an invoice.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from db.demo.charters import DEMO_CLIENTS, _identity_users
from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.charters.models import Charter, CharterVehicle, Stop, VehicleType
from subgraphs.finance.models import (
    AssignmentFact,
    Instalment,
    Invoice,
    Payment,
    PaymentApplication,
    PaymentPlan,
    VendorBill,
    VendorFact,
)
from subgraphs.finance.service import (
    applications,
    bills,
    facts,
    invoices,
    payments,
    refunds,
    vendor_facts,
)
from subgraphs.finance.service.payment_provider import ManualProvider
from subgraphs.finance.states import INVOICE
from subgraphs.kit.settings import get_settings
from subgraphs.pricing.engine.inputs import VehicleFacts
from subgraphs.pricing.service import quotes
from subgraphs.sales.models import Client
from subgraphs.vendors.models import outbox as vendors_outbox

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

BOOKED = ("booked", "confirmed", "in_progress", "completed")
#: Vendors' events finance keeps, replayed from vendors' outbox.
VENDOR_EVENTS = {
    "vendors.vendor_changed": vendor_facts.apply_vendor_event,
    "vendors.vendor_user_linked": vendor_facts.apply_vendor_user_event,
    "vendors.assignment_changed": vendor_facts.apply_assignment_event,
}
#: What becomes of the demo's assignment bills, one each: (state, bill date days ago); one more
#: bill is entered by hand and disputed.
BILL_STATES = (
    ("received", 2),
    ("approved", 5),
    ("partially_paid", 12),
    ("paid", 20),
    ("overdue", 75),
)

#: The demo's sent invoices: (days past due, share paid). Negative days are not yet due;
#: together they give every status and put money in every aging bucket.
SCENARIOS = (
    (-10, 0),
    (20, 1),
    (-5, Decimal("0.5")),
    (12, 0),
    (44, Decimal("0.5")),
    (75, 0),
    (104, 0),
    (150, Decimal("0.25")),
)


def _event(payload: dict[str, Any], at: datetime) -> dict[str, Any]:
    return {"occurredAt": at.isoformat(), "payload": payload}


def _client_payload(client: Client) -> dict[str, Any]:
    """`sales.client_changed` as sales announces it (service/clients.announce)."""
    return {
        "clientId": str(client.id),
        "action": "created",
        "name": client.name,
        "type": client.client_type,
        "status": client.status,
        "salesAgentId": str(client.sales_agent_id) if client.sales_agent_id else None,
        "paymentTerms": client.payment_terms,
        "creditLimit": str(client.credit_limit) if client.credit_limit is not None else None,
        "taxExempt": client.tax_exempt,
        "billingAddress": {
            "line1": client.billing_line1,
            "line2": client.billing_line2,
            "city": client.billing_city,
            "region": client.billing_region,
            "postalCode": client.billing_postal_code,
            "country": client.billing_country,
        },
    }


def _charter_payload(charter: Charter, cost: Decimal | None) -> dict[str, Any]:
    """The part of `charters.charter_changed` finance keeps (service/facts.apply_charter_event)."""
    return {
        "charterId": str(charter.id),
        "reference": charter.reference,
        "status": charter.status,
        "pickupAt": charter.pickup_at.isoformat(),
        "clientId": str(charter.client_id),
        "salesAgentId": str(charter.sales_agent_id) if charter.sales_agent_id else None,
        "isTemplate": charter.is_template,
        "vehicleCost": str(cost) if cost is not None else None,
        "cancelledAt": charter.cancelled_at.isoformat() if charter.cancelled_at else None,
        "cancellationFee": str(charter.cancellation_fee)
        if charter.cancellation_fee is not None
        else None,
        "cancellationReason": charter.cancellation_reason,
    }


async def _pricing_facts(
    session: AsyncSession, charters: list[Charter]
) -> list[quotes.CharterFacts]:
    """Each booked charter as the router would hand it to pricing (its `@requires` facts)."""
    ids = [c.id for c in charters]
    vehicles: dict[uuid.UUID, dict[tuple[uuid.UUID, str], int]] = {}
    for charter_id, type_id, name in await session.execute(
        select(CharterVehicle.charter_id, VehicleType.id, VehicleType.name)
        .join(VehicleType, VehicleType.id == CharterVehicle.vehicle_type_id)
        .where(CharterVehicle.charter_id.in_(ids))
    ):
        counts = vehicles.setdefault(charter_id, {})
        counts[(type_id, name)] = counts.get((type_id, name), 0) + 1
    points: dict[uuid.UUID, list[tuple[float, float]]] = {}
    for charter_id, lat, lon in await session.execute(
        select(Stop.charter_id, Stop.latitude, Stop.longitude)
        .where(Stop.charter_id.in_(ids), Stop.latitude.is_not(None))
        .order_by(Stop.charter_id, Stop.position)
    ):
        points.setdefault(charter_id, []).append((float(lat), float(lon)))
    return [
        quotes.CharterFacts(
            charter_id=c.id,
            status=c.status,
            trip_type=c.trip_type,
            passengers=c.passenger_count,
            pickup_local=c.pickup_local,
            time_zone=c.pickup_time_zone,
            pickup_at=c.pickup_at,
            ends_at=c.ends_at,
            client_id=c.client_id,
            vehicles=tuple(
                VehicleFacts(type_id, name, count)
                for (type_id, name), count in sorted(vehicles.get(c.id, {}).items(), key=str)
            ),
            points=tuple(points.get(c.id, [])),
            entered_miles=c.estimated_miles,
            second_driver_requested=c.requires_second_driver,
        )
        for c in charters
    ]


def _mark_overdue(invoice: Invoice, today: date) -> None:
    if invoice.due_on < today and invoice.status in ("sent", "partially_paid"):
        INVOICE.check(invoice.status, "overdue")
        invoice.status = "overdue"


async def load(session: AsyncSession) -> int:
    if await session.scalar(select(func.count()).select_from(Invoice)):
        return 0
    settings = get_settings()
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo(settings.operator_time_zone)).date()
    users = await _identity_users(session, ["accounting@demo.athena"])
    accountant = Viewer(user_id=users["accounting@demo.athena"], roles=frozenset({Role.ACCOUNTING}))

    # What finance keeps of sales' clients and charters' charters.
    clients = list(
        await session.scalars(select(Client).where(Client.id.in_(list(DEMO_CLIENTS.values()))))
    )
    for client in clients:
        await facts.apply_client_event(session, _event(_client_payload(client), now))
    charters = list(
        await session.scalars(
            select(Charter).where(Charter.is_template.is_(False)).order_by(Charter.pickup_at)
        )
    )
    costs = dict(
        (
            await session.execute(
                select(CharterVehicle.charter_id, func.sum(CharterVehicle.cost)).group_by(
                    CharterVehicle.charter_id
                )
            )
        ).all()
    )
    for charter in charters:
        await facts.apply_charter_event(
            session, _event(_charter_payload(charter, costs.get(charter.id)), now)
        )

    # Pricing keeps (and announces) the quote each booked charter owes; finance plans it.
    booked = [c for c in charters if c.status in BOOKED]
    prices = await quotes.price_list(
        session, settings.pricing_road_factor, settings.pricing_tax_rate
    )
    shown = await quotes.quote_many(session, await _pricing_facts(session, booked), prices, now)
    # The client accepted the price when it booked (the charters demo dates its bookings).
    booked_at = {c.id: c.booked_at or now for c in booked}
    for charter_id, quote in shown.items():
        await facts.apply_quote_accepted(
            session,
            _event(quotes.accepted_payload(quote.calculation), booked_at.get(charter_id, now)),
        )
    await session.flush()
    planned = set(await session.scalars(select(PaymentPlan.charter_id)))

    # Three future booked charters of one client keep their deposits open, so one check
    # from that client can be shown paying the three.
    future: dict[uuid.UUID, list[Charter]] = {}
    for c in booked:
        if c.status == "booked" and c.pickup_at > now and c.id in planned:
            future.setdefault(c.client_id, []).append(c)
    most = max(future.values(), key=len, default=[])
    kept_open = {c.id for c in most[:3]}
    made = 0

    async def pay(client_id: uuid.UUID, amount: Decimal, method: str, **details: str) -> Any:
        return await payments.record(
            session,
            payments.PaymentInput(
                client_id=client_id,
                amount=amount,
                received_on=today,
                method=method,
                details=details,
                reference="Demo",
            ),
            accountant,
            today,
        )

    async def apply(payment: Any, charter_id: uuid.UUID, amount: Decimal, inv: Any = None) -> None:
        await applications.apply(
            session,
            applications.Application(
                payment_id=payment.id,
                charter_id=charter_id,
                amount=amount,
                idempotency_key=f"demo:{payment.id}:{charter_id}",
                invoice_id=inv.id if inv is not None else None,
            ),
            accountant,
        )

    # Confirmed, running and completed trips are invoiced: the first is voided, the last
    # stays a draft, the others follow SCENARIOS.
    done = [
        c
        for c in booked
        if c.status in ("completed", "in_progress", "confirmed") and c.id in planned
    ]
    for n, charter in enumerate(done):
        inv = await invoices.invoice_charter(session, charter.id, accountant, today)
        made += 1
        if n == len(done) - 1:
            continue  # the last stays a draft
        await invoices.send(session, inv.id, accountant)
        if n == 0:
            await invoices.void(session, inv.id, "Issued to the wrong client contact.", accountant)
            continue
        days_past_due, share = SCENARIOS[(n - 1) % len(SCENARIOS)]
        # The services date an invoice today; the demo moves it into the past.
        inv.issued_on = today - timedelta(days=days_past_due + 30)
        inv.due_on = today - timedelta(days=days_past_due)
        if share:
            amount = (inv.total * share).quantize(Decimal("0.01"))
            payment = await pay(inv.client_id, amount, "card" if share == 1 else "ach")
            await apply(payment, charter.id, amount, inv)
        await session.flush()
        await session.refresh(inv)
        _mark_overdue(inv, today)

    # Deposits: one check from a client pays the deposits of its other booked charters.
    by_client: dict[uuid.UUID, list[Charter]] = {}
    for charter in booked:
        if charter.status == "booked" and charter.id in planned - kept_open:
            by_client.setdefault(charter.client_id, []).append(charter)
    for n, (client_id, group) in enumerate(sorted(by_client.items(), key=lambda kv: str(kv[0]))):
        if n % 2:
            continue  # half the clients have paid no deposit yet
        deposits = [(c, await _deposit(session, c.id)) for c in group]
        total = sum((d for _, d in deposits), Decimal("0.00"))
        if total <= 0:
            continue
        check = await pay(client_id, total, "check", checkNumber=f"{1040 + n}", bank="First Demo")
        for charter, deposit in deposits:
            await apply(check, charter.id, deposit)
    await session.flush()

    # A card payment partly refunded (the trip lost a vehicle's amenities).
    card = await session.scalar(
        select(Payment).where(Payment.method == "card", Payment.kind == "payment").limit(1)
    )
    if card is not None:
        target = await session.scalar(
            select(PaymentApplication.charter_id).where(PaymentApplication.payment_id == card.id)
        )
        await refunds.refund(
            session,
            refunds.RefundInput(
                payment_id=card.id,
                charter_id=target,
                amount=Decimal("50.00"),
                reason="Wi-Fi did not work on the trip.",
                idempotency_key="demo-refund-1",
            ),
            accountant,
            today,
            ManualProvider(),
        )
    return made + len(planned) + await _vendor_bills(session, accountant, today)


async def _vendor_bills(session: AsyncSession, accountant: Viewer, today: date) -> int:
    """Vendors' facts as their outbox announced them; a bill per state from confirmed assignments."""
    rows = await session.execute(
        select(vendors_outbox.c.topic, vendors_outbox.c.payload, vendors_outbox.c.created_at)
        .where(vendors_outbox.c.topic.in_(list(VENDOR_EVENTS)))
        .order_by(vendors_outbox.c.id)
    )
    for topic, payload, created_at in rows:
        event = {"occurredAt": created_at.isoformat(), "payload": payload}
        await VENDOR_EVENTS[topic](session, event)
    await session.flush()
    users = await _identity_users(session, ["manager@demo.athena"])
    manager = Viewer(user_id=users["manager@demo.athena"], roles=frozenset({Role.MANAGER}))
    confirmed = list(
        await session.scalars(
            select(AssignmentFact.assignment_id)
            .where(AssignmentFact.status == "confirmed", AssignmentFact.amount.is_not(None))
            .order_by(AssignmentFact.assignment_id)
        )
    )
    for assignment_id, (state, days_ago) in zip(confirmed, BILL_STATES, strict=False):
        bill = await bills.bill_assignment(
            session,
            assignment_id,
            accountant,
            today,
            bill_date=today - timedelta(days=days_ago),
            vendor_reference=f"V-{days_ago:03d}",
        )
        if state == "received":
            continue
        await bills.approve(session, bill.id, manager)
        if state in ("partially_paid", "paid"):
            share = bill.total if state == "paid" else (bill.total / 2).quantize(Decimal("0.01"))
            await bills.record_payment(
                session,
                bills.BillPaymentInput(
                    bill_id=bill.id,
                    amount=share,
                    paid_on=today,
                    method="check",
                    idempotency_key=f"demo-bill-{bill.number}",
                    check_number=f"70{days_ago:02d}",
                ),
                accountant,
                today,
            )
    vendor_id = await session.scalar(
        select(AssignmentFact.vendor_id).order_by(AssignmentFact.vendor_id).limit(1)
    )
    if vendor_id is not None:
        by_hand = await bills.create(
            session,
            bills.BillInput(
                vendor_id=vendor_id,
                amount=Decimal("412.00"),
                bill_date=today - timedelta(days=8),
                description="Extra hours, Saturday shuttle",
                vendor_reference="V-EXTRA-1",
            ),
            accountant,
            today,
        )
        await bills.dispute(
            session, by_hand.id, "The extra hours were not agreed with dispatch.", accountant
        )
    paid = await _demo_vendor_paid(session, accountant, manager, today)
    await bills.mark_overdue(session, today)
    return min(len(confirmed), len(BILL_STATES)) + (vendor_id is not None) + paid


async def _demo_vendor_paid(
    session: AsyncSession, accountant: Viewer, manager: Viewer, today: date
) -> int:
    """The demo vendor's (vendor@demo.athena) latest past trip billed, approved and paid."""
    from db.demo.vendors import MARKER

    assignment_id = await session.scalar(
        select(AssignmentFact.assignment_id)
        .join(VendorFact, VendorFact.vendor_id == AssignmentFact.vendor_id)
        .where(
            VendorFact.name == MARKER,
            AssignmentFact.status == "completed",
            AssignmentFact.amount.is_not(None),
            AssignmentFact.assignment_id.not_in(
                select(VendorBill.assignment_id).where(VendorBill.assignment_id.is_not(None))
            ),
        )
        .order_by(AssignmentFact.assignment_id)
        .limit(1)
    )
    if assignment_id is None:
        return 0
    bill = await bills.bill_assignment(
        session,
        assignment_id,
        accountant,
        today,
        bill_date=today - timedelta(days=10),
        vendor_reference="LSM-2041",
    )
    await bills.approve(session, bill.id, manager)
    await bills.record_payment(
        session,
        bills.BillPaymentInput(
            bill_id=bill.id,
            amount=bill.total,
            paid_on=today,
            method="check",
            idempotency_key=f"demo-bill-{bill.number}",
            check_number="7101",
        ),
        accountant,
        today,
    )
    return 1


async def _deposit(session: AsyncSession, charter_id: uuid.UUID) -> Decimal:
    return Decimal(
        await session.scalar(
            select(Instalment.amount)
            .where(Instalment.charter_id == charter_id, Instalment.kind == "deposit")
            .limit(1)
        )
        or 0
    )
