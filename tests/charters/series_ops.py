"""Operations and steps shared by the template, cloning and series tests."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.support.graphql_client import GraphQLClient

ERRORS = "userErrors { field code message }"

CHARTER_FIELDS = """id reference status isTemplate templateName passengerCount notes
  pickupAt pickupLocal pickupTimeZone endsAt occurrenceDate
  clonedFrom { id } series { id }
  seriesPosition { index count }
  stops { id position type address plannedArrival plannedDeparture }
  vehicles { id position capacity cost status vehicleType { id } vehicle { id } driver { id } }"""

CHARTER = f"query($id: ID!) {{ charter(id: $id) {{ {CHARTER_FIELDS} }} }}"

SAVE_TEMPLATE = f"""mutation($id: ID!, $name: String!) {{
  saveCharterAsTemplate(charterId: $id, name: $name) {{ template {{ {CHARTER_FIELDS} }} {ERRORS} }} }}"""

TEMPLATES = "{ charterTemplates(first: 100) { edges { node { id templateName } } } }"

CLONE = f"""mutation($id: ID!, $dates: [Date!]!, $keep: Boolean) {{
  cloneCharter(sourceId: $id, dates: $dates, keepVendorAssignments: $keep) {{
    charters {{ {CHARTER_FIELDS} }}
    clones {{ charter {{ id }} vehicles {{ sourceCharterVehicleId charterVehicleId }} }}
    {ERRORS} }} }}"""

SERIES_FIELDS = """id name rrule startsLocal timeZone exceptionDates active
  template { id }
  instances(first: 100) { edges { node {
    id occurrenceDate status pickupLocal seriesPosition { index count } } } }"""

CREATE_SERIES = f"""mutation($input: CreateCharterSeriesInput!) {{
  createCharterSeries(input: $input) {{ series {{ {SERIES_FIELDS} }} {ERRORS} }} }}"""

GENERATE = f"""mutation($id: ID!) {{
  generateCharterSeries(id: $id) {{
    series {{ id }}
    created {{ {CHARTER_FIELDS} }}
    skipped {{ date reason message }}
    {ERRORS} }} }}"""

SERIES = f"query($id: ID!) {{ charterSeries(id: $id) {{ {SERIES_FIELDS} }} }}"

UPDATE_INSTANCES = f"""mutation($id: ID!, $from: Date!, $input: SeriesInstancesInput!) {{
  updateSeriesInstances(seriesId: $id, fromDate: $from, input: $input) {{
    updated {{ {CHARTER_FIELDS} }}
    skipped {{ charter {{ id status }} reason message }}
    {ERRORS} }} }}"""

REMOVE_INSTANCE = f"""mutation($id: ID!) {{
  removeSeriesInstance(charterId: $id) {{
    series {{ {SERIES_FIELDS} }} charter {{ id status }} deleted {ERRORS} }} }}"""

DEACTIVATE = f"""mutation($id: ID!) {{
  deactivateCharterSeries(id: $id) {{ series {{ {SERIES_FIELDS} }} {ERRORS} }} }}"""

SET_STATUS = f"""mutation($id: ID!, $status: CharterStatus!) {{
  setCharterStatus(id: $id, status: $status) {{ charter {{ id status }} {ERRORS} }} }}"""

BLACKOUT = f"""mutation($on: Date!, $type: ID) {{
  createBlackoutDate(startsOn: $on, endsOn: $on, kind: HOLIDAY, vehicleTypeId: $type,
    description: "Company holiday") {{ blackoutDate {{ id }} {ERRORS} }} }}"""

CREATE_VEHICLE = f"""mutation($plate: String!, $type: ID!) {{
  createVehicle(plate: $plate, vehicleTypeId: $type) {{ vehicle {{ id }} {ERRORS} }} }}"""

CREATE_DRIVER = f"""mutation($userId: ID!) {{
  createDriver(userId: $userId, name: "Dee Driver", licenceClass: "CDL-B",
    licenceExpiresOn: "2030-01-01") {{ driver {{ id }} {ERRORS} }} }}"""

ASSIGN = f"""mutation($cv: ID!, $vehicle: ID, $driver: ID) {{
  assignCharterVehicle(charterVehicleId: $cv, vehicleId: $vehicle, driverId: $driver) {{
    charterVehicle {{ id vehicle {{ id }} driver {{ id }} }} {ERRORS} }} }}"""


async def count(sessions: async_sessionmaker[AsyncSession], sql: str, **params: Any) -> int:
    async with sessions() as session:
        return int((await session.execute(text(sql), params)).scalar_one())


async def charter_rows(sessions: async_sessionmaker[AsyncSession]) -> int:
    return await count(sessions, "SELECT count(*) FROM charters.charters")


async def read_charter(staff: GraphQLClient, charter_id: str) -> dict[str, Any]:
    return (await staff(CHARTER, {"id": charter_id})).ok()["charter"]  # type: ignore[no-any-return]


async def save_template(staff: GraphQLClient, charter_id: str, name: str) -> dict[str, Any]:
    payload = (await staff(SAVE_TEMPLATE, {"id": charter_id, "name": name})).ok()[
        "saveCharterAsTemplate"
    ]
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload["template"]  # type: ignore[no-any-return]


async def make_template(
    staff: GraphQLClient, bookable_charter: Any, name: str = "Airport shuttle", **kw: Any
) -> dict[str, Any]:
    source = await bookable_charter(**kw)
    return await save_template(staff, source["id"], name)


async def create_series(staff: GraphQLClient, **fields: Any) -> dict[str, Any]:
    payload = (await staff(CREATE_SERIES, {"input": fields})).ok()["createCharterSeries"]
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload["series"]  # type: ignore[no-any-return]


async def generate(staff: GraphQLClient, series_id: str) -> dict[str, Any]:
    payload = (await staff(GENERATE, {"id": series_id})).ok()["generateCharterSeries"]
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload  # type: ignore[no-any-return]


def next_weekday(weekday: int, after_days: int = 7) -> date:
    """The first given weekday (0 = Monday) at least `after_days` from today."""
    day = date.today() + timedelta(days=after_days)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def ymd(day: date) -> str:
    return day.strftime("%Y%m%d")
