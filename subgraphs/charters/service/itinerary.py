"""Itinerary edits as pure functions on a snapshot's ordered stop list.

Positions are implied by order, so every result is gapless and without
duplicates; the charter row lock taken by `charters.edit` serialises
concurrent edits of one itinerary.
"""

from __future__ import annotations

import uuid
from typing import Any

from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.service.snapshots import Snapshot
from subgraphs.kit.errors import ServiceError


def _index(snap: Snapshot, stop_id: uuid.UUID) -> int:
    for i, stop in enumerate(snap["stops"]):
        if stop["id"] == str(stop_id):
            return i
    raise ServiceError.of(Code.NOT_FOUND, f"Stop {stop_id} is not on this charter.", "stopId")


def add_stop(snap: Snapshot, stop: dict[str, Any], position: int | None) -> Snapshot:
    stops = snap["stops"]
    if position is not None and not 1 <= position <= len(stops) + 1:
        raise ServiceError.of(
            Code.OUT_OF_RANGE, f"Position must be between 1 and {len(stops) + 1}.", "position"
        )
    new = {**stop, "id": str(uuid.uuid4())}
    stops.insert((position or len(stops) + 1) - 1, new)
    return snap


def update_stop(snap: Snapshot, stop_id: uuid.UUID, fields: dict[str, Any]) -> Snapshot:
    i = _index(snap, stop_id)
    snap["stops"][i] = {**snap["stops"][i], **fields, "id": str(stop_id)}
    return snap


def remove_stop(snap: Snapshot, stop_id: uuid.UUID) -> Snapshot:
    del snap["stops"][_index(snap, stop_id)]
    return snap


def reorder_stops(snap: Snapshot, ordered_ids: list[uuid.UUID]) -> Snapshot:
    """Put the stops in the given order; every stop exactly once."""
    current = [s["id"] for s in snap["stops"]]
    wanted = [str(i) for i in ordered_ids]
    if len(set(wanted)) != len(wanted):
        raise ServiceError.of(Code.INVALID, "A stop appears twice in the new order.", "stopIds")
    if sorted(wanted) != sorted(current):
        raise ServiceError.of(
            Code.INVALID, "The new order must list every stop of the charter once.", "stopIds"
        )
    by_id = {s["id"]: s for s in snap["stops"]}
    snap["stops"] = [by_id[i] for i in wanted]
    return snap
