"""Who gets a new lead (service/assignment.py): its creator, the client's agent, or the queue.

Service-level tests inject `now` to pin the operator-local day; the API
tests check what `createLead`, `leadQueue` and `unassignedLeads` answer.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.sales.models import Client, Lead, LeadQueueEntry
from subgraphs.sales.service import clients, leads, queue
from subgraphs.sales.service.assignment import pick
from subgraphs.sales.service.contact_details import ContactDetails
from tests.sales.conftest import lead_input

CHICAGO = "America/Chicago"
MANAGER = Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.MANAGER}))
SUPPORT = Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.SALES_SUPPORT}))
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
ASSIGNED = "assignmentMethod assignedAt agent { id }"
CREATE = f"""mutation($input: CreateLeadInput!) {{
  createLead(input: $input) {{ lead {{ id {ASSIGNED} }} userErrors {{ field code }} }} }}"""
QUEUE = """{ leadQueue { agent { id } position weight active maxLeadsPerDay assignedToday capped
  lastAssignedAt assignedTotal } }"""
UNASSIGNED = """query($after: String) { unassignedLeads(first: 2, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { node { id agent { id } } } } }"""


def chicago(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(CHICAGO))


async def enqueue(sessions, agent_id, position, weight=1, max_per_day=None, active=True):
    settings = queue.QueueSettings(agent_id, position, weight, active, max_per_day)
    async with sessions() as session, session.begin():
        await queue.set_entry(session, settings, MANAGER)


async def new_lead(sessions, *, now=NOW, by=SUPPORT, **fields) -> Lead:
    tag = uuid.uuid4().hex[:8]
    details = leads.LeadDetails(
        source="web", first_name="Robin", last_name=tag, email=f"robin.{tag}@example.com"
    )
    for name, value in fields.items():
        setattr(details, name, value)
    async with sessions() as session, session.begin():
        return await leads.create(session, details, by, now=now, zone=CHICAGO)


async def owners(sessions, count, **kwargs) -> list[uuid.UUID | None]:
    return [(await new_lead(sessions, **kwargs)).agent_id for _ in range(count)]


async def queue_rows(sessions) -> dict[uuid.UUID, LeadQueueEntry]:
    async with sessions() as session:
        return {r.user_id: r for r in (await session.scalars(select(LeadQueueEntry))).all()}


async def make_client(sessions, agent_id, *contacts: ContactDetails) -> Client:
    profile = clients.ClientProfile(
        name=f"Client {uuid.uuid4().hex[:6]}", client_type="corporate", sales_agent_id=agent_id
    )
    async with sessions() as session, session.begin():
        return await clients.create(session, profile, list(contacts), MANAGER)


async def test_weights_1_1_2_pick_in_the_smooth_order_and_cycle_back_to_zero(sessions, known_agent):
    a, b, c = [await known_agent() for _ in range(3)]
    await enqueue(sessions, a, 1)
    await enqueue(sessions, b, 2)
    await enqueue(sessions, c, 3, weight=2)

    picked = await owners(sessions, 9)

    assert picked == [c, a, b, c, c, a, b, c, c]
    rows = await queue_rows(sessions)
    assert [rows[x].assigned_total for x in (a, b, c)] == [2, 2, 5]
    assert [rows[x].current_weight for x in (a, b, c)] == [1, 1, -2]  # the cycle's first step
    assert {rows[x].counted_on for x in (a, b, c)} == {NOW.astimezone(ZoneInfo(CHICAGO)).date()}
    assert rows[c].last_assigned_at == NOW
    async with sessions() as session:
        methods = set((await session.scalars(select(Lead.assignment_method))).all())
        stamps = set((await session.scalars(select(Lead.assigned_at))).all())
    assert methods == {"round_robin"}
    assert stamps == {NOW}


def test_the_documented_split_of_50_leads_over_weights_1_1_2_is_13_12_25():
    entries = [
        LeadQueueEntry(user_id=uuid.UUID(int=i), weight=w, current_weight=0, max_per_day=None)
        for i, w in ((1, 1), (2, 1), (3, 2))
    ]
    counts = {e.user_id.int: 0 for e in entries}
    for _ in range(50):
        chosen = pick(entries, NOW.date())
        assert chosen is not None
        counts[chosen.user_id.int] += 1

    assert counts == {1: 13, 2: 12, 3: 25}


async def test_a_capped_agent_is_skipped_and_the_rest_share_by_weight(sessions, known_agent):
    a, b = await known_agent(), await known_agent()
    await enqueue(sessions, a, 1, max_per_day=1)
    await enqueue(sessions, b, 2)

    assert await owners(sessions, 4) == [a, b, b, b]
    rows = await queue_rows(sessions)
    assert (rows[a].assigned_today, rows[b].assigned_today) == (1, 3)


async def test_when_every_agent_is_capped_the_lead_stays_unassigned(sessions, known_agent):
    a, b = await known_agent(), await known_agent()
    await enqueue(sessions, a, 1, max_per_day=1)
    await enqueue(sessions, b, 2, max_per_day=2)

    picked = await owners(sessions, 5)

    assert picked == [a, b, b, None, None]
    async with sessions() as session:
        left = (await session.scalars(select(Lead).where(Lead.agent_id.is_(None)))).all()
    assert [(x.assignment_method, x.assigned_at) for x in left] == [(None, None), (None, None)]
    rows = await queue_rows(sessions)
    assert (rows[a].assigned_total, rows[b].assigned_total) == (1, 2)


async def test_an_inactive_entry_a_deactivated_agent_and_a_former_agent_are_skipped(
    sessions, known_agent
):
    paused, departed, moved, working = [await known_agent() for _ in range(4)]
    await enqueue(sessions, paused, 1, active=False)
    await enqueue(sessions, departed, 2)
    await enqueue(sessions, moved, 3)
    await enqueue(sessions, working, 4)
    await known_agent(departed, active=False)
    await known_agent(moved, roles=("dispatcher",))

    assert await owners(sessions, 3) == [working, working, working]
    rows = await queue_rows(sessions)
    assert [rows[x].assigned_total for x in (paused, departed, moved)] == [0, 0, 0]


async def test_the_daily_count_resets_at_the_operators_midnight_not_utcs(sessions, known_agent):
    agent = await known_agent()
    await enqueue(sessions, agent, 1, max_per_day=1)
    moments = [
        chicago(2026, 3, 10, 18, 58),  # 23:58 UTC, 10 March
        chicago(2026, 3, 10, 19, 2),  # 00:02 UTC, 11 March: still the 10th in Chicago
        chicago(2026, 3, 10, 23, 59),
        chicago(2026, 3, 11, 0, 1),  # a new operator day
    ]
    assert moments[1].astimezone(UTC).date() > moments[0].astimezone(UTC).date()

    picked = [(await new_lead(sessions, now=at)).agent_id for at in moments]

    assert picked == [agent, None, None, agent]
    row = (await queue_rows(sessions))[agent]
    assert (row.assigned_today, row.counted_on, row.assigned_total) == (
        1,
        moments[3].date(),
        2,
    )


async def test_a_lead_matching_a_clients_email_goes_to_the_clients_agent_outside_the_queue(
    sessions, known_agent
):
    owner, queued = await known_agent(), await known_agent()
    await enqueue(sessions, queued, 1)
    client = await make_client(
        sessions, owner, ContactDetails(name="Pat", email="pat@lakeside.example", is_primary=True)
    )

    lead = await new_lead(sessions, email=" Pat@Lakeside.EXAMPLE ")

    assert (lead.agent_id, lead.client_id, lead.assignment_method) == (
        owner,
        client.id,
        "existing_client",
    )
    assert lead.assigned_at == NOW
    assert (await queue_rows(sessions))[queued].assigned_total == 0  # not a round-robin pick


async def test_a_lead_matching_a_contacts_phone_goes_to_the_clients_agent(sessions, known_agent):
    owner = await known_agent()
    client = await make_client(
        sessions,
        owner,
        ContactDetails(name="Pat", email="pat@hill.example", is_primary=True),
        ContactDetails(name="Lee", phone="(901) 555-0142"),
    )

    lead = await new_lead(sessions, email="", phone="+1 901 555 0142")

    assert (lead.agent_id, lead.client_id, lead.assignment_method) == (
        owner,
        client.id,
        "existing_client",
    )


async def test_a_matched_client_without_an_active_agent_keeps_the_client_and_uses_the_queue(
    sessions, known_agent
):
    owner, queued = await known_agent(), await known_agent()
    await enqueue(sessions, queued, 1)
    client = await make_client(
        sessions, owner, ContactDetails(name="Pat", email="pat@gone.example", is_primary=True)
    )
    await known_agent(owner, active=False)

    lead = await new_lead(sessions, email="pat@gone.example")

    assert (lead.agent_id, lead.client_id, lead.assignment_method) == (
        queued,
        client.id,
        "round_robin",
    )


async def test_several_matching_clients_primary_contact_first_then_the_oldest_client(
    sessions, known_agent
):
    old_owner, new_owner, third = [await known_agent() for _ in range(3)]
    older = await make_client(
        sessions,
        old_owner,
        ContactDetails(name="Main", email="main@older.example", is_primary=True),
        ContactDetails(name="Shared", email="shared@example.com", phone="+19015550100"),
    )
    newer = await make_client(
        sessions,
        new_owner,
        ContactDetails(name="Shared", email="shared@example.com", is_primary=True),
    )
    newest = await make_client(
        sessions,
        third,
        ContactDetails(name="Main", email="main@newest.example", is_primary=True),
        ContactDetails(name="Desk", phone="+19015550100"),
    )
    async with sessions() as session, session.begin():
        for client, days in ((older, 30), (newer, 20), (newest, 10)):
            await session.execute(
                update(Client)
                .where(Client.id == client.id)
                .values(created_at=NOW - timedelta(days=days))
            )

    by_email = await new_lead(sessions, email="shared@example.com")
    by_phone = await new_lead(sessions, email="", phone="+19015550100")

    assert (by_email.client_id, by_email.agent_id) == (newer.id, new_owner)  # its primary
    assert (by_phone.client_id, by_phone.agent_id) == (older.id, old_owner)  # the oldest


async def test_an_agents_own_lead_and_staffs_named_agent_are_manual_and_skip_the_queue(
    sessions, known_agent
):
    queued, named, me = [await known_agent() for _ in range(3)]
    await enqueue(sessions, queued, 1)
    agent = Viewer(user_id=me, roles=frozenset({Role.SALES_AGENT}))

    own = await new_lead(sessions, by=agent)
    chosen = await new_lead(sessions, agent_id=named)

    assert (own.agent_id, own.assignment_method, own.assigned_at) == (me, "manual", NOW)
    assert (chosen.agent_id, chosen.assignment_method) == (named, "manual")
    assert (await queue_rows(sessions))[queued].assigned_total == 0


async def test_create_lead_answers_how_it_was_assigned_and_the_queue_shows_today(
    sales_as, known_agent, sessions
):
    first, second = await known_agent(), await known_agent()
    await enqueue(sessions, first, 1, max_per_day=1)
    await enqueue(sessions, second, 2, weight=3)
    support = await sales_as("sales_support")
    me = uuid.uuid4()
    agent = await sales_as("sales_agent", user_id=me)

    robin = [(await support(CREATE, {"input": lead_input()})).ok()["createLead"] for _ in range(2)]
    own = (await agent(CREATE, {"input": lead_input()})).ok()["createLead"]
    board = (await support(QUEUE)).ok()["leadQueue"]

    assert [r["lead"]["agent"] for r in robin] == [{"id": str(second)}, {"id": str(first)}]
    assert {r["lead"]["assignmentMethod"] for r in robin} == {"ROUND_ROBIN"}
    assert all(r["lead"]["assignedAt"] for r in robin)
    assert (own["lead"]["agent"], own["lead"]["assignmentMethod"]) == (
        {"id": str(me)},
        "MANUAL",
    )
    assert [
        (e["agent"]["id"], e["assignedToday"], e["capped"], e["assignedTotal"]) for e in board
    ] == [
        (str(first), 1, True, 1),
        (str(second), 1, False, 1),
    ]
    assert [(e["position"], e["weight"], e["maxLeadsPerDay"], e["active"]) for e in board] == [
        (1, 1, 1, True),
        (2, 3, None, True),
    ]
    assert all(e["lastAssignedAt"] for e in board)


async def test_yesterdays_count_reads_as_zero_and_uncapped(sales_as, known_agent, sessions):
    agent = await known_agent()
    await enqueue(sessions, agent, 1, max_per_day=1)
    await new_lead(sessions, now=datetime.now(UTC) - timedelta(days=2))
    support = await sales_as("sales_support")

    (entry,) = (await support(QUEUE)).ok()["leadQueue"]

    assert (entry["assignedToday"], entry["capped"], entry["assignedTotal"]) == (0, False, 1)


async def test_unassigned_leads_lists_open_leads_without_an_agent_oldest_first(
    sales_as, known_agent, sessions
):
    agent = await known_agent()
    await enqueue(sessions, agent, 1, max_per_day=1)
    support = await sales_as("sales_support")
    made = [(await support(CREATE, {"input": lead_input()})).ok()["createLead"] for _ in range(4)]
    assert made[0]["lead"]["agent"] == {"id": str(agent)}
    left = [m["lead"] for m in made[1:]]
    assert [x["agent"] for x in left] == [None, None, None]
    assert {x["assignmentMethod"] for x in left} == {None}
    async with sessions() as session, session.begin():
        await session.execute(
            update(Lead)
            .where(Lead.id == uuid.UUID(left[1]["id"]))
            .values(status="lost", lost_reason="No budget")
        )
        for i, x in enumerate(left):
            await session.execute(
                update(Lead)
                .where(Lead.id == uuid.UUID(x["id"]))
                .values(created_at=NOW - timedelta(hours=10 - i))
            )

    page = (await support(UNASSIGNED)).ok()["unassignedLeads"]
    rest = (await support(UNASSIGNED, {"after": page["pageInfo"]["endCursor"]})).ok()

    assert page["totalCount"] == 2  # the lost one is not waiting for anybody
    assert [e["node"]["id"] for e in page["edges"]] == [left[0]["id"], left[2]["id"]]
    assert page["pageInfo"]["hasNextPage"] is False
    assert rest["unassignedLeads"]["edges"] == []
    for role in ("sales_agent", "dispatcher"):
        reader = await sales_as(role)
        assert (await reader(UNASSIGNED)).error_codes == ["FORBIDDEN"]
        assert (await reader(QUEUE)).error_codes == ["FORBIDDEN"]
