"""Managers shape the lead queue; staff assign a lead by hand. Every change audited."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from subgraphs.sales.models import Lead, LeadAudit, LeadQueueEntry, QueueAudit, outbox

ENTRY = "agent { id } position weight active maxLeadsPerDay assignedToday capped assignedTotal"
SET = f"""mutation($input: LeadQueueEntryInput!) {{
  setLeadQueueEntry(input: $input) {{ entry {{ {ENTRY} }} userErrors {{ field code }} }} }}"""
REMOVE = """mutation($agent: ID!) {
  removeLeadQueueEntry(agentId: $agent) { removedAgentId userErrors { field code } } }"""
ASSIGN = """mutation($id: ID!, $agent: ID!) { assignLead(id: $id, agentId: $agent) {
  lead { id agent { id } assignmentMethod assignedAt } userErrors { field code } } }"""
QUEUE = "{ leadQueue { agent { id } position weight } }"


async def queue_state(sessions) -> tuple[list[tuple], list[tuple]]:
    async with sessions() as session:
        entries = (
            await session.execute(
                select(
                    LeadQueueEntry.user_id,
                    LeadQueueEntry.position,
                    LeadQueueEntry.weight,
                    LeadQueueEntry.active,
                    LeadQueueEntry.max_per_day,
                ).order_by(LeadQueueEntry.position)
            )
        ).all()
        audits = (
            await session.execute(
                select(
                    QueueAudit.user_id,
                    QueueAudit.action,
                    QueueAudit.actor_id,
                    QueueAudit.before,
                    QueueAudit.after,
                ).order_by(QueueAudit.at, QueueAudit.action)
            )
        ).all()
    return [tuple(e) for e in entries], [tuple(a) for a in audits]


@pytest.mark.parametrize("role", ["admin", "manager"])
async def test_managers_add_change_and_remove_entries_each_audited(
    role, sales_as, known_agent, sessions
):
    agent = await known_agent()
    me = uuid.uuid4()
    manager = await sales_as(role, user_id=me)
    added = (await manager(SET, {"input": {"agentId": str(agent), "position": 3}})).ok()
    changed = (
        await manager(
            SET,
            {
                "input": {
                    "agentId": str(agent),
                    "position": 3,
                    "weight": 4,
                    "active": False,
                    "maxLeadsPerDay": 10,
                }
            },
        )
    ).ok()
    entries, audits = await queue_state(sessions)

    assert added["setLeadQueueEntry"] == {
        "entry": {
            "agent": {"id": str(agent)},
            "position": 3,
            "weight": 1,
            "active": True,
            "maxLeadsPerDay": None,
            "assignedToday": 0,
            "capped": False,
            "assignedTotal": 0,
        },
        "userErrors": [],
    }
    assert changed["setLeadQueueEntry"]["entry"]["weight"] == 4
    assert entries == [(agent, 3, 4, False, 10)]
    assert audits == [
        (
            agent,
            "add",
            me,
            None,
            {"position": 3, "weight": 1, "active": True, "max_per_day": None},
        ),
        (
            agent,
            "update",
            me,
            {"weight": 1, "active": True, "max_per_day": None},
            {"weight": 4, "active": False, "max_per_day": 10},
        ),
    ]

    removed = (await manager(REMOVE, {"agent": str(agent)})).ok()["removeLeadQueueEntry"]
    entries, audits = await queue_state(sessions)

    assert removed == {"removedAgentId": str(agent), "userErrors": []}
    assert entries == []
    assert audits[-1] == (
        agent,
        "remove",
        me,
        {"position": 3, "weight": 4, "active": False, "max_per_day": 10},
        None,
    )


async def test_setting_an_entry_again_keeps_its_round_robin_state_and_unchanged_is_not_audited(
    sales_as, known_agent, sessions
):
    agent = await known_agent()
    manager = await sales_as("manager")
    entry = {"agentId": str(agent), "position": 1, "weight": 2}
    await manager(SET, {"input": entry})
    support = await sales_as("sales_support")
    await support(
        """mutation { createLead(input: {source: WEB, firstName: "A", lastName: "B",
        email: "a.b@example.com"}) { userErrors { code } } }"""
    )

    again = (await manager(SET, {"input": entry})).ok()["setLeadQueueEntry"]

    assert (again["entry"]["assignedTotal"], again["entry"]["assignedToday"]) == (1, 1)
    _, audits = await queue_state(sessions)
    assert [a[1] for a in audits] == ["add"]


async def test_bad_queue_input_names_each_field_and_changes_nothing(
    sales_manager, known_agent, sessions
):
    agent = str(await known_agent())
    cases = [
        ({"position": 0}, [("position", "OUT_OF_RANGE")]),
        ({"position": 10_001}, [("position", "OUT_OF_RANGE")]),
        ({"weight": 0}, [("weight", "OUT_OF_RANGE")]),
        ({"weight": 101}, [("weight", "OUT_OF_RANGE")]),
        ({"maxLeadsPerDay": 0}, [("maxLeadsPerDay", "OUT_OF_RANGE")]),
        (
            {"position": -1, "weight": 200, "maxLeadsPerDay": -5},
            [
                ("position", "OUT_OF_RANGE"),
                ("weight", "OUT_OF_RANGE"),
                ("maxLeadsPerDay", "OUT_OF_RANGE"),
            ],
        ),
    ]
    for given, expected in cases:
        data = {"agentId": agent, "position": 1, **given}
        payload = (await sales_manager(SET, {"input": data})).ok()["setLeadQueueEntry"]
        assert payload["entry"] is None, given
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == expected, given

    assert await queue_state(sessions) == ([], [])


async def test_only_known_active_sales_agents_enter_the_queue_but_anyone_leaves(
    sales_manager, known_agent, sessions
):
    departed = await known_agent()
    dispatcher = await known_agent(roles=("dispatcher",))
    await sales_manager(SET, {"input": {"agentId": str(departed), "position": 1}})
    await known_agent(departed, active=False)
    refused = {
        who: (await sales_manager(SET, {"input": {"agentId": who, "position": 2}})).ok()
        for who in (str(uuid.uuid4()), str(dispatcher), str(departed), "nope")
    }

    codes = {
        who: [(e["field"], e["code"]) for e in r["setLeadQueueEntry"]["userErrors"]]
        for who, r in refused.items()
    }
    assert list(codes.values()) == [
        [("agentId", "UNKNOWN_AGENT")],
        [("agentId", "UNKNOWN_AGENT")],
        [("agentId", "UNKNOWN_AGENT")],
        [("agentId", "NOT_FOUND")],
    ]
    entries, _ = await queue_state(sessions)
    assert [(e[0], e[1]) for e in entries] == [(departed, 1)]  # unchanged by the refusal

    gone = (await sales_manager(REMOVE, {"agent": str(departed)})).ok()["removeLeadQueueEntry"]
    missing = (await sales_manager(REMOVE, {"agent": str(departed)})).ok()["removeLeadQueueEntry"]
    assert gone == {"removedAgentId": str(departed), "userErrors": []}
    assert missing == {
        "removedAgentId": None,
        "userErrors": [{"field": "agentId", "code": "NOT_FOUND"}],
    }


@pytest.mark.parametrize("role", ["sales_support", "sales_agent", "dispatcher"])
async def test_other_roles_may_not_change_the_queue(role, sales_as, known_agent, sessions):
    agent = str(await known_agent())
    caller = await sales_as(role)

    answers = [
        await caller(SET, {"input": {"agentId": agent, "position": 1}}),
        await caller(REMOVE, {"agent": agent}),
    ]

    assert [a.error_codes for a in answers] == [["FORBIDDEN"], ["FORBIDDEN"]]
    assert await queue_state(sessions) == ([], [])


async def test_the_queue_reads_in_position_order_for_managers_and_sales_support(
    sales_as, sales_manager, known_agent
):
    late, early = await known_agent(), await known_agent()
    await sales_manager(SET, {"input": {"agentId": str(late), "position": 9}})
    await sales_manager(SET, {"input": {"agentId": str(early), "position": 2, "weight": 5}})

    for role in ("admin", "manager", "sales_support"):
        reader = await sales_as(role)
        assert (await reader(QUEUE)).ok()["leadQueue"] == [
            {"agent": {"id": str(early)}, "position": 2, "weight": 5},
            {"agent": {"id": str(late)}, "position": 9, "weight": 1},
        ], role


async def test_assign_lead_by_hand_is_manual_audited_and_announced(
    sales_as, make_lead, known_agent, sessions
):
    first, second = await known_agent(), await known_agent()
    lead = await make_lead()  # unassigned: the queue is empty
    me = uuid.uuid4()
    support = await sales_as("sales_support", user_id=me)

    given = (await support(ASSIGN, {"id": lead["id"], "agent": str(first)})).ok()["assignLead"]
    moved = (await support(ASSIGN, {"id": lead["id"], "agent": str(second)})).ok()["assignLead"]
    again = (await support(ASSIGN, {"id": lead["id"], "agent": str(second)})).ok()["assignLead"]

    assert given["userErrors"] == []
    assert (given["lead"]["agent"], given["lead"]["assignmentMethod"]) == (
        {"id": str(first)},
        "MANUAL",
    )
    assert given["lead"]["assignedAt"]
    assert moved["lead"]["agent"] == {"id": str(second)}
    assert again["lead"]["agent"] == {"id": str(second)}
    async with sessions() as session:
        audits = (
            await session.scalars(
                select(LeadAudit).where(LeadAudit.action == "assign").order_by(LeadAudit.at)
            )
        ).all()
        events = (
            await session.execute(
                select(outbox.c.payload).where(outbox.c.topic.like("sales.lead%"))
            )
        ).scalars()
        assigned = [e for e in events if e["action"] == "assigned"]
        row = await session.get(Lead, uuid.UUID(lead["id"]))
    assert [(a.actor_id, a.before["agent_id"], a.after["agent_id"]) for a in audits] == [
        (me, None, str(first)),
        (me, str(first), str(second)),
    ]  # the repeat changed nothing and logged nothing
    assert audits[0].after["assignment_method"] == "manual"
    assert [e["agentId"] for e in assigned] == [str(first), str(second)]
    assert (row.agent_id, row.assignment_method) == (second, "manual")


async def test_assign_lead_refuses_an_unknown_agent_and_an_unknown_lead_changing_nothing(
    sales_manager, make_lead, known_agent, sessions
):
    agent = await known_agent()
    lead = await make_lead()
    async with sessions() as session:
        audits_before = await session.scalar(select(func.count()).select_from(LeadAudit))

    stranger = (await sales_manager(ASSIGN, {"id": lead["id"], "agent": str(uuid.uuid4())})).ok()
    no_lead = (await sales_manager(ASSIGN, {"id": str(uuid.uuid4()), "agent": str(agent)})).ok()

    assert stranger["assignLead"] == {
        "lead": None,
        "userErrors": [{"field": "agentId", "code": "UNKNOWN_AGENT"}],
    }
    assert no_lead["assignLead"]["userErrors"] == [{"field": "id", "code": "NOT_FOUND"}]
    async with sessions() as session:
        row = await session.get(Lead, uuid.UUID(lead["id"]))
        audits_after = await session.scalar(select(func.count()).select_from(LeadAudit))
    assert (row.agent_id, row.assignment_method, row.assigned_at) == (None, None, None)
    assert audits_after == audits_before


@pytest.mark.parametrize("role", ["sales_agent", "dispatcher", "client"])
async def test_only_managers_and_sales_support_assign_leads(
    role, sales_as, make_lead, known_agent, sessions
):
    agent = await known_agent()
    lead = await make_lead()
    caller = await sales_as(role, client_id=uuid.uuid4() if role == "client" else None)

    answer = await caller(ASSIGN, {"id": lead["id"], "agent": str(agent)})

    assert answer.error_codes == ["FORBIDDEN"]
    async with sessions() as session:
        assert (await session.get(Lead, uuid.UUID(lead["id"]))).agent_id is None
