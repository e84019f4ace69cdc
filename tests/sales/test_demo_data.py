"""The sales demo creates the demo charters' clients, by the same ids, once."""

from __future__ import annotations

from sqlalchemy import func, select

from db.demo import identity as identity_demo
from db.demo import sales as sales_demo
from db.demo.charters import DEMO_CLIENTS
from subgraphs.identity.models import User
from subgraphs.sales.models import Client, ClientContact


async def test_the_demo_clients_have_the_charters_ids_and_real_names(sessions):
    for module in (identity_demo, sales_demo):
        async with sessions() as session, session.begin():
            await module.load(session)
    async with sessions() as session, session.begin():
        again = await sales_demo.load(session)

    async with sessions() as session:
        names = {row.id: row.name for row in await session.execute(select(Client.id, Client.name))}
        agents = set(await session.scalars(select(Client.sales_agent_id)))
        agent = await session.scalar(select(User.id).where(User.email == "sales_agent@demo.athena"))
        company = await session.scalar(
            select(User.client_id).where(User.email == "client@demo.athena")
        )
        primaries = await session.scalar(
            select(func.count()).select_from(ClientContact).where(ClientContact.is_primary)
        )

    assert again == 0
    assert names == {client_id: name for name, client_id in DEMO_CLIENTS.items()}
    assert agents == {agent}
    assert company in names
    assert primaries == len(DEMO_CLIENTS)
