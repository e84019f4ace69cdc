"""Leads: create, update, the status table, activities and counters, the hot rule, audit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from subgraphs.sales.models import Lead, LeadActivity, LeadAudit, outbox
from subgraphs.sales.states import LEAD
from tests.sales.conftest import CREATE_LEAD, ERRORS, LEAD_FIELDS, lead_input

UPDATE = f"""mutation($id: ID!, $input: UpdateLeadInput!) {{
  updateLead(id: $id, input: $input) {{ lead {{ {LEAD_FIELDS} }} {ERRORS} }} }}"""
SET_STATUS = f"""mutation($id: ID!, $status: LeadStatus!, $reason: String) {{
  setLeadStatus(id: $id, status: $status, reason: $reason) {{
    lead {{ id status lostReason }} {ERRORS} }} }}"""
LOG = f"""mutation($id: ID!, $input: LeadActivityInput!) {{
  logLeadActivity(leadId: $id, input: $input) {{
    activity {{ type notes at by {{ id }} }}
    lead {{ contactCount lastContactAt nextFollowUpAt }} {ERRORS} }} }}"""
MARK_HOT = f"""mutation($id: ID!, $hot: Boolean!) {{
  markLeadHot(id: $id, hot: $hot) {{ lead {{ id hot markedHot }} {ERRORS} }} }}"""
LEAD_QUERY = f"""query($id: ID!) {{ lead(id: $id) {{ {LEAD_FIELDS}
  activityCount activities {{ type notes fromStatus toStatus by {{ id }} }} }} }}"""
#: The pipeline's edges, walked in order from NEW to reach each source state.
PATH = ["new", "contacted", "qualified", "quoted"]


async def lead_counts(sessions) -> tuple[int, int, int]:
    async with sessions() as session:
        leads = await session.scalar(select(func.count()).select_from(Lead))
        activities = await session.scalar(select(func.count()).select_from(LeadActivity))
        audits = await session.scalar(select(func.count()).select_from(LeadAudit))
    return int(leads or 0), int(activities or 0), int(audits or 0)


def today_in(zone: str):
    return datetime.now(UTC).astimezone(ZoneInfo(zone)).date()


async def test_an_agents_new_lead_is_its_own_with_normalised_contact_and_trip(sales_as, sessions):
    agent_id = uuid.uuid4()
    agent = await sales_as("sales_agent", user_id=agent_id)
    data = {
        "source": "REFERRAL",
        "firstName": " Dana ",
        "lastName": "Whitfield",
        "email": " Dana.W@Lakeside.EXAMPLE ",
        "phone": "(901) 555-0142",
        "company": "Lakeside Athletics",
        "tripDate": "2027-03-14",
        "origin": "Memphis, TN",
        "destination": "Nashville, TN",
        "passengers": 52,
        "vehicleType": "motorcoach",
        "notes": "Two games.",
        "score": 70,
    }

    payload = (await agent(CREATE_LEAD, {"input": data})).ok()["createLead"]

    assert payload["userErrors"] == []
    lead = payload["lead"]
    assert lead["agent"] == {"id": str(agent_id)}
    assert (lead["firstName"], lead["email"], lead["phone"]) == (
        "Dana",
        "dana.w@lakeside.example",
        "+19015550142",
    )
    assert lead["source"] == "REFERRAL"
    assert lead["status"] == "NEW"
    assert lead["score"] == 70
    assert lead["contactCount"] == 0
    assert lead["trip"] == {
        "date": "2027-03-14",
        "origin": "Memphis, TN",
        "destination": "Nashville, TN",
        "passengers": 52,
        "vehicleType": "motorcoach",
        "notes": "Two games.",
    }
    read = (await agent(LEAD_QUERY, {"id": lead["id"]})).ok()["lead"]
    assert {k: read[k] for k in lead} == lead
    async with sessions() as session:
        events = (await session.execute(select(outbox.c.topic, outbox.c.payload))).all()
        entry = await session.scalar(select(LeadAudit))
    assert [(t, p["action"], p["agentId"]) for t, p in events] == [
        ("sales.lead_changed", "created", str(agent_id))
    ]
    assert entry.action == "create"
    assert entry.actor_id == agent_id


async def test_staff_leave_a_lead_unassigned_or_name_an_agent_an_agent_may_not(
    sales_as, sales_manager, sessions, known_agent
):
    other = str(await known_agent())
    unknown = str(uuid.uuid4())
    departed = str(await known_agent(active=False))
    unassigned = (await sales_manager(CREATE_LEAD, {"input": lead_input()})).ok()["createLead"]
    named = (await sales_manager(CREATE_LEAD, {"input": lead_input(agentId=other)})).ok()[
        "createLead"
    ]
    agent = await sales_as("sales_agent", user_id=uuid.uuid4())
    refused = (await agent(CREATE_LEAD, {"input": lead_input(agentId=other)})).ok()["createLead"]
    strangers = [
        (await sales_manager(CREATE_LEAD, {"input": lead_input(agentId=who)})).ok()["createLead"]
        for who in (unknown, departed)
    ]

    assert unassigned["lead"]["agent"] is None  # the queue is empty
    assert named["lead"]["agent"] == {"id": other}
    assert refused["lead"] is None
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [("agentId", "FORBIDDEN")]
    for stranger in strangers:
        assert stranger["lead"] is None
        assert [(e["field"], e["code"]) for e in stranger["userErrors"]] == [
            ("agentId", "UNKNOWN_AGENT")
        ]
    assert await lead_counts(sessions) == (2, 0, 2)


def test_the_transition_table_is_the_documented_pipeline():
    assert dict(LEAD.transitions) == {
        "new": {"contacted", "converted", "lost"},
        "contacted": {"qualified", "converted", "lost"},
        "qualified": {"quoted", "converted", "lost"},
        "quoted": {"converted", "lost"},
        "converted": set(),
        "lost": set(),
    }


@pytest.mark.parametrize(
    ("source", "target"),
    [(s, t) for s in sorted(LEAD.states) for t in sorted(LEAD.allowed(s)) if t != "converted"],
)
async def test_every_allowed_transition(source, target, sales_manager, make_lead, sessions):
    lead = await make_lead()
    for step in PATH[1 : PATH.index(source) + 1]:
        moved = (await sales_manager(SET_STATUS, {"id": lead["id"], "status": step.upper()})).ok()
        assert moved["setLeadStatus"]["userErrors"] == []

    answer = (
        await sales_manager(
            SET_STATUS, {"id": lead["id"], "status": target.upper(), "reason": "Went elsewhere"}
        )
    ).ok()["setLeadStatus"]

    assert answer["userErrors"] == []
    assert answer["lead"]["status"] == target.upper()
    assert answer["lead"]["lostReason"] == ("Went elsewhere" if target == "lost" else None)
    read = (await sales_manager(LEAD_QUERY, {"id": lead["id"]})).ok()["lead"]
    assert read["activities"][0]["type"] == "STATUS_CHANGE"
    assert (read["activities"][0]["fromStatus"], read["activities"][0]["toStatus"]) == (
        source.upper(),
        target.upper(),
    )
    assert read["contactCount"] == 0  # a status change is not a contact


@pytest.mark.parametrize(
    ("source", "target"),
    [("new", "quoted"), ("contacted", "new"), ("quoted", "contacted"), ("lost", "contacted")],
)
async def test_a_refused_transition_names_both_states_and_changes_nothing(
    source, target, sales_manager, make_lead, sessions
):
    lead = await make_lead()
    steps = ["lost"] if source == "lost" else PATH[1 : PATH.index(source) + 1]
    for step in steps:
        await sales_manager(SET_STATUS, {"id": lead["id"], "status": step.upper(), "reason": "x"})
    before = await lead_counts(sessions)

    answer = (
        await sales_manager(SET_STATUS, {"id": lead["id"], "status": target.upper(), "reason": "y"})
    ).ok()["setLeadStatus"]

    assert answer["lead"] is None
    [error] = answer["userErrors"]
    assert (error["field"], error["code"]) == ("status", "INVALID_TRANSITION")
    assert f"from {source} to {target}" in error["message"]
    assert await lead_counts(sessions) == before
    async with sessions() as session:
        assert await session.scalar(select(Lead.status)) == source


@pytest.mark.parametrize("source", ["new", "quoted"])
async def test_set_status_never_converts_convert_lead_does(
    source, sales_manager, make_lead, sessions
):
    lead = await make_lead()
    for step in PATH[1 : PATH.index(source) + 1]:
        await sales_manager(SET_STATUS, {"id": lead["id"], "status": step.upper()})
    before = await lead_counts(sessions)

    answer = (await sales_manager(SET_STATUS, {"id": lead["id"], "status": "CONVERTED"})).ok()[
        "setLeadStatus"
    ]

    assert answer["lead"] is None
    [error] = answer["userErrors"]
    assert (error["field"], error["code"]) == ("status", "INVALID_TRANSITION")
    assert "convertLead" in error["message"]
    assert await lead_counts(sessions) == before


@pytest.mark.parametrize("reason", [None, "", "   "])
async def test_lost_needs_a_reason(reason, sales_manager, make_lead, sessions):
    lead = await make_lead()
    before = await lead_counts(sessions)

    answer = (
        await sales_manager(SET_STATUS, {"id": lead["id"], "status": "LOST", "reason": reason})
    ).ok()["setLeadStatus"]

    assert [(e["field"], e["code"]) for e in answer["userErrors"]] == [("reason", "REQUIRED")]
    assert await lead_counts(sessions) == before
    async with sessions() as session:
        assert await session.scalar(select(Lead.status)) == "new"


async def test_activities_maintain_the_counters_and_name_who(sales_as, sessions):
    agent_id = uuid.uuid4()
    agent = await sales_as("sales_agent", user_id=agent_id)
    lead = (await agent(CREATE_LEAD, {"input": lead_input()})).ok()["createLead"]["lead"]
    follow_up = "2027-01-05T15:00:00Z"

    call = (await agent(LOG, {"id": lead["id"], "input": {"type": "CALL", "notes": "Hi"}})).ok()
    note = (
        await agent(
            LOG,
            {
                "id": lead["id"],
                "input": {"type": "NOTE", "notes": "Wants Wi-Fi", "nextFollowUpAt": follow_up},
            },
        )
    ).ok()
    mail = (await agent(LOG, {"id": lead["id"], "input": {"type": "EMAIL"}})).ok()
    meet = (await agent(LOG, {"id": lead["id"], "input": {"type": "MEETING"}})).ok()

    first = call["logLeadActivity"]
    assert first["userErrors"] == []
    assert first["activity"]["type"] == "CALL"
    assert first["activity"]["by"] == {"id": str(agent_id)}
    assert first["lead"]["contactCount"] == 1
    assert first["lead"]["lastContactAt"] == first["activity"]["at"]
    assert note["logLeadActivity"]["lead"]["contactCount"] == 1  # a note is not a contact
    assert note["logLeadActivity"]["lead"]["lastContactAt"] == first["activity"]["at"]
    assert note["logLeadActivity"]["lead"]["nextFollowUpAt"] == follow_up
    assert mail["logLeadActivity"]["lead"]["contactCount"] == 2
    last = meet["logLeadActivity"]
    assert last["lead"]["contactCount"] == 3
    assert last["lead"]["lastContactAt"] == last["activity"]["at"]
    assert last["lead"]["nextFollowUpAt"] == follow_up
    read = (await agent(LEAD_QUERY, {"id": lead["id"]})).ok()["lead"]
    assert [a["type"] for a in read["activities"]] == ["MEETING", "EMAIL", "NOTE", "CALL"]
    assert read["activityCount"] == 4
    async with sessions() as session:
        actions = [p["action"] for p in await session.scalars(select(outbox.c.payload))]
    assert actions.count("activity_logged") == 4


async def test_a_status_change_cannot_be_logged_by_hand_and_a_note_needs_text(
    sales_manager, make_lead, sessions
):
    lead = await make_lead()
    before = await lead_counts(sessions)

    status = (
        await sales_manager(LOG, {"id": lead["id"], "input": {"type": "STATUS_CHANGE"}})
    ).ok()["logLeadActivity"]
    note = (await sales_manager(LOG, {"id": lead["id"], "input": {"type": "NOTE"}})).ok()[
        "logLeadActivity"
    ]

    assert [(e["field"], e["code"]) for e in status["userErrors"]] == [("type", "INVALID")]
    assert [(e["field"], e["code"]) for e in note["userErrors"]] == [("notes", "REQUIRED")]
    assert await lead_counts(sessions) == before


async def test_the_hot_rule(sales_manager, make_lead, settings):
    today = today_in(settings.operator_time_zone)

    def trip(days: int) -> str:
        return (today + timedelta(days=days)).isoformat()

    today_40 = await make_lead(tripDate=trip(0), passengers=40)
    in_30_days = await make_lead(tripDate=trip(30), passengers=56)
    in_31_days = await make_lead(tripDate=trip(31), passengers=56)
    only_39 = await make_lead(tripDate=trip(5), passengers=39)
    yesterday = await make_lead(tripDate=trip(-1), passengers=56)
    no_trip = await make_lead()

    assert [
        lead["hot"] for lead in (today_40, in_30_days, in_31_days, only_39, yesterday, no_trip)
    ] == [True, True, False, False, False, False]
    marked = (await sales_manager(MARK_HOT, {"id": only_39["id"], "hot": True})).ok()
    assert marked["markLeadHot"]["lead"] == {"id": only_39["id"], "hot": True, "markedHot": True}
    unmarked = (await sales_manager(MARK_HOT, {"id": only_39["id"], "hot": False})).ok()
    assert unmarked["markLeadHot"]["lead"]["hot"] is False
    lost = (
        await sales_manager(SET_STATUS, {"id": today_40["id"], "status": "LOST", "reason": "No"})
    ).ok()["setLeadStatus"]
    assert lost["userErrors"] == []
    read = (await sales_manager(LEAD_QUERY, {"id": today_40["id"]})).ok()["lead"]
    assert read["hot"] is False  # closed leads are never hot


async def test_update_changes_only_given_fields_and_is_audited(
    sales_as, make_lead, sessions, known_agent
):
    lead = await make_lead(company="Old Co", passengers=10)
    manager_id = uuid.uuid4()
    manager = await sales_as("manager", user_id=manager_id)
    agent = str(await known_agent())

    payload = (
        await manager(
            UPDATE,
            {
                "id": lead["id"],
                "input": {
                    "company": "",
                    "passengers": 45,
                    "phone": "901-555-0199",
                    "agentId": agent,
                },
            },
        )
    ).ok()["updateLead"]

    assert payload["userErrors"] == []
    updated = payload["lead"]
    assert updated["company"] is None
    assert updated["trip"]["passengers"] == 45
    assert updated["phone"] == "+19015550199"
    assert updated["agent"] == {"id": agent}
    assert updated["lastName"] == lead["lastName"]
    async with sessions() as session:
        entry = await session.scalar(select(LeadAudit).where(LeadAudit.action == "update"))
        row = await session.get(Lead, uuid.UUID(lead["id"]))
    assert entry.actor_id == manager_id
    assert row.assignment_method == "manual"
    assert entry.before == {
        "company": "Old Co",
        "passengers": 10,
        "phone": None,
        "agent_id": None,
        "assignment_method": None,
        "assigned_at": None,
    }
    assert entry.after == {
        "company": None,
        "passengers": 45,
        "phone": "+19015550199",
        "agent_id": agent,
        "assignment_method": "manual",
        "assigned_at": row.assigned_at.isoformat(),
    }


async def test_bad_input_names_each_field_and_changes_nothing(sales_manager, make_lead, sessions):
    data = {
        "source": "PHONE",
        "firstName": " ",
        "lastName": "x" * 101,
        "email": "not-an-email",
        "phone": "12345",
        "passengers": 0,
        "score": 101,
        "vehicleType": "v" * 51,
    }

    created = (await sales_manager(CREATE_LEAD, {"input": data})).ok()["createLead"]

    assert created["lead"] is None
    assert {(e["field"], e["code"]) for e in created["userErrors"]} == {
        ("firstName", "REQUIRED"),
        ("lastName", "TOO_LONG"),
        ("email", "INVALID"),
        ("phone", "INVALID"),
        ("passengers", "OUT_OF_RANGE"),
        ("score", "OUT_OF_RANGE"),
        ("vehicleType", "TOO_LONG"),
    }
    assert await lead_counts(sessions) == (0, 0, 0)
    no_contact = (
        await sales_manager(
            CREATE_LEAD, {"input": {"source": "WEB", "firstName": "A", "lastName": "B"}}
        )
    ).ok()["createLead"]
    assert [(e["field"], e["code"]) for e in no_contact["userErrors"]] == [("email", "REQUIRED")]

    lead = await make_lead(passengers=20)
    before = await lead_counts(sessions)
    bad_update = (
        await sales_manager(
            UPDATE, {"id": lead["id"], "input": {"passengers": 50, "email": "nope@"}}
        )
    ).ok()["updateLead"]
    cleared = (
        await sales_manager(UPDATE, {"id": lead["id"], "input": {"email": "", "phone": ""}})
    ).ok()["updateLead"]
    unknown = (
        await sales_manager(UPDATE, {"id": str(uuid.uuid4()), "input": {"passengers": 5}})
    ).ok()["updateLead"]

    assert [(e["field"], e["code"]) for e in bad_update["userErrors"]] == [("email", "INVALID")]
    assert [(e["field"], e["code"]) for e in cleared["userErrors"]] == [("email", "REQUIRED")]
    assert [(e["field"], e["code"]) for e in unknown["userErrors"]] == [("id", "NOT_FOUND")]
    assert await lead_counts(sessions) == before
    async with sessions() as session:
        row = await session.scalar(select(Lead))
    assert (row.passengers, row.email) == (20, lead["email"])


async def test_a_lost_lead_without_reason_is_refused_by_the_database_too(make_lead, sessions):
    lead = await make_lead()
    with pytest.raises(Exception, match="ck_leads_lost_reason"):
        async with sessions() as session, session.begin():
            await session.execute(
                update(Lead).where(Lead.id == uuid.UUID(lead["id"])).values(status="lost")
            )
