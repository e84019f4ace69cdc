"""Route optimisation: the shortest order of a charter's stops between its ends.

The first pickup and the last drop-off stay where they are (that is where
the client is met and left); every stop between them may be visited in any
order, and dispatch wants the order that drives the fewest miles. No routing
service is reachable, so "miles" are great-circle miles between coordinates:
the order is chosen on them, and the stored estimate is those legs times
`pricing_road_factor` (the same correction pricing applies, so a quote and
the dispatch board agree on a trip's length), driven at
`dispatch_average_speed_mph`.

Up to `EXACT_LIMIT` stops between the ends the order is exact (Held-Karp:
O(n² 2ⁿ), 10 stops cost about 10⁵ steps). Above it, a nearest-neighbour tour
improved by 2-opt: good, not proven best. Either way the result is never
longer than the order the stops already had: if the search finds nothing
strictly shorter, the order stays as it is and nothing moves.

A stop whose place in the order changes loses its planned arrival and
departure (they were planned for the old order and would now be out of
sequence); the audit entry keeps the old order and times. The charter's
version is bumped when the order changes, so an open change case drawn up
against the old itinerary goes stale instead of putting it back.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import TYPE_CHECKING

from sqlalchemy import select

from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import Charter, Stop
from subgraphs.charters.service import audit, events
from subgraphs.charters.service.access import DISPATCH, ensure_role
from subgraphs.charters.service.timing import now
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.geo import Point, great_circle_miles

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

#: Stops between the ends up to which the order is provably shortest.
EXACT_LIMIT = 10
#: Shorter by less than this (miles) is not shorter: float noise must not reorder stops.
EPSILON = 1e-9
#: Charters whose route is still to be driven.
OPTIMIZABLE_STATUSES = frozenset({"quote", "booked", "confirmed"})


def path_miles(points: Sequence[Point]) -> float:
    return sum(great_circle_miles(a, b) for a, b in pairwise(points))


def _held_karp(start: Point, middle: Sequence[Point], end: Point) -> list[int]:
    """The exact shortest order of `middle` from `start` to `end`."""
    n = len(middle)
    d = [[great_circle_miles(p, q) for q in middle] for p in middle]
    inf = math.inf
    # best[mask][j]: shortest path from start through the stops in mask, ending at j.
    best = [[inf] * n for _ in range(1 << n)]
    parent = [[-1] * n for _ in range(1 << n)]
    for j in range(n):
        best[1 << j][j] = great_circle_miles(start, middle[j])
    for mask in range(1, 1 << n):
        row = best[mask]
        for j in range(n):
            here = row[j]
            if here == inf or not mask & (1 << j):
                continue
            for k in range(n):
                if mask & (1 << k):
                    continue
                nxt = mask | (1 << k)
                cost = here + d[j][k]
                if cost < best[nxt][k]:
                    best[nxt][k] = cost
                    parent[nxt][k] = j
    full = (1 << n) - 1
    last = min(range(n), key=lambda j: best[full][j] + great_circle_miles(middle[j], end))
    order = []
    mask = full
    while last != -1:
        order.append(last)
        last, mask = parent[mask][last], mask & ~(1 << last)
    return order[::-1]


def _nearest_neighbour_two_opt(start: Point, middle: Sequence[Point], end: Point) -> list[int]:
    """A good order of `middle` (not proven shortest): greedy, then 2-opt until stable."""
    left = set(range(len(middle)))
    order: list[int] = []
    here = start
    while left:
        nearest = min(left, key=lambda i: (great_circle_miles(here, middle[i]), i))
        order.append(nearest)
        left.remove(nearest)
        here = middle[nearest]

    def point(i: int) -> Point:
        return start if i < 0 else end if i >= len(order) else middle[order[i]]

    improved = True
    while improved:
        improved = False
        for i in range(len(order) - 1):
            for k in range(i + 1, len(order)):
                # Reverse order[i..k]: legs (i-1, i) and (k, k+1) become (i-1, k) and (i, k+1).
                before = great_circle_miles(point(i - 1), point(i)) + great_circle_miles(
                    point(k), point(k + 1)
                )
                after = great_circle_miles(point(i - 1), point(k)) + great_circle_miles(
                    point(i), point(k + 1)
                )
                if after < before - EPSILON:
                    order[i : k + 1] = reversed(order[i : k + 1])
                    improved = True
    return order


@dataclass(frozen=True)
class Plan:
    #: Indexes into the stops between the ends, in the order to drive them.
    order: list[int]
    #: True when the order is provably shortest (Held-Karp), False for the heuristic.
    exact: bool
    miles_before: float
    miles_after: float


def plan(start: Point, middle: Sequence[Point], end: Point) -> Plan:
    """The order to drive `middle` in; never longer than the order given."""
    exact = len(middle) <= EXACT_LIMIT
    given = list(range(len(middle)))
    miles_before = path_miles([start, *middle, end])
    if len(middle) < 2:
        return Plan(given, True, miles_before, miles_before)
    found = (
        _held_karp(start, middle, end) if exact else _nearest_neighbour_two_opt(start, middle, end)
    )
    miles_after = path_miles([start, *(middle[i] for i in found), end])
    if miles_after < miles_before - EPSILON:
        return Plan(found, exact, miles_before, miles_after)
    return Plan(given, exact, miles_before, miles_before)


@dataclass(frozen=True)
class Optimized:
    charter: Charter
    stops: list[Stop]
    plan: Plan
    distance_miles: Decimal
    duration_minutes: int
    reordered: bool


def estimate(miles: float, road_factor: Decimal, speed_mph: Decimal) -> tuple[Decimal, int]:
    """Stored miles (great-circle times the road factor, to 0.1) and whole minutes at speed."""
    distance = (Decimal(str(round(miles, 6))) * road_factor).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )
    minutes = math.ceil(distance / speed_mph * 60)
    return distance, minutes


def _order_of(stops: Sequence[Stop]) -> list[dict[str, object]]:
    return [{"id": str(s.id), "address": s.address, "type": s.stop_type} for s in stops]


async def optimize(
    session: AsyncSession,
    charter_id: uuid.UUID,
    actor: Viewer,
    *,
    road_factor: Decimal,
    speed_mph: Decimal,
    at: datetime | None = None,
) -> Optimized:
    """Reorder the stops between the first pickup and the last drop-off; audited."""
    ensure_role(actor, DISPATCH, "optimise routes")
    charter = await session.scalar(
        select(Charter).where(Charter.id == charter_id).with_for_update()
    )
    if charter is None:
        raise ServiceError.of(Code.NOT_FOUND, f"Charter {charter_id} does not exist.", "charterId")
    if charter.status not in OPTIMIZABLE_STATUSES:
        raise ServiceError.of(
            Code.INVALID_TRANSITION,
            f"{charter.reference} is {charter.status}: only a route still to be driven "
            "is optimised.",
            "charterId",
        )
    stops = list(
        await session.scalars(
            select(Stop).where(Stop.charter_id == charter.id).order_by(Stop.position)
        )
    )
    pickups = [i for i, s in enumerate(stops) if s.stop_type == "pickup"]
    dropoffs = [i for i, s in enumerate(stops) if s.stop_type == "dropoff"]
    if not pickups or not dropoffs or pickups[0] >= dropoffs[-1]:
        raise ServiceError.of(
            Code.INVALID_ITINERARY,
            f"{charter.reference} needs a pickup before its last drop-off to have a route.",
            "charterId",
        )
    missing = [s for s in stops if s.latitude is None or s.longitude is None]
    if missing:
        named = "; ".join(f"stop {s.position} ({s.address})" for s in missing)
        raise ServiceError.of(
            Code.MISSING_COORDINATES,
            f"These stops have no coordinates, so no distance can be measured: {named}.",
            "charterId",
        )
    first, last = pickups[0], dropoffs[-1]
    points = [(float(s.latitude), float(s.longitude)) for s in stops]  # type: ignore[arg-type]
    middle = stops[first + 1 : last]
    result = plan(points[first], points[first + 1 : last], points[last])
    new_order = [*stops[: first + 1], *(middle[i] for i in result.order), *stops[last:]]
    reordered = new_order != stops
    # Legs outside the ends (none in a bookable itinerary) still count in the estimate.
    point_of = {s.id: p for s, p in zip(stops, points, strict=True)}
    miles = path_miles([point_of[s.id] for s in new_order])
    distance, minutes = estimate(miles, road_factor, speed_mph)

    old = {
        "stop_order": _order_of(stops),
        "route_distance_miles": audit.row_snapshot(charter)["route_distance_miles"],
        "route_duration_minutes": charter.route_duration_minutes,
    }
    moved_times: dict[str, dict[str, object]] = {}
    for position, stop in enumerate(new_order, start=1):
        if stop.position != position:
            if stop.planned_arrival or stop.planned_departure:
                moved_times[str(stop.id)] = audit.row_snapshot(stop)
                stop.planned_arrival = None
                stop.planned_departure = None
            stop.position = position
    if reordered:
        charter.version += 1
    charter.route_distance_miles = distance
    charter.route_duration_minutes = minutes
    charter.route_optimized_at = at or now()
    await session.flush()
    audit.record(
        session,
        charter_id=charter.id,
        entity="charter",
        entity_id=charter.id,
        action="route:optimize",
        actor=actor,
        old={**old, "planned_times_cleared": None},
        new={
            "stop_order": _order_of(new_order),
            "route_distance_miles": str(distance),
            "route_duration_minutes": minutes,
            "method": "exact" if result.exact else "nearest_neighbour_2opt",
            "planned_times_cleared": moved_times or None,
        },
    )
    await events.charter_changed(session, charter, ["route", "stops"] if reordered else ["route"])
    return Optimized(charter, new_order, result, distance, minutes, reordered)
