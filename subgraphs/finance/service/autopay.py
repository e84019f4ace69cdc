"""Paying from the plan (the portal's Pay button and autopay), and autopay itself.

A client never types what it owes: it names the deposit, the balance or
the next instalment and the amount comes from the charter's plan, computed
under the charter's facts row lock (`charges.pay_by_card` takes the same
lock again, then charges and applies exactly as `payByCard` does). Of a
plan, payments cover instalments in their order (`charter_money.cover`):

- DEPOSIT: what is uncovered of the deposit instalment;
- BALANCE: everything the charter still owes (it is then paid in full);
- NEXT_INSTALMENT: what is uncovered of the first instalment not yet paid;
- one instalment by id (the autopay job): what is uncovered of it.

Autopay: a client's own users (or finance staff) name one of its saved
methods, when the payment configuration allows autopay. A daily job
(operator time zone) charges, per uncovered instalment due on or before
the day, of booked charters of clients with autopay on, the instalment's
uncovered amount. Each instalment and day is claimed by a unique row
(`AutopayAttempt`) in the charging transaction, and the provider's and the
application's idempotency key is `autopay:<instalment>:<day>`: a rerun or a
concurrent replica finds the claim and charges nothing twice; a process
killed after the provider charged retries with the same key and gets the
same charge back. A decline is recorded as the attempt's result (the
autopay's last result) and not retried that day; an unreachable provider
leaves no claim, so the job's retry tries again.
"""

from __future__ import annotations

import enum
import logging
import uuid
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import distinct_on, insert

from protocol.viewer import ANONYMOUS
from subgraphs.finance.error_codes import FinanceErrorCode as Code
from subgraphs.finance.models import (
    Autopay,
    AutopayAttempt,
    CharterFact,
    ClientFact,
    FinanceAudit,
    Instalment,
    Payment,
    PaymentApplication,
    SavedPaymentMethod,
)
from subgraphs.finance.service import charges, charter_money, plans
from subgraphs.finance.service.charter_money import BOOKED, ZERO
from subgraphs.kit.auditing import plain
from subgraphs.kit.errors import Problem, ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from protocol.viewer import Viewer
    from subgraphs.finance.service.payment_provider import PaymentProvider

log = logging.getLogger(__name__)


class PlanPart(enum.StrEnum):
    DEPOSIT = "deposit"
    BALANCE = "balance"
    NEXT_INSTALMENT = "next_instalment"


# --- paying from the plan ----------------------------------------------------------------


def planned_amount(
    charter: charter_money.CharterMoney,
    instalment_ids: list[uuid.UUID],
    part: PlanPart | uuid.UUID,
    today: date,
) -> Decimal:
    """What paying `part` of the charter takes now; zero when nothing of it is owed."""
    if part is PlanPart.BALANCE:
        return max(charter.outstanding, ZERO)
    missing = charter_money.cover(charter, today).missing
    for instalment_id, due, left in zip(instalment_ids, charter.instalments, missing, strict=True):
        if (
            (part is PlanPart.DEPOSIT and due.kind == "deposit")
            or (part is PlanPart.NEXT_INSTALMENT and left > 0)
            or instalment_id == part
        ):
            return min(left, max(charter.outstanding, ZERO))
    return ZERO


async def _first_with_key(session: AsyncSession, charter_id: uuid.UUID, key: str) -> Payment | None:
    """The payment a key already made (a resend answers it); another charter's key: CONFLICT."""
    first = await session.scalar(
        select(PaymentApplication).where(PaymentApplication.idempotency_key == key)
    )
    if first is None:
        return None
    if first.charter_id != charter_id:
        raise ServiceError.of(
            Code.CONFLICT, "This idempotency key was used for something else.", "idempotencyKey"
        )
    return await session.get(Payment, first.payment_id)


async def amount_due(
    session: AsyncSession, charter_id: uuid.UUID, part: PlanPart | uuid.UUID, today: date
) -> Decimal:
    """The plan's amount for `part`, under the charter's facts row lock; NOT_PAYABLE if none."""
    await session.execute(
        select(CharterFact.charter_id).where(CharterFact.charter_id == charter_id).with_for_update()
    )
    found = await charter_money.load(session, CharterFact.charter_id == charter_id)
    if not found or found[0].status not in BOOKED or found[0].client_id is None:
        raise ServiceError.of(Code.NOT_PAYABLE, "This charter has nothing to pay yet.", "charterId")
    ids = list(
        await session.scalars(
            select(Instalment.id)
            .where(Instalment.charter_id == charter_id)
            .order_by(Instalment.sequence)
        )
    )
    amount = planned_amount(found[0], ids, part, today)
    if amount <= 0:
        what = part.value.replace("_", " ") if isinstance(part, PlanPart) else "instalment"
        raise ServiceError.of(Code.NOT_PAYABLE, f"Nothing is owed of the {what}.", "part")
    return amount


async def pay_from_plan(
    session: AsyncSession,
    charter_id: uuid.UUID,
    part: PlanPart | uuid.UUID,
    idempotency_key: str,
    actor: Viewer,
    today: date,
    provider: PaymentProvider,
    *,
    saved_method_id: uuid.UUID | None = None,
    payment_method_token: str | None = None,
) -> Payment:
    """Charge the plan's amount for `part` and apply it to the charter, once per key."""
    key = idempotency_key.strip()
    if not 0 < len(key) <= charges.MAX_KEY:
        raise ServiceError.of(
            Code.INVALID,
            f"An idempotency key of 1 to {charges.MAX_KEY} characters.",
            "idempotencyKey",
        )
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))
    again = await _first_with_key(session, charter_id, key)
    if again is not None:
        return again
    amount = await amount_due(session, charter_id, part, today)
    given = charges.CardPayment(charter_id, amount, key, saved_method_id, payment_method_token)
    try:
        return await charges.pay_by_card(session, given, actor, today, provider)
    except ServiceError as error:
        # The amount is the plan's, not an input here: its problems are the part's.
        raise ServiceError(
            [
                Problem(p.code, p.message, "part" if p.field == "amount" else p.field)
                for p in error.problems
            ]
        ) from error


# --- setting autopay ---------------------------------------------------------------------


def _state(row: Autopay | None) -> dict[str, Any]:
    if row is None:
        return {"enabled": False, "saved_method_id": None}
    return {"enabled": row.enabled, "saved_method_id": plain(row.saved_method_id)}


async def _locked(session: AsyncSession, client_id: uuid.UUID) -> Autopay | None:
    return await session.scalar(
        select(Autopay).where(Autopay.client_id == client_id).with_for_update()
    )


def _audit(
    session: AsyncSession,
    client_id: uuid.UUID,
    action: str,
    actor: Viewer,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    session.add(
        FinanceAudit(
            id=uuid.uuid4(),
            entity="autopay",
            entity_id=client_id,
            action=action,
            actor_id=actor.user_id,
            impersonator_id=actor.impersonator_id,
            before=before,
            after=after,
        )
    )


async def set_autopay(
    session: AsyncSession, client_id: uuid.UUID, saved_method_id: uuid.UUID, actor: Viewer
) -> Autopay:
    """Turn autopay on with one of the client's saved methods (or move it to another)."""
    if not (await plans.config(session)).autopay_allowed:
        raise ServiceError.of(
            Code.AUTOPAY_NOT_ALLOWED,
            "The operator's payment configuration does not allow autopay.",
            "clientId",
        )
    known = await session.scalar(
        select(ClientFact.client_id).where(ClientFact.client_id == client_id).with_for_update()
    )
    if known is None:
        raise ServiceError.of(Code.UNKNOWN_CLIENT, "Finance does not know this client.", "clientId")
    method = await session.get(SavedPaymentMethod, saved_method_id)
    if method is None or method.client_id != client_id:
        raise ServiceError.of(
            Code.NOT_FOUND, "The client has no such saved payment method.", "savedMethodId"
        )
    row = await _locked(session, client_id)
    before = _state(row)
    if row is None:
        row = Autopay(client_id=client_id)
        session.add(row)
    row.enabled, row.saved_method_id, row.changed_by = True, method.id, actor.user_id
    after = _state(row)
    if after != before:
        _audit(
            session,
            client_id,
            "enable" if not before["enabled"] else "change",
            actor,
            before,
            after,
        )
    await session.flush()
    return row


async def disable_autopay(session: AsyncSession, client_id: uuid.UUID, actor: Viewer) -> Autopay:
    """Turn autopay off (allowed whatever the configuration says); off already changes nothing."""
    known = await session.scalar(
        select(ClientFact.client_id).where(ClientFact.client_id == client_id)
    )
    if known is None:
        raise ServiceError.of(Code.UNKNOWN_CLIENT, "Finance does not know this client.", "clientId")
    row = await _locked(session, client_id)
    if row is None:
        return Autopay(client_id=client_id, enabled=False, saved_method_id=None)
    before = _state(row)
    row.enabled, row.changed_by = False, actor.user_id
    if before["enabled"]:
        _audit(session, client_id, "disable", actor, before, _state(row))
    await session.flush()
    return row


# --- reading it --------------------------------------------------------------------------


async def autopay_of(
    session: AsyncSession, client_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Autopay | None]:
    rows = await session.scalars(select(Autopay).where(Autopay.client_id.in_(client_ids)))
    found = {row.client_id: row for row in rows}
    return {key: found.get(key) for key in client_ids}


async def last_attempts(
    session: AsyncSession, client_ids: list[uuid.UUID]
) -> dict[uuid.UUID, AutopayAttempt | None]:
    """Each client's latest autopay attempt (its last result), one statement."""
    rows = await session.scalars(
        select(AutopayAttempt)
        .where(AutopayAttempt.client_id.in_(client_ids))
        .ext(distinct_on(AutopayAttempt.client_id))
        .order_by(
            AutopayAttempt.client_id, AutopayAttempt.attempted_at.desc(), AutopayAttempt.id.desc()
        )
    )
    found = {row.client_id: row for row in rows}
    return {key: found.get(key) for key in client_ids}


# --- the daily job -----------------------------------------------------------------------


@dataclass
class AutopayRun:
    run_on: date
    skipped: bool = False
    charged: list[str] = field(default_factory=list)
    declined: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    #: Instalments left for the job's retry: the provider did not answer.
    unavailable: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["run_on"] = self.run_on.isoformat()
        return data


@dataclass(frozen=True)
class _Due:
    instalment_id: uuid.UUID
    charter_id: uuid.UUID
    client_id: uuid.UUID
    saved_method_id: uuid.UUID


def attempt_key(instalment_id: uuid.UUID, day: date) -> str:
    return f"autopay:{instalment_id}:{day.isoformat()}"


async def _candidates(session: AsyncSession, today: date) -> list[_Due]:
    """Instalments due by `today` of autopay clients' booked charters, not yet tried today."""
    tried = select(AutopayAttempt.instalment_id).where(AutopayAttempt.run_on == today)
    rows = (
        await session.execute(
            select(
                Instalment.id, Instalment.charter_id, CharterFact.client_id, Autopay.saved_method_id
            )
            .join(CharterFact, CharterFact.charter_id == Instalment.charter_id)
            .join(Autopay, Autopay.client_id == CharterFact.client_id)
            .where(
                Instalment.due_on <= today,
                Instalment.id.not_in(tried),
                Autopay.enabled.is_(True),
                Autopay.saved_method_id.is_not(None),
                *charter_money.booked_with_price(),
            )
            .order_by(Instalment.due_on, Instalment.charter_id, Instalment.sequence)
        )
    ).all()
    out = []
    for instalment_id, charter_id, client_id, method_id in rows:
        if client_id is not None and method_id is not None:  # the joins and filters say so
            out.append(_Due(instalment_id, charter_id, client_id, method_id))
    return out


async def _charge_one(
    sessions: async_sessionmaker[AsyncSession],
    due: _Due,
    today: date,
    provider: PaymentProvider,
) -> str | None:
    """Claim and charge one instalment for `today`; its result, or None if nothing was done."""
    key = attempt_key(due.instalment_id, today)
    async with sessions() as session, session.begin():
        claimed = await session.scalar(
            insert(AutopayAttempt)
            .values(
                id=uuid.uuid4(),
                client_id=due.client_id,
                charter_id=due.charter_id,
                instalment_id=due.instalment_id,
                run_on=today,
                amount=ZERO,
                status="failed",
                idempotency_key=key,
                saved_method_id=due.saved_method_id,
            )
            .on_conflict_do_nothing()
            .returning(AutopayAttempt.id)
        )
        if claimed is None:
            return None  # another run has it (or had it) today
        attempt = await session.get(AutopayAttempt, claimed)
        if attempt is None:  # pragma: no cover - inserted just above, in this transaction
            return None
        # The configuration or the client's choice may have changed since the candidates.
        current = await session.scalar(
            select(Autopay).where(Autopay.client_id == due.client_id).with_for_update()
        )
        if (
            current is None
            or not current.enabled
            or current.saved_method_id != due.saved_method_id
            or not (await plans.config(session)).autopay_allowed
        ):
            await session.delete(attempt)
            return None
        try:
            attempt.amount = await amount_due(session, due.charter_id, due.instalment_id, today)
            given = charges.CardPayment(
                due.charter_id, attempt.amount, key, saved_method_id=due.saved_method_id
            )
            await session.flush()
            async with session.begin_nested():
                payment = await charges.pay_by_card(session, given, ANONYMOUS, today, provider)
        except ServiceError as error:
            problem = error.problems[0]
            if problem.code == Code.NOT_PAYABLE:
                await session.delete(attempt)  # covered meanwhile: nothing to try
                return None
            if problem.code == Code.PROVIDER_UNAVAILABLE:
                raise  # rolls the claim back: the job's retry tries again, same key
            attempt.status = "declined" if problem.code == Code.DECLINED else "failed"
            attempt.reason = problem.message[:500]
            await session.flush()
            return attempt.status
        attempt.amount = payment.amount
        attempt.payment_id = payment.id
        attempt.status = "succeeded" if payment.provider_status == "succeeded" else "pending"
        await session.flush()
        return attempt.status


async def run_autopay(
    sessions: async_sessionmaker[AsyncSession], today: date, provider: PaymentProvider
) -> AutopayRun:
    """Charge what autopay clients owe by `today` (an operator-local date), once per day."""
    summary = AutopayRun(run_on=today)
    async with sessions() as session:
        if not (await plans.config(session)).autopay_allowed:
            summary.skipped = True
            return summary
        candidates = await _candidates(session, today)
    for due in candidates:
        try:
            result = await _charge_one(sessions, due, today, provider)
        except ServiceError:
            summary.unavailable.append(str(due.instalment_id))
            continue
        if result in ("succeeded", "pending"):
            summary.charged.append(str(due.instalment_id))
        elif result == "declined":
            summary.declined.append(str(due.instalment_id))
        elif result == "failed":
            summary.failed.append(str(due.instalment_id))
    log.info("autopay for %s: %s", today, summary.as_json())
    return summary
