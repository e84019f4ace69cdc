"""Vendor bills: numbered, dated, due by their terms, approved by a manager (issue 12 §4).

Service-level on the real database; the manager-only approval is also
shown through the subgraph (an accounting login is refused).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.finance.models import FinanceAudit, SyncRecord, VendorBill
from subgraphs.finance.reports.common import today as operator_today
from subgraphs.finance.service import bills, vendor_facts
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.settings import get_settings
from tests.finance.conftest import event
from tests.support.graphql_client import GraphQLClient

ACCOUNTING = Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.ACCOUNTING}))
MANAGER = Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.MANAGER}))
TODAY = date(2026, 11, 30)


async def make_vendor(sessions: Any, terms: str | None = None, name: str = "Prairie") -> uuid.UUID:
    vendor_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        await vendor_facts.apply_vendor_event(
            session,
            event(
                {
                    "vendorId": str(vendor_id),
                    "name": name,
                    "status": "active",
                    "paymentTerms": terms,
                }
            ),
        )
    return vendor_id


async def make_assignment(
    sessions: Any, vendor_id: uuid.UUID, amount: str | None = "900.00", status: str = "confirmed"
) -> tuple[uuid.UUID, uuid.UUID]:
    assignment_id, charter_id = uuid.uuid4(), uuid.uuid4()
    async with sessions() as session, session.begin():
        await vendor_facts.apply_assignment_event(
            session,
            event(
                {
                    "assignmentId": str(assignment_id),
                    "charterId": str(charter_id),
                    "charterVehicleId": str(uuid.uuid4()),
                    "vendorId": str(vendor_id),
                    "status": status,
                    "amount": amount,
                }
            ),
        )
    return assignment_id, charter_id


async def enter(sessions: Any, given: bills.BillInput, today: date = TODAY) -> VendorBill:
    async with sessions() as session, session.begin():
        return await bills.create(session, given, ACCOUNTING, today)


async def refused(sessions: Any, work: Any) -> list[tuple[str | None, str]]:
    with pytest.raises(ServiceError) as caught:
        async with sessions() as session, session.begin():
            await work(session)
    return [(p.field, str(p.code)) for p in caught.value.problems]


async def count_bills(sessions: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(VendorBill)) or 0)


async def test_a_bill_entered_by_hand_is_numbered_received_and_due_by_the_vendors_terms(sessions):
    vendor = await make_vendor(sessions, terms="Net 60")

    bill = await enter(
        sessions,
        bills.BillInput(
            vendor,
            Decimal("1000.00"),
            date(2026, 11, 2),
            tax=Decimal("82.50"),
            description="Airport shuttle, 3 coaches",
            vendor_reference="PR-7781",
        ),
    )

    assert re.fullmatch(r"BILL-2026-[0-9]{5}", bill.number)
    assert (bill.status, bill.terms, bill.due_on) == ("received", "net_60", date(2027, 1, 1))
    assert (bill.subtotal, bill.tax, bill.total, bill.paid) == (
        Decimal("1000.00"),
        Decimal("82.50"),
        Decimal("1082.50"),
        Decimal("0.00"),
    )
    async with sessions() as session:
        audit = (
            await session.scalars(select(FinanceAudit).where(FinanceAudit.entity_id == bill.id))
        ).all()
        synced = (
            await session.scalars(select(SyncRecord).where(SyncRecord.entity_id == bill.id))
        ).all()
    assert [(a.action, a.actor_id, a.after["total"]) for a in audit] == [
        ("create", ACCOUNTING.user_id, "1082.50")
    ]
    assert [(s.entity, s.operation, s.status) for s in synced] == [("bill", "save", "pending")]


@pytest.mark.parametrize(
    ("vendor_terms", "given", "due_in_days"),
    [
        (None, None, 30),  # no terms: net 30
        ("due on receipt", None, 0),
        ("net_30", None, 30),
        ("2% 10 net 30", None, 30),  # not one of ours: net 30
        ("net_60", "due_on_receipt", 0),  # the bill's own terms win
    ],
)
async def test_terms_and_due_dates(sessions, vendor_terms, given, due_in_days):
    vendor = await make_vendor(sessions, terms=vendor_terms)
    day = date(2026, 10, 15)

    bill = await enter(sessions, bills.BillInput(vendor, Decimal("10.00"), day, terms=given))

    assert bill.due_on == day + timedelta(days=due_in_days)


async def test_numbers_are_consecutive(sessions):
    vendor = await make_vendor(sessions)

    numbers = [
        (await enter(sessions, bills.BillInput(vendor, Decimal("5.00"), TODAY))).number
        for _ in range(3)
    ]

    tails = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert tails == [tails[0], tails[0] + 1, tails[0] + 2]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"bill_date": TODAY + timedelta(days=1)}, ("billDate", "IN_THE_FUTURE")),
        ({"amount": Decimal("10.005")}, ("amount", "INVALID")),
        ({"amount": Decimal("0.00")}, ("amount", "OUT_OF_RANGE")),
        ({"tax": Decimal("-1.00")}, ("tax", "OUT_OF_RANGE")),
        ({"terms": "net_90"}, ("terms", "INVALID")),
        ({"vendor_id": uuid.uuid4()}, ("vendorId", "NOT_FOUND")),
    ],
)
async def test_bad_input_is_a_user_error_naming_the_field_and_changes_nothing(
    sessions, change, problem
):
    vendor = await make_vendor(sessions)
    values: dict[str, Any] = {
        "vendor_id": vendor,
        "amount": Decimal("100.00"),
        "bill_date": TODAY,
        **change,
    }

    problems = await refused(
        sessions, lambda s: bills.create(s, bills.BillInput(**values), ACCOUNTING, TODAY)
    )

    assert problems == [problem]
    assert await count_bills(sessions) == 0


async def test_an_assignment_is_billed_its_agreed_amount_once(sessions):
    vendor = await make_vendor(sessions, terms="net_30")
    assignment, charter = await make_assignment(sessions, vendor, "1234.50")

    async with sessions() as session, session.begin():
        bill = await bills.bill_assignment(session, assignment, ACCOUNTING, TODAY)
    again = await refused(
        sessions, lambda s: bills.bill_assignment(s, assignment, ACCOUNTING, TODAY)
    )

    assert (bill.vendor_id, bill.charter_id, bill.assignment_id) == (vendor, charter, assignment)
    assert (bill.total, bill.due_on, bill.status) == (
        Decimal("1234.50"),
        TODAY + timedelta(days=30),
        "received",
    )
    assert again == [("assignmentId", "CONFLICT")]
    assert await count_bills(sessions) == 1


async def test_concurrent_bills_of_one_assignment_make_one(sessions):
    vendor = await make_vendor(sessions)
    assignment, _ = await make_assignment(sessions, vendor)

    async def attempt() -> str:
        try:
            async with sessions() as session, session.begin():
                await bills.bill_assignment(session, assignment, ACCOUNTING, TODAY)
            return "billed"
        except ServiceError as error:
            return str(error.problems[0].code)

    outcomes = await asyncio.gather(*(attempt() for _ in range(5)))

    assert sorted(outcomes) == ["CONFLICT"] * 4 + ["billed"]
    assert await count_bills(sessions) == 1


@pytest.mark.parametrize(
    ("status", "amount"), [("offered", "900.00"), ("cancelled", "900.00"), ("confirmed", None)]
)
async def test_an_assignment_without_agreed_work_bills_nothing(sessions, status, amount):
    vendor = await make_vendor(sessions)
    assignment, _ = await make_assignment(sessions, vendor, amount, status)

    problems = await refused(
        sessions, lambda s: bills.bill_assignment(s, assignment, ACCOUNTING, TODAY)
    )

    assert problems == [("assignmentId", "NOT_PAYABLE")]
    assert await count_bills(sessions) == 0


async def test_a_manager_approves_and_a_dispute_is_resolved_back(sessions):
    vendor = await make_vendor(sessions)
    bill = await enter(sessions, bills.BillInput(vendor, Decimal("300.00"), TODAY))

    not_by_accounting = await refused(sessions, lambda s: bills.approve(s, bill.id, ACCOUNTING))
    async with sessions() as session, session.begin():
        disputed = await bills.dispute(session, bill.id, "Two coaches, not three", ACCOUNTING)
    cannot_approve = await refused(sessions, lambda s: bills.approve(s, bill.id, MANAGER))
    async with sessions() as session, session.begin():
        back = await bills.resolve_dispute(session, bill.id, "Vendor agreed", MANAGER, TODAY)
    async with sessions() as session, session.begin():
        approved = await bills.approve(session, bill.id, MANAGER)
    twice = await refused(sessions, lambda s: bills.approve(s, bill.id, MANAGER))

    assert not_by_accounting == [("id", "FORBIDDEN")]
    assert disputed.status == "disputed"
    assert cannot_approve == [("id", "INVALID_TRANSITION")]
    assert (back.status, back.dispute_reason) == ("received", None)
    assert (approved.status, approved.approved_by) == ("approved", MANAGER.user_id)
    assert twice == [("id", "INVALID_TRANSITION")]
    async with sessions() as session:
        trail = (
            await session.execute(
                select(FinanceAudit.action, FinanceAudit.reason)
                .where(FinanceAudit.entity_id == bill.id)
                .order_by(FinanceAudit.at, FinanceAudit.action)
            )
        ).all()
    assert [tuple(r) for r in trail] == [
        ("create", None),
        ("dispute", "Two coaches, not three"),
        ("resolve_dispute", "Vendor agreed"),
        ("approve", None),
    ]


async def test_a_dispute_needs_a_reason(sessions):
    vendor = await make_vendor(sessions)
    bill = await enter(sessions, bills.BillInput(vendor, Decimal("300.00"), TODAY))

    problems = await refused(sessions, lambda s: bills.dispute(s, bill.id, "  ", ACCOUNTING))

    assert problems == [("reason", "REQUIRED")]


async def test_resolving_a_dispute_of_an_approved_bill_past_due_makes_it_overdue(sessions):
    vendor = await make_vendor(sessions, terms="due_on_receipt")
    bill = await enter(sessions, bills.BillInput(vendor, Decimal("300.00"), TODAY))
    async with sessions() as session, session.begin():
        await bills.approve(session, bill.id, MANAGER)
        await bills.dispute(session, bill.id, "Wrong rate", ACCOUNTING)

    async with sessions() as session, session.begin():
        resolved = await bills.resolve_dispute(
            session, bill.id, "Rate confirmed", MANAGER, TODAY + timedelta(days=3)
        )

    assert resolved.status == "overdue"


async def test_mark_overdue_moves_approved_and_partially_paid_bills_past_due(sessions):
    vendor = await make_vendor(sessions, terms="net_30")
    day = TODAY - timedelta(days=40)  # due 10 days ago
    late, partly, fresh, unapproved = [
        await enter(sessions, bills.BillInput(vendor, Decimal("100.00"), d), TODAY)
        for d in (day, day, TODAY, day)
    ]
    async with sessions() as session, session.begin():
        for bill in (late, partly, fresh):
            await bills.approve(session, bill.id, MANAGER)
        await bills.record_payment(
            session,
            bills.BillPaymentInput(partly.id, Decimal("40.00"), TODAY, "ach", "partly-1"),
            ACCOUNTING,
            TODAY,
        )

    async with sessions() as session, session.begin():
        moved = await bills.mark_overdue(session, TODAY)
    async with sessions() as session, session.begin():
        again = await bills.mark_overdue(session, TODAY)

    assert sorted(b.id for b in moved) == sorted([late.id, partly.id])
    assert again == []
    async with sessions() as session:
        found = await session.execute(select(VendorBill.id, VendorBill.status))
        statuses = {row.id: row.status for row in found}
        audited = await session.scalar(
            select(func.count())
            .select_from(FinanceAudit)
            .where(FinanceAudit.action == "overdue", FinanceAudit.actor_id.is_(None))
        )
    assert statuses == {
        late.id: "overdue",
        partly.id: "overdue",
        fresh.id: "approved",
        unapproved.id: "received",
    }
    assert audited == 2


APPROVE = (
    "mutation($id: ID!) { approveVendorBill(id: $id) { bill { status } userErrors { code } } }"
)
CREATE = """mutation($input: CreateVendorBillInput!) {
  createVendorBill(input: $input) {
    bill { number status terms dueOn total balance vendorId } userErrors { field code }
  }
}"""


async def test_through_the_subgraph_accounting_enters_and_only_a_manager_approves(
    sessions, finance_server, http_client, mint
):
    vendor = await make_vendor(sessions, terms="net_60")
    accounting = GraphQLClient(finance_server.graphql_url, http_client, await mint("accounting"))
    manager = GraphQLClient(finance_server.graphql_url, http_client, await mint("manager"))
    today = operator_today(get_settings().operator_time_zone)  # finance's own day

    made = (
        await accounting(
            CREATE,
            {
                "input": {
                    "vendorId": str(vendor),
                    "amount": "250.00",
                    "tax": "20.00",
                    "billDate": today.isoformat(),
                }
            },
        )
    ).ok()["createVendorBill"]
    bad = (
        await accounting(
            CREATE,
            {
                "input": {
                    "vendorId": str(vendor),
                    "amount": "250.00",
                    "billDate": (today + timedelta(days=2)).isoformat(),
                }
            },
        )
    ).ok()["createVendorBill"]
    async with sessions() as session:
        bill_id = await session.scalar(select(VendorBill.id))
    refused_answer = await accounting(APPROVE, {"id": str(bill_id)})
    approved = (await manager(APPROVE, {"id": str(bill_id)})).ok()["approveVendorBill"]

    assert made["userErrors"] == []
    assert made["bill"]["status"] == "RECEIVED"
    assert (made["bill"]["terms"], made["bill"]["total"], made["bill"]["balance"]) == (
        "NET_60",
        "270.00",
        "270.00",
    )
    assert made["bill"]["vendorId"] == str(vendor)
    assert bad == {"bill": None, "userErrors": [{"field": "billDate", "code": "IN_THE_FUTURE"}]}
    assert refused_answer.error_codes == ["FORBIDDEN"]
    assert approved == {"bill": {"status": "APPROVED"}, "userErrors": []}
    assert await count_bills(sessions) == 1
