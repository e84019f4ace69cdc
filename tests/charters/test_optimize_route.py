"""optimizeRoute (issue 13 §6): the shortest order between the first pickup and the last drop-off."""

from __future__ import annotations

import itertools
import math
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select

from subgraphs.charters.models import AuditEntry, Charter, Stop
from subgraphs.charters.service import route
from tests.charters.ops import ERRORS, codes

OPTIMIZE = f"""mutation($id: ID!) {{
  optimizeRoute(charterId: $id) {{
    reordered exact
    charter {{ id route {{ distanceMiles durationMinutes optimizedAt }}
      stops {{ position type address plannedArrival }} }}
    {ERRORS} }} }}"""

CHICAGO = (41.8781, -87.6298)
ST_LOUIS = (38.6270, -90.1994)
#: Five waypoints between them, entered in a poor order.
WAYPOINTS = {
    "Springfield, IL": (39.7817, -89.6501),
    "Joliet, IL": (41.5250, -88.0817),
    "Peoria, IL": (40.6936, -89.5890),
    "Champaign, IL": (40.1164, -88.2434),
    "Bloomington, IL": (40.4842, -88.9937),
}


def miles(a: tuple[float, float], b: tuple[float, float]) -> float:
    """An independent haversine (not the service's) for the brute force."""
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 3958.7613 * math.asin(math.sqrt(h))


def length(points: list[tuple[float, float]]) -> float:
    return sum(miles(a, b) for a, b in itertools.pairwise(points))


def stop(kind: str, address: str, point: tuple[float, float] | None, **more: Any) -> dict:
    located = {"latitude": point[0], "longitude": point[1]} if point else {}
    return {"type": kind, "address": address, **located, **more}


async def test_five_waypoints_come_back_in_the_brute_force_optimum(
    as_role, bookable_charter, sessions, settings
):
    stops = [
        stop("PICKUP", "Chicago, IL", CHICAGO),
        *(stop("WAYPOINT", name, point) for name, point in WAYPOINTS.items()),
        stop("DROPOFF", "St. Louis, MO", ST_LOUIS),
    ]
    charter = await bookable_charter(stops=stops)
    dispatcher_id = uuid.uuid4()
    dispatcher = await as_role("dispatcher", user_id=dispatcher_id)
    # The brute force: every order of the five, the shortest strictly shorter than the rest.
    ranked = sorted(
        (length([CHICAGO, *(WAYPOINTS[n] for n in order), ST_LOUIS]), order)
        for order in itertools.permutations(WAYPOINTS)
    )
    (best, best_order), (second, _) = ranked[0], ranked[1]
    assert second - best > 0.5
    given_length = length([CHICAGO, *WAYPOINTS.values(), ST_LOUIS])
    assert given_length > best

    payload = (await dispatcher(OPTIMIZE, {"id": charter["id"]})).ok()["optimizeRoute"]

    assert payload["userErrors"] == []
    assert (payload["reordered"], payload["exact"]) == (True, True)
    got = payload["charter"]["stops"]
    assert [s["address"] for s in got] == ["Chicago, IL", *best_order, "St. Louis, MO"]
    assert [s["position"] for s in got] == list(range(1, 8))
    distance = (Decimal(str(round(best, 6))) * settings.pricing_road_factor).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )
    estimate = payload["charter"]["route"]
    assert Decimal(str(estimate["distanceMiles"])) == distance
    assert estimate["durationMinutes"] == math.ceil(
        distance / settings.dispatch_average_speed_mph * 60
    )

    async with sessions() as session:
        row = await session.get_one(Charter, uuid.UUID(charter["id"]))
        positions = (
            await session.scalars(
                select(Stop.position).where(Stop.charter_id == row.id).order_by(Stop.position)
            )
        ).all()
        entry = await session.scalar(
            select(AuditEntry).where(
                AuditEntry.charter_id == row.id, AuditEntry.action == "route:optimize"
            )
        )
    assert list(positions) == list(range(1, 8))
    assert row.route_distance_miles == distance
    assert entry is not None
    assert entry.actor_id == dispatcher_id
    assert [s["address"] for s in entry.old["stop_order"]] == [
        "Chicago, IL",
        *WAYPOINTS,
        "St. Louis, MO",
    ]
    assert [s["address"] for s in entry.new["stop_order"]] == [
        "Chicago, IL",
        *best_order,
        "St. Louis, MO",
    ]
    assert entry.new["method"] == "exact"
    assert entry.new["route_distance_miles"] == str(distance)

    # Already the best: nothing moves, the estimate stays.
    again = (await dispatcher(OPTIMIZE, {"id": charter["id"]})).ok()["optimizeRoute"]
    assert again["userErrors"] == []
    assert again["reordered"] is False
    assert [s["address"] for s in again["charter"]["stops"]] == [s["address"] for s in got]


async def test_a_moved_stop_loses_its_planned_times_and_the_audit_keeps_them(
    as_role, bookable_charter, sessions
):
    planned = "2030-05-01T15:00:00+00:00"
    stops = [
        stop("PICKUP", "Chicago, IL", CHICAGO),
        stop("WAYPOINT", "Springfield, IL", WAYPOINTS["Springfield, IL"], plannedArrival=planned),
        stop("WAYPOINT", "Joliet, IL", WAYPOINTS["Joliet, IL"]),
        stop("DROPOFF", "St. Louis, MO", ST_LOUIS),
    ]
    charter = await bookable_charter(stops=stops)
    dispatcher = await as_role("dispatcher")

    payload = (await dispatcher(OPTIMIZE, {"id": charter["id"]})).ok()["optimizeRoute"]

    assert payload["userErrors"] == []
    got = payload["charter"]["stops"]
    assert [s["address"] for s in got] == [
        "Chicago, IL",
        "Joliet, IL",
        "Springfield, IL",
        "St. Louis, MO",
    ]
    assert got[2]["plannedArrival"] is None
    async with sessions() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "route:optimize")
        )
    assert entry is not None
    (cleared,) = entry.new["planned_times_cleared"].values()
    assert cleared["address"] == "Springfield, IL"
    assert cleared["planned_arrival"] is not None


async def test_stops_without_coordinates_are_named_and_nothing_changes(
    as_role, bookable_charter, sessions
):
    stops = [
        stop("PICKUP", "Chicago, IL", CHICAGO),
        stop("WAYPOINT", "Somewhere unknown", None),
        stop("WAYPOINT", "Joliet, IL", WAYPOINTS["Joliet, IL"]),
        stop("DROPOFF", "Nowhere either", None),
    ]
    charter = await bookable_charter(stops=stops)
    dispatcher = await as_role("dispatcher")

    payload = (await dispatcher(OPTIMIZE, {"id": charter["id"]})).ok()["optimizeRoute"]

    assert codes(payload) == [("charterId", "MISSING_COORDINATES")]
    message = payload["userErrors"][0]["message"]
    assert "stop 2 (Somewhere unknown)" in message
    assert "stop 4 (Nowhere either)" in message
    assert "Joliet" not in message
    async with sessions() as session:
        row = await session.get_one(Charter, uuid.UUID(charter["id"]))
        audits = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "route:optimize"))
        ).all()
    assert (row.route_optimized_at, row.route_distance_miles, audits) == (None, None, [])


def test_above_ten_waypoints_the_heuristic_is_used_and_says_so():
    start, end = (40.0, -90.0), (40.0, -80.0)
    # Twelve points along the way, shuffled: the straight order is the optimum.
    line = [(40.0, -90.0 + 10 * (i + 1) / 13) for i in range(12)]
    shuffled = [line[i] for i in (5, 0, 11, 3, 8, 1, 10, 6, 2, 9, 4, 7)]

    result = route.plan(start, shuffled, end)

    assert result.exact is False
    assert [shuffled[i] for i in result.order] == line
    assert result.miles_after < result.miles_before


point = st.tuples(
    st.floats(min_value=25, max_value=49, allow_nan=False),
    st.floats(min_value=-124, max_value=-67, allow_nan=False),
)


@hypothesis_settings(max_examples=150, deadline=None)
@given(start=point, middle=st.lists(point, min_size=0, max_size=14), end=point)
def test_the_plan_is_never_longer_than_the_order_given(start, middle, end):
    result = route.plan(start, middle, end)

    assert sorted(result.order) == list(range(len(middle)))
    planned = length([start, *(middle[i] for i in result.order), end])
    assert planned <= length([start, *middle, end]) + 1e-6
    assert math.isclose(planned, result.miles_after, rel_tol=1e-9, abs_tol=1e-6)


@hypothesis_settings(max_examples=60, deadline=None)
@given(start=point, middle=st.lists(point, min_size=2, max_size=6), end=point)
def test_up_to_ten_waypoints_the_plan_is_the_brute_force_optimum(start, middle, end):
    result = route.plan(start, middle, end)

    best = min(length([start, *order, end]) for order in itertools.permutations(middle))
    assert result.exact is True
    assert math.isclose(result.miles_after, best, rel_tol=1e-9, abs_tol=1e-6)
