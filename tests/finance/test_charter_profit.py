"""`Charter.profit`: a booked charter's price, cost, profit and margin, batched.

The figures are the revenue definition's (`service/revenue.py`) for one
charter; its readers are those of its agent's money figures.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from db.engine import record_statements
from subgraphs.finance.service import revenue
from tests.finance.test_charter_payment_status import Books, write
from tests.finance.test_revenue import counting
from tests.support.graphql_client import GraphQLClient

D = Decimal
SAM = uuid.uuid4()
PROFIT = "profit { price cost profit margin }"
ENTITIES = (
    "query($r: [_Any!]!) { _entities(representations: $r) { ... on Charter { id "
    + PROFIT
    + " } } }"
)


def charters(b: Books) -> dict[str, uuid.UUID]:
    client = b.client("Lakeside")
    return {
        "booked": b.charter(client, "P-1", "3000.00", agent_id=SAM, vehicle_cost=D("1800.00")),
        "uncosted": b.charter(client, "P-2", "500.00", agent_id=SAM, status="completed"),
        "quote": b.charter(client, "P-3", "700.00", agent_id=SAM, status="quote"),
        "cancelled": b.charter(client, "P-4", "900.00", agent_id=SAM, status="cancelled"),
        "unpriced": b.charter(client, "P-5", None, agent_id=SAM),
    }


async def test_each_charters_figures_in_one_statement(sessions: Any) -> None:
    made = await write(sessions, charters)
    unknown = uuid.uuid4()
    with counting() as recorder:
        async with sessions() as session:
            found = await revenue.charter_profits(session, [*made.values(), unknown])
    assert recorder.count == 1

    assert found[made["booked"]] == revenue.CharterProfit(
        SAM, revenue.Revenue(D("3000.00"), D("1800.00"))
    )
    assert found[made["booked"]].figures.margin == D("0.4000")  # type: ignore[union-attr]
    # An unknown cost counts as 0, as in the agent's profit month to date.
    assert found[made["uncosted"]].figures == revenue.Revenue(D("500.00"), D("0.00"))
    for not_booked in ("quote", "cancelled", "unpriced"):
        assert found[made[not_booked]] == revenue.CharterProfit(SAM, None), not_booked
    assert unknown not in found


async def test_the_agent_and_managers_read_it_others_are_refused(
    sessions: Any, finance_server: Any, http_client: Any, mint: Any
) -> None:
    made = await write(sessions, charters)

    async def as_(*roles: str, **who: Any) -> GraphQLClient:
        return GraphQLClient(finance_server.graphql_url, http_client, await mint(*roles, **who))

    reps = {"r": [{"__typename": "Charter", "id": str(made[k])} for k in ("booked", "quote")]}
    for reader in (await as_("sales_agent", user_id=SAM), await as_("manager")):
        answer = (await reader(ENTITIES, reps)).ok()["_entities"]
        assert answer == [
            {
                "id": str(made["booked"]),
                "profit": {
                    "price": "3000.00",
                    "cost": "1800.00",
                    "profit": "1200.00",
                    "margin": "0.4000",
                },
            },
            {"id": str(made["quote"]), "profit": None},
        ]
    for refused in (
        await as_("sales_agent"),
        await as_("dispatcher"),
        await as_("client", client_id=uuid.uuid4()),
    ):
        answer = await refused(ENTITIES, reps)
        assert answer.error_codes == ["FORBIDDEN", "FORBIDDEN"]
        assert [e["profit"] for e in answer.data["_entities"]] == [None, None]


async def test_the_statements_do_not_grow_with_the_charters(
    sessions: Any, finance_server: Any, http_client: Any, mint: Any
) -> None:
    caller = GraphQLClient(finance_server.graphql_url, http_client, await mint("accounting"))

    def many(n: int) -> Any:
        def build(b: Books) -> list[uuid.UUID]:
            client = b.client("Lakeside")
            return [
                b.charter(client, f"N-{i}", "100.00", agent_id=SAM, vehicle_cost=D("10.00"))
                for i in range(n)
            ]

        return build

    async def statements(ids: list[uuid.UUID]) -> int:
        reps = {"r": [{"__typename": "Charter", "id": str(i)} for i in ids]}
        with record_statements() as recorder:
            answer = (await caller(ENTITIES, reps)).ok()["_entities"]
        assert [e["profit"]["profit"] for e in answer] == ["90.00"] * len(ids)
        return len([s for s in recorder.statements if "finance." in s])

    few = await statements(await write(sessions, many(2)))
    more = await statements(await write(sessions, many(8)))
    assert few == more == 1
