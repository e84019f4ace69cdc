"""Finance announces each instalment and what it still wants (`finance.installment_changed`).

Notifications reminds clients from these: a plan made, a payment applied, a
re-plan (the replaced instalments announced as removed) each announce the
charter's instalments as they stand, in the changing transaction.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.finance.models import Instalment, outbox
from subgraphs.finance.service import applications, facts, payments
from subgraphs.finance.service.instalment_events import TOPIC
from tests.finance.conftest import new_id

ACCOUNTING = Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.ACCOUNTING}))


async def _announced(sessions: Any) -> list[dict[str, Any]]:
    async with sessions() as s:
        rows = await s.execute(
            select(outbox.c.payload).where(outbox.c.topic == TOPIC).order_by(outbox.c.id)
        )
        return [r.payload for r in rows]


async def _forget(sessions: Any) -> None:
    async with sessions() as s, s.begin():
        await s.execute(delete(outbox).where(outbox.c.topic == TOPIC))


async def test_a_plan_a_payment_and_a_replan_announce_what_each_instalment_still_wants(
    sessions, booked
) -> None:
    charter_id, client_id = new_id(), new_id()
    await booked(charter_id, client_id, "1000.00", days=60)

    made = await _announced(sessions)
    assert [(e["kind"], e["amount"], e["outstanding"], e["removed"]) for e in made] == [
        ("deposit", "250.00", "250.00", False),
        ("balance", "750.00", "750.00", False),
    ]
    async with sessions() as s:
        ids = [str(i) for i in await s.scalars(select(Instalment.id).order_by(Instalment.sequence))]
        dues = [
            d.isoformat()
            for d in await s.scalars(select(Instalment.due_on).order_by(Instalment.sequence))
        ]
    assert [e["installmentId"] for e in made] == ids
    assert [e["dueOn"] for e in made] == dues
    assert {e["charterId"] for e in made} == {charter_id}
    assert {e["clientId"] for e in made} == {client_id}
    assert all(datetime.fromisoformat(e["occurredAt"]).tzinfo is not None for e in made)

    await _forget(sessions)
    today = date.today()
    async with sessions() as s, s.begin():
        payment = await payments.record(
            s,
            payments.PaymentInput(
                uuid.UUID(client_id), Decimal("300.00"), today, "check", {"checkNumber": "1"}
            ),
            ACCOUNTING,
            today,
        )
        await applications.apply(
            s,
            applications.Application(payment.id, uuid.UUID(charter_id), Decimal("300.00"), "k-1"),
            ACCOUNTING,
        )
    paid = await _announced(sessions)
    # the deposit is covered first, the rest goes to the balance
    assert [(e["kind"], e["outstanding"]) for e in paid] == [
        ("deposit", "0.00"),
        ("balance", "700.00"),
    ]

    await _forget(sessions)
    async with sessions() as s, s.begin():
        await facts.apply_quote_accepted(
            s,
            {
                "occurredAt": datetime.now(UTC).isoformat(),
                "payload": {"charterId": charter_id, "total": "1200.00", "lines": []},
            },
        )
    replanned = await _announced(sessions)
    current = [e for e in replanned if not e["removed"]]
    removed = [e for e in replanned if e["removed"]]
    assert {e["installmentId"] for e in removed} == set(ids)
    assert all(e["outstanding"] == "0.00" for e in removed)
    assert not {e["installmentId"] for e in current} & set(ids)
    assert [(e["kind"], e["amount"], e["outstanding"]) for e in current] == [
        ("deposit", "300.00", "0.00"),
        ("balance", "900.00", "900.00"),
    ]
