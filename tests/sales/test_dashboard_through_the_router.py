"""The agent dashboard through the real router: one `User`, three subgraphs.

Identity answers `me`, `user` and `name`; sales adds `salesDashboard` and
the `salesTeam` root; charters adds `openQuoteCount` and
`upcomingDepartureCount`. The manager's cross-agent table costs the same
number of SQL statements for 2 agents as for 5.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest

from db.engine import record_statements
from subgraphs.charters.models import Charter
from subgraphs.identity.models import User
from subgraphs.sales.models import Lead
from tests.support.graphql_client import GraphQLClient

ME = """{ me { name salesDashboard { leadsToday pipeline { status count } }
  openQuoteCount upcomingDepartureCount } }"""
TEAM = """{ salesTeam { id name salesDashboard { leadsToday leadsThisMonth hotLeads
  pipeline { status count } } openQuoteCount upcomingDepartureCount(days: 14) } }"""
USER = """query($id: ID!) { user(id: $id) { name salesDashboard { leadsToday }
  openQuoteCount } }"""
_numbers = count(1)


@pytest.fixture
def agent_with_work(sessions, known_agent) -> Any:
    """A sales agent known to identity and sales, with leads and charters of its own.

    Per agent: `leads_today` new leads created now, one qualified lead
    created long ago and marked hot; one open quote; one booked departure
    in 3 days and one confirmed in 10.
    """

    async def make(name: str, leads_today: int = 1) -> uuid.UUID:
        agent = await known_agent(name=name)
        now = datetime.now(UTC)
        tag = agent.hex[:8]
        async with sessions() as session, session.begin():
            session.add(
                User(
                    id=agent,
                    email=f"{tag}@athena.example",
                    name=name,
                    roles=["sales_agent"],
                    password_hash="not-a-login",
                )
            )
        leads = [lead(agent, created_at=now) for _ in range(leads_today)]
        leads.append(
            lead(agent, status="qualified", marked_hot=True, created_at=now - timedelta(days=90))
        )
        async with sessions() as session, session.begin():
            session.add_all(leads)
        async with sessions() as session, session.begin():
            session.add_all(
                [
                    charter(agent, "quote", now + timedelta(days=40)),
                    charter(agent, "booked", now + timedelta(days=3)),
                    charter(agent, "confirmed", now + timedelta(days=10)),
                ]
            )
        return agent

    return make


def lead(agent: uuid.UUID, **fields: Any) -> Lead:
    tag = uuid.uuid4().hex[:8]
    return Lead(
        id=uuid.uuid4(),
        source="web",
        first_name="Robin",
        last_name=f"Hale {tag}",
        email=f"robin.{tag}@example.com",
        status=fields.pop("status", "new"),
        score=0,
        marked_hot=fields.pop("marked_hot", False),
        contact_count=0,
        agent_id=agent,
        **fields,
    )


def charter(agent: uuid.UUID, status: str, pickup_at: datetime) -> Charter:
    return Charter(
        id=uuid.uuid4(),
        reference=f"CH-2026-{next(_numbers):06d}",
        status=status,
        client_id=uuid.uuid4(),
        sales_agent_id=agent,
        trip_type="one_way",
        passenger_count=40,
        pickup_local=pickup_at.replace(tzinfo=None),
        pickup_time_zone="UTC",
        pickup_at=pickup_at,
    )


def pipeline(**counts: int) -> list[dict[str, Any]]:
    statuses = ("NEW", "CONTACTED", "QUALIFIED", "QUOTED", "CONVERTED", "LOST")
    return [{"status": s, "count": counts.get(s.lower(), 0)} for s in statuses]


async def test_an_agent_reads_its_dashboard_from_three_subgraphs_in_one_request(
    router_url, http_client, mint, agent_with_work
):
    agent = await agent_with_work("Sam Seller", leads_today=2)
    reader = GraphQLClient(router_url, http_client, await mint("sales_agent", user_id=agent))

    me = (await reader(ME)).ok()["me"]

    assert me == {
        "name": "Sam Seller",
        "salesDashboard": {"leadsToday": 2, "pipeline": pipeline(new=2, qualified=1)},
        "openQuoteCount": 1,
        "upcomingDepartureCount": 1,
    }


async def test_an_agent_reading_another_agents_dashboard_is_refused(
    router_url, http_client, mint, agent_with_work
):
    sam = await agent_with_work("Sam Seller")
    kim = await agent_with_work("Kim Closer")
    reader = GraphQLClient(router_url, http_client, await mint("sales_agent", user_id=kim))

    answer = await reader(USER, {"id": str(sam)})
    team = await reader(TEAM)

    assert answer.data["user"] == {
        "name": "Sam Seller",
        "salesDashboard": None,
        "openQuoteCount": None,
    }
    assert sorted(answer.error_codes) == ["FORBIDDEN", "FORBIDDEN"]
    assert sorted(tuple(e["path"]) for e in answer.errors) == [
        ("user", "openQuoteCount"),
        ("user", "salesDashboard"),
    ]
    assert team.error_codes == ["FORBIDDEN"]


async def test_a_manager_reads_the_team_table_at_a_constant_cost(
    router_url, http_client, mint, agent_with_work
):
    manager = GraphQLClient(router_url, http_client, await mint("manager"))
    names = ["Ann Able", "Ben Bold", "Cy Cole", "Di Dunn", "Ed Eve"]
    agents = [await agent_with_work(name, leads_today=i + 1) for i, name in enumerate(names[:2])]

    (await manager(TEAM)).ok()  # warm up: each subgraph fetches identity's keys once
    with record_statements() as two:
        small = (await manager(TEAM)).ok()["salesTeam"]
    agents += [await agent_with_work(name, leads_today=i + 3) for i, name in enumerate(names[2:])]
    with record_statements() as five:
        table = (await manager(TEAM)).ok()["salesTeam"]

    assert [row["name"] for row in small] == names[:2]
    assert [row["id"] for row in table] == [str(a) for a in agents]
    assert [row["name"] for row in table] == names
    assert [row["salesDashboard"]["leadsToday"] for row in table] == [1, 2, 3, 4, 5]
    # The hot lead is 90 days old: not this month's; today's leads are.
    assert [row["salesDashboard"]["leadsThisMonth"] for row in table] == [1, 2, 3, 4, 5]
    assert {row["salesDashboard"]["hotLeads"] for row in table} == {1}
    assert table[4]["salesDashboard"]["pipeline"] == pipeline(new=5, qualified=1)
    assert {(row["openQuoteCount"], row["upcomingDepartureCount"]) for row in table} == {(1, 2)}
    assert two.count == five.count <= 5  # sales 2, identity 1, charters 1 per figure (2)
