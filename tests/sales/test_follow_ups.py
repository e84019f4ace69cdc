"""Follow-ups (issue 10, section 5): sales decides who is due one and announces it once.

The service is driven with an injected `now`; the job through the kit's
runner, as production runs it. Announcements are read from sales' outbox.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from protocol.revocation import RevocationList
from protocol.tokens import RemoteJwks, TokenVerifier
from subgraphs.kit.context import Services
from subgraphs.kit.jobs import JobRunner
from subgraphs.kit.jobs.history import job_runs
from subgraphs.sales import jobs
from subgraphs.sales.models import (
    Client,
    ClientContact,
    FollowUp,
    Lead,
    LeadActivity,
    LeadAudit,
    outbox,
)
from subgraphs.sales.service import follow_ups
from subgraphs.sales.service.charter_facts import apply_charter_event

NOW = datetime(2026, 6, 10, 15, 0, tzinfo=UTC)
DAYS = {"quote_days": 3, "lead_days": 2}
MINUTE = timedelta(minutes=1)


async def add_lead(sessions: Any, **fields: Any) -> Lead:
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
        "agent_id": uuid.uuid4(),
        "created_at": NOW - timedelta(days=30),
        **fields,
    }
    async with sessions() as session, session.begin():
        lead = Lead(**values)
        session.add(lead)
    return lead


async def add_client(sessions: Any, *, contact: bool = True) -> tuple[uuid.UUID, str]:
    """A client with (by default) a primary contact; returns its id and the contact's e-mail."""
    client_id, email = uuid.uuid4(), f"pat.{uuid.uuid4().hex[:8]}@example.com"
    async with sessions() as session, session.begin():
        session.add(Client(id=client_id, name="Northwind", client_type="corporate"))
        await session.flush()
        if contact:
            session.add(
                ClientContact(
                    id=uuid.uuid4(),
                    client_id=client_id,
                    name="Pat Doe",
                    email=email,
                    is_primary=True,
                )
            )
    return client_id, email


async def add_converted(sessions: Any, converted_at: datetime, **fields: Any) -> Lead:
    client_id, _email = await add_client(sessions)
    return await add_lead(
        sessions,
        status="converted",
        client_id=client_id,
        charter_id=uuid.uuid4(),
        converted_at=converted_at,
        created_at=converted_at - timedelta(days=1),
        last_contact_at=converted_at,
        **fields,
    )


async def decide(sessions: Any, now: datetime, **days: int) -> list[follow_ups.Decision]:
    async with sessions() as session, session.begin():
        return await follow_ups.decide(session, now=now, **{**DAYS, **days})


async def announced(sessions: Any) -> list[dict[str, Any]]:
    async with sessions() as session:
        rows = await session.execute(
            select(outbox.c.payload).where(outbox.c.topic == follow_ups.TOPIC).order_by(outbox.c.id)
        )
        return [r.payload for r in rows]


def kinds(decisions: list[follow_ups.Decision]) -> list[tuple[uuid.UUID, str]]:
    return [(d.lead_id, d.kind) for d in decisions]


def charter_event(charter_id: uuid.UUID, status: str, at: datetime) -> dict[str, Any]:
    return {
        "id": f"charters:{uuid.uuid4().int % 10_000}",
        "topic": "charters.charter_changed",
        "occurredAt": at.isoformat(),
        "payload": {"charterId": str(charter_id), "status": status, "version": 2},
    }


async def apply(sessions: Any, event: dict[str, Any]) -> None:
    async with sessions() as session, session.begin():
        await apply_charter_event(session, event)


async def test_an_untouched_lead_is_due_exactly_at_the_threshold_not_a_minute_before(sessions):
    created = NOW - timedelta(days=5)
    lead = await add_lead(sessions, created_at=created, first_name="Robin", last_name="Hale")

    assert await decide(sessions, created + timedelta(days=2) - MINUTE) == []
    [decision] = await decide(sessions, created + timedelta(days=2))

    assert (decision.kind, decision.lead_id, decision.quiet_since) == (
        "lead_untouched",
        lead.id,
        created,
    )
    [event] = await announced(sessions)
    assert event == {
        "followUpId": str(decision.follow_up_id),
        "kind": "lead_untouched",
        "leadId": str(lead.id),
        "clientId": None,
        "charterId": None,
        "agentId": str(lead.agent_id),
        "recipient": {"email": lead.email, "name": "Robin Hale"},
        "quietSince": created.isoformat(),
    }
    async with sessions() as session:
        row = await session.scalar(select(FollowUp))
        audit = await session.scalar(select(LeadAudit).where(LeadAudit.lead_id == lead.id))
    assert (row.id, row.lead_id, row.kind, row.quiet_since) == (
        decision.follow_up_id,
        lead.id,
        "lead_untouched",
        created,
    )
    assert (audit.action, audit.actor_id) == ("follow_up:lead_untouched", None)


async def test_an_unanswered_quote_is_due_after_3_days_and_goes_to_the_primary_contact(sessions):
    converted = NOW - timedelta(days=10)
    lead = await add_converted(sessions, converted)
    async with sessions() as session:
        contact = await session.scalar(
            select(ClientContact).where(ClientContact.client_id == lead.client_id)
        )

    assert await decide(sessions, converted + timedelta(days=3) - MINUTE) == []
    [decision] = await decide(sessions, converted + timedelta(days=3))

    assert (decision.kind, decision.quiet_since) == ("quote_unanswered", converted)
    [event] = await announced(sessions)
    assert event == {
        "followUpId": str(decision.follow_up_id),
        "kind": "quote_unanswered",
        "leadId": str(lead.id),
        "clientId": str(lead.client_id),
        "charterId": str(lead.charter_id),
        "agentId": str(lead.agent_id),
        "recipient": {"email": contact.email, "name": "Pat Doe"},
        "quietSince": converted.isoformat(),
    }


async def test_a_client_without_a_primary_contact_is_written_to_through_the_leads_contact(
    sessions,
):
    client_id, _ = await add_client(sessions, contact=False)
    converted = NOW - timedelta(days=4)
    lead = await add_lead(
        sessions,
        status="converted",
        client_id=client_id,
        charter_id=uuid.uuid4(),
        converted_at=converted,
        created_at=converted,
        first_name="Kim",
        last_name="Ode",
    )

    [decision] = await decide(sessions, NOW)

    assert (decision.recipient_email, decision.recipient_name) == (lead.email, "Kim Ode")


async def test_the_configured_days_are_honoured(sessions):
    start = NOW - timedelta(days=20)
    untouched = await add_lead(sessions, created_at=start)
    quote = await add_converted(sessions, start)

    assert (
        await decide(sessions, start + timedelta(days=4) - MINUTE, lead_days=4, quote_days=5) == []
    )
    assert kinds(await decide(sessions, start + timedelta(days=4), lead_days=4, quote_days=5)) == [
        (untouched.id, "lead_untouched")
    ]
    assert kinds(await decide(sessions, start + timedelta(days=5), lead_days=4, quote_days=5)) == [
        (quote.id, "quote_unanswered")
    ]


async def test_deciding_again_announces_nothing_twice(sessions):
    await add_lead(sessions)
    await add_converted(sessions, NOW - timedelta(days=7))

    first = await decide(sessions, NOW)
    again = await decide(sessions, NOW + timedelta(days=1))

    assert sorted(d.kind for d in first) == ["lead_untouched", "quote_unanswered"]
    assert again == []
    assert len(await announced(sessions)) == 2
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(FollowUp)) == 2


async def test_concurrent_runs_announce_each_follow_up_once(sessions):
    for _ in range(3):
        await add_lead(sessions)

    results = await asyncio.gather(decide(sessions, NOW), decide(sessions, NOW))

    assert sorted(len(r) for r in results) == [0, 3]
    assert len(await announced(sessions)) == 3


async def test_rolled_back_work_announces_nothing(sessions):
    await add_lead(sessions)
    async with sessions() as session:
        await session.begin()
        decided = await follow_ups.decide(session, now=NOW, **DAYS)
        await session.rollback()

    assert len(decided) == 1

    assert await announced(sessions) == []
    assert len(await decide(sessions, NOW)) == 1  # still due: nothing was recorded
    assert len(await announced(sessions)) == 1


@pytest.mark.parametrize("touch", ["activity", "contact"])
async def test_a_new_touch_starts_a_new_quiet_spell(sessions, touch):
    created = NOW - timedelta(days=10)
    lead = await add_lead(sessions, created_at=created)
    [first] = await decide(sessions, created + timedelta(days=2))
    touched = created + timedelta(days=3)
    async with sessions() as session, session.begin():
        if touch == "activity":  # a note: not a contact, still a touch
            session.add(
                LeadActivity(
                    id=uuid.uuid4(), lead_id=lead.id, activity_type="note", notes="x", at=touched
                )
            )
        else:
            row = await session.get(Lead, lead.id)
            row.last_contact_at = touched

    assert await decide(sessions, touched + timedelta(days=2) - MINUTE) == []
    [second] = await decide(sessions, touched + timedelta(days=2))

    assert (first.quiet_since, second.quiet_since) == (created, touched)
    assert second.follow_up_id != first.follow_up_id
    assert [e["quietSince"] for e in await announced(sessions)] == [
        created.isoformat(),
        touched.isoformat(),
    ]


async def test_a_booked_charter_ends_quote_follow_ups_and_an_older_event_does_not_undo_it(
    sessions,
):
    converted = NOW - timedelta(days=5)
    booked = await add_converted(sessions, converted)
    still_quote = await add_converted(sessions, converted)
    await apply(sessions, charter_event(booked.charter_id, "booked", converted + MINUTE * 90))
    await apply(sessions, charter_event(still_quote.charter_id, "quote", converted + MINUTE))
    # Late delivery of an event older than what sales holds: ignored.
    await apply(sessions, charter_event(booked.charter_id, "quote", converted + MINUTE * 30))

    decided = await decide(sessions, NOW)

    assert kinds(decided) == [(still_quote.id, "quote_unanswered")]
    async with sessions() as session:
        row = await session.get(Lead, booked.id)
        audit = (
            await session.scalars(
                select(LeadAudit).where(LeadAudit.lead_id == booked.id).order_by(LeadAudit.at)
            )
        ).all()
    assert (row.charter_status, row.charter_status_at) == ("booked", converted + MINUTE * 90)
    assert [(a.action, a.actor_id, a.after) for a in audit] == [
        ("charter_status", None, {"charter_status": "booked"})
    ]


async def test_a_newer_event_for_the_charter_replaces_the_status(sessions):
    lead = await add_converted(sessions, NOW - timedelta(days=5))
    await apply(sessions, charter_event(lead.charter_id, "booked", NOW - timedelta(days=4)))
    await apply(sessions, charter_event(lead.charter_id, "cancelled", NOW - timedelta(days=3)))
    await apply(sessions, charter_event(uuid.uuid4(), "booked", NOW))  # another charter

    async with sessions() as session:
        row = await session.get(Lead, lead.id)
    assert (row.charter_status, row.charter_status_at) == ("cancelled", NOW - timedelta(days=3))
    assert await decide(sessions, NOW) == []


async def test_lost_and_converted_leads_are_never_untouched(sessions):
    long_ago = NOW - timedelta(days=60)
    await add_lead(sessions, status="lost", lost_reason="Went elsewhere", created_at=long_ago)
    converted = await add_converted(sessions, long_ago)
    await apply(sessions, charter_event(converted.charter_id, "booked", long_ago))
    open_ones = [
        await add_lead(sessions, status=s, created_at=long_ago)
        for s in ("new", "contacted", "qualified", "quoted")
    ]

    decided = await decide(sessions, NOW)

    assert sorted(kinds(decided)) == sorted((lead.id, "lead_untouched") for lead in open_ones)


# The job, through the kit's runner ------------------------------------------------


@pytest.fixture
def services(settings, sessions, redis):
    def make(**overrides: Any) -> Services:
        return Services(
            name="sales",
            settings=settings.model_copy(update=overrides),
            sessions=sessions,
            redis=redis,
            verifier=TokenVerifier(RemoteJwks("http://127.0.0.1:9/jwks"), issuer="i", audience="a"),
            revocations=RevocationList(redis),
        )

    return make


def test_the_job_is_declared_with_its_schedule_only_when_enabled(settings):
    on = settings.model_copy(update={"sales_follow_up_job_cron": "30 7 * * 1-5"})
    off = settings.model_copy(update={"sales_follow_up_job_enabled": False})

    [job] = jobs.jobs(on)

    assert (job.name, job.cron, job.queue) == ("sales.follow_ups", "30 7 * * 1-5", "sales")
    assert jobs.jobs(off) == []


async def test_the_job_run_twice_through_the_runner_announces_once(services, sessions):
    real_now = datetime.now(UTC)
    due = await add_lead(sessions, created_at=real_now - timedelta(days=4))
    await add_lead(sessions, created_at=real_now - timedelta(days=1))  # not quiet long enough
    sales = services(sales_lead_follow_up_days=3, sales_quote_follow_up_days=3)
    runner = JobRunner(sales, jobs.jobs(sales.settings))
    try:
        await runner.run_now("sales.follow_ups")
        await runner.run_now("sales.follow_ups")
    finally:
        await runner.stop()

    [event] = await announced(sessions)
    assert (event["leadId"], event["kind"]) == (str(due.id), "lead_untouched")
    async with sessions() as session:
        page = await job_runs(session, name="sales.follow_ups", first=10, after=None)
    assert [edge.node.status for edge in page.edges] == ["succeeded", "succeeded"]
