"""Lead queries: the filtered connection, mine, recent, the pipeline, follow-ups due."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update

from db.engine import record_statements
from subgraphs.sales.models import Lead

LEADS = """query($first: Int, $after: String, $filter: LeadFilter) {
  leads(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { lastName } } } }"""
SET_STATUS = """mutation($id: ID!, $status: LeadStatus!, $reason: String) {
  setLeadStatus(id: $id, status: $status, reason: $reason) { userErrors { code } } }"""
LOG = """mutation($id: ID!, $at: DateTime!) {
  logLeadActivity(leadId: $id, input: {type: CALL, nextFollowUpAt: $at}) {
    userErrors { code } } }"""
DUE = "{ followUpsDue(first: 50) { totalCount edges { node { lastName nextFollowUpAt } } } }"


async def set_created(sessions, lead: dict, at: datetime) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(Lead).where(Lead.id == uuid.UUID(lead["id"])).values(created_at=at)
        )


async def names(client, **variables) -> list[str]:
    page = (await client(LEADS, variables)).ok()["leads"]
    return [e["node"]["lastName"] for e in page["edges"]]


async def test_leads_filter_by_status_agent_source_and_created_range(
    sales_manager, make_lead, sessions, known_agent
):
    agent = str(await known_agent())
    now = datetime.now(UTC)
    a = await make_lead(lastName="A", source="WEB", agentId=agent)
    b = await make_lead(lastName="B", source="PHONE")
    c = await make_lead(lastName="C", source="PARTNER", agentId=agent)
    await set_created(sessions, a, now - timedelta(days=3))
    await set_created(sessions, b, now - timedelta(days=2))
    await set_created(sessions, c, now - timedelta(days=1))
    await sales_manager(SET_STATUS, {"id": c["id"], "status": "CONTACTED"})

    assert await names(sales_manager) == ["C", "B", "A"]  # newest first
    assert await names(sales_manager, filter={"status": ["CONTACTED"]}) == ["C"]
    assert await names(sales_manager, filter={"status": ["NEW", "LOST"]}) == ["B", "A"]
    assert await names(sales_manager, filter={"agentId": agent}) == ["C", "A"]
    assert await names(sales_manager, filter={"unassigned": True}) == ["B"]
    assert await names(sales_manager, filter={"source": ["WEB", "PHONE"]}) == ["B", "A"]
    window = {
        "createdFrom": (now - timedelta(days=2, hours=1)).isoformat(),
        "createdTo": (now - timedelta(hours=23)).isoformat(),
    }
    assert await names(sales_manager, filter=window) == ["C", "B"]
    assert await names(sales_manager, filter={**window, "source": ["PARTNER"]}) == ["C"]
    page = (await sales_manager(LEADS, {"first": 2})).ok()["leads"]
    assert page["totalCount"] == 3
    assert page["pageInfo"]["hasNextPage"] is True
    rest = await names(sales_manager, first=2, after=page["pageInfo"]["endCursor"])
    assert rest == ["A"]
    bad = await sales_manager(LEADS, {"filter": {"agentId": "nope"}})
    assert bad.error_codes == ["BAD_USER_INPUT"]


async def test_my_leads_and_recent_leads(sales_as, make_lead, sessions, known_agent):
    agent_id = uuid.uuid4()
    agent = await sales_as("sales_agent", user_id=agent_id)
    manager = await sales_as("manager", user_id=uuid.uuid4())
    mine_old = await make_lead(lastName="Old", by=agent)
    await make_lead(lastName="New", by=agent)
    await make_lead(lastName="Theirs", agentId=str(await known_agent()))
    await set_created(sessions, mine_old, datetime.now(UTC) - timedelta(days=31))
    query = (
        "{ myLeads { edges { node { lastName } } } recentLeads { edges { node { lastName } } } }"
    )

    mine = (await agent(query)).ok()
    managers = (await manager(query)).ok()

    assert [e["node"]["lastName"] for e in mine["myLeads"]["edges"]] == ["New", "Old"]
    assert [e["node"]["lastName"] for e in mine["recentLeads"]["edges"]] == ["New"]
    assert managers["myLeads"]["edges"] == []
    assert [e["node"]["lastName"] for e in managers["recentLeads"]["edges"]] == [
        "Theirs",
        "New",
    ]


async def test_the_pipeline_counts_every_status_the_viewer_may_see(sales_as, make_lead):
    agent = await sales_as("sales_agent", user_id=uuid.uuid4())
    manager = await sales_as("manager")
    own = [await make_lead(by=agent) for _ in range(3)]
    await make_lead()  # unassigned: not the agent's
    await manager(SET_STATUS, {"id": own[0]["id"], "status": "CONTACTED"})
    await manager(SET_STATUS, {"id": own[1]["id"], "status": "LOST", "reason": "Price"})
    query = "{ leadPipeline { status count } }"

    agents = (await agent(query)).ok()["leadPipeline"]
    managers = (await manager(query)).ok()["leadPipeline"]

    assert agents == [
        {"status": "NEW", "count": 1},
        {"status": "CONTACTED", "count": 1},
        {"status": "QUALIFIED", "count": 0},
        {"status": "QUOTED", "count": 0},
        {"status": "CONVERTED", "count": 0},
        {"status": "LOST", "count": 1},
    ]
    assert managers[0] == {"status": "NEW", "count": 2}


async def test_follow_ups_due_today_and_overdue_in_the_operators_time_zone(
    sales_manager, make_lead, settings
):
    zone = ZoneInfo(settings.operator_time_zone)
    today = datetime.now(UTC).astimezone(zone).date()
    tomorrow = today + timedelta(days=1)
    plan = {
        "Overdue": datetime.combine(today - timedelta(days=2), time(9), zone),
        "Late today": datetime.combine(today, time(23, 59), zone),
        "Tomorrow": datetime.combine(tomorrow, time(0, 1), zone),
        "Closed": datetime.combine(today - timedelta(days=1), time(9), zone),
    }
    for name, at in plan.items():
        lead = await make_lead(lastName=name)
        answer = (await sales_manager(LOG, {"id": lead["id"], "at": at.isoformat()})).ok()
        assert answer["logLeadActivity"]["userErrors"] == []
        if name == "Closed":
            await sales_manager(SET_STATUS, {"id": lead["id"], "status": "LOST", "reason": "No"})
    await make_lead(lastName="No follow-up")

    due = (await sales_manager(DUE)).ok()["followUpsDue"]

    assert [e["node"]["lastName"] for e in due["edges"]] == ["Overdue", "Late today"]
    assert due["totalCount"] == 2
    # 23:59 in the operator's zone is tomorrow in UTC: the boundary is the operator's midnight.
    late = datetime.fromisoformat(due["edges"][1]["node"]["nextFollowUpAt"])
    assert late.astimezone(UTC).date() != late.astimezone(zone).date()


async def test_lead_activities_cost_the_same_sql_for_2_and_20_leads(sales_manager, make_lead):
    query = "{ leads(first: 20) { edges { node { activities { type } } } } }"

    async def statements(existing: int, wanted: int) -> int:
        for _ in range(existing, wanted):
            lead = await make_lead()
            await sales_manager(SET_STATUS, {"id": lead["id"], "status": "CONTACTED"})
        with record_statements() as recorder:
            page = (await sales_manager(query)).ok()["leads"]
        assert len(page["edges"]) == wanted
        assert all(e["node"]["activities"] == [{"type": "STATUS_CHANGE"}] for e in page["edges"])
        return recorder.count

    two = await statements(0, 2)
    twenty = await statements(2, 20)

    assert two == twenty
    assert twenty <= 4  # the count, the page, the activities' count and page
