"""The agent dashboard's money through the router: `User` from identity, figures from finance.

An agent reads its own booked revenue and profit this month and its
non-card money due; a manager and an accountant read any agent's; another
agent, a dispatcher and a client get null and FORBIDDEN for each figure.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from subgraphs.finance.models import SavedPaymentMethod
from subgraphs.identity.models import User
from tests.finance.test_charter_payment_status import Books, write
from tests.support.graphql_client import GraphQLClient

FIGURES = "bookedRevenueMonthToDate profitMonthToDate nonCardMoneyDue"
ME = f"{{ me {{ name {FIGURES} }} }}"
USER = f"query($id: ID!) {{ user(id: $id) {{ name {FIGURES} }} }}"
SAM, KIM = uuid.uuid4(), uuid.uuid4()


async def person(sessions: Any, user_id: uuid.UUID, name: str, role: str, **more: Any) -> None:
    async with sessions() as session, session.begin():
        session.add(
            User(
                id=user_id,
                email=f"{user_id.hex[:10]}@athena.example",
                name=name,
                roles=[role],
                password_hash="not-a-login",
                **more,
            )
        )


def book(b: Books) -> None:
    by_check, by_card = b.client("Pays by check"), b.client("Card on file")
    b.levels[0].append(
        SavedPaymentMethod(
            id=uuid.uuid4(),
            client_id=by_card,
            provider="stripe",
            token="pm_1",
            kind="card",
            brand="visa",
            last4="4242",
        )
    )
    now, cost = b.now, Decimal
    # Booked today: counts this month; 750 deposit due today, 250 paid -> 500 due.
    fresh = b.charter(
        by_check,
        "D-1",
        "3000.00",
        agent_id=SAM,
        accepted_at=now,
        vehicle_cost=cost("1800.00"),
        dues=(("750.00", 0), ("2250.00", 30)),
    )
    b.payment(by_check, "250.00", {fresh: "250.00"})
    # Booked 40 days ago (an earlier month): not this month's revenue; 1000 overdue counts.
    b.charter(
        by_check,
        "D-2",
        "5000.00",
        agent_id=SAM,
        accepted_at=now - timedelta(days=40),
        vehicle_cost=cost("100.00"),
        dues=(("1000.00", -5), ("4000.00", 20)),
    )
    # A card client's due money is the card's to pay, not the agent's to chase.
    b.charter(by_card, "D-3", "700.00", agent_id=SAM, accepted_at=now, dues=(("700.00", -3),))
    # Cancelled after booking: none of its money counts.
    b.charter(
        by_check,
        "D-4",
        "9000.00",
        agent_id=SAM,
        accepted_at=now,
        status="cancelled",
        dues=(("9000.00", -1),),
    )
    b.charter(by_check, "D-5", "999.00", agent_id=KIM, accepted_at=now)


async def test_agent_manager_and_refused_readers_of_the_dashboard_money(
    sessions, finance_router, http_client, mint
):
    await person(sessions, SAM, "Sam Seller", "sales_agent")
    await person(sessions, KIM, "Kim Closer", "sales_agent")
    await write(sessions, book)

    async def caller(role: str, user_id: uuid.UUID | None = None, **more: Any) -> GraphQLClient:
        return GraphQLClient(finance_router, http_client, await mint(role, user_id=user_id, **more))

    sam = await caller("sales_agent", SAM)
    mine = (await sam(ME)).ok()["me"]
    assert mine == {
        "name": "Sam Seller",
        # D-1 and D-3 were booked this month: 3000 + 700; profit 3000 - 1800 + 700 - 0.
        "bookedRevenueMonthToDate": "3700.00",
        "profitMonthToDate": "1900.00",
        # D-1's 500 due today and D-2's 1000 overdue, both from the client paying by check.
        "nonCardMoneyDue": "1500.00",
    }

    for staff in ("manager", "accounting"):
        reader = await caller(staff)
        assert (await reader(USER, {"id": str(SAM)})).ok()["user"] == mine
    kim_own = (await (await caller("sales_agent", KIM))(ME)).ok()["me"]
    assert kim_own["bookedRevenueMonthToDate"] == "999.00"
    assert kim_own["nonCardMoneyDue"] == "0.00"

    for refused in (await caller("sales_agent", KIM), await caller("dispatcher")):
        answer = await refused(USER, {"id": str(SAM)})
        assert answer.data["user"] == {
            "name": "Sam Seller",
            "bookedRevenueMonthToDate": None,
            "profitMonthToDate": None,
            "nonCardMoneyDue": None,
        }
        assert answer.error_codes == ["FORBIDDEN"] * 3
        assert sorted(tuple(e["path"]) for e in answer.errors) == [
            ("user", "bookedRevenueMonthToDate"),
            ("user", "nonCardMoneyDue"),
            ("user", "profitMonthToDate"),
        ]

    client_user, client_id = uuid.uuid4(), uuid.uuid4()
    await person(sessions, client_user, "A Client", "client", client_id=client_id)
    as_client = await caller("client", client_user, client_id=client_id)
    answer = await as_client(ME)
    assert answer.data["me"]["bookedRevenueMonthToDate"] is None
    assert answer.error_codes == ["FORBIDDEN"] * 3
