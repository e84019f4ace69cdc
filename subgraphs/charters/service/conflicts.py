"""Turning the database's double-booking refusal into a useful answer.

The exclusion constraints on `charter_vehicles` are the only guard against
two overlapping trips for one vehicle or driver, whatever the concurrency.
When one fires we look up the clashing trip so the user error names it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError

from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import Charter, CharterVehicle
from subgraphs.kit.errors import ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

VEHICLE_CONSTRAINT = "ex_charter_vehicles_vehicle_overlap"
DRIVER_CONSTRAINT = "ex_charter_vehicles_driver_overlap"


def _constraint(exc: IntegrityError) -> str | None:
    orig = getattr(exc, "orig", None)
    name = getattr(orig, "constraint_name", None) or getattr(
        getattr(orig, "__cause__", None), "constraint_name", None
    )
    if name:
        return str(name)
    text = str(exc)
    for candidate in (VEHICLE_CONSTRAINT, DRIVER_CONSTRAINT):
        if candidate in text:
            return candidate
    return None


async def clashing_reference(
    session: AsyncSession | AsyncConnection,
    row_id: object,
    value: object,
    busy: object,
    *,
    by_driver: bool,
) -> str | None:
    column = CharterVehicle.driver_id if by_driver else CharterVehicle.vehicle_id
    return await session.scalar(
        select(Charter.reference)
        .join(CharterVehicle, CharterVehicle.charter_id == Charter.id)
        .where(
            and_(
                column == value,
                CharterVehicle.holds_resources.is_(True),
                CharterVehicle.busy.overlaps(busy),
                CharterVehicle.id != row_id,
            )
        )
        .limit(1)
    )


async def flush_resources(session: AsyncSession, rows: list[CharterVehicle]) -> None:
    """Flush in a savepoint; a double booking becomes a CONFLICT user error."""
    # Read what the rows hold now: a failed savepoint expires them.
    wanted = [(row.id, row.vehicle_id, row.driver_id, row.busy) for row in rows]
    connection = await session.connection()
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        constraint = _constraint(exc)
        if constraint not in (VEHICLE_CONSTRAINT, DRIVER_CONSTRAINT):
            raise
        by_driver = constraint == DRIVER_CONSTRAINT
        what = "driver" if by_driver else "vehicle"
        # The failed flush closed the session's transaction (all of it rolls
        # back anyway) but the connection is back at its savepoint and usable:
        # look the now committed clash up on it, without a second connection.
        reference = None
        for row_id, vehicle_id, driver_id, busy in wanted:
            value = driver_id if by_driver else vehicle_id
            if value is not None and busy is not None:
                reference = await clashing_reference(
                    connection, row_id, value, busy, by_driver=by_driver
                )
                if reference:
                    break
        detail = f" on {reference}" if reference else ""
        raise ServiceError.of(
            Code.CONFLICT,
            f"The {what} is already booked{detail} at an overlapping time.",
            "driverId" if by_driver else "vehicleId",
        ) from exc
