"""The round-robin queue as managers shape it, and assigning a lead by hand.

Managers (`access.MANAGE_QUEUE`) put an agent in the queue or change its
entry (position, weight 1..100, active, an optional daily cap) and take
it out; every change is audited in `lead_queue_audit` with who, when,
before and after. Only a known, active sales agent may enter or be changed
in the queue, but anyone may be removed: a departed agent's entry must
be able to go. The round-robin state (`current_weight`, today's count)
is the algorithm's, not the manager's: an edit keeps it, and it is not
audited.

`assign` is the manual override (`access.EDIT_ANY_LEAD`): the lead goes to
the named agent (`manual`), audited in `lead_audit` and announced.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select
from sqlalchemy.dialects.postgresql import insert

from subgraphs.kit import auditing
from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.sales.error_codes import SalesErrorCode as Code
from subgraphs.sales.models import LeadQueueEntry, QueueAudit
from subgraphs.sales.service import assignment, audit, leads
from subgraphs.sales.service.access import EDIT_ANY_LEAD, MANAGE_QUEUE
from subgraphs.sales.service.agents import ensure_sales_agent

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer
    from subgraphs.sales.models import Lead

MAX_WEIGHT = 100
MAX_POSITION = 10_000
MAX_PER_DAY = 10_000
#: The manager's settings of an entry: what the audit log records.
SETTINGS = ("position", "weight", "active", "max_per_day")


@dataclass
class QueueSettings:
    """One agent's entry as a manager sets it; `max_per_day` None: no daily cap."""

    agent_id: uuid.UUID
    position: int
    weight: int = 1
    active: bool = True
    max_per_day: int | None = None


def problems_of(s: QueueSettings) -> list[Problem]:
    problems: list[Problem] = []
    if not 1 <= s.position <= MAX_POSITION:
        problems.append(
            Problem(Code.OUT_OF_RANGE, f"Position is between 1 and {MAX_POSITION}.", "position")
        )
    if not 1 <= s.weight <= MAX_WEIGHT:
        problems.append(
            Problem(Code.OUT_OF_RANGE, f"Weight is between 1 and {MAX_WEIGHT}.", "weight")
        )
    if s.max_per_day is not None and not 1 <= s.max_per_day <= MAX_PER_DAY:
        problems.append(
            Problem(
                Code.OUT_OF_RANGE,
                f"A daily cap is between 1 and {MAX_PER_DAY}; leave it empty for none.",
                "maxLeadsPerDay",
            )
        )
    return problems


def _snapshot(entry: LeadQueueEntry) -> dict[str, Any]:
    return {name: auditing.plain(getattr(entry, name)) for name in SETTINGS}


def _record(
    session: AsyncSession,
    user_id: uuid.UUID,
    action: str,
    actor: Viewer,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    row = auditing.audit_row(QueueAudit, actor, before, after, user_id=user_id, action=action)
    if row is not None:
        session.add(row)


def ensure_may_manage(actor: Viewer) -> None:
    if not actor.has_any_role(*MANAGE_QUEUE):
        raise ServiceError.of(Code.FORBIDDEN, "Only a manager changes the lead queue.")


def _locked(agent_id: uuid.UUID) -> Select[LeadQueueEntry]:
    return (
        select(LeadQueueEntry)
        .where(LeadQueueEntry.user_id == agent_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def set_entry(session: AsyncSession, s: QueueSettings, actor: Viewer) -> LeadQueueEntry:
    """Put the agent in the queue or replace its entry's settings (an upsert), audited.

    The insert does nothing when the entry exists (also when a concurrent
    call added it first); the entry is then locked and changed, so the
    audit's before is exactly what this call replaced.
    """
    ensure_may_manage(actor)
    problems = problems_of(s)
    if problems:
        raise ServiceError(problems)
    await ensure_sales_agent(session, s.agent_id, "agentId")
    values = {name: getattr(s, name) for name in SETTINGS}
    added = await session.scalar(
        insert(LeadQueueEntry)
        .values(user_id=s.agent_id, assigned_today=0, current_weight=0, assigned_total=0, **values)
        .on_conflict_do_nothing(index_elements=[LeadQueueEntry.user_id])
        .returning(LeadQueueEntry.user_id)
    )
    entry = (await session.scalars(_locked(s.agent_id))).one()
    before = None if added is not None else _snapshot(entry)
    for name, value in values.items():
        setattr(entry, name, value)
    await session.flush()
    _record(
        session, s.agent_id, "add" if before is None else "update", actor, before, _snapshot(entry)
    )
    return entry


async def remove_entry(session: AsyncSession, agent_id: uuid.UUID, actor: Viewer) -> None:
    """Take the agent out of the queue (its round-robin history goes with it), audited."""
    ensure_may_manage(actor)
    entry = await session.scalar(_locked(agent_id))
    if entry is None:
        raise ServiceError.of(Code.NOT_FOUND, "This agent is not in the lead queue.", "agentId")
    before = _snapshot(entry)
    await session.delete(entry)
    await session.flush()
    _record(session, agent_id, "remove", actor, before, None)


async def assign(
    session: AsyncSession,
    lead_id: uuid.UUID,
    agent_id: uuid.UUID,
    actor: Viewer,
    *,
    now: datetime | None = None,
) -> Lead:
    """Give the lead to a named active sales agent by hand (`manual`), audited and announced.

    Naming the lead's current agent changes nothing (no audit entry, no
    event), so a repeated call is harmless. The queue's counts are not
    touched: a manual assignment is outside the round-robin.
    """
    if not actor.has_any_role(*EDIT_ANY_LEAD):
        raise ServiceError.of(Code.FORBIDDEN, "Only a manager or sales support assigns leads.")
    lead = await leads.get(session, lead_id, lock=True)
    await ensure_sales_agent(session, agent_id, "agentId")
    if lead.agent_id == agent_id:
        return lead
    before = audit.row_snapshot(lead)
    await assignment.assign_manually(session, lead, agent_id, now or datetime.now(UTC))
    await session.flush()
    audit.record_lead(
        session,
        lead_id=lead.id,
        action="assign",
        actor=actor,
        before=before,
        after=audit.row_snapshot(lead),
    )
    await leads.announce(session, lead, "assigned")
    return lead
