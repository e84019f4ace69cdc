"""Security review (issue 8), finding 4: who may move a charter, and when.

`setCharterStatus` follows one table (`service/access.CHARTER_MOVES`):
accounting never moves a charter, a sales agent moves only its own, and a
trip starts and completes only by dispatch, around its actual pickup.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text

from tests.charters.ops import SET_STATUS, book, codes, read_charter


async def _set(client, charter_id, status):
    return await client(SET_STATUS, {"id": charter_id, "status": status})


def _refusal(response) -> str | None:
    """FORBIDDEN from the role gate (a GraphQL error) or from the move's rule (a user error)."""
    if response.errors:
        return response.error_codes[0]
    payload = response.data["setCharterStatus"]
    assert payload["charter"] is None
    return payload["userErrors"][0]["code"] if payload["userErrors"] else None


def _local_in(delta: timedelta) -> str:
    local = datetime.now(ZoneInfo("America/Chicago")) + delta
    return local.replace(tzinfo=None, second=0, microsecond=0).isoformat(timespec="minutes")


async def test_finding_4_accounting_cannot_drive_a_booked_charter_to_completed(
    staff, as_role, bookable_charter
):
    charter = await bookable_charter()
    await book(staff, charter["id"])
    accounting = await as_role("accounting")

    answers = [await _set(accounting, charter["id"], s) for s in ("CONFIRMED", "IN_PROGRESS")]
    completed = await _set(accounting, charter["id"], "COMPLETED")

    assert [_refusal(a) for a in answers] == ["FORBIDDEN", "FORBIDDEN"]
    assert _refusal(completed) == "FORBIDDEN"
    assert (await read_charter(staff, charter["id"]))["status"] == "BOOKED"


async def test_finding_4_a_sales_agent_who_does_not_own_it_cannot_move_it(
    staff, as_role, bookable_charter, known_agent
):
    owner_id = await known_agent()
    charter = await bookable_charter(salesAgentId=owner_id)
    await book(staff, charter["id"])
    other = await as_role("sales_agent")
    owner = await as_role("sales_agent", user_id=uuid.UUID(owner_id))

    confirm = (await _set(other, charter["id"], "CONFIRMED")).ok()["setCharterStatus"]
    start = await _set(other, charter["id"], "IN_PROGRESS")
    complete = await _set(other, charter["id"], "COMPLETED")
    status_after_others = (await read_charter(staff, charter["id"]))["status"]
    by_owner = (await _set(owner, charter["id"], "CONFIRMED")).ok()["setCharterStatus"]

    assert confirm["charter"] is None
    assert codes(confirm) == [("status", "FORBIDDEN")]
    assert _refusal(start) == "FORBIDDEN"
    assert _refusal(complete) == "FORBIDDEN"
    assert status_after_others == "BOOKED"
    assert by_owner["charter"]["status"] == "CONFIRMED"


async def test_finding_4_dispatch_cannot_start_or_complete_a_trip_months_ahead(
    staff, as_role, bookable_charter
):
    charter = await bookable_charter(days=90)
    await book(staff, charter["id"])
    dispatcher = await as_role("dispatcher")

    confirmed = (await _set(dispatcher, charter["id"], "CONFIRMED")).ok()["setCharterStatus"]
    started = (await _set(dispatcher, charter["id"], "IN_PROGRESS")).ok()["setCharterStatus"]
    completed = (await _set(dispatcher, charter["id"], "COMPLETED")).ok()["setCharterStatus"]

    assert confirmed["charter"]["status"] == "CONFIRMED"
    assert codes(started) == [("status", "TOO_EARLY")]
    assert codes(completed) == [("status", "INVALID_TRANSITION")]
    assert (await read_charter(staff, charter["id"]))["status"] == "CONFIRMED"


async def test_dispatch_runs_a_trip_around_its_pickup_and_sales_cannot(
    staff, as_role, bookable_charter, sessions
):
    charter = await bookable_charter(pickupLocal=_local_in(timedelta(hours=2)))
    await book(staff, charter["id"])
    dispatcher = await as_role("dispatcher")
    support = await as_role("sales_support")
    await _set(dispatcher, charter["id"], "CONFIRMED")

    by_sales = await _set(support, charter["id"], "IN_PROGRESS")
    started = (await _set(dispatcher, charter["id"], "IN_PROGRESS")).ok()["setCharterStatus"]
    too_soon = (await _set(dispatcher, charter["id"], "COMPLETED")).ok()["setCharterStatus"]
    async with sessions() as session, session.begin():
        # The pickup has passed: the trip is on the road.
        await session.execute(
            text(
                "UPDATE charters.charters SET pickup_at = now() - interval '1 hour' WHERE id = :id"
            ),
            {"id": charter["id"]},
        )
    completed = (await _set(dispatcher, charter["id"], "COMPLETED")).ok()["setCharterStatus"]

    assert _refusal(by_sales) == "FORBIDDEN"
    assert started["charter"]["status"] == "IN_PROGRESS"
    assert codes(too_soon) == [("status", "TOO_EARLY")]
    assert completed["charter"]["status"] == "COMPLETED"
