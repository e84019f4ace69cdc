"""A "leads by agent" template over sales' `leads`, which scopes a sales agent to its own
leads: the runner's token decides the rows. Ann has 3 leads, Bob 2, one lead has no agent."""

from __future__ import annotations

import uuid
from typing import Any

from subgraphs.reports.models import ReportTemplate
from subgraphs.sales.models import Lead

OPERATION = """
query LeadsByAgent($first: Int, $after: String) {
  leads(first: $first, after: $after) {
    edges { node { id firstName agent { id } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def leads_by_agent(
    sessions: Any, *, page_size: int = 50
) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """(template id, Ann's id, Bob's id)."""
    ann, bob = uuid.uuid4(), uuid.uuid4()
    template = ReportTemplate(
        id=uuid.uuid4(),
        name="Leads by agent",
        operation=OPERATION,
        variables={},
        rows_path="leads.edges.node",
        page_size=page_size,
        columns=[
            {"path": "agent.id", "label": "Agent", "format": "text"},
            {"path": "id", "label": "Lead", "format": "text"},
        ],
        group_by=["agent.id"],
        aggregations=[{"column": "id", "function": "count"}],
        visualisation="bar",
        shared=True,
    )
    async with sessions() as session, session.begin():
        session.add(template)
        for agent, count in ((ann, 3), (bob, 2), (None, 1)):
            for i in range(count):
                session.add(
                    Lead(source="web", first_name=f"Lead {i}", last_name="Test", agent_id=agent)
                )
    return template.id, ann, bob
