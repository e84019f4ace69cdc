"""Charters' part of the agent dashboard: `User.openQuoteCount` and `upcomingDepartureCount`.

The counts are tested at the service with an injected `now`; who reads them
over HTTP of the charters subgraph, as the router asks (`_entities`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest

from subgraphs.charters.models import Charter
from subgraphs.charters.service import sales_figures

NOW = datetime(2026, 6, 15, 16, 0, tzinfo=UTC)
DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)
_numbers = count(1)

FIGURES = """query($r: [_Any!]!, $days: Int! = 7) { _entities(representations: $r) {
  ... on User { id openQuoteCount upcomingDepartureCount(days: $days) } } }"""


def charter(agent: uuid.UUID | None, status: str, pickup_at: datetime, **fields: Any) -> Charter:
    return Charter(
        id=uuid.uuid4(),
        reference=f"CH-2026-{next(_numbers):06d}",
        status=status,
        client_id=uuid.uuid4(),
        sales_agent_id=agent,
        trip_type="one_way",
        passenger_count=40,
        pickup_local=pickup_at.replace(tzinfo=None),
        pickup_time_zone="UTC",
        pickup_at=pickup_at,
        **fields,
    )


async def add(sessions: Any, *rows: Charter) -> None:
    async with sessions() as session, session.begin():
        session.add_all(rows)


async def test_open_quotes_are_the_agents_quotes_whose_pickup_has_not_passed(sessions):
    agent, other, idle = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await add(
        sessions,
        charter(agent, "quote", NOW + 40 * DAY),
        charter(agent, "quote", NOW),  # leaves right now: still open
        charter(agent, "quote", NOW - MINUTE),  # the trip is gone
        charter(agent, "booked", NOW + DAY),
        charter(agent, "cancelled", NOW + DAY),
        charter(agent, "quote", NOW + DAY, is_template=True, template_name="Weekly"),
        charter(other, "quote", NOW + DAY),
        charter(None, "quote", NOW + DAY),
    )

    async with sessions() as session:
        counts = await sales_figures.open_quote_counts(session, [agent, other, idle], now=NOW)

    assert counts == {agent: 2, other: 1, idle: 0}


async def test_upcoming_departures_are_booked_or_confirmed_pickups_within_the_days(sessions):
    agent = uuid.uuid4()
    await add(
        sessions,
        charter(agent, "booked", NOW),
        charter(agent, "confirmed", NOW + 7 * DAY - MINUTE),
        charter(agent, "booked", NOW + 7 * DAY),  # the eighth day: outside 7
        charter(agent, "confirmed", NOW - MINUTE),  # already left
        charter(agent, "quote", NOW + DAY),
        charter(agent, "in_progress", NOW + DAY),
        charter(agent, "cancelled", NOW + DAY),
        charter(agent, "booked", NOW + 20 * DAY),
    )

    async with sessions() as session:
        seven = await sales_figures.upcoming_departure_counts(session, [agent], now=NOW, days=7)
        one = await sales_figures.upcoming_departure_counts(session, [agent], now=NOW, days=1)
        month = await sales_figures.upcoming_departure_counts(session, [agent], now=NOW, days=31)

    assert (seven[agent], one[agent], month[agent]) == (2, 1, 4)


@pytest.mark.parametrize("days", [0, 32])
async def test_days_outside_1_to_31_are_refused(sessions, days):
    async with sessions() as session:
        with pytest.raises(ValueError):
            await sales_figures.upcoming_departure_counts(session, [], now=NOW, days=days)


# Who reads the figures, over HTTP ----------------------------------------------------


def entity(user_id: uuid.UUID, **variables: Any) -> dict[str, Any]:
    return {"r": [{"__typename": "User", "id": str(user_id)}], **variables}


async def test_an_agent_reads_its_own_figures(as_role, sessions):
    agent = uuid.uuid4()
    soon = datetime.now(UTC) + 2 * DAY
    await add(
        sessions,
        charter(agent, "quote", soon + 30 * DAY),
        charter(agent, "booked", soon),
        charter(agent, "confirmed", soon + 10 * DAY),
    )
    reader = await as_role("sales_agent", user_id=agent)

    [week] = (await reader(FIGURES, entity(agent))).ok()["_entities"]
    [fortnight] = (await reader(FIGURES, entity(agent, days=14))).ok()["_entities"]

    assert (week["openQuoteCount"], week["upcomingDepartureCount"]) == (1, 1)
    assert fortnight["upcomingDepartureCount"] == 2


@pytest.mark.parametrize("role", ["admin", "manager", "sales_support"])
async def test_managers_and_sales_support_read_any_agents_figures(role, as_role, sessions):
    agent = uuid.uuid4()
    await add(sessions, charter(agent, "quote", datetime.now(UTC) + 5 * DAY))
    reader = await as_role(role)

    [user] = (await reader(FIGURES, entity(agent))).ok()["_entities"]

    assert (user["openQuoteCount"], user["upcomingDepartureCount"]) == (1, 0)


@pytest.mark.parametrize(
    ("role", "own"),
    [
        ("sales_agent", False),
        *((r, True) for r in ("dispatcher", "accounting", "vendor", "driver")),
    ],
)
async def test_everyone_else_gets_null_and_forbidden(role, own, as_role, sessions):
    me = uuid.uuid4()
    reader = await as_role(role, user_id=me)

    target = me if own else uuid.uuid4()
    await add(sessions, charter(target, "quote", datetime.now(UTC) + 5 * DAY))

    answer = await reader(FIGURES, entity(target))

    assert answer.data["_entities"] == [
        {
            "id": str(target),
            "openQuoteCount": None,
            "upcomingDepartureCount": None,
        }
    ]
    assert answer.error_codes == ["FORBIDDEN", "FORBIDDEN"]


@pytest.mark.parametrize("days", [0, 32])
async def test_days_outside_1_to_31_are_bad_input(as_role, days):
    agent = uuid.uuid4()
    reader = await as_role("sales_agent", user_id=agent)

    answer = await reader(FIGURES, entity(agent, days=days))

    assert answer.error_codes == ["BAD_USER_INPUT"]
    assert answer.data["_entities"][0]["upcomingDepartureCount"] is None
