"""Who gets a new lead: its creator, a named agent, the client's agent, or the queue.

The rule, in order:

1. A sales agent's new lead is its own (`manual`).
2. Staff may name an agent (`manual`); it must be a known, active sales
   agent (`agents.ensure_sales_agent`, field `agentId`).
3. Otherwise, when the lead's e-mail or phone equals a contact's e-mail or
   phone of an existing client, the lead is that client's (`client_id`),
   and when the client's owning agent is a known, active sales agent the
   lead goes to it (`existing_client`; not counted against the queue's
   daily caps). Several clients may match (only primary e-mails are
   unique): the match on a primary contact wins, then the oldest client.
4. Otherwise smooth weighted round-robin (nginx's algorithm) over the
   queue (`round_robin`): see `pick`.
5. When every queue agent is capped or inactive (or the queue is empty),
   the lead stays unassigned (agent and method NULL) and shows up in
   `unassignedLeads` for a manager to assign by hand.

Fairness under concurrency lives in the database: the round-robin takes a
row lock on every active queue row (in one order, so two transactions
never deadlock) and updates the state in the lead's transaction, so
concurrent creations are serialised on the queue and never share a pick.
No counter lives in a process.

With weights 1/1/2 at positions 1/2/3 and no caps, the picks cycle C, A,
B, C (C: the weight-2 agent); 50 leads from a fresh queue (every
`current_weight` 0) are 12 full cycles plus C, A: A 13, B 12, C 25.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from subgraphs.sales.models import Client, ClientContact, LeadQueueEntry, SalesAgent
from subgraphs.sales.service.access import sees_every_lead
from subgraphs.sales.service.agents import ensure_sales_agent

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer
    from subgraphs.sales.models import Lead

ROUND_ROBIN = "round_robin"
EXISTING_CLIENT = "existing_client"
MANUAL = "manual"


def local_day(now: datetime, zone: str) -> date:
    """The operator's calendar date at `now`: the day the daily caps count in."""
    return now.astimezone(ZoneInfo(zone)).date()


def count_today(entry: LeadQueueEntry, today: date) -> int:
    """Round-robin picks on `today`; a count from an earlier day is stale, so zero."""
    return entry.assigned_today if entry.counted_on == today else 0


def is_capped(entry: LeadQueueEntry, today: date) -> bool:
    return entry.max_per_day is not None and count_today(entry, today) >= entry.max_per_day


def pick(entries: Sequence[LeadQueueEntry], today: date) -> LeadQueueEntry | None:
    """One smooth weighted round-robin step over `entries` (ordered by position, user id).

    The eligible entries (not capped today) each gain their weight; the
    largest `current_weight` wins (a tie goes to the first in queue order)
    and gives back the eligible total. Over any run with a steady eligible
    set each agent gets its weight's share, and the picks are interleaved
    rather than bunched. A capped agent's state waits untouched until the
    next day. Mutates the entries; None when nobody is eligible.
    """
    eligible = [e for e in entries if not is_capped(e, today)]
    if not eligible:
        return None
    total = sum(e.weight for e in eligible)
    chosen = eligible[0]
    for entry in eligible:
        entry.current_weight += entry.weight
        if entry.current_weight > chosen.current_weight:
            chosen = entry
    chosen.current_weight -= total
    return chosen


async def round_robin(session: AsyncSession, now: datetime, zone: str) -> uuid.UUID | None:
    """The next agent from the queue, its state advanced under row locks; None: all capped.

    Locks every active queue row of a known, active sales agent for the rest
    of the caller's transaction, so the next creation waits and then sees
    this one's state (PostgreSQL re-reads a row it waited for).
    """
    today = local_day(now, zone)
    stmt = (
        select(LeadQueueEntry)
        .join(SalesAgent, SalesAgent.user_id == LeadQueueEntry.user_id)
        .where(LeadQueueEntry.active, SalesAgent.is_sales_agent, SalesAgent.active)
        .order_by(LeadQueueEntry.position, LeadQueueEntry.user_id)
        .with_for_update(of=LeadQueueEntry)
        .execution_options(populate_existing=True)
    )
    entries = list((await session.scalars(stmt)).all())
    chosen = pick(entries, today)
    if chosen is None:
        return None
    chosen.assigned_today = count_today(chosen, today) + 1
    chosen.counted_on = today
    chosen.assigned_total += 1
    chosen.last_assigned_at = now
    await session.flush()
    return chosen.user_id


async def matching_client(
    session: AsyncSession, email: str | None, phone: str | None
) -> Client | None:
    """The existing client a lead's (normalised) e-mail or phone belongs to, if any."""
    matches = []
    if email:
        matches.append(ClientContact.email == email)
    if phone:
        matches.append(ClientContact.phone == phone)
    if not matches:
        return None
    stmt = (
        select(Client)
        .join(ClientContact, ClientContact.client_id == Client.id)
        .where(or_(*matches))
        .order_by(ClientContact.is_primary.desc(), Client.created_at, Client.id)
        .limit(1)
    )
    return await session.scalar(stmt)


async def _is_active_agent(session: AsyncSession, user_id: uuid.UUID) -> bool:
    found = await session.scalar(
        select(SalesAgent.user_id).where(
            SalesAgent.user_id == user_id, SalesAgent.is_sales_agent, SalesAgent.active
        )
    )
    return found is not None


def _assign(lead: Lead, agent_id: uuid.UUID | None, method: str | None, now: datetime) -> None:
    lead.agent_id = agent_id
    lead.assignment_method = method
    lead.assigned_at = now if agent_id is not None else None


async def assign_manually(
    session: AsyncSession,
    lead: Lead,
    agent_id: uuid.UUID,
    now: datetime,
    *,
    field: str = "agentId",
) -> None:
    """Give the lead to a named agent; a user error on `field` unless it is an active agent."""
    await ensure_sales_agent(session, agent_id, field)
    _assign(lead, agent_id, MANUAL, now)


async def assign_new(
    session: AsyncSession,
    lead: Lead,
    named_agent_id: uuid.UUID | None,
    actor: Viewer,
    *,
    now: datetime,
    zone: str,
) -> None:
    """Choose the agent of a lead being created (the module's rule), before it is flushed.

    `named_agent_id` is the agent the input named, or for a sales agent's
    own lead the agent itself; the caller has already checked that the
    actor may name it (`access.ensure_may_assign_lead`).
    """
    # The client a lead is for is a fact, whoever chooses the agent.
    client = await matching_client(session, lead.email, lead.phone)
    if client is not None:
        lead.client_id = client.id
    if named_agent_id is not None:
        if sees_every_lead(actor):
            await ensure_sales_agent(session, named_agent_id, "agentId")
        _assign(lead, named_agent_id, MANUAL, now)
        return
    if client is not None:
        agent = client.sales_agent_id
        if agent is not None and await _is_active_agent(session, agent):
            _assign(lead, agent, EXISTING_CLIENT, now)
            return
    agent = await round_robin(session, now, zone)
    _assign(lead, agent, ROUND_ROBIN if agent else None, now)
