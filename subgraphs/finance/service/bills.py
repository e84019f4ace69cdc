"""Vendor bills: what vendors ask to be paid, approved by a manager, paid by accounting.

A bill (`BILL-YYYY-NNNNN`, gapless like invoices: `numbers.py`) charges
either a vendor assignment's agreed amount (one bill per assignment: a
partial unique index decides, whatever the concurrency) or what accounting
enters by hand from the vendor's own invoice. Its due date follows its
terms (due on receipt, net 30, net 60; by default the vendor's own terms
when they name one of these, else net 30).

Money paid on a bill is recorded under the bill's row lock, so concurrent
payments queue: the sum paid never exceeds the total (the database holds
the same line, `CHECK paid <= total`), and an idempotency key per payment
makes a resent payment pay once. Only an approved bill (or one partially
paid or overdue) takes money; a disputed one waits for its resolution.

Every change is audited (`FinanceAudit`), announced (`finance.bill_changed`)
and enters the accounting sync in its own transaction.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from subgraphs.finance.error_codes import FinanceErrorCode as Code
from subgraphs.finance.models import (
    BILL_PAYMENT_METHODS,
    BILL_TERMS,
    AssignmentFact,
    BillPayment,
    FinanceAudit,
    VendorBill,
    VendorFact,
    outbox,
)
from subgraphs.finance.service import aging, sync_outbox
from subgraphs.finance.service.access import APPROVE_BILLS
from subgraphs.finance.service.numbers import next_number
from subgraphs.finance.states import BILL
from subgraphs.kit.auditing import plain
from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.kit.outbox import emit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer
    from subgraphs.finance.service.aging import AgingRow

TOPIC = "finance.bill_changed"
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("10000000.00")
MAX_KEY = 200
MAX_REASON = 1000
TERMS_DAYS = {"due_on_receipt": 0, "net_30": 30, "net_60": 60}
DEFAULT_TERMS = "net_30"
#: Bills that take money.
PAYABLE = frozenset({"approved", "partially_paid", "overdue"})
#: Bills the calendar makes overdue once past their due date.
AGING = ("approved", "partially_paid")
#: Assignments whose work is agreed: offered, declined or cancelled ones bill nothing.
BILLABLE_ASSIGNMENTS = frozenset({"confirmed", "in_progress", "completed"})
#: What each payment method must name.
REQUIRED_DETAILS = {"check": "checkNumber", "card": "cardLastFour"}
_LAST_FOUR = re.compile(r"^[0-9]{4}$")


# --- terms ---------------------------------------------------------------------------------


def terms_of_vendor(payment_terms: str | None) -> str:
    """A bill's terms from the vendor's free-text terms ("Net 60", "net_60"), else net 30."""
    text = re.sub(r"[\s\-]+", "_", (payment_terms or "").strip().lower())
    text = re.sub(r"^net_?(\d+)$", r"net_\1", text)
    return text if text in BILL_TERMS else DEFAULT_TERMS


def due_on(bill_date: date, terms: str) -> date:
    return bill_date + timedelta(days=TERMS_DAYS[terms])


# --- audit, events, sync --------------------------------------------------------------------


def _snapshot(bill: VendorBill) -> dict[str, Any]:
    return {
        "number": bill.number,
        "status": bill.status,
        "total": plain(bill.total),
        "paid": plain(bill.paid),
        "dueOn": plain(bill.due_on),
    }


def _audit(
    session: AsyncSession,
    entity: str,
    entity_id: uuid.UUID,
    action: str,
    actor: Viewer | None,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    reason: str | None = None,
) -> None:
    session.add(
        FinanceAudit(
            id=uuid.uuid4(),
            entity=entity,
            entity_id=entity_id,
            action=action,
            actor_id=actor.user_id if actor else None,
            impersonator_id=actor.impersonator_id if actor else None,
            before=before,
            after=after,
            reason=reason,
        )
    )


async def _changed(
    session: AsyncSession,
    bill: VendorBill,
    action: str,
    actor: Viewer | None,
    before: dict[str, Any] | None,
    reason: str | None = None,
) -> None:
    """Audit, announce and queue for the accounting sync, in the changing transaction."""
    _audit(session, "bill", bill.id, action, actor, before, _snapshot(bill), reason)
    await emit(
        session,
        outbox,
        TOPIC,
        {
            "billId": str(bill.id),
            "number": bill.number,
            "vendorId": str(bill.vendor_id),
            "charterId": str(bill.charter_id) if bill.charter_id else None,
            "status": bill.status,
            "total": str(bill.total),
            "paid": str(bill.paid),
            "action": action,
        },
    )
    await sync_outbox.enqueue(session, "bill", bill.id)
    await session.flush()


# --- creating ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BillInput:
    """A bill entered by hand from what the vendor sent."""

    vendor_id: uuid.UUID
    amount: Decimal
    bill_date: date
    tax: Decimal = ZERO
    terms: str | None = None
    description: str | None = None
    vendor_reference: str | None = None
    charter_id: uuid.UUID | None = None


def _money_problems(value: Decimal, field: str, *, positive: bool) -> list[Problem]:
    if value != value.quantize(CENT):
        return [Problem(Code.INVALID, "Amounts have at most two decimals.", field)]
    low_ok = value > 0 if positive else value >= 0
    if not low_ok or value > MAX_AMOUNT:
        what = "above zero" if positive else "zero or more"
        return [Problem(Code.OUT_OF_RANGE, f"The {field} is {what}, at most {MAX_AMOUNT}.", field)]
    return []


def _common_problems(
    bill_date: date,
    tax: Decimal,
    terms: str | None,
    vendor_reference: str | None,
    description: str | None,
    today: date,
) -> list[Problem]:
    problems = _money_problems(tax, "tax", positive=False)
    if bill_date > today:
        problems.append(
            Problem(Code.IN_THE_FUTURE, "A bill is dated today or earlier.", "billDate")
        )
    if terms is not None and terms not in BILL_TERMS:
        problems.append(Problem(Code.INVALID, f"Unknown terms {terms!r}.", "terms"))
    if vendor_reference is not None and len(vendor_reference) > 100:
        problems.append(Problem(Code.OUT_OF_RANGE, "At most 100 characters.", "vendorReference"))
    if description is not None and len(description) > 500:
        problems.append(Problem(Code.OUT_OF_RANGE, "At most 500 characters.", "description"))
    return problems


async def _vendor(session: AsyncSession, vendor_id: uuid.UUID, field: str) -> VendorFact:
    vendor = await session.get(VendorFact, vendor_id)
    if vendor is None:
        raise ServiceError.of(Code.NOT_FOUND, "Finance does not know this vendor.", field)
    return vendor


async def _insert(session: AsyncSession, bill: VendorBill, actor: Viewer) -> VendorBill:
    session.add(bill)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        # Only the one-bill-per-assignment index can refuse a fresh row with a fresh number.
        raise ServiceError.of(
            Code.CONFLICT, "This assignment is already billed.", "assignmentId"
        ) from exc
    await _changed(session, bill, "create", actor, None)
    return bill


async def create(session: AsyncSession, given: BillInput, actor: Viewer, today: date) -> VendorBill:
    problems = _money_problems(given.amount, "amount", positive=True)
    problems += _common_problems(
        given.bill_date,
        given.tax,
        given.terms,
        given.vendor_reference,
        given.description,
        today,
    )
    if problems:
        raise ServiceError(problems)
    vendor = await _vendor(session, given.vendor_id, "vendorId")
    terms = given.terms or terms_of_vendor(vendor.payment_terms)
    bill = VendorBill(
        id=uuid.uuid4(),
        number=await next_number(session, "bill", given.bill_date.year),
        vendor_id=vendor.vendor_id,
        charter_id=given.charter_id,
        vendor_reference=(given.vendor_reference or "").strip() or None,
        description=(given.description or "").strip() or None,
        bill_date=given.bill_date,
        terms=terms,
        due_on=due_on(given.bill_date, terms),
        subtotal=given.amount,
        tax=given.tax,
        total=given.amount + given.tax,
        paid=ZERO,
        status="received",
        created_by=actor.user_id,
    )
    return await _insert(session, bill, actor)


async def bill_assignment(
    session: AsyncSession,
    assignment_id: uuid.UUID,
    actor: Viewer,
    today: date,
    *,
    bill_date: date | None = None,
    tax: Decimal = ZERO,
    terms: str | None = None,
    vendor_reference: str | None = None,
) -> VendorBill:
    """Bill an assignment's agreed amount to its vendor, once."""
    day = bill_date or today
    problems = _common_problems(day, tax, terms, vendor_reference, None, today)
    if problems:
        raise ServiceError(problems)
    fact = await session.get(AssignmentFact, assignment_id)
    if fact is None:
        raise ServiceError.of(
            Code.NOT_FOUND, "Finance does not know this assignment.", "assignmentId"
        )
    if fact.status not in BILLABLE_ASSIGNMENTS:
        raise ServiceError.of(
            Code.NOT_PAYABLE, f"A {fact.status} assignment bills nothing.", "assignmentId"
        )
    if fact.amount is None or fact.amount <= 0:
        raise ServiceError.of(
            Code.NOT_PAYABLE, "The assignment has no agreed amount to bill.", "assignmentId"
        )
    billed = await session.scalar(
        select(VendorBill.number).where(VendorBill.assignment_id == assignment_id)
    )
    if billed is not None:
        raise ServiceError.of(
            Code.CONFLICT, f"This assignment is already billed ({billed}).", "assignmentId"
        )
    vendor = await _vendor(session, fact.vendor_id, "assignmentId")
    chosen = terms or terms_of_vendor(vendor.payment_terms)
    bill = VendorBill(
        id=uuid.uuid4(),
        number=await next_number(session, "bill", day.year),
        vendor_id=fact.vendor_id,
        assignment_id=assignment_id,
        charter_id=fact.charter_id,
        vendor_reference=(vendor_reference or "").strip() or None,
        description="Vendor assignment",
        bill_date=day,
        terms=chosen,
        due_on=due_on(day, chosen),
        subtotal=fact.amount,
        tax=tax,
        total=fact.amount + tax,
        paid=ZERO,
        status="received",
        created_by=actor.user_id,
    )
    return await _insert(session, bill, actor)


# --- lifecycle -----------------------------------------------------------------------------


async def _locked(session: AsyncSession, bill_id: uuid.UUID, field: str = "id") -> VendorBill:
    bill = await session.scalar(
        select(VendorBill).where(VendorBill.id == bill_id).with_for_update()
    )
    if bill is None:
        raise ServiceError.of(Code.NOT_FOUND, "No such vendor bill.", field)
    return bill


def _reason(value: str, field: str) -> str:
    text = value.strip()
    if not text or len(text) > MAX_REASON:
        raise ServiceError.of(Code.REQUIRED, f"Say why, in at most {MAX_REASON} characters.", field)
    return text


async def approve(session: AsyncSession, bill_id: uuid.UUID, actor: Viewer) -> VendorBill:
    """A manager's yes: the bill may now be paid."""
    if not actor.has_any_role(*APPROVE_BILLS):
        raise ServiceError.of(Code.FORBIDDEN, "Only a manager approves vendor bills.", "id")
    bill = await _locked(session, bill_id)
    if bill.status != "received":
        raise ServiceError.of(
            Code.INVALID_TRANSITION,
            f"Only a received bill is approved; this one is {bill.status}.",
            "id",
        )
    BILL.check(bill.status, "approved", "id")
    before = _snapshot(bill)
    bill.status = "approved"
    bill.approved_by = actor.user_id
    bill.approved_at = datetime.now(UTC)
    await _changed(session, bill, "approve", actor, before)
    return bill


async def dispute(
    session: AsyncSession, bill_id: uuid.UUID, reason: str, actor: Viewer
) -> VendorBill:
    """Hold a bill (wrong amount, work not done): it takes no money until resolved."""
    why = _reason(reason, "reason")
    bill = await _locked(session, bill_id)
    BILL.check(bill.status, "disputed", "id")
    before = _snapshot(bill)
    bill.status = "disputed"
    bill.dispute_reason = why
    await _changed(session, bill, "dispute", actor, before, why)
    return bill


def resolved_status(bill: VendorBill, today: date) -> str:
    """Where a bill's facts put it once a dispute is resolved."""
    if bill.approved_at is None:
        return "received"
    if bill.due_on < today:
        return "overdue"
    return "partially_paid" if bill.paid > 0 else "approved"


async def resolve_dispute(
    session: AsyncSession, bill_id: uuid.UUID, resolution: str, actor: Viewer, today: date
) -> VendorBill:
    note = _reason(resolution, "resolution")
    bill = await _locked(session, bill_id)
    if bill.status != "disputed":
        raise ServiceError.of(
            Code.INVALID_TRANSITION, f"The bill is {bill.status}, not disputed.", "id"
        )
    target = resolved_status(bill, today)
    BILL.check(bill.status, target, "id")
    before = {**_snapshot(bill), "disputeReason": bill.dispute_reason}
    bill.status = target
    bill.dispute_reason = None
    await _changed(session, bill, "resolve_dispute", actor, before, note)
    return bill


async def mark_overdue(session: AsyncSession, today: date) -> list[VendorBill]:
    """Approved and partially paid bills past their due date become overdue (the daily job)."""
    bills = list(
        (
            await session.scalars(
                select(VendorBill)
                .where(VendorBill.status.in_(AGING), VendorBill.due_on < today)
                .order_by(VendorBill.id)
                .with_for_update(skip_locked=True)
            )
        ).all()
    )
    for bill in bills:
        BILL.check(bill.status, "overdue")
        before = _snapshot(bill)
        bill.status = "overdue"
        await _changed(session, bill, "overdue", None, before)
    return bills


# --- paying --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BillPaymentInput:
    bill_id: uuid.UUID
    amount: Decimal
    paid_on: date
    method: str
    idempotency_key: str
    check_number: str | None = None
    card_last_four: str | None = None
    reference: str | None = None

    @property
    def details(self) -> dict[str, str]:
        found = (("checkNumber", self.check_number), ("cardLastFour", self.card_last_four))
        return {k: v.strip() for k, v in found if v is not None and v.strip()}


def payment_problems(given: BillPaymentInput, today: date) -> list[Problem]:
    problems = _money_problems(given.amount, "amount", positive=True)
    if not 0 < len(given.idempotency_key.strip()) <= MAX_KEY:
        problems.append(
            Problem(
                Code.INVALID, f"An idempotency key of 1 to {MAX_KEY} characters.", "idempotencyKey"
            )
        )
    if given.paid_on > today:
        problems.append(
            Problem(Code.IN_THE_FUTURE, "A payment is made today or earlier.", "paidOn")
        )
    if given.method not in BILL_PAYMENT_METHODS:
        problems.append(Problem(Code.INVALID, f"Unknown method {given.method!r}.", "method"))
    needed = REQUIRED_DETAILS.get(given.method)
    if needed and needed not in given.details:
        problems.append(
            Problem(Code.REQUIRED, f"A {given.method} payment names its {needed}.", needed)
        )
    last_four = given.details.get("cardLastFour")
    if last_four is not None and not _LAST_FOUR.match(last_four):
        problems.append(Problem(Code.INVALID, "The card's last four digits.", "cardLastFour"))
    if given.check_number is not None and len(given.check_number) > 30:
        problems.append(Problem(Code.OUT_OF_RANGE, "At most 30 characters.", "checkNumber"))
    if given.reference is not None and len(given.reference) > 100:
        problems.append(Problem(Code.OUT_OF_RANGE, "At most 100 characters.", "reference"))
    return problems


async def _again(session: AsyncSession, given: BillPaymentInput) -> BillPayment | None:
    """The payment this key already made; the same key for another payment is a conflict."""
    row = await session.scalar(
        select(BillPayment).where(BillPayment.idempotency_key == given.idempotency_key)
    )
    if row is None:
        return None
    if (row.bill_id, row.amount, row.method) != (given.bill_id, given.amount, given.method):
        raise ServiceError.of(
            Code.CONFLICT, "This idempotency key was used for another payment.", "idempotencyKey"
        )
    return row


async def record_payment(
    session: AsyncSession, given: BillPaymentInput, actor: Viewer, today: date
) -> BillPayment:
    """Pay (part of) a bill, never more than it still owes; the same key pays once."""
    problems = payment_problems(given, today)
    if problems:
        raise ServiceError(problems)
    bill = await _locked(session, given.bill_id, "billId")
    again = await _again(session, given)
    if again is not None:
        return again
    if bill.status not in PAYABLE:
        raise ServiceError.of(
            Code.NOT_PAYABLE,
            f"A {bill.status} bill takes no payment"
            + (" until a manager approves it." if bill.status == "received" else "."),
            "billId",
        )
    owes = bill.total - bill.paid
    if given.amount > owes:
        raise ServiceError.of(
            Code.EXCEEDS_BALANCE, f"The bill owes {owes}; {given.amount} is more.", "amount"
        )
    row = BillPayment(
        id=uuid.uuid4(),
        bill_id=bill.id,
        amount=given.amount,
        paid_on=given.paid_on,
        method=given.method,
        details=given.details,
        reference=(given.reference or "").strip() or None,
        idempotency_key=given.idempotency_key,
        created_by=actor.user_id,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        # The key was taken meanwhile for another bill's payment (this bill's are serialised).
        raise ServiceError.of(
            Code.CONFLICT, "This idempotency key was used for another payment.", "idempotencyKey"
        ) from exc
    before = _snapshot(bill)
    bill.paid += given.amount
    if bill.paid == bill.total:
        target = "paid"
    else:
        target = "overdue" if bill.status == "overdue" else "partially_paid"
    if target != bill.status:
        BILL.check(bill.status, target, "billId")
        bill.status = target
    _audit(
        session,
        "bill_payment",
        row.id,
        "pay",
        actor,
        None,
        {
            "bill": str(bill.id),
            "amount": plain(row.amount),
            "method": row.method,
            "paidOn": plain(row.paid_on),
        },
    )
    await _changed(session, bill, "pay", actor, before)
    return row


# --- AP reports ----------------------------------------------------------------------------

#: Bills that owe their vendor something: all but paid (a disputed one is owed until resolved).
OWING = ("received", "approved", "partially_paid", "overdue", "disputed")


async def ap_aging(session: AsyncSession, as_of: date) -> list[AgingRow]:
    """What the operator owes each vendor by days past due, in AR aging's buckets (`aging.age`).

    Each row's `client_id` is the vendor's id and `client_name` its name:
    the bucketing is AR's, one statement of it for both ledgers.
    """
    items = (
        await session.execute(
            select(
                VendorBill.vendor_id, VendorBill.due_on, VendorBill.total - VendorBill.paid
            ).where(VendorBill.status.in_(OWING), VendorBill.total > VendorBill.paid)
        )
    ).all()
    rows = aging.age(((v, d, Decimal(o)) for v, d, o in items), as_of)
    names = await _names(session, [r.client_id for r in rows])
    for row in rows:
        row.client_name = names.get(row.client_id, "")
    return rows


@dataclass
class VendorPayables:
    vendor_id: uuid.UUID
    vendor_name: str = ""
    billed: Decimal = ZERO
    paid: Decimal = ZERO
    overdue: Decimal = ZERO

    @property
    def owed(self) -> Decimal:
        return self.billed - self.paid


def payables(bills: Iterable[tuple[uuid.UUID, Decimal, Decimal, str]]) -> list[VendorPayables]:
    """(vendor, total, paid, status) bills into one row per vendor, most owed first."""
    rows: dict[uuid.UUID, VendorPayables] = {}
    for vendor_id, total, paid, status in bills:
        row = rows.setdefault(vendor_id, VendorPayables(vendor_id))
        row.billed += total
        row.paid += paid
        if status == "overdue":
            row.overdue += total - paid
    return sorted(rows.values(), key=lambda r: (-r.owed, str(r.vendor_id)))


async def vendor_payables(session: AsyncSession) -> list[VendorPayables]:
    """Every vendor's bills: billed, paid, owed and overdue (by the bills' status)."""
    bills = (
        await session.execute(
            select(VendorBill.vendor_id, VendorBill.total, VendorBill.paid, VendorBill.status)
        )
    ).all()
    rows = payables((v, Decimal(t), Decimal(p), s) for v, t, p, s in bills)
    names = await _names(session, [r.vendor_id for r in rows])
    for row in rows:
        row.vendor_name = names.get(row.vendor_id, "")
    return rows


async def _names(session: AsyncSession, vendor_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not vendor_ids:
        return {}
    found = await session.execute(
        select(VendorFact.vendor_id, VendorFact.name).where(VendorFact.vendor_id.in_(vendor_ids))
    )
    return {row.vendor_id: row.name for row in found.all()}
