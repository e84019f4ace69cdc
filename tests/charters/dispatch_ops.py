"""Operations and steps shared by the readiness-task, confirmation and board tests."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subgraphs.charters.models import DispatchTask
from tests.charters.ops import ERRORS, IMPLEMENT_CASE, MOVE_CASE, book
from tests.support.graphql_client import GraphQLClient

#: Implementing a case needs implementation notes (seed 002).
IMPLEMENT = IMPLEMENT_CASE.replace(
    "mutation($id: ID!)", 'mutation($id: ID!, $notes: String = "Done")'
).replace("implementChangeCase(id: $id)", "implementChangeCase(id: $id, notes: $notes)")

TASK_FIELDS = """id kind status dueAt overdueSince completedAt skipReason completedBy { id }
  charterVehicle { id }"""

TASKS_OF = f"""query($id: ID!) {{ charter(id: $id) {{ id pickupAt
  tasks {{ {TASK_FIELDS} }} openTasks {{ id kind charterVehicle {{ id }} }} }} }}"""

START = f"mutation($id: ID!) {{ startTask(id: $id) {{ task {{ {TASK_FIELDS} }} {ERRORS} }} }}"
COMPLETE = f"mutation($id: ID!) {{ completeTask(id: $id) {{ task {{ {TASK_FIELDS} }} {ERRORS} }} }}"
REOPEN = f"mutation($id: ID!) {{ reopenTask(id: $id) {{ task {{ {TASK_FIELDS} }} {ERRORS} }} }}"
SKIP = f"""mutation($id: ID!, $reason: String!) {{
  skipTask(id: $id, reason: $reason) {{ task {{ {TASK_FIELDS} }} {ERRORS} }} }}"""

RECORD = f"""mutation($input: RecordConfirmationInput!) {{
  recordConfirmation(input: $input) {{
    confirmation {{ id party partyId method confirmedAt note recordedBy {{ id }} }}
    charterVehicle {{ id driverConfirmation {{ id method }} vendorConfirmation {{ id }} }}
    {ERRORS} }} }}"""

ADD_VEHICLE = f"""mutation($c: ID!, $v: CharterVehicleInput!) {{
  addCharterVehicle(charterId: $c, vehicle: $v) {{ changeCase {{ id }} {ERRORS} }} }}"""


async def booked(staff: GraphQLClient, bookable_charter: Any, **kwargs: Any) -> dict[str, Any]:
    charter = await bookable_charter(**kwargs)
    await book(staff, charter["id"])
    return charter  # type: ignore[no-any-return]


async def tasks_of(staff: GraphQLClient, charter_id: str) -> dict[str, Any]:
    return (await staff(TASKS_OF, {"id": charter_id})).ok()["charter"]  # type: ignore[no-any-return]


def by_kind(tasks: list[dict[str, Any]], vehicle_id: str | None = None) -> dict[str, Any]:
    """One vehicle's tasks (or the charter-wide ones) by kind."""
    return {
        t["kind"]: t
        for t in tasks
        if (t["charterVehicle"] or {}).get("id") == vehicle_id
        or (vehicle_id is None and t["charterVehicle"] is None)
    }


async def implement_case(staff: GraphQLClient, approver: GraphQLClient, case_id: str) -> None:
    """Review, approve (another manager) and implement a change case."""
    for client, status in ((staff, "UNDER_REVIEW"), (approver, "APPROVED")):
        moved = (await client(MOVE_CASE, {"id": case_id, "status": status, "notes": "ok"})).ok()
        assert moved["moveChangeCase"]["userErrors"] == [], moved
    done = (await staff(IMPLEMENT, {"id": case_id})).ok()["implementChangeCase"]
    assert done["userErrors"] == [], done


async def db_tasks(
    sessions: async_sessionmaker[AsyncSession], charter_id: str
) -> list[DispatchTask]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(DispatchTask)
                .where(DispatchTask.charter_id == uuid.UUID(charter_id))
                .order_by(DispatchTask.due_at, DispatchTask.kind)
            )
        )


async def until(check: Callable[[], Awaitable[bool]], within: float = 15.0) -> None:
    """Wait for an asynchronous effect (an event through Redis and a consumer)."""
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the expected effect never happened")
        await asyncio.sleep(0.05)
