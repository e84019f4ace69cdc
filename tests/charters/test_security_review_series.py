"""Security review (issue 8), "Also": recurring series belong to someone.

Generating a series is its creator's (or staff's who edit any charter);
deactivating one is a manager's act (seed 000), optionally cancelling its
future quoted and booked instances.
"""

from __future__ import annotations

import uuid

from tests.charters.ops import codes
from tests.charters.series_ops import (
    GENERATE,
    SET_STATUS,
    create_series,
    generate,
    make_template,
    next_weekday,
    read_charter,
)

DEACTIVATE_ONLY = """mutation($id: ID!) { deactivateCharterSeries(id: $id) {
  series { id active } userErrors { field code message } } }"""
DEACTIVATE = """mutation($id: ID!, $cancel: Boolean) {
  deactivateCharterSeries(id: $id, cancelFutureInstances: $cancel) {
    series { id active } cancelled { id status cancellation { reason } }
    userErrors { field code message } } }"""


async def _agents_series(as_role, staff, bookable_charter, known_agent):
    """A weekly series created by a sales agent from its own quote."""
    agent_id = await known_agent()
    agent = await as_role("sales_agent", user_id=uuid.UUID(agent_id))
    template = await make_template(staff, bookable_charter, salesAgentId=agent_id)
    first = next_weekday(0)
    series = await create_series(
        agent,
        name="Monday shuttle",
        templateId=template["id"],
        rrule="FREQ=WEEKLY;BYDAY=MO;COUNT=4",
        startsLocal=f"{first.isoformat()}T07:30",
        timeZone="America/Chicago",
    )
    return agent, series


async def test_finding_also_another_agents_series_cannot_be_generated(
    as_role, staff, bookable_charter, known_agent
):
    owner, series = await _agents_series(as_role, staff, bookable_charter, known_agent)
    other = await as_role("sales_agent")

    refused = (await other(GENERATE, {"id": series["id"]})).ok()["generateCharterSeries"]
    generated = await generate(owner, series["id"])

    assert refused["created"] == []
    assert codes(refused) == [(None, "FORBIDDEN")]
    assert len(generated["created"]) == 4


async def test_finding_also_only_a_manager_deactivates_a_series(
    as_role, staff, bookable_charter, known_agent
):
    owner, series = await _agents_series(as_role, staff, bookable_charter, known_agent)
    other = await as_role("sales_agent")
    support = await as_role("sales_support")

    by_other = await other(DEACTIVATE_ONLY, {"id": series["id"]})
    by_owner = await owner(DEACTIVATE_ONLY, {"id": series["id"]})
    by_support = await support(DEACTIVATE_ONLY, {"id": series["id"]})
    by_manager = (await staff(DEACTIVATE_ONLY, {"id": series["id"]})).ok()[
        "deactivateCharterSeries"
    ]

    assert by_other.error_codes == ["FORBIDDEN"]
    assert by_owner.error_codes == ["FORBIDDEN"]
    assert by_support.error_codes == ["FORBIDDEN"]
    assert by_manager["series"] == {"id": series["id"], "active": False}


async def test_finding_also_deactivating_can_cancel_future_quoted_and_booked_instances(
    as_role, staff, bookable_charter, known_agent
):
    owner, series = await _agents_series(as_role, staff, bookable_charter, known_agent)
    first, second, third, fourth = (await generate(owner, series["id"]))["created"]
    for charter in (second, third):
        await staff(SET_STATUS, {"id": charter["id"], "status": "BOOKED"})
    await staff(SET_STATUS, {"id": third["id"], "status": "CONFIRMED"})

    payload = (await staff(DEACTIVATE, {"id": series["id"], "cancel": True})).ok()[
        "deactivateCharterSeries"
    ]
    statuses = [
        (await read_charter(staff, c["id"]))["status"] for c in (first, second, third, fourth)
    ]

    assert payload["userErrors"] == []
    assert payload["series"]["active"] is False
    assert [c["id"] for c in payload["cancelled"]] == [first["id"], second["id"], fourth["id"]]
    assert {c["cancellation"]["reason"] for c in payload["cancelled"]} == {
        "Series Monday shuttle deactivated"
    }
    assert statuses == ["CANCELLED", "CANCELLED", "CONFIRMED", "CANCELLED"]
