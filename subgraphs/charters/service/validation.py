"""Checks of a charter snapshot that produce every problem at once."""

from __future__ import annotations

from typing import Any

from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import STOP_TYPES, TRIP_TYPES
from subgraphs.charters.service.snapshots import Snapshot
from subgraphs.charters.service.timing import zone
from subgraphs.kit.errors import Problem, ServiceError

MAX_PASSENGERS = 5000
MAX_TEXT = 1000
#: A charter's stops and vehicles are naturally few; the caps keep every list
#: the graph returns for one charter bounded (security review, finding 11).
MAX_STOPS = 50
MAX_VEHICLES = 50


def snapshot_problems(snap: Snapshot) -> list[Problem]:
    problems: list[Problem] = []
    if snap["trip_type"] not in TRIP_TYPES:
        problems.append(
            Problem(Code.INVALID, f"Unknown trip type {snap['trip_type']!r}.", "tripType")
        )
    passengers = snap["passenger_count"]
    if not isinstance(passengers, int) or passengers < 1:
        problems.append(
            Problem(Code.OUT_OF_RANGE, "Passenger count must be at least 1.", "passengerCount")
        )
    elif passengers > MAX_PASSENGERS:
        problems.append(
            Problem(Code.OUT_OF_RANGE, f"At most {MAX_PASSENGERS} passengers.", "passengerCount")
        )
    try:
        zone(snap["pickup_time_zone"])
    except ServiceError as exc:
        problems.extend(exc.problems)
    if snap.get("notes") and len(snap["notes"]) > 5000:
        problems.append(Problem(Code.TOO_LONG, "Notes are longer than 5000 characters.", "notes"))
    if len(snap["stops"]) > MAX_STOPS:
        problems.append(Problem(Code.OUT_OF_RANGE, f"At most {MAX_STOPS} stops.", "stops"))
    if len(snap["vehicles"]) > MAX_VEHICLES:
        problems.append(Problem(Code.OUT_OF_RANGE, f"At most {MAX_VEHICLES} vehicles.", "vehicles"))
    for index, stop in enumerate(snap["stops"]):
        problems += _stop_problems(stop, f"stops.{index}")
    for index, vehicle in enumerate(snap["vehicles"]):
        problems += _vehicle_problems(vehicle, f"vehicles.{index}")
    return problems


def _stop_problems(stop: dict[str, Any], where: str) -> list[Problem]:
    problems = []
    if stop["stop_type"] not in STOP_TYPES:
        problems.append(
            Problem(Code.INVALID, "Stop type must be pickup, dropoff or waypoint.", f"{where}.type")
        )
    address = (stop.get("address") or "").strip()
    if not address:
        problems.append(Problem(Code.REQUIRED, "A stop needs an address.", f"{where}.address"))
    elif len(address) > 500:
        problems.append(
            Problem(Code.TOO_LONG, "Address is longer than 500 characters.", f"{where}.address")
        )
    lat, lng = stop.get("latitude"), stop.get("longitude")
    if lat is not None and not -90 <= float(lat) <= 90:
        problems.append(
            Problem(Code.OUT_OF_RANGE, "Latitude must be within ±90.", f"{where}.latitude")
        )
    if lng is not None and not -180 <= float(lng) <= 180:
        problems.append(
            Problem(Code.OUT_OF_RANGE, "Longitude must be within ±180.", f"{where}.longitude")
        )
    arrival, departure = stop.get("planned_arrival"), stop.get("planned_departure")
    if arrival and departure and str(departure) < str(arrival):
        problems.append(
            Problem(Code.INVALID, "Departure is before arrival.", f"{where}.plannedDeparture")
        )
    return problems


def _vehicle_problems(vehicle: dict[str, Any], where: str) -> list[Problem]:
    problems = []
    if int(vehicle["capacity"]) < 1:
        problems.append(
            Problem(Code.OUT_OF_RANGE, "Capacity must be at least 1.", f"{where}.capacity")
        )
    if float(vehicle["cost"]) < 0:
        problems.append(Problem(Code.OUT_OF_RANGE, "Cost cannot be negative.", f"{where}.cost"))
    return problems


def itinerary_problems(snap: Snapshot) -> list[Problem]:
    """A bookable itinerary starts with a pickup and ends with a drop-off."""
    stops = snap["stops"]
    if len(stops) < 2:
        return [
            Problem(Code.INVALID_ITINERARY, "A charter needs a pickup and a drop-off.", "stops")
        ]
    problems = []
    if stops[0]["stop_type"] != "pickup":
        problems.append(
            Problem(Code.INVALID_ITINERARY, "The first stop must be a pickup.", "stops")
        )
    if stops[-1]["stop_type"] != "dropoff":
        problems.append(
            Problem(Code.INVALID_ITINERARY, "The last stop must be a drop-off.", "stops")
        )
    return problems


def capacity_problems(snap: Snapshot) -> list[Problem]:
    if not snap["vehicles"]:
        return [
            Problem(Code.INSUFFICIENT_CAPACITY, "A charter needs at least one vehicle.", "vehicles")
        ]
    capacity = sum(int(v["capacity"]) for v in snap["vehicles"])
    if capacity < int(snap["passenger_count"]):
        return [
            Problem(
                Code.INSUFFICIENT_CAPACITY,
                f"The vehicles seat {capacity}, fewer than {snap['passenger_count']} passengers.",
                "vehicles",
            )
        ]
    return []
