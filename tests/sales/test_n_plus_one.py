"""Every list through a dataloader: SQL per request does not grow with the clients."""

from __future__ import annotations

from db.engine import record_statements

QUERY = (
    "{ clients(first: 20) { edges { node { name contacts { email } primaryContact { email } } } } }"
)


async def statements_for(sales_manager, make_client, existing: int, wanted: int) -> int:
    for n in range(existing, wanted):
        await make_client(f"Client {n:02d}")
    with record_statements() as recorder:
        page = (await sales_manager(QUERY)).ok()["clients"]
    assert len(page["edges"]) == wanted
    assert all(len(e["node"]["contacts"]) == 1 for e in page["edges"])
    return recorder.count


async def test_clients_with_contacts_cost_the_same_for_2_and_20(sales_manager, make_client):
    two = await statements_for(sales_manager, make_client, 0, 2)
    twenty = await statements_for(sales_manager, make_client, 2, 20)

    assert two == twenty
    assert twenty <= 4  # the count, the page, the contacts
