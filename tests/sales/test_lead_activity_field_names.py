"""`logLeadActivity`'s userErrors name its argument, `leadId` (the convention: the GraphQL
input field), where the lead is unknown or another agent's; `setLeadStatus`'s stay `id`."""

from __future__ import annotations

import uuid
from typing import Any

from tests.sales.conftest import ERRORS

LOG = f"""mutation($id: ID!) {{
  logLeadActivity(leadId: $id, input: {{type: CALL}}) {{ activity {{ id }} {ERRORS} }} }}"""
SET_STATUS = f"""mutation($id: ID!) {{
  setLeadStatus(id: $id, status: CONTACTED) {{ lead {{ id }} {ERRORS} }} }}"""


def _errors(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def test_an_unknown_or_anothers_lead_is_named_by_lead_id(
    sales_as: Any, sales_manager: Any, known_agent: Any, make_lead: Any
) -> None:
    owner, other = await known_agent(), await known_agent()
    lead = await make_lead(agentId=str(owner))
    nowhere = str(uuid.uuid4())

    unknown = (await sales_manager(LOG, {"id": nowhere})).ok()["logLeadActivity"]
    assert unknown["activity"] is None
    assert _errors(unknown) == [("leadId", "NOT_FOUND")]

    stranger = await sales_as("sales_agent", user_id=other)
    refused = (await stranger(LOG, {"id": lead["id"]})).ok()["logLeadActivity"]
    assert refused["activity"] is None
    assert _errors(refused) == [("leadId", "FORBIDDEN")]

    # the lead's other mutations name their own argument, `id`
    status = (await sales_manager(SET_STATUS, {"id": nowhere})).ok()["setLeadStatus"]
    assert _errors(status) == [("id", "NOT_FOUND")]
    status = (await stranger(SET_STATUS, {"id": lead["id"]})).ok()["setLeadStatus"]
    assert _errors(status) == [("id", "FORBIDDEN")]
