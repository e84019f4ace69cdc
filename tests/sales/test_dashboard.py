"""The agent dashboard (issue 10, section 6): sales' figures and who reads them.

Figures are computed by the service with an injected `now` in the
operator's time zone (America/Chicago here: UTC-5 in June); access is
asked over HTTP of the sales subgraph, as the router would ask it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from subgraphs.sales.models import LEAD_STATUSES, Client, Lead
from subgraphs.sales.service import dashboard, leads

ZONE = "America/Chicago"
#: 11:00 in Chicago on 15 June 2026; the local day began at 05:00 UTC.
NOW = datetime(2026, 6, 15, 16, 0, tzinfo=UTC)
DAY_START = datetime(2026, 6, 15, 5, 0, tzinfo=UTC)
MONTH_START = datetime(2026, 6, 1, 5, 0, tzinfo=UTC)
TODAY = date(2026, 6, 15)
MINUTE = timedelta(minutes=1)

DASHBOARD = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on User { id salesDashboard { leadsToday leadsThisMonth followUpsDueToday followUpsOverdue
    hotLeads pipeline { status count } } } } }"""
TEAM = "{ salesTeam { id salesDashboard { leadsToday } } }"


def lead_row(agent: uuid.UUID | None, **fields: Any) -> Lead:
    tag = uuid.uuid4().hex[:8]
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "source": "web",
        "first_name": "Robin",
        "last_name": f"Hale {tag}",
        "email": f"robin.{tag}@example.com",
        "status": "new",
        "score": 0,
        "marked_hot": False,
        "contact_count": 0,
        "agent_id": agent,
        "created_at": datetime(2026, 4, 1, tzinfo=UTC),
        **fields,
    }
    if values["status"] == "lost":
        values.setdefault("lost_reason", "Went elsewhere")
    if values["status"] == "converted":
        values.setdefault("charter_id", uuid.uuid4())
    return Lead(**values)


async def add(sessions: Any, *rows: Any) -> None:
    async with sessions() as session, session.begin():
        session.add_all(rows)


async def a_client(sessions: Any) -> uuid.UUID:
    """A client row for converted leads (a converted lead names its client)."""
    client_id = uuid.uuid4()
    await add(sessions, Client(id=client_id, name="Northwind", client_type="corporate"))
    return client_id


async def figures(sessions: Any, *agents: uuid.UUID) -> dict[uuid.UUID, dashboard.Figures]:
    async with sessions() as session:
        return await dashboard.figures(session, agents, now=NOW, zone=ZONE)


async def test_leads_today_and_this_month_follow_the_operators_calendar(sessions):
    agent, other = uuid.uuid4(), uuid.uuid4()
    await add(
        sessions,
        lead_row(agent, created_at=DAY_START),  # today's first instant
        lead_row(agent, created_at=NOW),
        lead_row(agent, created_at=DAY_START - MINUTE),  # 23:59 yesterday, local
        lead_row(agent, created_at=MONTH_START),  # this month's first instant
        lead_row(agent, created_at=MONTH_START - MINUTE),  # 31 May, local
        lead_row(other, created_at=NOW),
        lead_row(None, created_at=NOW),  # unassigned
    )

    mine = (await figures(sessions, agent))[agent]

    assert (mine.leads_today, mine.leads_this_month) == (2, 4)


async def test_follow_ups_due_today_and_overdue_count_open_leads_split_at_local_midnight(sessions):
    agent, client = uuid.uuid4(), await a_client(sessions)
    day_end = DAY_START + timedelta(days=1)
    await add(
        sessions,
        lead_row(agent, next_follow_up_at=DAY_START),  # today
        lead_row(agent, next_follow_up_at=day_end - MINUTE, status="quoted"),  # today
        lead_row(agent, next_follow_up_at=day_end),  # tomorrow: neither
        lead_row(agent, next_follow_up_at=DAY_START - MINUTE, status="contacted"),  # overdue
        lead_row(agent, next_follow_up_at=DAY_START - timedelta(days=9)),  # overdue
        lead_row(agent, next_follow_up_at=DAY_START - MINUTE, status="lost"),  # closed
        lead_row(agent, next_follow_up_at=NOW, status="converted", client_id=client),
        lead_row(agent),  # no follow-up planned
    )

    mine = (await figures(sessions, agent))[agent]

    assert (mine.follow_ups_due_today, mine.follow_ups_overdue) == (2, 2)


async def test_hot_leads_in_sql_agree_with_the_hot_rule_lead_by_lead(sessions):
    cases = [
        {"marked_hot": True},
        {"marked_hot": True, "status": "lost"},
        {"trip_date": TODAY, "passengers": 40},
        {"trip_date": TODAY + timedelta(days=30), "passengers": 56},
        {"trip_date": TODAY + timedelta(days=31), "passengers": 56},
        {"trip_date": TODAY - timedelta(days=1), "passengers": 56},
        {"trip_date": TODAY + timedelta(days=3), "passengers": 39},
        {"trip_date": TODAY + timedelta(days=3), "passengers": None},
        {"trip_date": None, "passengers": 80},
        {"trip_date": TODAY + timedelta(days=3), "passengers": 45, "status": "qualified"},
        {"trip_date": TODAY + timedelta(days=3), "passengers": 45, "status": "lost"},
    ]
    rows = [lead_row(uuid.uuid4(), **case) for case in cases]
    await add(sessions, *rows)

    found = await figures(sessions, *(row.agent_id for row in rows))

    expected = [int(leads.is_hot(row, TODAY)) for row in rows]
    assert [found[row.agent_id].hot_leads for row in rows] == expected
    assert expected == [1, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0]


async def test_the_pipeline_counts_every_status_and_many_agents_come_back_at_once(sessions):
    one, two, idle = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await add(
        sessions,
        *(lead_row(one, status="new") for _ in range(3)),
        lead_row(one, status="quoted"),
        lead_row(one, status="lost"),
        lead_row(two, status="contacted"),
    )

    found = await figures(sessions, one, two, idle)

    assert found[one].pipeline == {
        "new": 3,
        "contacted": 0,
        "qualified": 0,
        "quoted": 1,
        "converted": 0,
        "lost": 1,
    }
    assert found[two].pipeline == {s: int(s == "contacted") for s in LEAD_STATUSES}
    assert found[idle] == dashboard.Figures()


# Who reads a dashboard, over HTTP ----------------------------------------------------


def entity(user_id: uuid.UUID | str) -> dict[str, Any]:
    return {"r": [{"__typename": "User", "id": str(user_id)}]}


async def test_an_agent_reads_its_own_dashboard(sales_as, sessions):
    agent = uuid.uuid4()
    await add(sessions, lead_row(agent, status="quoted"), lead_row(agent, created_at=NOW))
    reader = await sales_as("sales_agent", user_id=agent)

    [user] = (await reader(DASHBOARD, entity(agent))).ok()["_entities"]

    board = user["salesDashboard"]
    assert {s["status"]: s["count"] for s in board["pipeline"]} == {
        "NEW": 1,
        "CONTACTED": 0,
        "QUALIFIED": 0,
        "QUOTED": 1,
        "CONVERTED": 0,
        "LOST": 0,
    }
    assert board["hotLeads"] == 0


async def test_an_agent_reading_a_colleagues_dashboard_gets_null_and_forbidden(sales_as):
    reader = await sales_as("sales_agent")

    answer = await reader(DASHBOARD, entity(uuid.uuid4()))

    assert answer.data["_entities"][0]["salesDashboard"] is None
    assert answer.error_codes == ["FORBIDDEN"]


@pytest.mark.parametrize("role", ["admin", "manager", "sales_support"])
async def test_managers_and_sales_support_read_any_agents_dashboard(role, sales_as, sessions):
    agent = uuid.uuid4()
    await add(sessions, lead_row(agent, status="contacted"))
    reader = await sales_as(role)

    [user] = (await reader(DASHBOARD, entity(agent))).ok()["_entities"]

    counts = {s["status"]: s["count"] for s in user["salesDashboard"]["pipeline"]}
    assert counts["CONTACTED"] == 1


@pytest.mark.parametrize("role", ["dispatcher", "accounting", "client", "vendor", "driver"])
async def test_other_roles_read_no_dashboard_not_even_their_own(role, sales_as):
    me = uuid.uuid4()
    reader = await sales_as(role, user_id=me, client_id=uuid.uuid4() if role == "client" else None)

    own = await reader(DASHBOARD, entity(me))
    team = await reader(TEAM)

    assert own.data["_entities"][0]["salesDashboard"] is None
    assert own.error_codes == ["FORBIDDEN"]
    assert team.error_codes == ["FORBIDDEN"]


async def test_anonymous_callers_are_unauthenticated(sales_server, http_client):
    from tests.support.graphql_client import GraphQLClient

    anonymous = GraphQLClient(sales_server.graphql_url, http_client)

    assert (await anonymous(DASHBOARD, entity(uuid.uuid4()))).error_codes == ["UNAUTHENTICATED"]
    assert (await anonymous(TEAM)).error_codes == ["UNAUTHENTICATED"]


async def test_the_sales_team_lists_active_sales_agents_by_name(sales_as, known_agent):
    zed = await known_agent(name="Zed Young")
    amy = await known_agent(name="amy Archer")
    await known_agent(name="Bob Gone", active=False)
    await known_agent(name="Dee Dispatch", roles=("dispatcher",))
    manager = await sales_as("manager")

    team = (await manager(TEAM)).ok()["salesTeam"]

    assert [member["id"] for member in team] == [str(amy), str(zed)]
    assert [member["salesDashboard"]["leadsToday"] for member in team] == [0, 0]


async def test_a_sales_agent_may_not_read_the_team_table(sales_as):
    agent = await sales_as("sales_agent")

    assert (await agent(TEAM)).error_codes == ["FORBIDDEN"]
