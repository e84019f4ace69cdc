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


async def test_the_demo_pipeline_a_queue_of_three_20_leads_two_converted_into_demo_quotes(sessions):
    from db.demo.__main__ import load_all
    from subgraphs.charters.models import Charter
    from subgraphs.sales.models import Lead, LeadQueueEntry

    first = await load_all()
    again = await load_all()

    async with sessions() as session:
        statuses = dict(
            (await session.execute(select(Lead.status, func.count()).group_by(Lead.status))).all()
        )
        queue = (
            await session.execute(select(LeadQueueEntry.weight, LeadQueueEntry.max_per_day))
        ).all()
        converted = (
            await session.execute(
                select(Lead.client_id, Charter.client_id, Charter.status)
                .join(Charter, Charter.id == Lead.charter_id)
                .where(Lead.status == "converted")
            )
        ).all()
        unassigned = await session.scalar(
            select(func.count()).select_from(Lead).where(Lead.agent_id.is_(None))
        )

    assert first["sales_leads"] == 20
    assert again["sales_leads"] == 0
    assert sum(statuses.values()) == 20
    assert set(statuses) == {"new", "contacted", "qualified", "quoted", "converted", "lost"}
    assert statuses["converted"] == 2
    assert sorted(queue, key=str) == sorted([(2, None), (1, None), (1, 5)], key=str)
    assert all(lead_client == charter_client for lead_client, charter_client, _ in converted)
    assert {status for _, _, status in converted} == {"quote"}
    assert unassigned == 0
